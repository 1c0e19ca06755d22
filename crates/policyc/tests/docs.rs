//! Every console example in `README.md` and `docs/*.md` is executed, so the
//! docs cannot drift from the tool.
//!
//! An example is a fenced block (` ```console `, or untagged) holding a
//! `$ policyc …` line. Each `$ ` line (continued by a trailing `\`) is run by
//! `sh` in a fresh temporary directory holding `policies/`, copies of its
//! files at the top, and the files of `tests/fixtures/docs/` (the
//! `small.policy`, `warn.policy`, … the docs refer to), with the `policyc`
//! under test first on `PATH` and stderr merged into stdout. The lines up to
//! the next `$ ` line are its expected output; a line `…` matches any number
//! of lines (indented or not). A command with no output of its own, alone in its block and
//! followed by a ` ```json ` block, is expected to print that block.
//!
//! To update the docs after a deliberate change of output, run
//! `UPDATE_DOCS=1 cargo test -p policyc --test docs` and review `git diff`.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed lookup is a test failure"
)]

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The line that matches any number of output lines.
const ELLIPSIS: &str = "…";

/// One `$ command` and where its expected output sits in the document.
#[derive(Debug)]
struct Example {
    /// 1-based line of the `$`.
    line: usize,
    command: String,
    /// Half-open range of document lines holding the expected output.
    output: (usize, usize),
}

/// The examples of a document, grouped by block (one sandbox per block).
fn examples(lines: &[&str]) -> Vec<Vec<Example>> {
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let info = match lines[i].strip_prefix("```") {
            Some(info) => info.trim(),
            None => {
                i += 1;
                continue;
            }
        };
        let start = i + 1;
        let end = (start..lines.len())
            .find(|&j| lines[j].trim_end() == "```")
            .unwrap_or(lines.len());
        i = end + 1;
        let body = &lines[start..end];
        if !(info.is_empty() || info == "console")
            || !body.iter().any(|l| l.starts_with("$ policyc"))
        {
            continue;
        }
        let mut block: Vec<Example> = Vec::new();
        let mut j = start;
        while j < end {
            if let Some(first) = lines[j].strip_prefix("$ ") {
                let line = j + 1;
                let mut command = first.to_string();
                while command.ends_with('\\') && j + 1 < end {
                    command.pop();
                    j += 1;
                    command.push_str(lines[j]);
                }
                let out_start = j + 1;
                let mut out_end = out_start;
                while out_end < end && !lines[out_end].starts_with("$ ") {
                    out_end += 1;
                }
                block.push(Example {
                    line,
                    command,
                    output: (out_start, out_end),
                });
                j = out_end;
            } else {
                j += 1;
            }
        }
        // `$ policyc … --format json` alone, then the document in a json block.
        if let [only] = block.as_mut_slice() {
            let blank = lines[only.output.0..only.output.1]
                .iter()
                .all(|l| l.trim().is_empty());
            let next = (end + 1..lines.len()).find(|&k| !lines[k].trim().is_empty());
            if let Some(k) = next.filter(|&k| blank && lines[k].trim_end() == "```json") {
                let close = (k + 1..lines.len())
                    .find(|&c| lines[c].trim_end() == "```")
                    .unwrap_or(lines.len());
                only.output = (k + 1, close);
            }
        }
        blocks.push(block);
    }
    blocks
}

/// Lines without trailing whitespace or trailing blank lines.
fn normalize<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = lines.map(|l| l.trim_end().to_string()).collect();
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out
}

/// Whether `actual` matches `expected`, where an [`ELLIPSIS`] line matches
/// any run of lines.
fn matches(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e.trim() == ELLIPSIS => {
            (0..=actual.len()).any(|k| matches(rest, &actual[k..]))
        }
        Some((e, rest)) => actual
            .split_first()
            .is_some_and(|(a, more)| a == e && matches(rest, more)),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A fresh directory for one block's commands.
fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let policies = common::root().join("policies");
    copy_dir(&policies, &dir.path().join("policies"));
    for entry in std::fs::read_dir(&policies).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docs"),
        dir.path(),
    );
    dir
}

fn documents() -> Vec<PathBuf> {
    let root = common::root();
    let mut docs = vec![PathBuf::from("README.md")];
    let mut more: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| p.strip_prefix(&root).unwrap().to_path_buf())
        .collect();
    more.sort();
    docs.extend(more);
    docs
}

/// The expected lines an update writes: the actual output, cut after as
/// many lines as were shown when the docs showed only a head and `…`;
/// otherwise all of it (elide by hand with `…` lines, then re-run).
fn updated(expected: &[String], actual: &[String]) -> Vec<String> {
    match expected.iter().position(|l| l.trim() == ELLIPSIS) {
        Some(shown) if shown + 1 == expected.len() && shown > 0 && actual.len() > shown => {
            let mut lines = actual[..shown].to_vec();
            lines.push(ELLIPSIS.to_string());
            lines
        }
        _ => actual.to_vec(),
    }
}

#[test]
fn console_examples_in_the_docs_are_real_output() {
    let update = std::env::var_os("UPDATE_DOCS").is_some_and(|v| !v.is_empty());
    let mut failures = String::new();
    let mut count = 0;
    for doc in documents() {
        let path = common::root().join(&doc);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut replacements: Vec<((usize, usize), Vec<String>)> = Vec::new();
        for block in examples(&lines) {
            let dir = sandbox();
            for ex in block {
                count += 1;
                let out = common::sh(dir.path(), &format!("exec 2>&1\n{}", ex.command));
                let stdout = out.stdout();
                let actual = normalize(stdout.lines());
                let (a, b) = ex.output;
                let expected = normalize(lines[a..b].iter().copied());
                if matches(&expected, &actual) {
                    continue;
                }
                if update {
                    // Keep a blank line that separated this example from the next.
                    let mut new = updated(&expected, &actual);
                    let trailing_blank = b > a
                        && lines[b - 1].trim().is_empty()
                        && b < lines.len()
                        && lines[b].starts_with("$ ");
                    if trailing_blank {
                        new.push(String::new());
                    }
                    replacements.push(((a, b), new));
                    continue;
                }
                let diff = similar::TextDiff::from_lines(
                    &(expected.join("\n") + "\n"),
                    &(actual.join("\n") + "\n"),
                )
                .unified_diff()
                .header("documented", "actual")
                .to_string();
                let _ = writeln!(
                    failures,
                    "{}:{}: `$ {}` printed something else:\n{diff}",
                    doc.display(),
                    ex.line,
                    ex.command
                );
            }
        }
        if update && !replacements.is_empty() {
            let mut out: Vec<String> = lines.iter().map(|l| (*l).to_string()).collect();
            replacements.sort_by_key(|((a, _), _)| std::cmp::Reverse(*a));
            for ((a, b), new) in replacements {
                out.splice(a..b, new);
            }
            let mut text = out.join("\n");
            text.push('\n');
            std::fs::write(&path, text).unwrap();
        }
    }
    assert!(count >= 20, "only {count} console examples were found");
    assert!(
        failures.is_empty(),
        "{failures}\nIf the new output is right, update the docs with \
         `UPDATE_DOCS=1 cargo test -p policyc --test docs` and review the diff."
    );
}

#[test]
fn the_example_parser_finds_commands_outputs_and_json_blocks() {
    let doc = "text\n```console\n$ policyc a \\\n  --b\nout 1\n\n$ policyc c\n```\n\n```console\n$ policyc d --format json\n```\n\n```json\n{}\n```\n```sh\n$ policyc ignored\n```\n";
    let lines: Vec<&str> = doc.lines().collect();
    let blocks = examples(&lines);
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0][0].command, "policyc a   --b");
    assert_eq!(blocks[0][0].line, 3);
    assert_eq!(
        &lines[blocks[0][0].output.0..blocks[0][0].output.1],
        ["out 1", ""]
    );
    assert_eq!(blocks[0][1].command, "policyc c");
    assert_eq!(&lines[blocks[1][0].output.0..blocks[1][0].output.1], ["{}"]);
    let s = |v: &[&str]| v.iter().map(|l| (*l).to_string()).collect::<Vec<_>>();
    assert!(matches(&s(&["a", "…", "d"]), &s(&["a", "b", "c", "d"])));
    assert!(matches(&s(&["a", "…"]), &s(&["a"])));
    assert!(!matches(&s(&["a", "…", "d"]), &s(&["a", "b"])));
    assert!(!matches(&s(&["a"]), &s(&["a", "b"])));
}
