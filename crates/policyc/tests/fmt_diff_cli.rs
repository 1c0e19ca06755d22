//! End-to-end tests of `policyc fmt` and `policyc diff` with the real binary.
//!
//! Each snapshot records the exit code, stdout and stderr. Files live in a
//! temporary directory used as the working directory, so paths are relative.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers: a failed lookup is a test failure"
)]

use std::path::{Path, PathBuf};

mod common;

fn workspace() -> PathBuf {
    common::root()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(workspace().join(rel)).unwrap()
}

/// Runs `policyc` in `dir`; returns (exit code, transcript).
fn policyc(dir: &Path, args: &[&str], stdin: Option<&str>) -> (i32, String) {
    let out = common::Cli::new(dir, args).stdin(stdin.unwrap_or("")).run();
    let transcript = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.code,
        out.stdout(),
        out.stderr()
    );
    (out.code, transcript)
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

const MESSY: &str = "tiers free<team\n\n\n// billing\npermission billing.manage   \"Manage billing\" on>=team   // paid only\n   role admin \"Admin\"{grants billing.manage}\n";
const CLEAN: &str = "tiers free < team\n\n// billing\npermission billing.manage \"Manage billing\" on >= team // paid only\nrole admin \"Admin\" {\n  grants billing.manage\n}\n";

#[test]
fn fmt_check_prints_a_diff_and_changes_nothing() {
    let dir = tempdir();
    std::fs::write(dir.path().join("messy.policy"), MESSY).unwrap();
    std::fs::write(dir.path().join("clean.policy"), CLEAN).unwrap();
    let (code, out) = policyc(dir.path(), &["fmt", "--check"], None);
    assert_eq!(code, 1);
    insta::assert_snapshot!("fmt_check", out);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("messy.policy")).unwrap(),
        MESSY
    );
}

#[test]
fn fmt_rewrites_in_place_and_is_idempotent() {
    let dir = tempdir();
    let path = dir.path().join("messy.policy");
    std::fs::write(&path, MESSY).unwrap();
    let (code, out) = policyc(dir.path(), &["fmt", "messy.policy"], None);
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), CLEAN);
    let (code, out) = policyc(dir.path(), &["fmt", "."], None);
    assert_eq!(code, 0);
    assert!(
        out.contains("0 files reformatted, 1 file left unchanged"),
        "{out}"
    );
    let (code, _) = policyc(dir.path(), &["fmt", "--check", "messy.policy"], None);
    assert_eq!(code, 0);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), CLEAN);
    // Only temporary files of our own may appear; none may be left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn fmt_leaves_a_file_with_syntax_errors_untouched() {
    let dir = tempdir();
    let broken = "permission a \"A\"\nrole r \"R\" { grants a\n";
    std::fs::write(dir.path().join("broken.policy"), broken).unwrap();
    std::fs::write(dir.path().join("messy.policy"), MESSY).unwrap();
    let (code, out) = policyc(dir.path(), &["fmt", "."], None);
    assert_eq!(code, 1);
    insta::assert_snapshot!("fmt_syntax_error", out);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("broken.policy")).unwrap(),
        broken
    );
    // The other file was still formatted.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("messy.policy")).unwrap(),
        CLEAN
    );
}

#[test]
fn fmt_stdin_to_stdout() {
    let dir = tempdir();
    let (code, out) = policyc(dir.path(), &["fmt", "-"], Some(MESSY));
    assert_eq!(code, 0);
    assert_eq!(out, format!("exit: 0\n--- stdout\n{CLEAN}--- stderr\n"));
    let (code, _) = policyc(dir.path(), &["fmt", "--stdin", "--check"], Some(CLEAN));
    assert_eq!(code, 0);
    let (code, _) = policyc(dir.path(), &["fmt", "--stdin", "--check"], Some(MESSY));
    assert_eq!(code, 1);
}

/// `fmt -` reads stdin through the reader `check -` uses: the same
/// diagnostics for bytes that are not a policy, and the same limit.
#[test]
fn fmt_stdin_is_read_like_check_stdin() {
    let dir = tempdir();
    let cases: [(&[u8], &str); 2] = [
        (
            b"tiers free\n\0\n",
            "error[P0503]: `<stdin>` (stdin) contains a NUL byte",
        ),
        (
            b"tiers fr\xffee\n",
            "error[P0502]: `<stdin>` (stdin) is not valid UTF-8",
        ),
    ];
    for (bytes, first_line) in cases {
        let fmt = common::Cli::new(dir.path(), &["fmt", "-"])
            .stdin(bytes)
            .run();
        let check = common::Cli::new(dir.path(), &["check", "-"])
            .stdin(bytes)
            .run();
        assert_eq!(fmt.code, 1, "{}", fmt.stderr());
        assert_eq!(fmt.stdout(), "");
        assert!(fmt.stderr().starts_with(first_line), "{}", fmt.stderr());
        let first = |s: String| s.lines().next().unwrap_or("").to_string();
        assert_eq!(first(fmt.stderr()), first(check.stderr()));
    }
    let big = "// x\n".repeat(300);
    let fmt = common::Cli::new(dir.path(), &["--max-file-size", "1KiB", "fmt", "-"])
        .stdin(big.as_bytes())
        .run();
    assert_eq!(fmt.code, 1);
    assert!(
        fmt.stderr()
            .starts_with("error[P0504]: `<stdin>` (stdin) is larger than 1 KiB"),
        "{}",
        fmt.stderr()
    );
}

#[test]
fn shipped_policies_are_fmt_clean() {
    let (code, out) = policyc(&workspace(), &["fmt", "--check", "policies/"], None);
    assert_eq!(code, 0, "{out}");
}

/// The Humanloop policy without its assertions (which other changes to the
/// shipped policy may add), so that the snapshots below only move when the
/// model or the diff output does.
fn humanloop() -> String {
    read("policies/humanloop.policy")
        .lines()
        .filter(|l| !l.starts_with("assert "))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The Humanloop policy with three real changes: a role renamed, a grant
/// removed and a tier gate moved.
fn changed_humanloop() -> String {
    let text = humanloop();
    let changed = text
        .replace(
            "role member \"Member\" on enterprise",
            "role member \"Member\" on >= team",
        )
        .replace(
            "grants api_keys.manage, deployments.manage, environments.manage",
            "grants api_keys.manage, deployments.manage",
        )
        .replace("role admin \"Admin\" {", "role owner \"Admin\" {")
        .replace("only admin can", "only owner can")
        .replace("below admin", "below owner")
        .replace("assert admin can", "assert owner can");
    assert_ne!(changed, text);
    changed
}

fn diff_dir() -> tempfile::TempDir {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("old.policy"),
        read("policies/humanloop.policy"),
    )
    .unwrap();
    std::fs::write(dir.path().join("new.policy"), changed_humanloop()).unwrap();
    std::fs::write(
        dir.path().join("refactored.policy"),
        read("tests/fixtures/humanloop-refactored.policy"),
    )
    .unwrap();
    dir
}

#[test]
fn diff_of_a_refactor_is_no_effective_change() {
    let dir = diff_dir();
    let (code, out) = policyc(
        dir.path(),
        &["diff", "--exit-code", "old.policy", "refactored.policy"],
        None,
    );
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("diff_refactor", out);
    let (_, md) = policyc(
        dir.path(),
        &[
            "diff",
            "--format",
            "markdown",
            "old.policy",
            "refactored.policy",
        ],
        None,
    );
    assert!(md.contains("No effective change."), "{md}");
}

#[test]
fn diff_reports_real_changes_in_every_format() {
    let dir = diff_dir();
    let (code, human) = policyc(dir.path(), &["diff", "old.policy", "new.policy"], None);
    assert_eq!(code, 0);
    insta::assert_snapshot!("diff_human", human);
    let (code, md) = policyc(
        dir.path(),
        &[
            "diff",
            "--exit-code",
            "--format",
            "markdown",
            "old.policy",
            "new.policy",
        ],
        None,
    );
    assert_eq!(code, 1);
    insta::assert_snapshot!("diff_markdown", md);
    let (code, json) = policyc(
        dir.path(),
        &["diff", "--format", "json", "old.policy", "new.policy"],
        None,
    );
    assert_eq!(code, 0);
    insta::assert_snapshot!("diff_json", json);
}

#[test]
fn diff_against_git_revisions() {
    let dir = tempdir();
    let sub = dir.path().join("policies");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("p.policy"), humanloop()).unwrap();
    common::git_commit_all(dir.path());
    let changed = humanloop().replace(", billing.manage,", ",");
    std::fs::write(sub.join("p.policy"), changed).unwrap();

    let (code, out) = policyc(
        &sub,
        &["diff", "--exit-code", "--git", "HEAD", "--", "p.policy"],
        None,
    );
    assert_eq!(code, 1, "{out}");
    insta::assert_snapshot!("diff_git", out);
    let (code, out2) = policyc(
        dir.path(),
        &["diff", "HEAD:policies/p.policy", "policies/p.policy"],
        None,
    );
    assert_eq!(code, 0, "{out2}");
    assert!(
        out2.contains("- billing.manage on free, team, enterprise"),
        "{out2}"
    );
    let (code, err) = policyc(
        dir.path(),
        &["diff", "nope:policies/p.policy", "policies/p.policy"],
        None,
    );
    assert_eq!(code, 2);
    insta::assert_snapshot!("diff_git_bad_revision", err);
    let (code, _) = policyc(dir.path(), &["diff", "--git", "HEAD", "a", "b"], None);
    assert_eq!(code, 2);
    let (code, _) = policyc(dir.path(), &["diff", "only-one.policy"], None);
    assert_eq!(code, 2);
}

#[test]
fn diff_refuses_a_policy_with_errors() {
    let dir = diff_dir();
    std::fs::write(
        dir.path().join("bad.policy"),
        "role r \"R\" { inherits ghost }\n",
    )
    .unwrap();
    let (code, out) = policyc(dir.path(), &["diff", "old.policy", "bad.policy"], None);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("P0201"), "{out}");
}

#[test]
fn diff_notes_failing_assertions_but_still_compares() {
    let dir = tempdir();
    let old = "permission a \"A\"\nrole r \"R\" { grants a }\n";
    let new = "permission a \"A\"\nrole r \"R\" { }\nassert r can a\n";
    std::fs::write(dir.path().join("old.policy"), old).unwrap();
    std::fs::write(dir.path().join("new.policy"), new).unwrap();
    let (code, out) = policyc(
        dir.path(),
        &["diff", "--exit-code", "old.policy", "new.policy"],
        None,
    );
    assert_eq!(code, 1, "{out}");
    insta::assert_snapshot!("diff_failing_assertion", out);
}
