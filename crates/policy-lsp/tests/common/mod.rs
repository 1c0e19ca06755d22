//! An in-memory LSP client driving `policy_lsp::serve` on a thread.
#![allow(
    dead_code,
    reason = "each test binary uses its own part of these helpers"
)]

use std::thread::JoinHandle;
use std::time::Duration;

use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use serde_json::{json, Value};

pub struct Client {
    conn: Connection,
    server: Option<JoinHandle<Result<policy_lsp::Ending, policy_lsp::ServeError>>>,
    next_id: i32,
    pub init: Value,
    /// The requests the server sent (seen while waiting for something else).
    pub server_requests: std::cell::RefCell<Vec<Request>>,
}

pub const TIMEOUT: Duration = Duration::from_secs(20);

impl Client {
    /// Starts a server; `encodings` is what the client offers as `positionEncodings`.
    pub fn start(encodings: &[&str]) -> Client {
        Client::start_with(encodings, policy_lsp::Options::default())
    }

    /// Starts a server whose client has the workspace folder `root` (a URI).
    pub fn start_in(root: &str) -> Client {
        Client::start_full(&[], policy_lsp::Options::default(), Some(root))
    }

    /// Starts a server with `options`.
    pub fn start_with(encodings: &[&str], options: policy_lsp::Options) -> Client {
        Client::start_full(encodings, options, None)
    }

    /// Starts a server whose client has the workspace folder `root` and
    /// lets the server register file watchers.
    pub fn start_watching(root: &str) -> Client {
        Client::start_caps(
            json!({ "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } } }),
            policy_lsp::Options::default(),
            Some(root),
        )
    }

    fn start_full(encodings: &[&str], options: policy_lsp::Options, root: Option<&str>) -> Client {
        let caps = if encodings.is_empty() {
            json!({})
        } else {
            json!({ "general": { "positionEncodings": encodings } })
        };
        Client::start_caps(caps, options, root)
    }

    fn start_caps(caps: Value, options: policy_lsp::Options, root: Option<&str>) -> Client {
        let (server_conn, conn) = Connection::memory();
        let server = std::thread::spawn(move || policy_lsp::serve_with(&server_conn, options));
        let mut c = Client {
            conn,
            server: Some(server),
            next_id: 0,
            init: Value::Null,
            server_requests: std::cell::RefCell::new(Vec::new()),
        };
        c.init = c.request(
            "initialize",
            match root {
                Some(root) => json!({
                    "processId": null,
                    "rootUri": root,
                    "workspaceFolders": [{ "uri": root, "name": "root" }],
                    "capabilities": caps
                }),
                None => json!({ "processId": null, "rootUri": null, "capabilities": caps }),
            },
        );
        c.notify("initialized", json!({}));
        c
    }

    pub fn notify(&self, method: &str, params: Value) {
        self.conn
            .sender
            .send(Message::Notification(Notification::new(
                method.to_string(),
                params,
            )))
            .unwrap();
    }

    /// Sends a request and returns its response (result or error), skipping notifications.
    pub fn response(&mut self, method: &str, params: Value) -> Response {
        self.exchange(method, params).1
    }

    /// Sends a request and returns the diagnostics published before its
    /// response (URI and diagnostics, in the order sent) and its result:
    /// the server compiles pending edits before it answers, so these are
    /// every publication the edits caused.
    pub fn published_before(
        &mut self,
        method: &str,
        params: Value,
    ) -> (Vec<(String, Vec<Value>)>, Value) {
        let (published, r) = self.exchange(method, params);
        (published, r.response_result.unwrap())
    }

    /// Sends a request and waits for its response, keeping the diagnostics
    /// published before it and the requests the server sent meanwhile
    /// ([`Client::server_requests`]).
    fn exchange(&mut self, method: &str, params: Value) -> (Vec<(String, Vec<Value>)>, Response) {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.conn
            .sender
            .send(Message::Request(Request::new(
                id.clone(),
                method.to_string(),
                params,
            )))
            .unwrap();
        let mut published = Vec::new();
        loop {
            match self.conn.receiver.recv_timeout(TIMEOUT).unwrap() {
                Message::Response(r) if r.id == id => return (published, r),
                Message::Notification(n) if n.method == "textDocument/publishDiagnostics" => {
                    published.push((
                        n.params["uri"].as_str().unwrap().to_string(),
                        n.params["diagnostics"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default(),
                    ));
                }
                Message::Request(r) => self.server_requests.borrow_mut().push(r),
                _ => {}
            }
        }
    }

    /// The result of a request; panics on an error response.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let r = self.response(method, params);
        r.response_result.unwrap()
    }

    /// Waits for the next `publishDiagnostics` for `uri`.
    pub fn diagnostics(&self, uri: &str) -> Vec<Value> {
        loop {
            match self.conn.receiver.recv_timeout(TIMEOUT).unwrap() {
                Message::Notification(n)
                    if n.method == "textDocument/publishDiagnostics" && n.params["uri"] == uri =>
                {
                    return n.params["diagnostics"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                }
                Message::Request(r) => self.server_requests.borrow_mut().push(r),
                _ => {}
            }
        }
    }

    /// Opens a document and returns its first diagnostics.
    pub fn open(&self, uri: &str, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "policy", "version": 1, "text": text } }),
        );
        self.diagnostics(uri)
    }

    pub fn shutdown(mut self) {
        let _ = self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let server = self.server.take().unwrap();
        assert_eq!(server.join().unwrap().unwrap(), policy_lsp::Ending::Clean);
    }
}

pub fn pos(uri: &str, line: u32, character: u32) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
}

/// The (line, character) of the `n`th occurrence of `needle` in `text`,
/// counting columns in UTF-16 units (`utf16`) or bytes.
pub fn find(text: &str, needle: &str, n: usize, utf16: bool) -> (u32, u32) {
    let off = text.match_indices(needle).nth(n).unwrap().0;
    let before = &text[..off];
    let line = before.matches('\n').count() as u32;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = if utf16 {
        before[start..].encode_utf16().count()
    } else {
        before[start..].len()
    };
    (line, col as u32)
}

/// Applies LSP text edits (non-overlapping, any order) to `text`, UTF-16 columns.
pub fn apply_edits(text: &str, edits: &[Value], utf16: bool) -> String {
    let enc = if utf16 {
        policy_lsp::position::Encoding::Utf16
    } else {
        policy_lsp::position::Encoding::Utf8
    };
    let idx = policy_lsp::position::LineIndex::new(text, enc);
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            let p = |v: &Value| {
                lsp_types::Position::new(
                    v["line"].as_u64().unwrap() as u32,
                    v["character"].as_u64().unwrap() as u32,
                )
            };
            (
                idx.offset(text, p(&e["range"]["start"])),
                idx.offset(text, p(&e["range"]["end"])),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (s, e, t) in spans {
        out.replace_range(s..e, &t);
    }
    out
}
