//! No input makes the server fail: every UI-test policy, every prefix of a
//! real policy (half-typed text), and hostile text, with every request at
//! many positions, in both encodings. A panicking handler is contained.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: clippy.toml allows these in #[test] functions but not in the helpers of an integration test; a failure is a test failure"
)]

use std::path::{Path, PathBuf};

use lsp_server::{Message, Notification, Request, RequestId};
use policy_lsp::position::Encoding;
use policy_lsp::{guarded, Server};
use serde_json::json;

const URI: &str = "file:///w/x.policy";

fn policies(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            policies(&p, out);
        } else if p.extension().is_some_and(|e| e == "policy") {
            out.push(p);
        }
    }
}

/// Opens `text` and runs every request at `positions` lines × columns; fails
/// on any internal error (a contained panic).
fn exercise(server: &mut Server, text: &str, id: &mut i32) {
    let open = Notification::new(
        "textDocument/didOpen".to_string(),
        json!({ "textDocument": { "uri": URI, "languageId": "policy", "version": 1, "text": text } }),
    );
    let out = server.notification(open);
    assert!(
        matches!(out.as_slice(), [Message::Notification(n)] if n.method == "textDocument/publishDiagnostics"),
        "no diagnostics for {text:?}"
    );
    let lines = text.lines().count() as u32 + 1;
    let step = (lines / 8).max(1);
    for line in (0..=lines).step_by(step as usize) {
        for character in [0, 1, 3, 7, 12, 20, 40, 200] {
            let p = json!({ "textDocument": { "uri": URI }, "position": { "line": line, "character": character } });
            let range = json!({ "start": { "line": 0, "character": 0 }, "end": { "line": line, "character": character } });
            let requests = [
                ("textDocument/hover", p.clone()),
                ("textDocument/definition", p.clone()),
                (
                    "textDocument/references",
                    json!({ "textDocument": { "uri": URI }, "position": p["position"], "context": { "includeDeclaration": true } }),
                ),
                ("textDocument/completion", p.clone()),
                (
                    "textDocument/rename",
                    json!({ "textDocument": { "uri": URI }, "position": p["position"], "newName": "renamed" }),
                ),
                (
                    "textDocument/codeAction",
                    json!({ "textDocument": { "uri": URI }, "range": range, "context": { "diagnostics": [] } }),
                ),
            ];
            for (method, params) in requests {
                *id += 1;
                let resp = server.request(Request::new(
                    RequestId::from(*id),
                    method.to_string(),
                    params,
                ));
                if let Err(e) = &resp.response_result {
                    assert_ne!(
                        e.code, -32603,
                        "{method} at {line}:{character} failed on {text:?}: {}",
                        e.message
                    );
                }
            }
        }
    }
    for method in ["textDocument/documentSymbol", "textDocument/formatting"] {
        *id += 1;
        let params = json!({ "textDocument": { "uri": URI }, "options": { "tabSize": 2, "insertSpaces": true } });
        let resp = server.request(Request::new(
            RequestId::from(*id),
            method.to_string(),
            params,
        ));
        assert!(resp.response_result.is_ok(), "{method} on {text:?}");
    }
    // An incremental edit with a range far outside the text clamps.
    let change = Notification::new(
        "textDocument/didChange".to_string(),
        json!({ "textDocument": { "uri": URI, "version": 2 }, "contentChanges": [
            { "range": { "start": { "line": 3, "character": 5 }, "end": { "line": 999, "character": 1 } }, "text": "é😀\r\n" },
            { "range": { "start": { "line": 99, "character": 0 }, "end": { "line": 0, "character": 2 } }, "text": "" }
        ] }),
    );
    assert_eq!(server.notification(change).len(), 1);
}

#[test]
fn every_ui_policy_and_seed_in_both_encodings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    policies(&root.join("tests"), &mut files);
    policies(&root.join("policies"), &mut files);
    assert!(files.len() > 20, "found only {} policies", files.len());
    let mut id = 0;
    for enc in [Encoding::Utf16, Encoding::Utf8] {
        let mut server = Server::new(enc);
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            exercise(&mut server, &text, &mut id);
        }
    }
}

#[test]
fn every_prefix_of_a_policy_as_if_typed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("policies/humanloop.policy")).unwrap();
    let mut server = Server::new(Encoding::Utf16);
    let mut id = 0;
    let cuts: Vec<usize> = (0..text.len())
        .step_by(37)
        .filter(|i| text.is_char_boundary(*i))
        .collect();
    for cut in cuts {
        exercise(&mut server, &text[..cut], &mut id);
    }
}

#[test]
fn hostile_text() {
    let mut server = Server::new(Encoding::Utf16);
    let mut id = 0;
    let long_line = format!("role a \"{}\" {{}}", "é".repeat(5000));
    let many = "role r \"R\" { inherits r }\n".repeat(300);
    let braces = "{".repeat(10_000);
    let nested = "role a \"A\" { grants ".to_string() + &"*.".repeat(2000) + "x }";
    for text in [
        "",
        "\u{feff}",
        "\"",
        "///",
        "role",
        "role a \"",
        "role a \"A\" { inherits ",
        "role a \"A\" { grants * excludes * }",
        "tiers a < a < a\nrole a \"A\" on > a, a { }",
        "assert only",
        "assert no role below",
        "permission a \"😀\u{0}\"",
        "\r\r\r\n\n\r",
        "role 😀 \"x\" {}",
        long_line.as_str(),
        many.as_str(),
        braces.as_str(),
        nested.as_str(),
    ] {
        exercise(&mut server, text, &mut id);
    }
}

#[test]
fn a_panicking_handler_is_contained() {
    let caught = guarded(|| -> u32 { panic!("boom") });
    assert_eq!(caught, None);
    assert_eq!(guarded(|| 7), Some(7));
    // The server still answers after a contained failure.
    let mut server = Server::new(Encoding::Utf16);
    let mut id = 0;
    exercise(&mut server, "role a \"A\" {}", &mut id);
}
