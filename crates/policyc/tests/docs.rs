//! Every console example in `README.md`, `docs/*.md` and the error pages
//! `docs/errors/*.md` is executed, so the docs cannot drift from the tool.
//!
//! An example is a fenced block (` ```console `, or untagged) holding a
//! `$ ` line that runs `policyc` (first, or after `|`, `&&`, `||`, `;` or
//! `(`: `$ cat f | policyc …` counts). Each `$ ` line (continued by a
//! trailing `\`) is run verbatim by
//! `sh` in a fresh temporary directory holding `policies/`, copies of its
//! files at the top, the files of `tests/fixtures/docs/` (the
//! `small.policy`, `warn.policy`, … the docs refer to), and `example.policy`
//! holding the last ` ```policy ` block above the example (the error pages'
//! examples), and for `docs/errors/CODE.md` the files of
//! `tests/fixtures/docs/errors/CODE/` (an edited artifact, a bad test
//! file, …), with the `policyc`
//! under test first on `PATH` and stderr merged into stdout. The lines up to
//! the next `$ ` line are its expected output, compared exactly (trailing
//! spaces in the output are a difference); a line `…` matches any number
//! of lines (indented or not). A command with no output of its own, alone in its block and
//! followed by a ` ```json ` block, is expected to print that block. A
//! console block whose every command only writes a file (`$ … > FILE`,
//! such as `$ printf '…' > latin1.policy`) sets up the example blocks
//! after it in the document: its commands run first, in their directory.
//!
//! The server examples are ` ```text ` blocks, since they need a running
//! server: `server_examples_are_real_output` starts the documented
//! `policyc serve` and runs every documented `curl` against it.
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

/// Whether a command only writes a file: it ends in `> FILE`.
fn writes_a_file(command: &str) -> bool {
    command
        .rsplit_once('>')
        .is_some_and(|(_, file)| !file.trim().is_empty() && !file.trim().contains(' '))
}

/// Whether a shell command line runs `policyc`: as its first word, or
/// first after `|`, `&&`, `||`, `;` or `(`.
fn runs_policyc(command: &str) -> bool {
    let mut rest = command;
    loop {
        let word = rest.trim_start().trim_start_matches('(').trim_start();
        if word == "policyc" || word.starts_with("policyc ") {
            return true;
        }
        let next = ["|", "&&", ";", "("]
            .iter()
            .filter_map(|sep| rest.find(sep).map(|i| i + sep.len()))
            .min();
        match next {
            Some(i) => rest = rest.get(i..).unwrap_or(""),
            None => return false,
        }
    }
}

/// One block of examples, and the ` ```policy ` text above it, if any.
#[derive(Debug)]
struct Block {
    /// The last ` ```policy ` block before this one (written as
    /// `example.policy`).
    policy: Option<String>,
    /// Commands of the file-writing blocks above, run first.
    setup: Vec<String>,
    examples: Vec<Example>,
}

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
fn examples(lines: &[&str]) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut policy: Option<String> = None;
    let mut setup: Vec<String> = Vec::new();
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
        if info == "policy" {
            policy = Some(body.iter().map(|l| format!("{l}\n")).collect());
            continue;
        }
        let runs = body
            .iter()
            .any(|l| l.strip_prefix("$ ").is_some_and(runs_policyc));
        let commands: Vec<&str> = body.iter().filter_map(|l| l.strip_prefix("$ ")).collect();
        if info == "console"
            && !runs
            && !commands.is_empty()
            && commands.iter().all(|c| writes_a_file(c))
        {
            setup.extend(commands.iter().map(|c| (*c).to_string()));
            continue;
        }
        if !(info.is_empty() || info == "console") || !runs {
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
        blocks.push(Block {
            policy: policy.clone(),
            setup: setup.clone(),
            examples: block,
        });
    }
    blocks
}

/// Lines without trailing blank lines; `trim` also drops trailing
/// whitespace (for the documented side: the output's own is kept, so a
/// trailing space the docs do not show is a difference). A line of the
/// output that is only whitespace (a blank context line of a diff, ` `)
/// counts as empty on both sides.
fn normalize<'a>(lines: impl Iterator<Item = &'a str>, trim: bool) -> Vec<String> {
    let mut out: Vec<String> = lines
        .map(|l| {
            if trim || l.trim().is_empty() {
                l.trim_end()
            } else {
                l
            }
            .to_string()
        })
        .collect();
    while out.last().is_some_and(|l| l.trim().is_empty()) {
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

/// A fresh directory for one block's commands of `doc`, with
/// `example.policy` when a policy block came before it and the page's own
/// fixtures for an error page.
fn sandbox(doc: &Path, example: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let policies = common::root().join("policies");
    copy_dir(&policies, &dir.path().join("policies"));
    for entry in std::fs::read_dir(&policies).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docs");
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let entry = entry.unwrap();
        let target = dir.path().join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "errors" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
    if let Some(text) = example {
        std::fs::write(dir.path().join("example.policy"), text).unwrap();
    }
    let page = doc
        .strip_prefix("docs/errors")
        .ok()
        .and_then(|p| p.file_stem())
        .map(|stem| fixtures.join("errors").join(stem));
    if let Some(page) = page.filter(|p| p.is_dir()) {
        copy_dir(&page, dir.path());
    }
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
    let errors = std::fs::read_dir(root.join("docs/errors"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| p.strip_prefix(&root).unwrap().to_path_buf());
    more.extend(errors);
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
            let dir = sandbox(&doc, block.policy.as_deref());
            for command in &block.setup {
                let out = common::sh(dir.path(), command);
                assert_eq!(
                    out.code,
                    0,
                    "{}: `$ {command}`: {}",
                    doc.display(),
                    out.stderr()
                );
            }
            for ex in block.examples {
                count += 1;
                let out = common::sh(dir.path(), &format!("exec 2>&1\n{}", ex.command));
                let stdout = out.stdout();
                let actual = normalize(stdout.lines(), false);
                let (a, b) = ex.output;
                let expected = normalize(lines[a..b].iter().copied(), true);
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
    let blocks: Vec<Vec<Example>> = examples(&lines).into_iter().map(|b| b.examples).collect();
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

#[test]
fn piped_and_chained_commands_count_as_policyc_examples() {
    assert!(runs_policyc("policyc check a.policy"));
    assert!(runs_policyc("cat a | policyc query p --batch -"));
    assert!(runs_policyc(
        "printf '%s\\n' x   | policyc query p --batch -"
    ));
    assert!(runs_policyc("sed -i s/a/b/ t.yaml && policyc test t.yaml"));
    assert!(runs_policyc("(cd x; policyc check .)"));
    assert!(!runs_policyc(
        "pre-commit run policyc-check --files bad.policy"
    ));
    assert!(!runs_policyc("curl -s http://127.0.0.1:8181/healthz"));
    assert!(!runs_policyc("echo policyc"));
    assert!(writes_a_file("printf 'x' > latin1.policy"));
    assert!(writes_a_file("{ printf x; } > example.policy"));
    assert!(!writes_a_file(
        ".ci/editors.sh            # grammar tests, then vsce package → target/vsix/policyc.vsix"
    ));
    assert!(!writes_a_file(
        "code --install-extension target/vsix/policyc.vsix"
    ));
    let doc = "```policy\nrole a \"A\" {}\n```\n\n```console\n$ cat x | policyc check -\nok\n```\n";
    let lines: Vec<&str> = doc.lines().collect();
    let blocks = examples(&lines);
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].policy.as_deref(), Some("role a \"A\" {}\n"));
    assert_eq!(blocks[0].examples[0].command, "cat x | policyc check -");
}

/// The server examples (text blocks: they need a running server) show the
/// hash the server really reports: the compiled `content_hash` of
/// `policies/humanloop.policy`, in `serving …` and in `policy_hash`.
#[test]
fn server_examples_show_the_content_hash_of_the_policy() {
    let out = common::sh(
        &common::root(),
        "policyc compile policies/humanloop.policy --format json",
    );
    let artifact: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    let hash = artifact["content_hash"].as_str().unwrap().to_string();
    let mut seen = 0;
    for doc in ["docs/cli.md", "docs/server.md", "README.md"] {
        let text = std::fs::read_to_string(common::root().join(doc)).unwrap();
        for marker in ["serving sha256:", "\"policy_hash\":\"sha256:"] {
            for (at, _) in text.match_indices(marker) {
                let start = at + marker.len() - "sha256:".len();
                let shown = text.get(start..start + 71).unwrap_or("");
                if !shown[7..].chars().all(|c| c.is_ascii_hexdigit()) {
                    continue; // prose: `sha256:...`
                }
                assert_eq!(shown, hash, "{doc}: a stale policy hash");
                seen += 1;
            }
        }
    }
    assert!(seen >= 3, "only {seen} hashes found");
}

/// The `text` blocks of one document that hold a `$ ` command starting
/// with `start`: per block, each command with its documented output lines.
fn text_examples(doc: &str, start: &str) -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(common::root().join(doc)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut in_text = false;
    let mut current: Option<(String, Vec<String>)> = None;
    for line in lines {
        if line.starts_with("```") {
            in_text = line.trim() == "```text";
            out.extend(current.take());
            continue;
        }
        if !in_text {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            out.extend(current.take());
            if command.starts_with(start) {
                current = Some((command.to_string(), Vec::new()));
            }
        } else if let Some((_, output)) = current.as_mut() {
            output.push(line.to_string());
        }
    }
    out
}

/// `line` with the port of every `127.0.0.1:PORT` written as `PORT`.
fn without_ports(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("127.0.0.1:") {
        let (head, tail) = rest.split_at(at + "127.0.0.1:".len());
        out.push_str(head);
        let digits = tail.chars().take_while(char::is_ascii_digit).count();
        out.push_str("PORT");
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// The server examples are text blocks (they need a running server): the
/// documented `policyc serve` is started as written, its start-up lines
/// compared (ports aside), and every documented `curl` run verbatim
/// against it (with the port it really listens on), its output compared.
#[test]
fn server_examples_are_real_output() {
    use std::io::BufRead as _;
    let serve = text_examples("docs/cli.md", "policyc serve ");
    let [(command, startup)] = &serve[..] else {
        panic!("docs/cli.md should show one `policyc serve` example: {serve:?}");
    };
    let mut child = std::process::Command::new(common::binary())
        .args(command.split_whitespace().skip(1))
        .current_dir(common::root())
        .env_clear()
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    for _ in startup {
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        seen.push(line.trim_end().to_string());
    }
    let shown: Vec<String> = startup.iter().map(|l| without_ports(l)).collect();
    let got: Vec<String> = seen.iter().map(|l| without_ports(l)).collect();
    let http = seen
        .iter()
        .find_map(|l| l.strip_prefix("listening: http://"))
        .map(str::to_string);
    let result = std::panic::catch_unwind(|| {
        assert_eq!(got, shown, "docs/cli.md: `{command}`");
        let http = http.expect("no `listening: http://` line");
        let mut ran = 0;
        for doc in ["README.md", "docs/cli.md", "docs/server.md"] {
            for (curl, expected) in text_examples(doc, "curl ") {
                let line = curl.replace("127.0.0.1:45899", &http);
                let out = common::sh(&common::root(), &line);
                assert_eq!(out.code, 0, "{doc}: `{curl}`: {}", out.stderr());
                let got: Vec<String> = out.stdout().lines().map(str::to_string).collect();
                assert_eq!(got, expected, "{doc}: `{curl}`");
                ran += 1;
            }
        }
        assert!(ran >= 3, "only {ran} curl examples found");
    });
    let _ = child.kill();
    let _ = child.wait();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
