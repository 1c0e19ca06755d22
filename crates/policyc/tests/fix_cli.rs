//! End-to-end tests of `policyc fix` with the real binary: fixes applied in
//! place through the safe writer (mode and symlinks kept), `--dry-run`
//! prints the diff and changes nothing, and the exit status says whether
//! errors remain.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers: a failed lookup is a test failure"
)]

mod common;

use std::path::Path;

const TYPOS: &str = "tiers free, team\n\npermission billing.manage \"Manage billing\"\n\n\
role admin \"Admin\" {\n  grants billing.manaje\n\n\
role member \"Member\" {\n  inherits admn\n  inherits admn\n}\n";

const FIXED: &str = "tiers free < team\n\npermission billing.manage \"Manage billing\"\n\n\
role admin \"Admin\" {\n  grants billing.manage\n}\n\n\
role member \"Member\" {\n  inherits admin\n}\n";

fn transcript(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = common::Cli::new(dir, args).run();
    (
        out.code,
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            out.code,
            out.stdout(),
            out.stderr()
        ),
    )
}

#[test]
fn fix_dry_run_prints_the_diff_and_changes_nothing() {
    let dir = common::sandbox(&[("typos.policy", TYPOS)]);
    let (code, out) = transcript(dir.path(), &["fix", "--dry-run"]);
    assert_eq!(code, 1, "{out}");
    insta::assert_snapshot!("fix_dry_run", out);
    let now = std::fs::read_to_string(dir.path().join("typos.policy")).unwrap();
    assert_eq!(now, TYPOS);
}

#[test]
fn fix_rewrites_in_place_then_has_nothing_left_to_do() {
    let dir = common::sandbox(&[("typos.policy", TYPOS)]);
    let (code, out) = transcript(dir.path(), &["fix", "typos.policy"]);
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("fix_in_place", out);
    let now = std::fs::read_to_string(dir.path().join("typos.policy")).unwrap();
    assert_eq!(now, FIXED);
    let (code, out) = transcript(dir.path(), &["fix", "--dry-run", "typos.policy"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("would fix 0 problems in 0 files"), "{out}");
    let (code, out) = transcript(dir.path(), &["check", "typos.policy"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn errors_without_a_fix_remain_and_fail() {
    let policy = "permission a.b \"A\"\nrole r \"R\" {\n  grants zzz.qqq\n  inherits r\n}\n";
    let dir = common::sandbox(&[("p.policy", policy)]);
    let (code, out) = transcript(dir.path(), &["fix", "--quiet", "p.policy"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("P0202"), "{out}");
    assert!(out.contains("left to fix by hand"), "{out}");
    let now = std::fs::read_to_string(dir.path().join("p.policy")).unwrap();
    assert_eq!(now, policy);
}

#[cfg(unix)]
#[test]
fn fix_keeps_the_mode_and_writes_through_a_symlink() {
    use std::os::unix::fs::PermissionsExt;
    let dir = common::sandbox(&[("real.policy", TYPOS)]);
    let real = dir.path().join("real.policy");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink("real.policy", dir.path().join("link.policy")).unwrap();
    let (code, out) = transcript(dir.path(), &["fix", "--quiet", "link.policy"]);
    assert_eq!(code, 0, "{out}");
    assert!(std::fs::symlink_metadata(dir.path().join("link.policy"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&real).unwrap(), FIXED);
    assert_eq!(
        std::fs::metadata(&real).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

#[test]
fn a_missing_path_is_exit_2() {
    let dir = common::sandbox(&[]);
    let (code, out) = transcript(dir.path(), &["fix", "nope.policy"]);
    assert_eq!(code, 2, "{out}");
}

#[test]
fn fix_removes_a_lint_repeated_on_an_expect_line() {
    let text = "permission a.b \"A\"\nrole s \"S\" { grants a.b }\n\
                expect empty-role, P0306, empty-role \"later\"\nrole r \"R\" {}\n";
    let dir = common::sandbox(&[("p.policy", text)]);
    let (code, out) = transcript(dir.path(), &["check", "p.policy", "--deny-warnings"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.matches("P0312").count(), 2, "{out}");
    assert!(!out.contains("P0311"), "{out}");
    let (code, out) = transcript(dir.path(), &["fix", "p.policy"]);
    assert_eq!(code, 0, "{out}");
    let now = std::fs::read_to_string(dir.path().join("p.policy")).unwrap();
    assert!(now.contains("expect empty-role \"later\"\n"), "{now}");
    let (code, out) = transcript(dir.path(), &["check", "p.policy", "--deny-warnings"]);
    assert_eq!(code, 0, "{out}");
}
