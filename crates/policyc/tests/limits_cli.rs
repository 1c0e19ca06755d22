//! End-to-end tests of the limits of issue 13: the real binary on inputs
//! built here (large ones generated, never committed): assertions on a
//! policy with errors, `--max-file-size`, `fmt` and the file-size cap, the
//! bounded `fmt --check` diff, and the size of the compiled artifact.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure is a test failure"
)]

use std::fmt::Write as _;

mod common;

use common::{run, sandbox, Cli};

/// An assertion that would hold, or fail, is not evaluated while the file
/// has an error (a `P0509` policy is gated the same way in
/// `policy_compiler::compile_file`; the sets' bound is unit-tested there
/// with small limits, since a real one takes minutes to reach).
#[test]
fn an_unknown_name_suppresses_every_assertion() {
    let text = "permission a.b \"A\"\npermission c.d \"C\"\n\
                role r \"R\" { grants a.b }\nrole s \"S\" { grants nope.x }\n\
                assert r can c.d\n";
    let tmp = sandbox(&[("p.policy", text)]);
    let out = run(tmp.path(), &["check", "--format", "json", "p.policy"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(out.stdout().contains("P0202"), "{}", out.transcript());
    assert!(!out.stdout().contains("P0309"), "{}", out.transcript());
}

/// `--max-file-size` raises (or lowers) the 16 MiB cap for every command
/// that reads policy text, with units; a bad value is a usage error.
#[test]
fn max_file_size_sets_the_cap_of_every_reader() {
    let policy = "permission a.b \"A\"\nrole r \"R\" { grants a.b }\n";
    let tmp = sandbox(&[("p.policy", policy)]);
    let small = ["--max-file-size", "20B"];
    for args in [
        &["check", "p.policy"][..],
        &["compile", "p.policy"],
        &["query", "p.policy", "--role", "r", "--action", "a.b"],
        &["who-can", "p.policy", "a.b"],
        &["fmt", "--check", "p.policy"],
    ] {
        let mut all: Vec<&str> = small.to_vec();
        all.extend_from_slice(args);
        let out = run(tmp.path(), &all);
        assert!(
            out.stderr().contains("P0504") && out.stderr().contains("larger than 20 bytes"),
            "{args:?}: {}",
            out.transcript()
        );
    }
    let out = run(
        tmp.path(),
        &["check", "p.policy", "--max-file-size", "1KiB"],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    let out = run(
        tmp.path(),
        &["--max-file-size", "lots", "check", "p.policy"],
    );
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr().contains("not a size"), "{}", out.transcript());
    let out = run(tmp.path(), &["--max-file-size", "0", "check", "p.policy"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
}

/// A file over 16 MiB is refused by default and read with a larger cap.
#[test]
fn a_policy_over_16_mib_is_read_with_a_larger_cap() {
    let mut text = String::from("permission a.b \"A\"\nrole r \"R\" { grants a.b }\n");
    let comment = format!("// {}\n", "x".repeat(1000));
    while text.len() <= 17 * 1024 * 1024 {
        text.push_str(&comment);
    }
    let tmp = sandbox(&[("big.policy", &text)]);
    let out = run(tmp.path(), &["check", "big.policy"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(
        out.stderr().contains("larger than 16 MiB"),
        "{}",
        out.transcript()
    );
    let out = run(
        tmp.path(),
        &["--max-file-size", "32MiB", "check", "big.policy"],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
}

/// `fmt` never writes a file larger than the cap: it refuses with `P0524`
/// and leaves the file as it was.
#[test]
fn fmt_refuses_to_grow_a_file_past_the_cap() {
    let mut text = String::from("permission a.b \"A\"\n");
    for i in 0..200 {
        text.push_str(&format!("role r{i} \"R\" {{ grants a.b }}\n"));
    }
    let tmp = sandbox(&[("p.policy", &text)]);
    let out = Cli::new(tmp.path(), &["fmt", "-"])
        .stdin(text.clone())
        .run();
    assert_eq!(out.code, 0, "{}", out.transcript());
    let formatted_len = out.stdout_bytes.len();
    assert!(formatted_len > text.len(), "formatting must grow this file");
    let cap = format!("{}B", text.len() + 1);
    let out = run(tmp.path(), &["--max-file-size", &cap, "fmt", "p.policy"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(out.stderr().contains("P0524"), "{}", out.transcript());
    assert!(
        out.stderr().contains("left unchanged"),
        "{}",
        out.transcript()
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("p.policy")).unwrap(),
        text
    );
    // The same for stdin: nothing is written that the cap would refuse.
    let out = Cli::new(tmp.path(), &["--max-file-size", &cap, "fmt", "-"])
        .stdin(text.clone())
        .run();
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(out.stderr().contains("P0524"), "{}", out.transcript());
    assert!(out.stdout_bytes.is_empty(), "{}", out.transcript());
    let out = run(tmp.path(), &["fmt", "p.policy"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
}

/// `fmt --check` on a large file whose every line changes finishes in
/// bounded time, and prints at most 100 hunks plus a count of the rest.
#[test]
fn fmt_check_diff_is_bounded_on_a_large_file() {
    // 60,000 roles, every tenth written on one line (so 6,000 hunks).
    let mut text = String::from("permission a.b \"A\"\n");
    for i in 0..60_000 {
        if i % 10 == 0 {
            text.push_str(&format!("\nrole r{i} \"R\" {{ grants a.b }}\n"));
        } else {
            text.push_str(&format!("\nrole r{i} \"R\" {{\n  grants a.b\n}}\n"));
        }
    }
    let tmp = sandbox(&[("big.policy", &text)]);
    let out = Cli::new(tmp.path(), &["fmt", "--check", "big.policy"])
        .timeout(std::time::Duration::from_secs(60))
        .run();
    assert_eq!(out.code, 1, "{}", out.stderr());
    let stdout = out.stdout();
    assert!(stdout.starts_with("--- big.policy\n+++ big.policy (formatted)\n"));
    assert!(stdout.lines().filter(|l| l.starts_with("@@ ")).count() <= 100);
    assert!(
        stdout
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .contains("more hunk"),
        "{}",
        &stdout[stdout.len().saturating_sub(300)..]
    );
}

/// The artifact stores patterns, not expansions: a wildcard-heavy policy
/// gives an artifact proportional to the policy, that loads and answers.
#[test]
fn artifact_is_proportional_to_a_wildcard_heavy_policy() {
    let mut text = String::new();
    for i in 0..20_000 {
        let _ = writeln!(text, "permission area{}.res{}.act \"P\"", i % 50, i);
    }
    for r in 0..100 {
        let grants: Vec<String> = (0..10).map(|k| format!("area{}.*", (r + k) % 50)).collect();
        let _ = writeln!(
            text,
            "role r{r} \"R\" {{ grants {}, *.act }}",
            grants.join(", ")
        );
    }
    let tmp = sandbox(&[("w.policy", &text)]);
    let out = run(tmp.path(), &["compile", "w.policy", "-o", "w.json"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let artifact = std::fs::read_to_string(tmp.path().join("w.json")).unwrap();
    // Version 2 listed 100 roles × 20,000 permissions several times over;
    // version 5 and later write a position as `[start, end]` (3.7 times the policy).
    assert!(
        artifact.len() < 5 * text.len(),
        "{} bytes of artifact for {} bytes of policy",
        artifact.len(),
        text.len()
    );
    assert!(artifact.contains("\"schema_version\": 10"));
    let out = run(
        tmp.path(),
        &[
            "query",
            "w.json",
            "--role",
            "r3",
            "--action",
            "area12.res12.act",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
}

/// A version-2 artifact is `P0570` with the help to recompile.
#[test]
fn a_version_2_artifact_says_recompile() {
    let tmp = sandbox(&[(
        "old.json",
        "{\"schema_version\": 2, \"content_hash\": \"\", \"source\": \"p.policy\", \"tiers\": [], \"permissions\": [], \"roles\": [], \"effective\": []}\n",
    )]);
    let out = run(
        tmp.path(),
        &["query", "old.json", "--role", "r", "--action", "a.b"],
    );
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr().contains("P0570"), "{}", out.transcript());
    assert!(
        out.stderr().contains("schema version 2"),
        "{}",
        out.transcript()
    );
    assert!(out.stderr().contains("recompile"), "{}", out.transcript());
}

/// Every command that prints a file's errors caps them as `check` does:
/// 2,000 misspelt grants print 100 snippets and one line counting the rest,
/// whichever command read the file.
#[test]
fn every_command_caps_rendered_errors_per_file() {
    let mut text = String::from("permission a.b \"A\"\n");
    for i in 0..2_000 {
        let _ = writeln!(text, "role r{i} \"R{i}\" {{ grants a.bb{i} }}");
    }
    let tmp = sandbox(&[("p.policy", &text)]);
    for args in [
        &["check", "p.policy"][..],
        &["query", "p.policy", "--role", "r1", "--action", "a.b"],
        &["matrix", "p.policy"],
        &["who-can", "p.policy", "a.b"],
        &["snapshot", "p.policy"],
        &["compile", "p.policy"],
    ] {
        let out = run(tmp.path(), args);
        let stderr = out.stderr();
        assert_ne!(out.code, 0, "{args:?}");
        assert_eq!(stderr.matches("P0202").count(), 100, "{args:?}");
        assert!(
            stderr.contains(
                "… and 1900 more in `p.policy` (`policyc check --format json` lists them all)"
            ),
            "{args:?}: {}",
            &stderr[stderr.len().saturating_sub(400)..]
        );
    }
}
