//! Language-server latency on a generated 1,000-role policy (5,000
//! permissions, depth 50, 359 KB): the diagnostics published after a
//! one-character edit (incremental `didChange`: apply the edit, recompile,
//! index, convert every diagnostic), and hover on a role deep in an
//! inheritance chain and on a permission. Measured through
//! `policy_lsp::Server`, the handlers the stdio loop calls, with JSON
//! parameters in and JSON results out (only the transport thread is left out).
//!
//!
//! Projects (issue 26): the same edit in a generated 10,000-role policy
//! (50,000 permissions, depth 100, 3.6 MB) in one document, and in the
//! same policy split by declaration into a project of 100 files (a
//! `policyc.toml` in a temporary directory, the edited file open, the 99
//! others read from disk at each compile, as the server does).
//!
//! ```text
//! cargo bench -p policy-bench --features bench --bench lsp -- --warm-up-time 1 --measurement-time 5
//! cargo bench -p policy-bench --features bench --bench lsp -- lsp_10000_roles   # the project case only
//! ```
#![allow(
    missing_docs,
    clippy::expect_used,
    reason = "benchmark harness: a failed setup is a failed benchmark"
)]

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

/// Opens `text` as `uri` and compiles it: the diagnostics published.
fn open(server: &mut Server, uri: &str, text: &str) -> Vec<Message> {
    server.notification(Notification::new(
        "textDocument/didOpen".to_string(),
        json!({ "textDocument": { "uri": uri, "languageId": "policy", "version": 1, "text": text } }),
    ))
}

/// One character typed at `(line, col)` on even versions, deleted on odd
/// ones: the diagnostics published, checked (a P0201 every other time).
fn edit(server: &mut Server, uri: &str, (line, col): (u32, u32), version: i32) -> Vec<Message> {
    let at = json!({ "line": line, "character": col });
    let change = if version % 2 == 0 {
        json!({ "range": { "start": at, "end": at }, "text": "x" })
    } else {
        json!({ "range": { "start": at, "end": { "line": line, "character": col + 1 } }, "text": "" })
    };
    let out = server.notification(Notification::new(
        "textDocument/didChange".to_string(),
        json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [change] }),
    ));
    assert_eq!(out.len(), 1, "one file's diagnostics changed");
    assert_eq!(published(&out), if version % 2 == 0 { 1 } else { 0 });
    out
}

/// `text` split by declaration into `n` files of about as many
/// declarations each, in order (each declaration with the comments before
/// it), as `policy-compiler/tests/project.rs` splits a policy.
fn split(text: &str, n: usize) -> Vec<String> {
    let (file, _) = policy_syntax::parse(&policy_syntax::SourceFile::new("g.policy", text));
    let ends: Vec<usize> = file.items.iter().map(|i| i.span().end).collect();
    let per = ends.len().div_ceil(n).max(1);
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    for chunk in ends.chunks(per) {
        let end = match chunk.last() {
            Some(e) if out.len() + 1 < n => *e,
            _ => text.len(),
        };
        out.push(text.get(start..end).unwrap_or("").to_string());
        start = end;
    }
    out
}

/// The same edit in a 10,000-role policy, alone and as a project of 100
/// files, in one run.
fn lsp_projects(c: &mut Criterion) {
    let text = generate(&Spec::new(10_000, 50_000, 100));
    let needle = "inherits r4007\n";
    let mut group = c.benchmark_group("lsp_10000_roles");
    group.sample_size(10);

    let mut single = Server::new(Encoding::Utf16);
    assert_eq!(published(&open(&mut single, URI, &text)), 0);
    let (line, col) = find(&text, needle);
    let mut version = 1;
    group.bench_function("one_file_diagnostics_after_one_char_edit", |b| {
        b.iter(|| {
            version += 1;
            edit(&mut single, URI, (line, col + 13), version)
        })
    });
    drop(single);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let files = split(&text, 100);
    assert_eq!(files.concat(), text);
    let write = |name: &str, body: &str| {
        std::fs::write(dir.path().join(name), body).expect("the project's files are written");
    };
    write("policyc.toml", "[policy]\nname = \"generated\"\n");
    for (i, body) in files.iter().enumerate() {
        write(&format!("part{i:03}.policy"), body);
    }
    let (k, body) = files
        .iter()
        .enumerate()
        .find(|(_, f)| f.contains(needle))
        .expect("a file holds the edited line");
    let uri = format!("file://{}/part{k:03}.policy", dir.path().display());
    let mut project = Server::new(Encoding::Utf16);
    let opened = open(&mut project, &uri, body);
    assert_eq!(published(&opened), 0, "the project has diagnostics");
    let (line, col) = find(body, needle);
    let mut version = 1;
    group.bench_function("project_100_files_diagnostics_after_one_char_edit", |b| {
        b.iter(|| {
            version += 1;
            edit(&mut project, &uri, (line, col + 13), version)
        })
    });
    drop(project);

    // For comparison: the server's analysis (parse, compile, name index)
    // of the one text and of the project's files as one source.
    let one = policy_syntax::SourceFile::new("generated.policy", text.as_str());
    group.bench_function("part_analysis_one_file", |b| {
        b.iter(|| policy_lsp::analysis::Analysis::of(&one, Encoding::Utf16))
    });
    let parts: Vec<policy_syntax::SourceFile> = files
        .iter()
        .enumerate()
        .map(|(i, f)| policy_syntax::SourceFile::new(format!("part{i:03}.policy"), f.as_str()))
        .collect();
    let joined = policy_syntax::SourceFile::project("generated", &parts);
    group.bench_function("part_analysis_project", |b| {
        b.iter(|| policy_lsp::analysis::Analysis::of(&joined, Encoding::Utf16))
    });
    group.finish();
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

criterion_group!(benches, lsp, lsp_projects);
criterion_main!(benches);
