//! The protocol's lifecycle, lone-CR documents, edit bursts and the
//! document size limit, through an in-memory connection (issue 21).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: clippy.toml allows these in #[test] functions but not in the helpers of an integration test; a failure is a test failure"
)]

mod common;

use std::time::{Duration, Instant};

use common::{pos, Client, TIMEOUT};
use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use policy_lsp::{Ending, Options};
use serde_json::{json, Value};

const URI: &str = "file:///w/a.policy";

/// A raw connection to a server thread, for lifecycle tests the `Client`
/// helper would get in the way of.
struct Raw {
    conn: Connection,
    server: std::thread::JoinHandle<Result<Ending, policy_lsp::ServeError>>,
}

impl Raw {
    fn start(options: Options) -> Raw {
        let (server_conn, conn) = Connection::memory();
        let server = std::thread::spawn(move || policy_lsp::serve_with(&server_conn, options));
        Raw { conn, server }
    }

    fn send_request(&self, id: i32, method: &str, params: Value) {
        self.conn
            .sender
            .send(Message::Request(Request::new(
                RequestId::from(id),
                method.to_string(),
                params,
            )))
            .unwrap();
    }

    fn notify(&self, method: &str, params: Value) {
        self.conn
            .sender
            .send(Message::Notification(Notification::new(
                method.to_string(),
                params,
            )))
            .unwrap();
    }

    /// The response to `id`, and every notification received before it.
    fn response(&self, id: i32) -> (Response, Vec<Notification>) {
        let mut seen = Vec::new();
        loop {
            match self.conn.receiver.recv_timeout(TIMEOUT).unwrap() {
                Message::Response(r) if r.id == RequestId::from(id) => return (r, seen),
                Message::Notification(n) => seen.push(n),
                _ => {}
            }
        }
    }

    fn initialize(&self) {
        self.send_request(1, "initialize", json!({ "capabilities": {} }));
        assert!(self.response(1).0.response_result.is_ok());
    }

    fn end(self) -> Result<Ending, policy_lsp::ServeError> {
        drop(self.conn);
        self.server.join().unwrap()
    }
}

fn error_code(r: &Response) -> i32 {
    r.response_result.as_ref().err().map_or(0, |e| e.code)
}

#[test]
fn requests_before_initialize_are_answered_server_not_initialized() {
    let raw = Raw::start(Options::default());
    raw.send_request(7, "textDocument/hover", pos(URI, 0, 0));
    assert_eq!(error_code(&raw.response(7).0), -32002);
    // A notification before `initialize` is dropped, not an error.
    raw.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": URI, "languageId": "policy", "version": 1, "text": "role" } }),
    );
    raw.initialize();
    // Answered before `initialized` arrives, and `initialized` does not end it.
    raw.send_request(
        2,
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": URI } }),
    );
    assert_eq!(
        error_code(&raw.response(2).0),
        -32602,
        "the early didOpen was dropped"
    );
    raw.notify("initialized", json!({}));
    raw.send_request(3, "initialize", json!({ "capabilities": {} }));
    assert_eq!(error_code(&raw.response(3).0), -32600);
    raw.send_request(4, "shutdown", Value::Null);
    assert!(raw.response(4).0.response_result.is_ok());
    raw.notify("exit", Value::Null);
    assert_eq!(raw.end(), Ok(Ending::Clean));
}

#[test]
fn requests_after_shutdown_are_invalid_and_exit_then_is_clean() {
    let raw = Raw::start(Options::default());
    raw.initialize();
    raw.send_request(2, "shutdown", Value::Null);
    assert!(raw.response(2).0.response_result.is_ok());
    raw.send_request(3, "textDocument/hover", pos(URI, 0, 0));
    assert_eq!(error_code(&raw.response(3).0), -32600);
    raw.send_request(4, "shutdown", Value::Null);
    assert_eq!(error_code(&raw.response(4).0), -32600);
    raw.notify("exit", Value::Null);
    assert_eq!(raw.end(), Ok(Ending::Clean));
}

#[test]
fn exit_without_shutdown_ends_unclean_and_a_hang_up_is_an_error() {
    let raw = Raw::start(Options::default());
    raw.initialize();
    raw.notify("exit", Value::Null);
    assert_eq!(raw.end(), Ok(Ending::WithoutShutdown));
    let raw = Raw::start(Options::default());
    raw.initialize();
    let err = raw.end().unwrap_err();
    assert!(err.0.contains("without `shutdown`"), "{err}");
}

/// The issue's document with lone CRs: positions, hover and formatting
/// agree with the CLI, which reports the unknown `a.c` at 3:10.
#[test]
fn lone_cr_documents_use_the_cli_line_model() {
    let text = "permission a.b \"x\"\rrole r \"R\" {\r  grants a.c\r}\r";
    let mut c = Client::start(&[]);
    let diags = c.open(URI, text);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(
        diags[0]["range"]["start"],
        json!({ "line": 2, "character": 9 })
    );
    let hover = c.request("textDocument/hover", pos(URI, 1, 5));
    assert!(
        hover["contents"]["value"]
            .as_str()
            .is_some_and(|v| v.contains('R')),
        "{hover}"
    );
    let fixed = text.replace("a.c", "a.b");
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 2 }, "contentChanges": [{ "text": fixed }] }),
    );
    let edits = c.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": URI }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    let edits = edits.as_array().unwrap();
    assert_eq!(edits.len(), 1, "{edits:?}");
    assert_eq!(
        edits[0]["range"]["start"],
        json!({ "line": 0, "character": 0 })
    );
    assert_eq!(
        edits[0]["range"]["end"],
        json!({ "line": 4, "character": 0 })
    );
    c.shutdown();
}

/// 300 one-character edits sent at once cost one compile: one
/// `publishDiagnostics`, for the last version, before the hover's answer.
#[test]
fn a_burst_of_edits_is_compiled_once() {
    let mut text = String::from("permission a.b \"x\"\n");
    for i in 0..2000 {
        text.push_str(&format!("role r{i} \"R{i}\" {{\n  grants a.b\n}}\n"));
    }
    let raw = Raw::start(Options::default());
    raw.initialize();
    raw.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": URI, "languageId": "policy", "version": 1, "text": text } }),
    );
    for v in 2..302 {
        raw.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": URI, "version": v }, "contentChanges": [
                { "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } }, "text": " " }
            ] }),
        );
    }
    let sent = Instant::now();
    raw.send_request(2, "textDocument/hover", pos(URI, 1, 6));
    let (hover, seen) = raw.response(2);
    let answered = sent.elapsed();
    assert!(hover.response_result.unwrap()["contents"]["value"]
        .as_str()
        .is_some_and(|v| v.contains("R0")));
    let published: Vec<&Notification> = seen
        .iter()
        .filter(|n| n.method == "textDocument/publishDiagnostics")
        .collect();
    assert!(
        !published.is_empty() && published.len() <= 2,
        "{} compiles for one burst",
        published.len()
    );
    assert_eq!(published.last().unwrap().params["version"], 301);
    // Not a timing target (that is the benchmark's), a bound on a stall.
    assert!(answered < Duration::from_secs(10), "{answered:?}");
    raw.send_request(3, "shutdown", Value::Null);
    raw.response(3);
    raw.notify("exit", Value::Null);
    assert_eq!(raw.end(), Ok(Ending::Clean));
}

#[test]
fn a_document_over_the_limit_gets_p0504_and_is_not_compiled_or_formatted() {
    let raw = Raw::start(Options {
        max_document_bytes: 64,
        ..Options::default()
    });
    raw.initialize();
    let text = "role a \"A\" { inherits nope }\n".repeat(4);
    raw.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": URI, "languageId": "policy", "version": 1, "text": text } }),
    );
    raw.send_request(
        2,
        "textDocument/formatting",
        json!({ "textDocument": { "uri": URI }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    let (fmt, seen) = raw.response(2);
    assert_eq!(error_code(&fmt), -32803);
    let diags = &seen
        .iter()
        .find(|n| n.method == "textDocument/publishDiagnostics")
        .unwrap()
        .params["diagnostics"];
    let codes: Vec<&str> = diags
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["P0504"]);
    raw.send_request(3, "textDocument/hover", pos(URI, 0, 6));
    assert_eq!(raw.response(3).0.response_result.unwrap(), Value::Null);
    raw.notify("exit", Value::Null);
    assert_eq!(raw.end(), Ok(Ending::WithoutShutdown));
}
