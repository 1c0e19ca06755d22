//! Language-server latency on a generated 1,000-role policy (5,000
//! permissions, depth 50, 359 KB): the diagnostics published after a
//! one-character edit (incremental `didChange`: apply the edit, recompile,
//! index, convert every diagnostic), and hover on a role deep in an
//! inheritance chain and on a permission. Measured through
//! `policy_lsp::Server`, the handlers the stdio loop calls, with JSON
//! parameters in and JSON results out (only the transport thread is left out).
//!
//! ```text
//! cargo bench -p policy-bench --features bench --bench lsp -- --warm-up-time 1 --measurement-time 5
//! ```
#![allow(missing_docs, reason = "benchmark harness")]

use criterion::{criterion_group, criterion_main, Criterion};
use lsp_server::{Message, Notification, Request, RequestId};
use policy_bench::{generate, Spec};
use policy_lsp::position::Encoding;
use policy_lsp::Server;
use serde_json::json;

const URI: &str = "file:///bench/generated.policy";

/// The (line, column) of the first occurrence of `needle` (ASCII text).
fn find(text: &str, needle: &str) -> (u32, u32) {
    let off = text.find(needle).unwrap_or(0);
    let before = text.get(..off).unwrap_or("");
    let line = before.matches('\n').count();
    let col = off - before.rfind('\n').map_or(0, |i| i + 1);
    (line as u32, col as u32)
}

fn published(out: &[Message]) -> usize {
    match out.first() {
        Some(Message::Notification(n)) => n
            .params
            .get("diagnostics")
            .and_then(|d| d.as_array())
            .map_or(0, Vec::len),
        _ => usize::MAX,
    }
}

fn lsp(c: &mut Criterion) {
    let text = generate(&Spec::new(1_000, 5_000, 50));
    let mut server = Server::new(Encoding::Utf16);
    let out = server.notification(Notification::new(
        "textDocument/didOpen".to_string(),
        json!({ "textDocument": { "uri": URI, "languageId": "policy", "version": 1, "text": text } }),
    ));
    assert_eq!(published(&out), 0, "the generated policy has diagnostics");

    let mut group = c.benchmark_group("lsp_1000_roles");
    group.sample_size(20);

    // One character typed into, then deleted from, a parent name: every
    // other iteration publishes a P0201, the others clear it.
    let (line, col) = find(&text, "inherits r407");
    let at = json!({ "line": line, "character": col + 13 });
    let mut version = 1;
    group.bench_function("diagnostics_after_one_char_edit", |b| {
        b.iter(|| {
            version += 1;
            let change = if version % 2 == 0 {
                json!({ "range": { "start": at, "end": at }, "text": "x" })
            } else {
                json!({ "range": { "start": at, "end": { "line": line, "character": col + 14 } }, "text": "" })
            };
            let out = server.notification(Notification::new(
                "textDocument/didChange".to_string(),
                json!({ "textDocument": { "uri": URI, "version": version }, "contentChanges": [change] }),
            ));
            assert_eq!(published(&out), if version % 2 == 0 { 1 } else { 0 });
            out
        })
    });

    // For comparison: the parts of the edit's cost.
    group.bench_function("part_parse", |b| {
        let source = policy_syntax::SourceFile::new("generated.policy", text.as_str());
        b.iter(|| policy_syntax::parse(&source))
    });
    group.bench_function("part_compile", |b| {
        let source = policy_syntax::SourceFile::new("generated.policy", text.as_str());
        b.iter(|| policy_compiler::compile(&source))
    });
    group.bench_function("part_analysis", |b| {
        b.iter(|| policy_lsp::analysis::Analysis::new("generated.policy", &text, Encoding::Utf16))
    });

    let mut id = 0;
    for (name, needle, delta) in [
        ("hover_role", "role r500 ", 6),
        ("hover_permission", "permission res0.view", 12),
    ] {
        let (line, col) = find(&text, needle);
        group.bench_function(name, |b| {
            b.iter(|| {
                id += 1;
                let resp = server.request(Request::new(
                    RequestId::from(id),
                    "textDocument/hover".to_string(),
                    json!({ "textDocument": { "uri": URI }, "position": { "line": line, "character": col + delta } }),
                ));
                assert!(resp.response_result.as_ref().is_ok_and(|v| !v.is_null()));
                resp
            })
        });
    }
    group.finish();
}

criterion_group!(benches, lsp);
criterion_main!(benches);
