//! End-to-end tests of `policyc serve`: the real binary on loopback with
//! ephemeral ports (`--http 127.0.0.1:0 --grpc 127.0.0.1:0`, the ports read
//! from the `listening:` lines), driven over HTTP by a plain HTTP/1.1
//! client and over Envoy ext_authz by a real tonic client.
#![cfg(feature = "serve")]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: clippy.toml allows these in #[test] functions but not in the helpers of an integration test; a failed step is a test failure"
)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::{
    attribute_context, AttributeContext, CheckRequest,
};
use serde_json::Value;

/// How long anything may take before the test fails (a debug binary on a
/// busy 2-core machine).
const PATIENCE: Duration = Duration::from_secs(60);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn policies() -> PathBuf {
    root().join("policies")
}

/// A running `policyc serve`, killed when dropped.
struct Server {
    child: Child,
    http: SocketAddr,
    grpc: SocketAddr,
    log: Receiver<String>,
    seen: Vec<String>,
}

impl Server {
    fn start(file: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_policyc"))
            .env_clear()
            .env("NO_COLOR", "1")
            .arg("serve")
            .arg(file)
            .args(["--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut s = Server {
            child,
            http: "0.0.0.0:0".parse().unwrap(),
            grpc: "0.0.0.0:0".parse().unwrap(),
            log: rx,
            seen: Vec::new(),
        };
        let h = s.wait_for("listening: http://");
        let g = s.wait_for("listening: grpc://");
        s.http = h.trim_start_matches("listening: http://").parse().unwrap();
        s.grpc = g.trim_start_matches("listening: grpc://").parse().unwrap();
        s
    }

    /// Waits for the next stderr line starting with `prefix`.
    fn wait_for(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                    if prefix.starts_with("reloaded") && line.starts_with("reload failed") {
                        panic!("waiting for `{prefix}`: {line}");
                    }
                }
                Err(_) => panic!("no `{prefix}` line; stderr so far: {:#?}", self.seen),
            }
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }

    /// Waits for the process to exit; its exit code.
    fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the server did not exit; stderr: {:#?}", self.seen);
    }

    fn post(&self, path: &str, body: &str) -> (u16, Value) {
        let (status, text) = http(self.http, "POST", path, body);
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    fn get(&self, path: &str) -> (u16, String) {
        http(self.http, "GET", path, "")
    }

    fn metric(&self, name: &str) -> f64 {
        let (_, text) = self.get("/metrics");
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("no metric {name} in {text}"))
            .parse()
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`).
fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, PATIENCE).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    // A refused connection may be closed before the request is written.
    let _ = write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    read_response(&mut s)
}

fn read_response(s: &mut TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (status, body.to_string())
}

/// Every case of a seed test file as a `query --batch` request line.
fn seed_cells(test_file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(policies().join(test_file)).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    doc["cases"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|c| {
            let mut req = serde_json::json!({
                "roles": c["roles"].as_sequence().unwrap().iter().map(|r| r.as_str().unwrap()).collect::<Vec<_>>(),
                "action": c["action"].as_str().unwrap(),
            });
            if let Some(t) = c["tier"].as_str() {
                req["tier"] = Value::from(t);
            }
            req
        })
        .collect()
}

/// `policyc query FILE --batch -`: one JSON value per request.
fn query_batch(file: &Path, requests: &[Value]) -> Vec<Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_policyc"))
        .env_clear()
        .args(["query"])
        .arg(file)
        .args(["--batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = String::new();
    for r in requests {
        input.push_str(&r.to_string());
        input.push('\n');
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn without_hash(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("policy_hash");
    }
    v
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn check_request(headers: &[(&str, &str)], ext: &[(&str, &str)]) -> CheckRequest {
    CheckRequest {
        attributes: Some(AttributeContext {
            request: Some(attribute_context::Request {
                http: Some(attribute_context::HttpRequest {
                    method: "GET".into(),
                    path: "/".into(),
                    headers: headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            context_extensions: ext
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }),
    }
}

/// The gRPC status code of a check and the headers of its HTTP response.
type Checked = (i32, HashMap<String, String>);

fn grpc_checks(addr: SocketAddr, requests: Vec<CheckRequest>) -> Vec<Checked> {
    runtime().block_on(async move {
        let mut client = tokio::time::timeout(
            PATIENCE,
            AuthorizationClient::connect(format!("http://{addr}")),
        )
        .await
        .unwrap()
        .unwrap();
        let mut out = Vec::new();
        for r in requests {
            let resp = tokio::time::timeout(PATIENCE, client.check(r))
                .await
                .unwrap()
                .unwrap()
                .into_inner();
            let code = resp.status.map_or(-1, |s| s.code);
            let mut headers = HashMap::new();
            use envoy_types::pb::envoy::service::auth::v3::check_response::HttpResponse;
            let hs = match resp.http_response {
                Some(HttpResponse::DeniedResponse(d)) => d.headers,
                Some(HttpResponse::OkResponse(o)) => o.headers,
                _ => Vec::new(),
            };
            for h in hs.into_iter().filter_map(|h| h.header) {
                headers.insert(h.key, h.value);
            }
            out.push((code, headers));
        }
        out
    })
}

const GRPC_OK: i32 = 0;
const GRPC_PERMISSION_DENIED: i32 = 7;

fn cells_as_checks(cells: &[Value]) -> Vec<CheckRequest> {
    cells
        .iter()
        .map(|c| {
            let roles: Vec<&str> = c["roles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            let roles = roles.join(",");
            let mut headers = vec![("x-policyc-roles", roles.as_str())];
            if let Some(t) = c["tier"].as_str() {
                headers.push(("x-policyc-tier", t));
            }
            let action = c["action"].as_str().unwrap();
            check_request(&headers, &[("action", action)])
        })
        .collect()
}

fn every_cell(seed: &str, test_file: &str) {
    let file = policies().join(seed);
    let cells = seed_cells(test_file);
    assert!(cells.len() > 50, "{test_file} has every table row");
    let expected = query_batch(&file, &cells);
    assert_eq!(expected.len(), cells.len());
    let server = Server::start(&file, &[]);

    // One batch: the same objects as `query --batch` lines, plus the hash.
    let (status, answers) = server.post("/v1/decide", &Value::from(cells.clone()).to_string());
    assert_eq!(status, 200, "{answers}");
    let answers = answers.as_array().unwrap().clone();
    assert_eq!(answers.len(), cells.len());
    let hash = answers[0]["policy_hash"].as_str().unwrap().to_string();
    assert!(hash.starts_with("sha256:") && hash.len() == 71, "{hash}");
    for (got, want) in answers.into_iter().zip(&expected) {
        assert_eq!(got["policy_hash"], Value::from(hash.as_str()));
        assert_eq!(&without_hash(got), want);
    }

    // One request per cell: the batch object without its number.
    for (cell, want) in cells.iter().zip(&expected) {
        let (status, got) = server.post("/v1/decide", &cell.to_string());
        assert_eq!(status, 200, "{cell}: {got}");
        let mut want = want.clone();
        want.as_object_mut().unwrap().remove("request");
        assert_eq!(without_hash(got), want, "{cell}");
    }

    // ext_authz: allow is OK, deny is PERMISSION_DENIED with the reason.
    let checks = grpc_checks(server.grpc, cells_as_checks(&cells));
    for ((code, headers), want) in checks.iter().zip(&expected) {
        if want["decision"] == "allow" {
            assert_eq!(*code, GRPC_OK, "{want}");
        } else {
            assert_eq!(*code, GRPC_PERMISSION_DENIED, "{want}");
            assert_eq!(
                headers.get("x-policyc-reason").map(String::as_str),
                want["reasons"][0]["message"].as_str(),
                "{want}"
            );
        }
        assert_eq!(headers.get("x-policyc-policy-hash"), Some(&hash));
    }
    assert_eq!(
        server.metric("policyc_decisions_total{api=\"grpc\",outcome=\"error\"}"),
        0.0
    );
}

#[test]
fn every_humanloop_cell_over_http_and_grpc_matches_query() {
    every_cell("humanloop.policy", "humanloop.test.yaml");
}

#[test]
fn every_vellum_cell_over_http_and_grpc_matches_query() {
    every_cell("vellum.policy", "vellum.test.yaml");
}

#[test]
fn who_can_what_can_health_and_metrics() {
    let file = policies().join("humanloop.policy");
    let server = Server::start(&file, &[]);
    let (status, body) = server.get("/v1/who-can?action=billing.manage&tier=free");
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["tiers"][0]["roles"][0]["id"], "admin");
    assert!(v["policy_hash"].as_str().unwrap().starts_with("sha256:"));
    let cli = Command::new(env!("CARGO_BIN_EXE_policyc"))
        .args(["who-can"])
        .arg(&file)
        .args(["billing.manage", "--format", "json"])
        .output()
        .unwrap();
    let (_, all) = server.get("/v1/who-can?action=billing.manage");
    assert_eq!(
        without_hash(serde_json::from_str(&all).unwrap()),
        serde_json::from_slice::<Value>(&cli.stdout).unwrap()
    );
    let (status, body) = server.get("/v1/what-can?role=member&tier=enterprise");
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["tiers"][0]["permissions"].as_array().unwrap().len(), 5);
    let (status, body) = server.get("/v1/what-can?role=membr");
    assert_eq!(status, 400);
    assert!(
        body.contains("\"P0401\"") && body.contains("member"),
        "{body}"
    );
    // The check a product runs when a customer assigns a role.
    let (status, body) = server.get("/v1/assignable?role=developer&tier=team");
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["assignable"], false, "{body}");
    assert_eq!(v["kind"], "role_unavailable");
    assert!(v["policy_hash"].as_str().unwrap().starts_with("sha256:"));
    let (status, body) = server.get("/v1/assignable?role=developer&tier=enterprise");
    assert_eq!(status, 200);
    assert!(body.contains("\"assignable\":true"), "{body}");
    let (status, body) = server.get("/v1/assignable?role=developer");
    assert_eq!(status, 400);
    assert!(body.contains("\"P0402\""), "{body}");
    let (status, body) = server.get("/v1/who-can?action=x&colour=red");
    assert_eq!(status, 400);
    assert!(body.contains("\"P0403\""), "{body}");
    assert_eq!(server.get("/healthz").0, 200);
    let (status, body) = server.get("/readyz");
    assert_eq!(status, 200);
    assert!(body.contains("\"ready\""));
    let (status, body) = server.get("/nowhere");
    assert_eq!(status, 404);
    assert!(body.contains("\"P0423\""));
    let (status, text) = server.get("/metrics");
    assert_eq!(status, 200);
    for needle in [
        "# TYPE policyc_decisions_total counter",
        "# TYPE policyc_request_duration_seconds histogram",
        "policyc_policy_info{hash=\"sha256:",
        "policyc_reloads_total{result=\"failure\"} 0",
        "policyc_policy_roles 3",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
}

/// The Humanloop seed without its `assert` lines, so that a test may change
/// what admin grants.
fn humanloop_without_asserts() -> String {
    let text = std::fs::read_to_string(policies().join("humanloop.policy")).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("assert"))
        .collect();
    kept.join("\n") + "\n"
}

fn write_atomic(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

const ADMIN_BILLING_FREE: &str = r#"{"role":"admin","action":"billing.manage","tier":"free"}"#;

#[test]
fn a_changed_policy_is_served_without_restart_on_file_change_and_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("humanloop.policy");
    let original = humanloop_without_asserts();
    std::fs::write(&file, &original).unwrap();
    let mut server = Server::start(&file, &["--watch-interval-ms", "50"]);
    let (_, before) = server.post("/v1/decide", ADMIN_BILLING_FREE);
    assert_eq!(before["decision"], "allow");

    // File change: admin no longer grants billing.manage.
    let changed = original.replace(
        "grants invites.send, roles.set, billing.manage, organization.settings.change",
        "grants invites.send, roles.set, organization.settings.change",
    );
    assert_ne!(changed, original);
    write_atomic(&file, &changed);
    let line = server.wait_for("reloaded (file change): serving sha256:");
    let (status, after) = server.post("/v1/decide", ADMIN_BILLING_FREE);
    assert_eq!(status, 200);
    assert_eq!(after["decision"], "deny");
    assert_ne!(after["policy_hash"], before["policy_hash"]);
    assert!(
        line.contains(after["policy_hash"].as_str().unwrap()),
        "{line}"
    );

    // SIGHUP reloads too (the file is unchanged: same answers, counted).
    server.signal("-HUP");
    server.wait_for("reloaded (SIGHUP)");
    assert_eq!(server.post("/v1/decide", ADMIN_BILLING_FREE).1, after);
    assert_eq!(
        server.metric("policyc_reloads_total{result=\"success\"}"),
        2.0
    );
}

#[test]
fn a_corrupt_artifact_keeps_the_last_good_policy_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("humanloop.json");
    let compiled = Command::new(env!("CARGO_BIN_EXE_policyc"))
        .arg("compile")
        .arg(policies().join("humanloop.policy"))
        .output()
        .unwrap();
    assert!(compiled.status.success());
    let artifact = String::from_utf8(compiled.stdout).unwrap();
    std::fs::write(&file, &artifact).unwrap();
    let mut server = Server::start(&file, &["--watch-interval-ms", "0"]);
    let (_, good) = server.post("/v1/decide", ADMIN_BILLING_FREE);
    assert_eq!(good["decision"], "allow");

    // Truncated JSON.
    write_atomic(&file, &artifact[..artifact.len() / 2]);
    server.signal("-HUP");
    let line = server.wait_for("reload failed (SIGHUP): P0507");
    assert!(
        line.ends_with(good["policy_hash"].as_str().unwrap()),
        "{line}"
    );
    assert_eq!(server.post("/v1/decide", ADMIN_BILLING_FREE).1, good);

    // A future schema version.
    let current = format!("\"schema_version\": {}", policy_eval::SCHEMA_VERSION);
    let future = artifact.replacen(&current, "\"schema_version\": 99", 1);
    assert_ne!(future, artifact);
    write_atomic(&file, &future);
    server.signal("-HUP");
    let line = server.wait_for("reload failed (SIGHUP): P0570");
    assert!(line.contains("unsupported artifact version"), "{line}");
    assert_eq!(server.post("/v1/decide", ADMIN_BILLING_FREE).1, good);

    // A self-contradicting artifact (an effective set the declarations do not give).
    let forged = artifact.replacen("\"billing.manage\"", "\"billing.managed\"", 1);
    write_atomic(&file, &forged);
    server.signal("-HUP");
    server.wait_for("reload failed (SIGHUP): P0507");
    assert_eq!(server.post("/v1/decide", ADMIN_BILLING_FREE).1, good);
    assert_eq!(
        server.metric("policyc_reloads_total{result=\"failure\"}"),
        3.0
    );
    assert_eq!(
        server.metric("policyc_reloads_total{result=\"success\"}"),
        0.0
    );
    let (_, ready) = server.get("/readyz");
    assert!(ready.contains(good["policy_hash"].as_str().unwrap()));
}

/// Sends the headers and the first byte of a decide request; the server
/// has started the request (and taken its policy snapshot).
fn start_slow_request(addr: SocketAddr, body: &str) -> TcpStream {
    let mut s = TcpStream::connect_timeout(&addr, PATIENCE).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        s,
        "POST /v1/decide HTTP/1.1\r\nhost: test\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{}",
        body.len(),
        &body[..1]
    )
    .unwrap();
    s.flush().unwrap();
    s
}

fn finish_slow_request(mut s: TcpStream, body: &str) -> (u16, Value) {
    s.write_all(&body.as_bytes()[1..]).unwrap();
    let (status, text) = read_response(&mut s);
    (status, serde_json::from_str(&text).unwrap())
}

/// Waits until the server has started `n` decide requests (each has taken
/// its policy snapshot) that are not answered yet.
fn wait_in_flight(server: &Server, n: f64) {
    let deadline = Instant::now() + PATIENCE;
    while server.metric("policyc_decide_in_flight") < n {
        assert!(Instant::now() < deadline, "the request never started");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_in_flight_request_finishes_on_the_policy_it_started_with() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("humanloop.policy");
    let original = humanloop_without_asserts();
    std::fs::write(&file, &original).unwrap();
    let mut server = Server::start(&file, &["--watch-interval-ms", "0"]);
    let (_, before) = server.post("/v1/decide", ADMIN_BILLING_FREE);
    let slow = start_slow_request(server.http, ADMIN_BILLING_FREE);
    wait_in_flight(&server, 1.0);
    write_atomic(
        &file,
        &original.replace("roles.set, billing.manage,", "roles.set,"),
    );
    server.signal("-HUP");
    server.wait_for("reloaded (SIGHUP)");
    assert_eq!(
        server.post("/v1/decide", ADMIN_BILLING_FREE).1["decision"],
        "deny"
    );
    let (status, answer) = finish_slow_request(slow, ADMIN_BILLING_FREE);
    assert_eq!(status, 200);
    assert_eq!(answer, before);
}

#[test]
fn sigterm_drains_in_flight_requests_then_exits_0() {
    let file = policies().join("humanloop.policy");
    let mut server = Server::start(&file, &[]);
    let slow = start_slow_request(server.http, ADMIN_BILLING_FREE);
    wait_in_flight(&server, 1.0);
    server.signal("-TERM");
    server.wait_for("draining:");
    // New connections are no longer accepted...
    let deadline = Instant::now() + PATIENCE;
    while TcpStream::connect_timeout(&server.http, Duration::from_secs(1)).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    // ...but the one in flight is answered.
    let (status, answer) = finish_slow_request(slow, ADMIN_BILLING_FREE);
    assert_eq!(status, 200);
    assert_eq!(answer["decision"], "allow");
    server.wait_for("stopped");
    assert_eq!(server.wait_exit(), Some(0));
}

#[test]
fn bad_http_input_gets_4xx_and_never_an_allow() {
    let file = policies().join("humanloop.policy");
    let server = Server::start(
        &file,
        &[
            "--max-body-bytes",
            "4096",
            "--max-batch",
            "10",
            "--request-timeout-ms",
            "300",
        ],
    );
    let cases: &[(&str, u16, &str)] = &[
        (&"x".repeat(5000), 413, "P0420"),
        ("{\"role\":\"admin\",", 400, "P0403"),
        ("", 400, "P0403"),
        ("42", 400, "P0403"),
        (
            r#"{"role":"admin","action":"billing.manage","tier":"free","allow":true}"#,
            400,
            "P0403",
        ),
        (
            r#"{"role":"admn","action":"billing.manage","tier":"free"}"#,
            400,
            "P0401",
        ),
        (
            r#"{"role":"admin","action":"billing.manage"}"#,
            400,
            "P0402",
        ),
        (
            r#"{"roles":[],"action":"billing.manage","tier":"free"}"#,
            400,
            "P04",
        ),
        (
            &format!("[{}]", [ADMIN_BILLING_FREE; 11].join(",")),
            413,
            "P0420",
        ),
        ("[1,", 400, "P0403"),
    ];
    for (body, want_status, code) in cases {
        let (status, v) = server.post("/v1/decide", body);
        assert_eq!(status, *want_status, "{body}: {v}");
        assert!(
            v["error"]["code"].as_str().unwrap().starts_with(code),
            "{body}: {v}"
        );
        assert!(!v.to_string().contains("\"allow\""), "{body}: {v}");
    }
    // A batch with one bad request: 400, the others still answered in order.
    let (status, v) = server.post(
        "/v1/decide",
        &format!("[{ADMIN_BILLING_FREE},{{\"role\":\"x\",\"action\":\"y\",\"tier\":\"free\"}}]"),
    );
    assert_eq!(status, 400);
    assert_eq!(v[0]["decision"], "allow");
    assert_eq!(v[1]["error"]["code"], "P0401");

    // A slow body: 408 once the timeout passes.
    let mut slow = start_slow_request(server.http, ADMIN_BILLING_FREE);
    let (status, text) = read_response(&mut slow);
    assert_eq!(status, 408, "{text}");
    assert!(text.contains("P0421"));
    // Slow headers: the connection is closed.
    let mut s = TcpStream::connect_timeout(&server.http, PATIENCE).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(b"POST /v1/decide HTTP/1.1\r\nhost: te")
        .unwrap();
    let start = Instant::now();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(start.elapsed() < PATIENCE);
    assert!(!String::from_utf8_lossy(&buf).contains("200 OK"), "{buf:?}");
    assert!(server.metric("policyc_rejected_total{reason=\"timeout\"}") >= 1.0);
    assert!(server.metric("policyc_rejected_total{reason=\"body_too_large\"}") >= 2.0);
}

#[test]
fn a_connection_flood_is_refused_with_429_and_the_server_stays_up() {
    let file = policies().join("humanloop.policy");
    let server = Server::start(&file, &["--max-connections", "4"]);
    // Four idle connections fill the slots (each waits for its headers).
    let idle: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect_timeout(&server.http, PATIENCE).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut refused = 0;
    for _ in 0..20 {
        let (status, body) = http(server.http, "POST", "/v1/decide", ADMIN_BILLING_FREE);
        if status == 429 {
            assert_eq!(
                body,
                r#"{"schema_version":1,"error":{"code":"P0422","message":"too many open connections; retry with backoff"}}"#
            );
            refused += 1;
        } else {
            panic!("a connection over the limit was served: {status} {body}");
        }
    }
    assert_eq!(refused, 20);
    drop(idle);
    // Once they close, the server answers again.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (status, v) = server.post("/v1/decide", ADMIN_BILLING_FREE);
        if status == 200 {
            assert_eq!(v["decision"], "allow");
            break;
        }
        assert!(Instant::now() < deadline, "never served again");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(server.metric("policyc_rejected_total{reason=\"connections\"}") >= 20.0);
}

#[test]
fn ext_authz_fails_closed_on_unknown_or_missing_names() {
    let file = policies().join("humanloop.policy");
    let server = Server::start(&file, &[]);
    let checks = grpc_checks(
        server.grpc,
        vec![
            CheckRequest::default(),
            check_request(
                &[("x-policyc-roles", "admin")],
                &[("action", "billing.manage")],
            ),
            check_request(
                &[("x-policyc-roles", "root"), ("x-policyc-tier", "free")],
                &[("action", "billing.manage")],
            ),
            check_request(
                &[("x-policyc-roles", "admin"), ("x-policyc-tier", "platinum")],
                &[("action", "billing.manage")],
            ),
            // Derived from the path: `billing.read` is not a permission.
            check_request(
                &[("x-policyc-roles", "admin"), ("x-policyc-tier", "free")],
                &[],
            ),
            // Header mapping without route context.
            check_request(
                &[
                    ("x-policyc-roles", "admin"),
                    ("x-policyc-tier", "free"),
                    ("x-policyc-action", "billing.manage"),
                ],
                &[],
            ),
        ],
    );
    let codes: Vec<i32> = checks.iter().map(|c| c.0).collect();
    assert_eq!(
        codes,
        vec![
            GRPC_PERMISSION_DENIED,
            GRPC_PERMISSION_DENIED,
            GRPC_PERMISSION_DENIED,
            GRPC_PERMISSION_DENIED,
            GRPC_PERMISSION_DENIED,
            GRPC_OK
        ]
    );
    assert_eq!(checks[1].1["x-policyc-error"], "P0402");
    assert_eq!(checks[2].1["x-policyc-error"], "P0401");
    assert_eq!(checks[3].1["x-policyc-error"], "P0401");
    assert_eq!(
        server.metric("policyc_decisions_total{api=\"grpc\",outcome=\"error\"}"),
        5.0
    );
}

#[test]
fn ext_authz_reads_names_on_the_level_the_route_or_header_names() {
    let file = policies().join("examples/supabase");
    let server = Server::start(&file, &[]);
    let on_project = |roles: &str, tier: &str, route: &[(&str, &str)]| {
        let mut headers = vec![("x-policyc-roles", roles), ("x-policyc-tier", tier)];
        if route.iter().all(|(k, _)| *k != "scope") {
            headers.push(("x-policyc-scope", "project"));
        }
        let mut ext = vec![("action", "management.pause")];
        ext.extend_from_slice(route);
        check_request(&headers, &ext)
    };
    let checks = grpc_checks(
        server.grpc,
        vec![
            // An organization role acts on the project level, on every plan.
            on_project("organization.owner", "pro", &[]),
            on_project("read_only", "team", &[]),
            on_project("admin", "team", &[]),
            // The route's level wins over the header's.
            on_project("admin", "team", &[("scope", "project")]),
            on_project("admin", "team", &[("scope", "projct")]),
            // Without a level, names are full ids.
            check_request(
                &[
                    ("x-policyc-roles", "project.admin"),
                    ("x-policyc-tier", "team"),
                ],
                &[("action", "project.management.pause")],
            ),
            check_request(
                &[("x-policyc-roles", "admin"), ("x-policyc-tier", "team")],
                &[("action", "management.pause")],
            ),
        ],
    );
    let codes: Vec<i32> = checks.iter().map(|c| c.0).collect();
    assert_eq!(
        codes,
        vec![
            GRPC_OK,
            GRPC_PERMISSION_DENIED,
            GRPC_OK,
            GRPC_OK,
            GRPC_PERMISSION_DENIED,
            GRPC_OK,
            GRPC_PERMISSION_DENIED
        ]
    );
    assert!(checks[1].1["x-policyc-reason"].contains("project.read_only"));
    assert_eq!(checks[4].1["x-policyc-error"], "P0401");
    assert_eq!(checks[6].1["x-policyc-error"], "P0401");
}

#[test]
fn ext_authz_weighs_the_facts_in_the_request_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.policy");
    std::fs::write(
        &file,
        "condition own \"On items they created\"\npermission items.delete \"Delete items\"\n\
         role guest \"Guest\" {\n  grants items.delete when own\n}\n",
    )
    .unwrap();
    let server = Server::start(&file, &[]);
    let ask = |when: Option<&str>, route: &[(&str, &str)]| {
        let mut headers = vec![("x-policyc-roles", "guest")];
        if let Some(w) = when {
            headers.push(("x-policyc-when", w));
        }
        let mut ext = vec![("action", "items.delete")];
        ext.extend_from_slice(route);
        check_request(&headers, &ext)
    };
    let checks = grpc_checks(
        server.grpc,
        vec![
            ask(Some("own"), &[]),
            ask(None, &[]),
            ask(Some("own=false"), &[]),
            ask(Some("own=false"), &[("when", "own")]),
            ask(Some("onw"), &[]),
            ask(Some("own=maybe"), &[]),
        ],
    );
    let codes: Vec<i32> = checks.iter().map(|c| c.0).collect();
    assert_eq!(
        codes,
        vec![
            GRPC_OK,
            GRPC_PERMISSION_DENIED,
            GRPC_PERMISSION_DENIED,
            GRPC_OK,
            GRPC_PERMISSION_DENIED,
            GRPC_PERMISSION_DENIED
        ]
    );
    assert!(
        checks[1].1["x-policyc-reason"].starts_with("missing facts: "),
        "{:?}",
        checks[1].1
    );
    assert!(!checks[2].1["x-policyc-reason"].starts_with("missing facts"));
    assert_eq!(checks[4].1["x-policyc-error"], "P0401");
    assert_eq!(checks[5].1["x-policyc-error"], "P0403");
    // The HTTP API answers the third outcome in the body.
    let (status, v) = server.post("/v1/decide", r#"{"role":"guest","action":"items.delete"}"#);
    assert_eq!((status, &v["decision"]), (200, &Value::from("conditional")));
    assert_eq!(v["conditions"], serde_json::json!([["own"]]));
    let (_, v) = server.post(
        "/v1/decide",
        r#"{"role":"guest","action":"items.delete","when":{"own":true}}"#,
    );
    assert_eq!(v["decision"], "allow");
    assert_eq!(v["when"], serde_json::json!(["own"]));
    let (status, v) = server.post(
        "/v1/decide",
        r#"{"role":"guest","action":"items.delete","when":{"onw":true}}"#,
    );
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["code"], "P0401");
}

#[test]
fn a_bad_policy_or_address_at_start_is_exit_2_before_listening() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.policy");
    std::fs::write(&bad, "role x \"X\" { grants nothing.here }\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_policyc"))
        .env_clear()
        .env("NO_COLOR", "1")
        .arg("serve")
        .arg(&bad)
        .args(["--http", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("listening:"), "{err}");
    assert!(err.contains("P0202"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_policyc"))
        .env_clear()
        .arg("serve")
        .arg(policies().join("humanloop.policy"))
        .args(["--http", "not an address"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("P0550"));
}

/// Waits until `metric` reaches `want`, then checks it stays there.
fn wait_metric(server: &Server, metric: &str, want: f64) {
    let deadline = Instant::now() + PATIENCE;
    while server.metric(metric) < want {
        assert!(
            Instant::now() < deadline,
            "{metric} = {} after {PATIENCE:?}, want {want}",
            server.metric(metric)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.metric(metric), want, "{metric}");
}

#[test]
fn every_connection_closed_for_slow_headers_is_counted() {
    let file = policies().join("humanloop.policy");
    let server = Server::start(&file, &["--request-timeout-ms", "300"]);
    let timeouts = "policyc_rejected_total{reason=\"timeout\"}";
    assert_eq!(server.metric(timeouts), 0.0);
    // A keep-alive connection that was answered and then idles is closed
    // at the timeout too, but it is no slow client: not counted.
    let mut kept = TcpStream::connect_timeout(&server.http, PATIENCE).unwrap();
    kept.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(kept, "GET /healthz HTTP/1.1\r\nhost: test\r\n\r\n").unwrap();
    // Half the headers, nothing at all, and half the HTTP/2 preface: each
    // is closed by the timeout, and each is counted.
    let partial: &[&[u8]] = &[
        b"POST /v1/decide HTTP/1.1\r\nhost: te",
        b"",
        b"PRI * HTTP/2",
    ];
    let slow: Vec<TcpStream> = (0..30)
        .map(|i| {
            let mut s = TcpStream::connect_timeout(&server.http, PATIENCE).unwrap();
            s.set_read_timeout(Some(PATIENCE)).unwrap();
            s.write_all(partial[i % partial.len()]).unwrap();
            s
        })
        .collect();
    for mut s in slow {
        let start = Instant::now();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        assert!(start.elapsed() < PATIENCE);
        assert!(!String::from_utf8_lossy(&buf).contains("200 OK"), "{buf:?}");
    }
    let mut buf = Vec::new();
    let _ = kept.read_to_end(&mut buf);
    assert!(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200 OK"));
    wait_metric(&server, timeouts, 30.0);
    wait_metric(&server, "policyc_open_connections", 1.0);
}

/// One request on a fresh connection: status, headers (lower-cased names)
/// and body.
fn http_full(addr: SocketAddr, method: &str, path: &str) -> (u16, HashMap<String, String>, String) {
    let mut s = TcpStream::connect_timeout(&addr, PATIENCE).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

#[test]
fn a_wrong_method_gets_405_with_allow_and_a_json_error() {
    let server = Server::start(&policies().join("humanloop.policy"), &[]);
    for (method, path, allow) in [
        ("GET", "/v1/decide", "POST"),
        ("PUT", "/v1/decide", "POST"),
        ("POST", "/v1/who-can", "GET,HEAD"),
        ("DELETE", "/metrics", "GET,HEAD"),
    ] {
        let (status, headers, body) = http_full(server.http, method, path);
        assert_eq!(status, 405, "{method} {path}: {body}");
        assert_eq!(headers.get("allow").map(String::as_str), Some(allow));
        assert_eq!(
            headers.get("content-type").map(String::as_str),
            Some("application/json")
        );
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["schema_version"], 1, "{body}");
        assert_eq!(v["error"]["code"], "P0423", "{body}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(method) && message.contains(path),
            "{message}"
        );
    }
}

#[test]
fn a_deleted_policy_file_is_logged_and_the_last_good_policy_serves() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("humanloop.policy");
    let original = humanloop_without_asserts();
    std::fs::write(&file, &original).unwrap();
    let mut server = Server::start(&file, &["--watch-interval-ms", "50"]);
    let (_, good) = server.post("/v1/decide", ADMIN_BILLING_FREE);
    assert_eq!(good["decision"], "allow");
    std::fs::remove_file(&file).unwrap();
    let line = server.wait_for("reload failed (file change): P0501");
    assert!(line.contains("no such file or directory"), "{line}");
    assert!(
        line.ends_with(&format!(
            "still serving {}",
            good["policy_hash"].as_str().unwrap()
        )),
        "{line}"
    );
    assert_eq!(server.post("/v1/decide", ADMIN_BILLING_FREE).1, good);
    assert_eq!(
        server.metric("policyc_reloads_total{result=\"failure\"}"),
        1.0
    );
    // Logged once, not on every tick; back when the file is.
    std::thread::sleep(Duration::from_millis(300));
    write_atomic(&file, &original);
    server.wait_for("reloaded (file change)");
    let failures = server
        .seen
        .iter()
        .filter(|l| l.starts_with("reload failed"))
        .count();
    assert_eq!(failures, 1, "{:#?}", server.seen);
    assert_eq!(server.post("/v1/decide", ADMIN_BILLING_FREE).1, good);
}

#[test]
fn a_reload_log_never_shows_the_content_of_the_file() {
    const SECRET: &str = "TOPSECRET-WORD:$6$hash:19000 more secret\nsecond-line SECRET2 {\n";
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("shadow");
    std::fs::write(&secret, SECRET).unwrap();
    let policy = dir.path().join("good.policy");
    std::fs::write(&policy, humanloop_without_asserts()).unwrap();
    let yaml = dir.path().join("good.yaml");
    let compiled = Command::new(env!("CARGO_BIN_EXE_policyc"))
        .args(["compile", "--format", "yaml", "-o"])
        .arg(&yaml)
        .arg(&policy)
        .output()
        .unwrap();
    assert!(compiled.status.success(), "{compiled:?}");
    // A symlink, as a ConfigMap mounts it, swapped to a file that is not a
    // policy: `p.policy` → shadow, `p.yaml` → shadow, `p.json` → shadow.
    for (name, good) in [("p.policy", &policy), ("p.yaml", &yaml), ("p.json", &yaml)] {
        let link = dir.path().join(name);
        let first = if name == "p.json" { &policy } else { good };
        if name == "p.json" {
            // A JSON artifact to start from.
            let out = Command::new(env!("CARGO_BIN_EXE_policyc"))
                .args(["compile", "-o"])
                .arg(dir.path().join("good.json"))
                .arg(first)
                .output()
                .unwrap();
            assert!(out.status.success());
            std::os::unix::fs::symlink(dir.path().join("good.json"), &link).unwrap();
        } else {
            std::os::unix::fs::symlink(good, &link).unwrap();
        }
        let mut server = Server::start(&link, &["--watch-interval-ms", "50"]);
        let tmp = dir.path().join("swap");
        std::os::unix::fs::symlink(&secret, &tmp).unwrap();
        std::fs::rename(&tmp, &link).unwrap();
        let line = server.wait_for("reload failed (file change)");
        server.signal("-HUP");
        let again = server.wait_for("reload failed (SIGHUP)");
        for l in [&line, &again] {
            assert!(!l.contains("SECRET") && !l.contains("$6$"), "{name}: {l}");
            assert!(l.contains(": P0"), "{name}: {l}");
        }
        assert_eq!(
            server.post("/v1/decide", ADMIN_BILLING_FREE).1["decision"],
            "allow"
        );
    }
}

/// A client that sends the whole HTTP/2 preface (and its SETTINGS) and then
/// nothing, on either port, is closed after about twice the request
/// timeout: the server pings it and it never answers. A real HTTP/2 client
/// answers pings and stays connected.
#[test]
fn an_http2_client_that_falls_silent_after_the_preface_is_closed() {
    let file = policies().join("humanloop.policy");
    let server = Server::start(&file, &["--request-timeout-ms", "300"]);
    // The preface, then an empty SETTINGS frame (length 0, type 4, no
    // flags, stream 0), then silence.
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    hello.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    for (port, addr, with_settings) in [
        ("http", server.http, false),
        ("http", server.http, true),
        ("grpc", server.grpc, false),
        ("grpc", server.grpc, true),
    ] {
        let mut s = TcpStream::connect_timeout(&addr, PATIENCE).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let sent = if with_settings {
            &hello[..]
        } else {
            &hello[..24]
        };
        s.write_all(sent).unwrap();
        let start = Instant::now();
        let mut buf = Vec::new();
        let closed = s.read_to_end(&mut buf).is_ok();
        assert!(
            closed && start.elapsed() < Duration::from_secs(10),
            "{port} (settings: {with_settings}): still open after {:?}",
            start.elapsed()
        );
    }
    // Only the scrape's own connection is open.
    wait_metric(&server, "policyc_open_connections", 1.0);
}

/// A policy project is served as one policy and reloaded when one of its
/// files changes, and when a file is added to it.
#[test]
fn a_project_is_served_and_reloaded_when_any_of_its_files_changes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("acme");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("policyc.toml"), "[policy]\nname = \"acme\"\n").unwrap();
    std::fs::write(
        root.join("plans.policy"),
        "tiers free < team\npermission billing.manage \"Manage billing\"\n",
    )
    .unwrap();
    let admin = "role admin \"Admin\" {\n  grants billing.manage\n}\n";
    std::fs::write(root.join("admin.policy"), admin).unwrap();
    let mut server = Server::start(&root, &["--watch-interval-ms", "50"]);
    let (_, before) = server.post("/v1/decide", ADMIN_BILLING_FREE);
    assert_eq!(before["decision"], "allow", "{before}");
    // One file changes: admin no longer grants it.
    write_atomic(&root.join("admin.policy"), "role admin \"Admin\" {}\n");
    server.wait_for("reloaded (file change): serving sha256:");
    let (_, after) = server.post("/v1/decide", ADMIN_BILLING_FREE);
    assert_eq!(after["decision"], "deny", "{after}");
    // A new file of the project gives it back through another role.
    write_atomic(
        &root.join("owner.policy"),
        "role owner \"Owner\" {\n  grants billing.manage\n}\nassert owner can billing.manage\n",
    );
    write_atomic(
        &root.join("admin.policy"),
        "role admin \"Admin\" {\n  inherits owner\n}\n",
    );
    server.wait_for("reloaded (file change): serving sha256:");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, now) = server.post("/v1/decide", ADMIN_BILLING_FREE);
        if now["decision"] == "allow" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{now}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
