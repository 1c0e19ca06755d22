//! The language server's message loop on hostile input: the bytes a client
//! could send, framed or not, go through the real transport
//! (`policy_lsp::transport::transport`) into the real loop
//! (`policy_lsp::serve_with`), and the session must end (no panic, no
//! hang: libFuzzer's `-timeout`, no unbounded memory: its `-rss_limit_mb`)
//! with every byte the server wrote a well-framed JSON-RPC message.
//!
//! The first byte chooses how the rest is read: a multiple of 4 gives the
//! rest as the raw stream (the seed corpus holds real sessions so), any
//! other value a structured session generated from the rest: framing
//! (header case, extra and missing headers, lengths too short, too long or
//! not numbers, bodies over the cap), bodies (not UTF-8, not JSON, not
//! JSON-RPC, lone surrogate escapes, odd ids), and the protocol (requests
//! before `initialize`, after `shutdown`, `exit` anywhere) around
//! documents opened, edited by ranges that may lie outside them (lines and
//! columns up to `u32::MAX`, inside a UTF-16 surrogate pair, across CR LF),
//! closed, and asked for hover, definition, references, symbols,
//! completion, formatting, rename and code actions.
#![no_main]

use std::io::{Cursor, Write};
use std::sync::{Arc, Mutex, PoisonError};

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use policy_lsp::transport::{read_frame, transport, Frame};
use policy_lsp::{serve_with, Options};
use serde_json::{json, Value};

/// The largest message the transport reads (small, so that the skip path
/// of a message over the cap is reached by short inputs too).
const MAX_MESSAGE: u64 = 64 * 1024;
/// The largest document the server compiles.
const MAX_DOCUMENT: usize = 16 * 1024;
/// The most steps of a generated session.
const MAX_STEPS: usize = 96;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let stream = if mode % 4 == 0 {
        rest.to_vec()
    } else {
        let mut u = Unstructured::new(rest);
        let mut session = Session::default();
        // Running out of bytes just ends the session where it is.
        let _ = session.generate(&mut u);
        session.out
    };
    run(stream);
});

/// Runs one session to its end and checks what the server wrote.
fn run(stream: Vec<u8>) {
    let written = Shared::default();
    let (connection, threads) = transport(Cursor::new(stream), written.clone(), MAX_MESSAGE);
    #[allow(clippy::needless_update, reason = "Options may grow fields")]
    let options = Options {
        max_document_bytes: MAX_DOCUMENT,
        docs_url: Some("https://policyc.invalid/docs/".to_string()),
        ..Options::default()
    };
    // How the session ended (clean, without shutdown, the client gone) is
    // the protocol's business; that it ends is this target's.
    let _ = serve_with(&connection, options);
    drop(connection);
    let _ = threads.join();
    let out = std::mem::take(&mut *written.0.lock().unwrap_or_else(PoisonError::into_inner));
    check_output(&out);
}

/// Every byte written is a frame whose body is one JSON-RPC 2.0 object.
fn check_output(out: &[u8]) {
    let mut r = Cursor::new(out);
    loop {
        match read_frame(&mut r, u64::MAX) {
            Ok(Frame::End) => break,
            Ok(Frame::Body(body)) => {
                let value: Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
                    panic!(
                        "the server wrote a body that is not JSON ({e}): {:?}",
                        String::from_utf8_lossy(&body)
                    )
                });
                assert_eq!(
                    value.get("jsonrpc").and_then(Value::as_str),
                    Some("2.0"),
                    "not JSON-RPC 2.0: {value}"
                );
            }
            Ok(Frame::TooLarge(n)) => panic!("impossible: a {n}-byte frame over u64::MAX"),
            Err(e) => panic!("the server's output is not framed: {e}"),
        }
    }
    assert_eq!(
        r.position() as usize,
        out.len(),
        "the server's output ends inside a frame"
    );
}

/// The writer the server writes to, kept to be checked.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Pieces of policies, whole lines and fragments, that edits put together.
const FRAGMENTS: &[&str] = &[
    "tiers free < team < enterprise\n",
    "permission billing.manage \"Manage billing\"\n",
    "permission a.b \"A\" on team\n",
    "permission sso.configure \"SSO\" on enterprise\n",
    "role admin \"Admin\" {\n  grants billing.*, a.b\n}\n",
    "role member \"Member\" {\n  inherits admin\n  excludes billing.manage\n}\n",
    "role r \"R\" { grants a.b on team }\n",
    "/// A doc comment.\n",
    "expect empty-role, empty-role \"later\"\n",
    "assert admin can billing.manage on free\n",
    "assert no role can sso.configure on free\n",
    "// comment\n",
    "grants ",
    "inherits ",
    "admin",
    "billing.manage",
    "a.*",
    "{",
    "}",
    "\"",
    ",",
    " ",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "é",
    "𝄞",
    "\u{feff}",
    "\u{0}",
];

/// Document addresses: a few, so that edits meet open documents.
const URIS: &[&str] = &[
    "file:///w/a.policy",
    "file:///w/b.policy",
    "untitled:Untitled-1",
    "file:///w/dir/",
    "file:///w/%E2%82%AC%20x.policy",
    "not a uri",
];

/// Requests the server answers on open documents.
const METHODS: &[&str] = &[
    "textDocument/hover",
    "textDocument/definition",
    "textDocument/references",
    "textDocument/documentSymbol",
    "textDocument/completion",
    "textDocument/formatting",
    "textDocument/rename",
    "textDocument/codeAction",
    "shutdown",
    "initialize",
    "workspace/symbol",
    "$/unknown",
];

/// A generated session: the bytes of the stream, and the state the
/// generator keeps to make plausible edits.
#[derive(Default)]
struct Session {
    out: Vec<u8>,
    next_id: i64,
}

impl Session {
    fn generate(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        if u.ratio(7, 8)? {
            let utf8 = u.arbitrary::<bool>()?;
            let encodings = if utf8 {
                json!(["utf-8", "utf-16"])
            } else {
                json!(["utf-16"])
            };
            self.request(
                "initialize",
                json!({ "capabilities": { "general": { "positionEncodings": encodings } } }),
            );
            if u.ratio(7, 8)? {
                self.notify("initialized", json!({}));
            }
        }
        for _ in 0..MAX_STEPS {
            if u.is_empty() {
                break;
            }
            match u.int_in_range(0..=15u8)? {
                0..=2 => {
                    let uri = self.uri(u)?;
                    let text = self.text(u)?;
                    let params = json!({ "textDocument": {
                        "uri": uri, "languageId": "policy", "version": u.arbitrary::<i32>()?, "text": text
                    }});
                    self.notify("textDocument/didOpen", params);
                }
                3..=6 => {
                    let uri = self.uri(u)?;
                    let mut changes = Vec::new();
                    for _ in 0..u.int_in_range(1..=4u8)? {
                        let text = self.text(u)?;
                        if u.ratio(1, 6)? {
                            changes.push(json!({ "text": text }));
                        } else {
                            let start = self.position(u)?;
                            let end = self.position(u)?;
                            changes.push(
                                json!({ "range": { "start": start, "end": end }, "text": text }),
                            );
                        }
                    }
                    let params = json!({
                        "textDocument": { "uri": uri, "version": u.arbitrary::<i32>()? },
                        "contentChanges": changes,
                    });
                    self.notify("textDocument/didChange", params);
                }
                7..=10 => {
                    let method = *u.choose(METHODS)?;
                    let uri = self.uri(u)?;
                    let position = self.position(u)?;
                    let params = json!({
                        "textDocument": { "uri": uri },
                        "position": position,
                        "newName": self.text(u)?,
                        "range": { "start": position, "end": self.position(u)? },
                        "context": { "includeDeclaration": u.arbitrary::<bool>()?, "diagnostics": [] },
                        "options": { "tabSize": 2, "insertSpaces": true },
                        "query": "",
                    });
                    self.request(method, params);
                }
                11 => {
                    let uri = self.uri(u)?;
                    self.notify(
                        "textDocument/didClose",
                        json!({ "textDocument": { "uri": uri } }),
                    );
                }
                12 => match u.int_in_range(0..=3u8)? {
                    0 => self.notify("exit", Value::Null),
                    1 => self.notify("$/cancelRequest", json!({ "id": self.next_id - 1 })),
                    2 => self.request("shutdown", Value::Null),
                    _ => self.notify("initialized", json!({})),
                },
                13 => self.odd_body(u)?,
                14 => self.odd_frame(u)?,
                _ => {
                    // Raw bytes, wherever they land.
                    let n = u.int_in_range(0..=64usize)?;
                    let bytes = u.bytes(n)?;
                    self.out.extend_from_slice(bytes);
                }
            }
        }
        Ok(())
    }

    fn frame(&mut self, body: &[u8]) {
        let _ = write!(self.out, "Content-Length: {}\r\n\r\n", body.len());
        self.out.extend_from_slice(body);
    }

    fn request(&mut self, method: &str, params: Value) {
        self.next_id += 1;
        let body =
            json!({ "jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params });
        self.frame(body.to_string().as_bytes());
    }

    fn notify(&mut self, method: &str, params: Value) {
        let body = json!({ "jsonrpc": "2.0", "method": method, "params": params });
        self.frame(body.to_string().as_bytes());
    }

    fn uri(&self, u: &mut Unstructured<'_>) -> Result<&'static str> {
        Ok(*u.choose(URIS)?)
    }

    /// A position: mostly small, sometimes at the far end of `u32`.
    fn position(&self, u: &mut Unstructured<'_>) -> Result<Value> {
        let coordinate = |u: &mut Unstructured<'_>| -> Result<u32> {
            Ok(match u.int_in_range(0..=9u8)? {
                0 => u.arbitrary::<u32>()?,
                1 => u32::MAX,
                _ => u.int_in_range(0..=24u32)?,
            })
        };
        let line = coordinate(u)?;
        let character = coordinate(u)?;
        Ok(json!({ "line": line, "character": character }))
    }

    /// Text for a document or an edit: fragments of policies, and now and
    /// then any string.
    fn text(&self, u: &mut Unstructured<'_>) -> Result<String> {
        let mut text = String::new();
        for _ in 0..u.int_in_range(0..=12u8)? {
            if u.ratio(1, 8)? {
                text.push_str(&u.arbitrary::<String>()?);
            } else {
                text.push_str(u.choose(FRAGMENTS)?);
            }
        }
        Ok(text)
    }

    /// A well-framed body the server must answer as an error, or apply.
    fn odd_body(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let id = self.next_id + 1;
        self.next_id += 1;
        let body: Vec<u8> = match u.int_in_range(0..=9u8)? {
            // Lone surrogate escapes in a request and in a notification.
            0 => format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"textDocument/hover","params":{{"textDocument":{{"uri":"file:///w/a.policy"}},"position":{{"line":0,"character":0}},"x":"\ud800"}}}}"#
            )
            .into_bytes(),
            1 => r#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///w/a.policy","languageId":"policy","version":1,"text":"role r \"R\" {}\n\udc00\ud800x\ud83d\ude00"}}}"#
                .as_bytes()
                .to_vec(),
            // Not UTF-8, not JSON, not JSON-RPC.
            2 => vec![0xff, 0xfe, b'{', 0x80],
            3 => b"{\"jsonrpc\":\"2.0\",".to_vec(),
            4 => b"[]".to_vec(),
            5 => b"42".to_vec(),
            // Odd ids and params.
            6 => json!({ "jsonrpc": "2.0", "id": { "nested": [id] }, "method": "textDocument/hover", "params": {} })
                .to_string()
                .into_bytes(),
            7 => json!({ "jsonrpc": "2.0", "id": null, "method": "shutdown" }).to_string().into_bytes(),
            8 => json!({ "jsonrpc": "2.0", "id": id, "method": "textDocument/hover", "params": "not an object" })
                .to_string()
                .into_bytes(),
            // A response the server never asked for.
            _ => json!({ "jsonrpc": "2.0", "id": id, "result": u.arbitrary::<i64>()? }).to_string().into_bytes(),
        };
        self.frame(&body);
        Ok(())
    }

    /// Framing the transport must survive: skipping what it can, ending
    /// the connection where it cannot know where the next message starts.
    fn odd_frame(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let body = json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }).to_string();
        let len = body.len();
        let header = match u.int_in_range(0..=10u8)? {
            0 => format!("content-length: {len}\r\n\r\n"),
            1 => format!("Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: {len}\r\n\r\n"),
            2 => format!("Content-Length: {len}\n\n"),
            3 => format!("Content-Length: {}\r\n\r\n", len.saturating_sub(u.int_in_range(1..=8usize)?)),
            4 => format!("Content-Length: {}\r\n\r\n", len + u.int_in_range(1..=8usize)?),
            5 => "Content-Length: 99999999999999\r\n\r\n".to_string(),
            6 => "Content-Length: 18446744073709551615\r\n\r\n".to_string(),
            7 => format!("Content-Length: {}\r\n\r\n", MAX_MESSAGE + 1),
            8 => format!("X-Long: {}\r\nContent-Length: {len}\r\n\r\n", "x".repeat(5000)),
            9 => "X-No-Length: 1\r\n\r\n".to_string(),
            _ => "Content-Length: -1\r\n\r\n".to_string(),
        };
        self.out.extend_from_slice(header.as_bytes());
        self.out.extend_from_slice(body.as_bytes());
        Ok(())
    }
}
