//! `policyc lsp` as a process: a framed JSON-RPC session on stdin/stdout
//! ends with exit 0 after `shutdown` + `exit`; a client that hangs up before
//! `initialize` gets P0560 on stderr and exit 2. (The features are tested in
//! crates/policy-lsp and, through a real client, in crates/policy-lsp/e2e.)
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_policyc"))
        .env_clear()
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// The JSON bodies of the framed messages in `out`.
fn messages(out: &[u8]) -> Vec<Value> {
    let text = String::from_utf8(out.to_vec()).unwrap();
    text.split("Content-Length: ")
        .filter(|s| !s.is_empty())
        .map(|m| serde_json::from_str(m.split_once("\r\n\r\n").unwrap().1).unwrap())
        .collect()
}

#[test]
fn a_session_publishes_diagnostics_and_exits_0() {
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
    input.extend(frame(
        &json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null }),
    ));
    input.extend(frame(
        &json!({ "jsonrpc": "2.0", "method": "exit", "params": null }),
    ));
    let out = run(&input);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    assert_eq!(msgs[2]["id"], 2);
    assert_eq!(msgs.len(), 3);
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
