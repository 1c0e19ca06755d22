//! `policyc lsp` as a process: a framed JSON-RPC session on stdin/stdout
//! ends with exit 0 after `shutdown` + `exit`; a client that hangs up before
//! `initialize` gets P0560 on stderr and exit 2. (The features are tested in
//! crates/policy-lsp and, through a real client, in crates/policy-lsp/e2e.)
#![cfg(feature = "lsp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: clippy.toml allows these in #[test] functions but not in the helpers of an integration test; a failure is a test failure"
)]

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

fn frame(v: &Value) -> Vec<u8> {
    let body = v.to_string();
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

fn run(input: &[u8]) -> std::process::Output {
    run_env(input, &[])
}

/// `policyc lsp` fed `input`, in a cleared environment plus `env`.
fn run_env(input: &[u8], env: &[(&str, &str)]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_policyc"))
        .env_clear()
        .envs(env.iter().copied())
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// `shutdown` (with request id `id`) then `exit`.
fn shutdown_and_exit(id: i32) -> Vec<u8> {
    let mut out =
        frame(&json!({ "jsonrpc": "2.0", "id": id, "method": "shutdown", "params": null }));
    out.extend(frame(
        &json!({ "jsonrpc": "2.0", "method": "exit", "params": null }),
    ));
    out
}

/// Asserts the exit status, showing stderr if it differs.
fn assert_status(out: &std::process::Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The JSON bodies of the framed messages in `out`.
fn messages(out: &[u8]) -> Vec<Value> {
    let text = String::from_utf8(out.to_vec()).unwrap();
    text.split("Content-Length: ")
        .filter(|s| !s.is_empty())
        .map(|m| serde_json::from_str(m.split_once("\r\n\r\n").unwrap().1).unwrap())
        .collect()
}

/// initialize, initialized, and a document with one unknown role (P0201).
fn open_one_error() -> Vec<u8> {
    let mut input = Vec::new();
    input.extend(frame(
        &json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": { "processId": null, "rootUri": null, "capabilities": {} } }),
    ));
    input.extend(frame(
        &json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }),
    ));
    input.extend(frame(
        &json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": { "uri": "file:///w/a.policy", "languageId": "policy", "version": 1,
                          "text": "role a \"A\" { inherits b }" } } }),
    ));
    input
}

#[test]
fn a_session_publishes_diagnostics_and_exits_0() {
    let mut input = open_one_error();
    input.extend(shutdown_and_exit(2));
    let out = run(&input);
    assert_status(&out, 0);
    let msgs = messages(&out.stdout);
    assert_eq!(msgs[0]["id"], 1);
    assert_eq!(msgs[0]["result"]["serverInfo"]["name"], "policyc");
    assert_eq!(msgs[1]["method"], "textDocument/publishDiagnostics");
    let codes: Vec<&str> = msgs[1]["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["P0201"]);
    // No POLICYC_DOCS_URL: no link.
    assert!(msgs[1]["params"]["diagnostics"][0]
        .get("codeDescription")
        .is_none());
    assert_eq!(msgs[2]["id"], 2);
    assert_eq!(msgs.len(), 3);
}

#[test]
fn codes_link_into_policyc_docs_url() {
    let mut input = open_one_error();
    input.extend(shutdown_and_exit(2));
    let out = run_env(&input, &[("POLICYC_DOCS_URL", "file:///opt/policyc")]);
    assert_status(&out, 0);
    let msgs = messages(&out.stdout);
    assert_eq!(
        msgs[1]["params"]["diagnostics"][0]["codeDescription"]["href"],
        "file:///opt/policyc/docs/errors/P0201.md"
    );
}

#[test]
fn hanging_up_before_initialize_is_p0560_and_exit_2() {
    let out = run(b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("P0560"), "{err}");
    assert!(err.contains("language server stopped"), "{err}");
}

fn initialize() -> Vec<u8> {
    frame(&json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": { "processId": null, "rootUri": null, "capabilities": {} } }))
}

/// Headers announcing huge bodies neither abort (allocation failure),
/// panic (capacity overflow) nor grow memory: a body over the limit is
/// skipped as it streams and answered with an error; a body that never
/// comes is the end of the input.
#[test]
fn huge_content_lengths_are_answered_not_allocated() {
    let mut input = initialize();
    input.extend(b"Content-Length: 40000000\r\n\r\n");
    input.extend(vec![b' '; 40_000_000]);
    input.extend(shutdown_and_exit(2));
    let out = run(&input);
    assert_status(&out, 0);
    let msgs = messages(&out.stdout);
    assert_eq!(msgs[1]["id"], Value::Null);
    assert!(msgs[1]["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("40000000 bytes")));
    assert_eq!(msgs[2]["id"], 2);
    for huge in ["99999999999999", "18446744073709551615", "4000000000"] {
        let mut input = initialize();
        input.extend(format!("Content-Length: {huge}\r\n\r\n{{}}").into_bytes());
        let out = run(&input);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{huge}: {err}");
        assert!(
            err.contains("P0560") && err.contains("without `shutdown`"),
            "{err}"
        );
    }
}

/// A lone surrogate (as `JSON.stringify` in an editor writes one) in a
/// request is an error on that request; in `didOpen` it is read as U+FFFD
/// with a warning; the server keeps serving either way.
#[test]
fn lone_surrogates_are_answered_and_survived() {
    let mut input = initialize();
    let open = r#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///w/a.policy","languageId":"policy","version":1,"text":"role a \"\ud800\" {}"}}}"#;
    input.extend(format!("Content-Length: {}\r\n\r\n{open}", open.len()).into_bytes());
    let hover = r#"{"jsonrpc":"2.0","id":5,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///w/\udc00.policy"},"position":{"line":0,"character":0}}}"#;
    input.extend(format!("Content-Length: {}\r\n\r\n{hover}", hover.len()).into_bytes());
    input.extend(frame(&json!({ "jsonrpc": "2.0", "id": 6, "method": "textDocument/hover",
        "params": { "textDocument": { "uri": "file:///w/a.policy" }, "position": { "line": 0, "character": 6 } } })));
    input.extend(shutdown_and_exit(7));
    let out = run(&input);
    assert_status(&out, 0);
    let msgs = messages(&out.stdout);
    let by_id = |id: i64| msgs.iter().find(|m| m["id"] == id).unwrap();
    assert!(msgs.iter().any(|m| m["method"] == "window/showMessage"));
    assert_eq!(by_id(5)["error"]["code"], -32602);
    assert!(by_id(6)["result"]["contents"]["value"]
        .as_str()
        .is_some_and(|v| v.contains('\u{fffd}')));
    assert_eq!(by_id(7)["result"], Value::Null);
}

/// `exit` without `shutdown` is exit status 1 (the protocol says so); a
/// request after `shutdown` is answered with `InvalidRequest`.
#[test]
fn lifecycle_exit_codes() {
    let mut input = initialize();
    input.extend(frame(
        &json!({ "jsonrpc": "2.0", "method": "exit", "params": null }),
    ));
    assert_eq!(run(&input).status.code(), Some(1));
    let mut input = initialize();
    input.extend(frame(
        &json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null }),
    ));
    input.extend(frame(&json!({ "jsonrpc": "2.0", "id": 3, "method": "textDocument/hover",
        "params": { "textDocument": { "uri": "file:///w/a.policy" }, "position": { "line": 0, "character": 0 } } })));
    input.extend(frame(
        &json!({ "jsonrpc": "2.0", "method": "exit", "params": null }),
    ));
    let out = run(&input);
    assert_eq!(out.status.code(), Some(0));
    let msgs = messages(&out.stdout);
    assert_eq!(msgs.last().unwrap()["id"], 3);
    assert_eq!(msgs.last().unwrap()["error"]["code"], -32600);
}
