//! `policy-load`: a closed-loop load generator for policy decision points
//! on loopback, used by `crates/policy-bench/server/run.sh` to compare `policyc serve`
//! with the Cerbos PDP on the same Humanloop decisions.
//!
//! ```text
//! policy-load verify TARGET ADDR CASES            # every case once; decisions vs the file's `expect`
//! policy-load run TARGET ADDR CASES [--concurrency N] [--requests N] [--seconds S]
//! ```
//!
//! TARGET is `policyc` (HTTP `POST /v1/decide`), `policyc-grpc` (Envoy
//! ext_authz `Check`) or `cerbos` (HTTP `POST /api/check/resources`).
//! CASES is a `*.test.yaml` file; its cases are sent round-robin. `run`
//! keeps N requests in flight (N keep-alive connections for HTTP, N
//! concurrent calls on one HTTP/2 connection per 16 for gRPC), stops after
//! the request count or the time limit, whichever comes first, and prints
//! one JSON line: throughput, latency percentiles, errors.
#![deny(missing_docs)]
#![expect(
    clippy::indexing_slicing,
    reason = "indices come from bounded loops over non-empty vectors checked at start"
)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::{
    attribute_context, AttributeContext, CheckRequest,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const USAGE: &str = "usage: policy-load verify|run policyc|policyc-grpc|cerbos ADDR CASES [--concurrency N] [--requests N] [--seconds S]";

/// One decision to ask for.
#[derive(Clone, Debug)]
struct Case {
    roles: Vec<String>,
    action: String,
    tier: Option<String>,
    allow: bool,
}

fn read_cases(path: &str) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let cases = doc
        .get("cases")
        .and_then(|c| c.as_sequence())
        .ok_or_else(|| format!("{path}: no `cases`"))?;
    let mut out = Vec::new();
    for c in cases {
        let s = |k: &str| c.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let roles = c
            .get("roles")
            .and_then(|r| r.as_sequence())
            .map(|r| {
                r.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        out.push(Case {
            roles,
            action: s("action").ok_or("a case without `action`")?,
            tier: s("tier"),
            allow: s("expect").as_deref() == Some("allow"),
        });
    }
    if out.is_empty() {
        return Err(format!("{path}: no cases"));
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Policyc,
    PolicycGrpc,
    Cerbos,
}

/// The request body for a case.
fn body(target: Target, c: &Case) -> String {
    match target {
        Target::Cerbos => serde_json::json!({
            "requestId": "bench",
            "principal": {"id": "user", "roles": c.roles},
            "resources": [{
                "actions": [c.action],
                "resource": {"kind": "organization", "id": "org", "attr": {"tier": c.tier}}
            }]
        })
        .to_string(),
        _ => serde_json::json!({"roles": c.roles, "action": c.action, "tier": c.tier}).to_string(),
    }
}

fn http_request(target: Target, addr: SocketAddr, c: &Case) -> Vec<u8> {
    let path = match target {
        Target::Cerbos => "/api/check/resources",
        _ => "/v1/decide",
    };
    let b = body(target, c);
    format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{b}",
        b.len()
    )
    .into_bytes()
}

/// Whether a response body says allow.
fn says_allow(target: Target, body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    match target {
        Target::Cerbos => text.contains("EFFECT_ALLOW"),
        _ => text.contains("\"decision\":\"allow\""),
    }
}

fn check_request(c: &Case) -> CheckRequest {
    let mut headers = std::collections::HashMap::new();
    headers.insert("x-policyc-roles".to_string(), c.roles.join(","));
    if let Some(t) = &c.tier {
        headers.insert("x-policyc-tier".to_string(), t.clone());
    }
    headers.insert("x-policyc-action".to_string(), c.action.clone());
    CheckRequest {
        attributes: Some(AttributeContext {
            request: Some(attribute_context::Request {
                http: Some(attribute_context::HttpRequest {
                    method: "GET".into(),
                    path: "/".into(),
                    headers,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
    }
}

/// A keep-alive HTTP/1.1 connection that reads one response per request.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

fn find(h: &[u8], needle: &[u8]) -> Option<usize> {
    h.windows(needle.len()).position(|w| w == needle)
}

impl Conn {
    async fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(16 * 1024),
        })
    }

    async fn fill(&mut self) -> std::io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// Sends `req`; the status and body of the answer.
    async fn call(&mut self, req: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        self.stream.write_all(req).await?;
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await?;
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).to_ascii_lowercase();
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let length = head.lines().find_map(|l| {
            l.strip_prefix("content-length:")
                .and_then(|v| v.trim().parse::<usize>().ok())
        });
        self.buf.drain(..head_end);
        let body = if let Some(n) = length {
            while self.buf.len() < n {
                self.fill().await?;
            }
            self.buf.drain(..n).collect()
        } else if head.contains("transfer-encoding: chunked") {
            let mut body = Vec::new();
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf, b"\r\n") {
                        break i;
                    }
                    self.fill().await?;
                };
                let size_text = String::from_utf8_lossy(&self.buf[..line_end]).to_string();
                let size = usize::from_str_radix(size_text.trim(), 16)
                    .map_err(|_| std::io::Error::other("bad chunk size"))?;
                while self.buf.len() < line_end + 2 + size + 2 {
                    self.fill().await?;
                }
                body.extend_from_slice(&self.buf[line_end + 2..line_end + 2 + size]);
                self.buf.drain(..line_end + 2 + size + 2);
                if size == 0 {
                    break;
                }
            }
            body
        } else {
            Vec::new()
        };
        Ok((status, body))
    }
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
    allows: u64,
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

async fn http_worker(
    target: Target,
    addr: SocketAddr,
    reqs: Arc<Vec<Vec<u8>>>,
    next: Arc<AtomicU64>,
    total: u64,
    deadline: Instant,
) -> Tally {
    let mut t = Tally::default();
    let mut conn = match Conn::open(addr).await {
        Ok(c) => c,
        Err(_) => {
            t.errors += 1;
            return t;
        }
    };
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= total || Instant::now() >= deadline {
            return t;
        }
        let req = &reqs[(i % reqs.len() as u64) as usize];
        let start = Instant::now();
        match conn.call(req).await {
            Ok((200, body)) => {
                t.latencies_us.push(micros(start.elapsed()));
                if says_allow(target, &body) {
                    t.allows += 1;
                }
            }
            Ok(_) => t.errors += 1,
            Err(_) => {
                t.errors += 1;
                match Conn::open(addr).await {
                    Ok(c) => conn = c,
                    Err(_) => return t,
                }
            }
        }
    }
}

async fn grpc_worker(
    mut client: AuthorizationClient<tonic::transport::Channel>,
    reqs: Arc<Vec<CheckRequest>>,
    next: Arc<AtomicU64>,
    total: u64,
    deadline: Instant,
) -> Tally {
    let mut t = Tally::default();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= total || Instant::now() >= deadline {
            return t;
        }
        let req = reqs[(i % reqs.len() as u64) as usize].clone();
        let start = Instant::now();
        match client.check(req).await {
            Ok(r) => {
                t.latencies_us.push(micros(start.elapsed()));
                if r.into_inner().status.is_some_and(|s| s.code == 0) {
                    t.allows += 1;
                }
            }
            Err(_) => t.errors += 1,
        }
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1]) / 1000.0
}

struct Opts {
    concurrency: usize,
    requests: u64,
    seconds: u64,
}

fn parse_opts(args: &[String]) -> Option<Opts> {
    let mut o = Opts {
        concurrency: 32,
        requests: 200_000,
        seconds: 20,
    };
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1)?;
        match args[i].as_str() {
            "--concurrency" => o.concurrency = v.parse().ok()?,
            "--requests" => o.requests = v.parse().ok()?,
            "--seconds" => o.seconds = v.parse().ok()?,
            _ => return None,
        }
        i += 2;
    }
    (o.concurrency > 0).then_some(o)
}

async fn verify(target: Target, addr: SocketAddr, cases: &[Case]) -> Result<String, String> {
    let mut mismatches = Vec::new();
    if target == Target::PolicycGrpc {
        let mut client = AuthorizationClient::connect(format!("http://{addr}"))
            .await
            .map_err(|e| e.to_string())?;
        for c in cases {
            let r = client
                .check(check_request(c))
                .await
                .map_err(|e| e.to_string())?;
            let allow = r.into_inner().status.is_some_and(|s| s.code == 0);
            if allow != c.allow {
                mismatches.push(format!("{c:?}"));
            }
        }
    } else {
        let mut conn = Conn::open(addr).await.map_err(|e| e.to_string())?;
        for c in cases {
            let (status, body) = conn
                .call(&http_request(target, addr, c))
                .await
                .map_err(|e| e.to_string())?;
            if status != 200 {
                return Err(format!(
                    "HTTP {status} for {c:?}: {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            if says_allow(target, &body) != c.allow {
                mismatches.push(format!("{c:?}"));
            }
        }
    }
    if mismatches.is_empty() {
        Ok(format!(
            "{} cases: every decision as the test file expects",
            cases.len()
        ))
    } else {
        Err(format!("decisions differ: {mismatches:#?}"))
    }
}

async fn run(target: Target, addr: SocketAddr, cases: &[Case], o: &Opts) -> Result<String, String> {
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(o.seconds);
    let mut handles = Vec::new();
    if target == Target::PolicycGrpc {
        let reqs = Arc::new(cases.iter().map(check_request).collect::<Vec<_>>());
        let channels = o.concurrency.div_ceil(16);
        let mut clients = Vec::new();
        for _ in 0..channels {
            clients.push(
                AuthorizationClient::connect(format!("http://{addr}"))
                    .await
                    .map_err(|e| e.to_string())?,
            );
        }
        for w in 0..o.concurrency {
            handles.push(tokio::spawn(grpc_worker(
                clients[w % channels].clone(),
                reqs.clone(),
                next.clone(),
                o.requests,
                deadline,
            )));
        }
    } else {
        let reqs = Arc::new(
            cases
                .iter()
                .map(|c| http_request(target, addr, c))
                .collect::<Vec<_>>(),
        );
        for _ in 0..o.concurrency {
            handles.push(tokio::spawn(http_worker(
                target,
                addr,
                reqs.clone(),
                next.clone(),
                o.requests,
                deadline,
            )));
        }
    }
    let mut all = Tally::default();
    for h in handles {
        let t = h.await.map_err(|e| e.to_string())?;
        all.latencies_us.extend(t.latencies_us);
        all.errors += t.errors;
        all.allows += t.allows;
    }
    let secs = start.elapsed().as_secs_f64();
    all.latencies_us.sort_unstable();
    let ok = all.latencies_us.len();
    Ok(serde_json::json!({
        "target": match target { Target::Policyc => "policyc", Target::PolicycGrpc => "policyc-grpc", Target::Cerbos => "cerbos" },
        "concurrency": o.concurrency,
        "requests_ok": ok,
        "errors": all.errors,
        "allows": all.allows,
        "seconds": (secs * 1000.0).round() / 1000.0,
        "throughput_rps": (ok as f64 / secs).round(),
        "p50_ms": percentile(&all.latencies_us, 50.0),
        "p90_ms": percentile(&all.latencies_us, 90.0),
        "p99_ms": percentile(&all.latencies_us, 99.0),
        "max_ms": percentile(&all.latencies_us, 100.0),
    })
    .to_string())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = (|| {
        let mode = args.first()?.clone();
        let target = match args.get(1)?.as_str() {
            "policyc" => Target::Policyc,
            "policyc-grpc" => Target::PolicycGrpc,
            "cerbos" => Target::Cerbos,
            _ => return None,
        };
        let addr: SocketAddr = args.get(2)?.parse().ok()?;
        if !addr.ip().is_loopback() {
            return None;
        }
        let cases = args.get(3)?.clone();
        let opts = parse_opts(args.get(4..)?)?;
        Some((mode, target, addr, cases, opts))
    })();
    let Some((mode, target, addr, cases_path, opts)) = parsed else {
        eprintln!("{USAGE}\n(ADDR must be a loopback IP:PORT)");
        return ExitCode::from(2);
    };
    let cases = match read_cases(&cases_path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("policy-load: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("policy-load: {e}");
            return ExitCode::from(2);
        }
    };
    let result = rt.block_on(async {
        match mode.as_str() {
            "verify" => verify(target, addr, &cases).await,
            "run" => run(target, addr, &cases, &opts).await,
            _ => Err(USAGE.to_string()),
        }
    });
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("policy-load: {e}");
            ExitCode::from(1)
        }
    }
}
