//! End-to-end tests of `policyc check`: the real binary, a clean
//! environment, a temporary directory, and a snapshot of exit code, stdout
//! and stderr. Large inputs are generated here, never committed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: clippy.toml allows these in #[test] functions but not in the helpers of an integration test; a failure is a test failure"
)]

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

mod common;

/// The workspace root (for the shipped seed policies).
fn workspace() -> PathBuf {
    common::root()
}

/// The result of one run.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    /// Exit code, stdout and stderr, as the snapshots record them.
    fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "exit: {}", self.code);
        let _ = writeln!(s, "----- stdout -----");
        s.push_str(&self.stdout);
        let _ = writeln!(s, "----- stderr -----");
        s.push_str(&self.stderr);
        s
    }
}

/// Runs `policyc ARGS` in `dir` with an empty environment (plus `NO_COLOR`),
/// killing it if it runs longer than [`common::TIMEOUT`]. Output goes to files, so a
/// chatty process cannot block on a full pipe.
fn policyc(dir: &Path, args: &[&str]) -> Run {
    let run = common::run(dir, args);
    Run {
        code: run.code,
        stdout: String::from_utf8(run.stdout_bytes).expect("stdout is UTF-8"),
        stderr: String::from_utf8(run.stderr_bytes).expect("stderr is UTF-8"),
        elapsed: run.elapsed,
    }
}

/// Snapshot settings with the temporary directory replaced by `[TMP]`.
fn settings(tmp: &Path) -> insta::Settings {
    common::settings(tmp)
}

/// Snapshots a run as `check_cli__NAME.snap`, with the temporary directory
/// `$tmp` filtered out, and gives the run back for further assertions.
macro_rules! check_snapshot {
    ($name:expr, $tmp:expr, $run:expr) => {{
        let run = $run;
        settings($tmp).bind(|| insta::assert_snapshot!($name, run.render()));
        run
    }};
}

const CLEAN: &str =
    "permission files.manage \"Manage files\"\nrole member \"Member\" { grants files.manage }\n";

/// A policy with two errors and a warning, written with `newline`.
fn broken_policy(newline: &str) -> String {
    [
        "tiers free < team",
        "",
        "permission files.manage \"Manage files\"",
        "permission billing.manage \"Manage billing\" on teem",
        "permission invites.send \"Send invites\"",
        "",
        "role member \"Member\" {",
        "  grants files.manage, *.delete",
        "}",
        "",
        "role admin \"Admin\" {",
        "  inherits membr",
        "  grants billing.manage",
        "}",
        "",
        "role owner \"Owner\" {",
        "  grants invites.send, billing.manage",
        "  excludes files.manage",
        "}",
        "",
        "permission audit.view \"View audit\" on",
        "",
    ]
    .join(newline)
}

#[test]
fn seeds_check_clean() {
    let root = workspace();
    let run = policyc(&root, &["check", "policies/"]);
    let mut s = settings(&root);
    s.add_filter(r"checked \d+ files", "checked [N] files");
    s.bind(|| insta::assert_snapshot!("seeds_check_clean", run.render()));
    assert_eq!(run.code, 0);
}

#[test]
fn missing_file() {
    let tmp = tempfile::tempdir().unwrap();
    let run = check_snapshot!(
        "missing_file",
        tmp.path(),
        policyc(tmp.path(), &["check", "nope.policy"])
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("P0501"));
}

#[test]
fn directory_without_policies() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("empty")).unwrap();
    fs::write(tmp.path().join("empty/readme.txt"), "not a policy").unwrap();
    let run = check_snapshot!(
        "directory_without_policies",
        tmp.path(),
        policyc(tmp.path(), &["check", "empty"])
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("P0505"));
}

#[test]
fn empty_file_warns() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("empty.policy"), "").unwrap();
    let run = check_snapshot!(
        "empty_file",
        tmp.path(),
        policyc(tmp.path(), &["check", "empty.policy"])
    );
    assert_eq!(run.code, 0);
    assert!(run.stderr.contains("P0506"));
    let run = check_snapshot!(
        "empty_file_deny_warnings",
        tmp.path(),
        policyc(tmp.path(), &["check", "--deny-warnings", "empty.policy"])
    );
    assert_eq!(run.code, 1);
}

#[test]
fn not_utf8() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = CLEAN.as_bytes().to_vec();
    bytes.extend_from_slice(b"// caf\xe9 latin-1\n");
    fs::write(tmp.path().join("latin1.policy"), bytes).unwrap();
    let run = check_snapshot!(
        "not_utf8",
        tmp.path(),
        policyc(tmp.path(), &["check", "latin1.policy"])
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("P0502"));
}

#[test]
fn nul_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = CLEAN.as_bytes().to_vec();
    bytes.extend_from_slice(b"role x \"X\" {\0}\n");
    fs::write(tmp.path().join("nul.policy"), bytes).unwrap();
    let run = check_snapshot!(
        "nul_byte",
        tmp.path(),
        policyc(tmp.path(), &["check", "nul.policy"])
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("P0503"));
}

#[test]
fn bom_checks_clean() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("bom.policy"), format!("\u{feff}{CLEAN}")).unwrap();
    let run = check_snapshot!(
        "bom",
        tmp.path(),
        policyc(tmp.path(), &["check", "bom.policy"])
    );
    assert_eq!(run.code, 0);
    assert_eq!(run.stderr, "ok: checked 1 file: 0 errors, 0 warnings\n");
}

/// (code, severity, message, help, [(line, column, message)]) of every
/// diagnostic: everything but byte offsets.
fn json_positions(stdout: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(stdout).unwrap();
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let labels: Vec<Value> = d["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    serde_json::json!([
                        l["location"]["line"],
                        l["location"]["column"],
                        l["message"],
                        l["primary"]
                    ])
                })
                .collect();
            serde_json::json!([d["code"], d["severity"], d["message"], d["help"], labels])
        })
        .collect()
}

#[test]
fn crlf_reports_like_lf() {
    let tmp = tempfile::tempdir().unwrap();
    for (dir, newline) in [("lf", "\n"), ("crlf", "\r\n")] {
        fs::create_dir(tmp.path().join(dir)).unwrap();
        fs::write(
            tmp.path().join(dir).join("p.policy"),
            broken_policy(newline),
        )
        .unwrap();
    }
    let lf_dir = tmp.path().join("lf");
    let crlf_dir = tmp.path().join("crlf");
    let lf = policyc(&lf_dir, &["check", "--format", "json", "p.policy"]);
    let crlf = policyc(&crlf_dir, &["check", "--format", "json", "p.policy"]);
    assert_eq!(lf.code, 1);
    assert_eq!(crlf.code, lf.code);
    let lf_pos = json_positions(&lf.stdout);
    assert!(lf_pos.len() >= 3, "{lf_pos:?}");
    assert_eq!(json_positions(&crlf.stdout), lf_pos);
    // The human rendering is identical too, line numbers and carets included.
    let lf = policyc(&lf_dir, &["check", "p.policy"]);
    let crlf = policyc(&crlf_dir, &["check", "p.policy"]);
    assert_eq!(crlf.stderr, lf.stderr);
    assert_eq!(crlf.code, lf.code);
    check_snapshot!("crlf_like_lf", tmp.path(), crlf);
}

#[test]
fn file_over_16_mib() {
    let tmp = tempfile::tempdir().unwrap();
    let line = "// padding padding padding padding padding padding padding padding\n";
    let big = line.repeat(16 * 1024 * 1024 / line.len() + 2);
    assert!(big.len() > 16 * 1024 * 1024);
    fs::write(tmp.path().join("big.policy"), big).unwrap();
    let run = check_snapshot!(
        "file_over_16_mib",
        tmp.path(),
        policyc(tmp.path(), &["check", "big.policy"])
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("P0504"));
}

/// Keeps the first `n` lines of `text` and counts the rest.
fn head(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = lines.iter().take(n).fold(String::new(), |mut s, l| {
        let _ = writeln!(s, "{l}");
        s
    });
    if lines.len() > n {
        let _ = writeln!(out, "[… {} more lines]", lines.len() - n);
    }
    out
}

#[test]
fn ten_mb_repetitive() {
    let tmp = tempfile::tempdir().unwrap();
    // 10 MB of plausible declarations: blocks of 50 permissions and a role
    // that grants them and inherits the previous role (chains of 10); every
    // 10th role also grants a permission nobody declared.
    let mut text = String::from("tiers free < team < enterprise\n");
    let mut i = 0usize;
    while text.len() < 10_000_000 {
        for j in 0..50 {
            let _ = writeln!(
                text,
                "permission area{i}.item{j}.manage \"Manage item {j} of area {i}\" on >= team"
            );
        }
        let _ = writeln!(text, "role role{i} \"Role {i}\" {{");
        if i % 10 != 0 {
            let _ = writeln!(text, "  inherits role{}", i - 1);
        }
        let _ = writeln!(text, "  grants area{i}.*");
        if i % 10 == 5 {
            let _ = writeln!(text, "  grants area{i}.missing");
        }
        let _ = writeln!(text, "}}");
        i += 1;
    }
    fs::write(tmp.path().join("big.policy"), &text).unwrap();
    let run = policyc(tmp.path(), &["check", "big.policy"]);
    assert_eq!(run.code, 1);
    // Human output is capped per file, so it stays small.
    assert!(run.stderr.len() < 200_000, "{} bytes", run.stderr.len());
    assert!(run.stderr.contains("more in `big.policy`"));
    eprintln!("10 MB repetitive: {:?}", run.elapsed);
    settings(tmp.path()).bind(|| {
        insta::assert_snapshot!(
            "ten_mb_repetitive",
            format!(
                "exit: {}\n----- stdout -----\n{}----- stderr (head) -----\n{}----- stderr (tail) -----\n{}",
                run.code,
                run.stdout,
                head(&run.stderr, 30),
                run.stderr
                    .lines()
                    .rev()
                    .take(3)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        )
    });
}

/// A small deterministic generator (xorshift), so garbage is reproducible.
fn garbage(len: usize) -> String {
    const ALPHABET: &[u8] =
        b"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 {}()[]<>=,.;:\"'*/\\|!?@#$%^&-_+~`\t";
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = String::with_capacity(len + 1);
    let mut col = 0;
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let b = ALPHABET[(state % ALPHABET.len() as u64) as usize];
        out.push(b as char);
        col += 1;
        if col == 79 {
            out.push('\n');
            col = 0;
        }
    }
    out
}

#[test]
fn ten_mb_garbage() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("garbage.policy"), garbage(10_000_000)).unwrap();
    let run = check_snapshot!(
        "ten_mb_garbage",
        tmp.path(),
        policyc(tmp.path(), &["check", "garbage.policy"])
    );
    eprintln!("10 MB garbage: {:?}", run.elapsed);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("P0101"));
    assert!(run.stderr.len() < 20_000, "{} bytes", run.stderr.len());
}

#[test]
fn ten_mb_of_broken_declarations() {
    // Every line starts a declaration and every declaration is broken: the
    // parser stops after a bounded number of syntax errors.
    let tmp = tempfile::tempdir().unwrap();
    let line = "permission a.b \"A\" on\n";
    fs::write(
        tmp.path().join("broken.policy"),
        line.repeat(10_000_000 / line.len()),
    )
    .unwrap();
    let run = policyc(tmp.path(), &["check", "--format", "json", "broken.policy"]);
    eprintln!("10 MB broken declarations: {:?}", run.elapsed);
    assert_eq!(run.code, 1);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let n = doc["diagnostics"].as_array().unwrap().len();
    assert!((1..=100).contains(&n), "{n} diagnostics");
}

#[test]
fn deeply_nested_braces() {
    let tmp = tempfile::tempdir().unwrap();
    // On separate lines, the parser sees them.
    let text = format!("{CLEAN}role r \"R\" {}", "{\n".repeat(200_000));
    fs::write(tmp.path().join("nested.policy"), text).unwrap();
    // On one line, the line-length limit sees them first.
    let text = format!("{CLEAN}role r \"R\" {}\n", "{".repeat(200_000));
    fs::write(tmp.path().join("nested_line.policy"), text).unwrap();
    let run = check_snapshot!(
        "deeply_nested_braces",
        tmp.path(),
        policyc(
            tmp.path(),
            &["check", "nested.policy", "nested_line.policy"]
        )
    );
    eprintln!("200,000 nested braces: {:?}", run.elapsed);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("P0101"));
    assert!(run.stderr.contains("P0102"));
}

#[test]
fn too_many_roles_times_permissions() {
    // 66,000 roles × 66,000 permissions is just over 2^32 cells, which
    // P0509 once refused; the sets now cost what the policy states (one
    // chunk per role), so it compiles cleanly.
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::from("tiers free < team\n");
    for i in 0..66_000 {
        let _ = writeln!(text, "permission p{i}.x \"P{i}\"");
    }
    for i in 0..66_000 {
        let _ = writeln!(text, "role r{i} \"R{i}\" {{ grants p{i}.x }}");
    }
    fs::write(tmp.path().join("large.policy"), text).unwrap();
    let run = check_snapshot!(
        "too_many_roles_times_permissions",
        tmp.path(),
        policyc(tmp.path(), &["check", "large.policy"])
    );
    assert_eq!(run.code, 0);
    assert!(!run.stderr.contains("P0509"));
}

#[test]
fn two_mb_identifier() {
    let tmp = tempfile::tempdir().unwrap();
    let text = format!(
        "{CLEAN}role {} \"Long\" {{ grants files.manage }}\n",
        "a".repeat(2 * 1024 * 1024)
    );
    fs::write(tmp.path().join("long.policy"), text).unwrap();
    let run = check_snapshot!(
        "two_mb_identifier",
        tmp.path(),
        policyc(tmp.path(), &["check", "long.policy"])
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("P0102"));
    assert!(run.stderr.len() < 2_000, "{} bytes", run.stderr.len());
}

#[test]
fn json_format() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("broken.policy"), broken_policy("\n")).unwrap();
    fs::write(tmp.path().join("clean.policy"), CLEAN).unwrap();
    let run = check_snapshot!(
        "json_format",
        tmp.path(),
        policyc(
            tmp.path(),
            &["check", "--format", "json", "clean.policy", "broken.policy"]
        )
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, "");
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["schema_version"], 1);
    let files = doc["files"].as_array().unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["broken.policy", "clean.policy"]);
    let diags = doc["diagnostics"].as_array().unwrap();
    let errors = diags.iter().filter(|d| d["severity"] == "error").count();
    let warnings = diags.iter().filter(|d| d["severity"] == "warning").count();
    assert_eq!(doc["summary"]["files"], 2);
    assert_eq!(doc["summary"]["errors"], errors);
    assert_eq!(doc["summary"]["warnings"], warnings);
    assert_eq!(files[0]["errors"], errors);
    assert_eq!(files[1]["errors"], 0);
    let first = diags.iter().find(|d| d["code"] == "P0101").unwrap();
    assert_eq!(first["file"], "broken.policy");
    assert_eq!(first["location"]["line"], 22);
    assert_eq!(first["location"]["column"], 1);
    let unknown_tier = diags.iter().find(|d| d["code"] == "P0203").unwrap();
    assert_eq!(unknown_tier["message"], "unknown tier `teem`");
    assert_eq!(unknown_tier["suggestion"], "team");
    assert_eq!(unknown_tier["location"]["line"], 4);
    assert_eq!(unknown_tier["location"]["column"], 47);
    let span = (
        unknown_tier["location"]["start"].as_u64().unwrap() as usize,
        unknown_tier["location"]["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&broken_policy("\n")[span.0..span.1], "teem");
}

#[test]
fn json_format_for_unreadable_input() {
    let tmp = tempfile::tempdir().unwrap();
    let run = policyc(tmp.path(), &["check", "--format", "json", "missing.policy"]);
    assert_eq!(run.code, 2);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["diagnostics"][0]["code"], "P0501");
}

fn mixed_tree(tmp: &Path) {
    fs::create_dir_all(tmp.join("dir/nested")).unwrap();
    fs::create_dir_all(tmp.join(".hidden")).unwrap();
    fs::create_dir_all(tmp.join("target")).unwrap();
    fs::write(tmp.join("a.policy"), CLEAN).unwrap();
    fs::write(
        tmp.join("b.policy"),
        "permission x.y \"X\"\nrole r \"R\" { grants x.z }\n",
    )
    .unwrap();
    fs::write(tmp.join("dir/c.policy"), CLEAN).unwrap();
    fs::write(
        tmp.join("dir/nested/d.policy"),
        "permission p.q \"P\"\nrole r \"R\" { grants p.q }\nrole empty \"Empty\" {}\n",
    )
    .unwrap();
    fs::write(tmp.join("dir/notes.txt"), "ignored").unwrap();
    fs::write(tmp.join(".hidden/e.policy"), "garbage").unwrap();
    fs::write(tmp.join("target/f.policy"), "garbage").unwrap();
}

#[test]
fn files_and_directories_mixed() {
    let tmp = tempfile::tempdir().unwrap();
    mixed_tree(tmp.path());
    let run = check_snapshot!(
        "files_and_directories_mixed",
        tmp.path(),
        policyc(
            tmp.path(),
            &["check", "b.policy", "dir", "a.policy", "dir/c.policy"]
        )
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("checked 4 files: 1 error, 1 warning"));
}

#[test]
fn default_path_is_current_directory() {
    let tmp = tempfile::tempdir().unwrap();
    mixed_tree(tmp.path());
    let run = check_snapshot!("default_path", tmp.path(), policyc(tmp.path(), &["check"]));
    assert_eq!(run.code, 1);
    // Hidden directories and `target` are skipped.
    assert!(!run.stderr.contains("e.policy"));
    assert!(!run.stderr.contains("f.policy"));
    assert!(run.stderr.contains("checked 4 files"));
}

#[test]
fn deny_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("warn.policy"),
        "permission p.q \"P\"\npermission p.r \"R\"\nrole r \"R\" { grants p.q }\n",
    )
    .unwrap();
    let run = policyc(tmp.path(), &["check", "warn.policy"]);
    assert_eq!(run.code, 0);
    assert!(run.stderr.contains("P0304"));
    let run = check_snapshot!(
        "deny_warnings",
        tmp.path(),
        policyc(tmp.path(), &["check", "--deny-warnings", "warn.policy"])
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("(warnings denied)"));
    let run = policyc(
        tmp.path(),
        &[
            "check",
            "--deny-warnings",
            "--format",
            "json",
            "warn.policy",
        ],
    );
    assert_eq!(run.code, 1);
    // A clean file stays clean.
    fs::write(tmp.path().join("warn.policy"), CLEAN).unwrap();
    let run = policyc(tmp.path(), &["check", "--deny-warnings", "warn.policy"]);
    assert_eq!(run.code, 0);
}
