//! End-to-end tests of the CI-facing surface: every `check` format on one
//! fixture (human, JSON, SARIF, GitHub), `test` in human, JSON and JUnit,
//! stdin, `--color`, `--quiet`, completions (loaded into a real bash) and
//! man pages. The real binary runs in a cleared environment.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: clippy.toml allows these in #[test] functions but not in the helpers of an integration test; a failure is a test failure"
)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use common::transcript;

/// `tests/fixtures/report`, where the fixtures are named relative to.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report")
}

/// `policyc ARGS` in the fixture directory (cleared environment, `NO_COLOR`).
fn run(args: &[&str]) -> Output {
    common::policyc(&fixtures(), args)
}

/// `policyc ARGS` with `stdin` piped in and extra environment.
fn run_with(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_policyc"));
    cmd.env_clear()
        .current_dir(fixtures())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// The arguments of every `check` format snapshot: one policy with an
/// error, two warnings and secondary labels, and a path that does not exist.
const CHECK: &[&str] = &["check", "formats.policy", "missing.policy"];

#[test]
fn check_human() {
    let out = run(&[CHECK, &["--format", "human"]].concat());
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(transcript(&out));
}

#[test]
fn check_json() {
    let out = run(&[CHECK, &["--format", "json"]].concat());
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(transcript(&out));
}

#[test]
fn check_github() {
    let out = run(&[CHECK, &["--format", "github"]].concat());
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(transcript(&out));
}

/// The SARIF log with the rules' descriptions and help redacted: they are
/// the `docs/errors/` pages' summaries and change with them; they are
/// checked by `sarif_rules_are_the_codes_that_fired`.
#[test]
fn check_sarif() {
    let out = run(&[CHECK, &["--format", "sarif"]].concat());
    assert_eq!(out.status.code(), Some(2));
    let mut log: Value = serde_json::from_slice(&out.stdout).unwrap();
    for r in log["runs"][0]["tool"]["driver"]["rules"]
        .as_array_mut()
        .unwrap()
    {
        for key in ["fullDescription", "help"] {
            r[key] = Value::from("[from the error page]");
        }
    }
    insta::assert_snapshot!(format!(
        "exit: {}\n----- stdout (rule texts redacted) -----\n{}\n----- stderr -----\n{}",
        out.status.code().unwrap(),
        serde_json::to_string_pretty(&log).unwrap(),
        stderr(&out)
    ));
}

#[test]
fn sarif_structure() {
    let out = run(&[CHECK, &["--format", "sarif"]].concat());
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"]
        .as_str()
        .unwrap()
        .ends_with("sarif-schema-2.1.0.json"));
    let run = &log["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "policyc");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    // No documentation base configured: no link anywhere (never a made-up address).
    assert!(driver.get("informationUri").is_none(), "{driver}");
    let rules = driver["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert!(
        levels.contains(&"error") && levels.contains(&"warning"),
        "{levels:?}"
    );
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[index]["id"], r["ruleId"],
            "ruleIndex points at ruleId"
        );
        let region = &r["locations"][0]["physicalLocation"]["region"];
        for key in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(region[key].as_u64().unwrap() >= 1, "{key} in {r}");
        }
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "formats.policy"
        );
    }
    let redundant = results.iter().find(|r| r["ruleId"] == "P0303").unwrap();
    let related = redundant["relatedLocations"].as_array().unwrap();
    assert_eq!(related[0]["message"]["text"], "inherited through `reader`");
    // The missing path is a notification, not a result, and the run says it failed.
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let note = &invocation["toolExecutionNotifications"][0];
    assert_eq!(note["descriptor"]["id"], "P0501");
    assert_eq!(note["level"], "error");
    assert_eq!(
        note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "missing.policy"
    );
}

/// One rule per code that fired, in code order, with a short help (the
/// first paragraph of the page and where the whole page is), a title and a
/// full description; a clean run has no rules.
#[test]
fn sarif_rules_are_the_codes_that_fired() {
    let out = run(&["check", "clean.policy", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run0 = &log["runs"][0];
    assert_eq!(run0["results"].as_array().unwrap().len(), 0);
    assert_eq!(run0["invocations"][0]["executionSuccessful"], true);
    assert_eq!(run0["tool"]["driver"]["rules"], Value::Array(vec![]));

    let out = run(&[CHECK, &["--format", "sarif"]].concat());
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run0 = &log["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let mut fired: Vec<&str> = run0["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    fired.sort_unstable();
    fired.dedup();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, fired, "one rule per code that fired, sorted");
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        let page = stdout(&run(&["explain", id]));
        let help = rule["help"]["text"].as_str().unwrap();
        assert!(
            help.len() < 1000 && help.len() * 3 < page.len(),
            "{id}: short: {help}"
        );
        assert!(!help.contains('#'), "{id}: no headings: {help}");
        assert!(
            help.ends_with(&format!("`policyc explain {id}`.")),
            "{id}: {help}"
        );
        assert_eq!(rule["help"]["markdown"], help, "{id}");
        assert!(!rule["shortDescription"]["text"]
            .as_str()
            .unwrap()
            .is_empty());
        let full = rule["fullDescription"]["text"].as_str().unwrap();
        assert!(full.len() > 20 && !full.contains('#'), "{id}: {full}");
        let summary = help.split("\n\n").next().unwrap();
        assert!(full.starts_with(summary), "{id}: {summary} / {full}");
        assert!(rule.get("helpUri").is_none(), "{id}: no docs base, no link");
    }
    // The whole log stays small (it embedded every page: 170 KB).
    assert!(out.stdout.len() < 16_000, "{} bytes", out.stdout.len());
}

/// A did-you-mean suggestion is a SARIF fix replacing the misspelt name;
/// applying it gives the corrected policy.
#[test]
fn sarif_fixes_come_from_did_you_mean() {
    let text = "role member \"Member\" {}\nrole admin \"Admin\" {\n  inherits membr\n}\n";
    let out = run_with(
        &[
            "check",
            "-",
            "--stdin-filename",
            "team/a b.policy",
            "--format",
            "sarif",
        ],
        text.as_bytes(),
        &[],
    );
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let typo = results.iter().find(|r| r["ruleId"] == "P0201").unwrap();
    assert_eq!(
        typo["fixes"],
        serde_json::json!([{
            "description": { "text": "replace `membr` with `member`" },
            "artifactChanges": [{
                "artifactLocation": { "uri": "team/a%20b.policy" },
                "replacements": [{
                    "deletedRegion": { "startLine": 3, "startColumn": 12, "endLine": 3, "endColumn": 17 },
                    "insertedContent": { "text": "member" }
                }]
            }]
        }])
    );
    // Results without a suggestion have no fixes.
    for r in results.iter().filter(|r| r["ruleId"] != "P0201") {
        assert!(r.get("fixes").is_none(), "{r}");
    }
}

/// With `POLICYC_DOCS_URL`, the driver and every rule link into it.
#[test]
fn sarif_links_into_the_configured_docs_url() {
    let base = "https://git.internal/policyc/blob/main";
    let out = run_with(
        &["check", "formats.policy", "--format", "sarif"],
        b"",
        &[("POLICYC_DOCS_URL", &format!("{base}/"))],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["informationUri"], format!("{base}/"));
    let rules = driver["rules"].as_array().unwrap();
    assert!(!rules.is_empty());
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        let url = format!("{base}/docs/errors/{id}.md");
        assert_eq!(rule["helpUri"], url);
        assert!(rule["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains(&format!("[{id}]({url})")));
    }
}

#[test]
fn a_path_that_cannot_be_searched_is_still_a_sarif_log() {
    let out = run(&["check", "no-such-dir/", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(2));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let note = &log["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(note["descriptor"]["id"], "P0501");
    assert!(
        stderr(&out).is_empty(),
        "nothing but the log: {}",
        stderr(&out)
    );
}

#[test]
fn github_exits_1_on_errors_and_0_on_warnings_only() {
    let out = run(&["check", "formats.policy", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    let first = stdout(&out).lines().next().unwrap().to_string();
    assert!(
        first.starts_with("::warning file=formats.policy,line="),
        "{first}"
    );
    let clean = run(&["check", "clean.policy", "--format", "github", "-q"]);
    assert_eq!(clean.status.code(), Some(0));
    assert_eq!(
        transcript(&clean),
        "exit: 0\n----- stdout -----\n----- stderr -----\n"
    );
}

#[test]
fn test_command_human() {
    let out = run(&["test", "clean.test.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(transcript(&out));
}

#[test]
fn test_command_json() {
    let out = run(&["test", "clean.test.yaml", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(transcript(&out));
}

#[test]
fn test_command_junit() {
    let out = run(&["test", "clean.test.yaml", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(transcript(&out));
}

/// A policy that does not compile: the test file's `load` error names each
/// diagnostic's `file:line:col`, with its help.
#[test]
fn junit_load_errors_name_file_line_and_column() {
    let dir = common::sandbox(&[
        (
            "bad.policy",
            "role member \"Member\" {}\nrole admin \"Admin\" {\n  inherits membr\n}\n",
        ),
        (
            "bad.test.yaml",
            "cases:\n  - { roles: [admin], action: x.y, expect: deny }\n",
        ),
    ]);
    let out = common::policyc(dir.path(), &["test", "bad.test.yaml", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(1), "{}", transcript(&out));
    insta::assert_snapshot!(transcript(&out));
    assert!(
        stdout(&out).contains(r#"message="bad.policy:3:12: P0201: unknown role `membr`""#),
        "{}",
        stdout(&out)
    );
}

#[test]
fn junit_has_one_testcase_per_case_and_expected_vs_actual() {
    let out = run(&["test", "clean.test.yaml", "--format", "junit"]);
    let xml = stdout(&out);
    assert!(xml.starts_with("<?xml"));
    assert_eq!(xml.matches("<testcase ").count(), 4);
    assert_eq!(xml.matches("<failure ").count(), 2);
    assert!(
        xml.contains(r#"message="expected allow, actual deny (not-granted)""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"message="expected reader, writer, actual writer""#),
        "{xml}"
    );
    // Names are escaped, not broken XML.
    assert!(xml.contains("reader &amp; &lt;writer&gt; on free"), "{xml}");
}

#[test]
fn test_snapshots_flag_checks_committed_snapshots() {
    let dir = common::sandbox(&[
        (
            "clean.policy",
            &std::fs::read_to_string(fixtures().join("clean.policy")).unwrap(),
        ),
        (
            "clean.test.yaml",
            "cases:\n  - { roles: [reader], action: docs.read, tier: free, expect: allow }\n",
        ),
    ]);
    let update = common::policyc(dir.path(), &["snapshot", "clean.policy", "--update"]);
    assert_eq!(update.status.code(), Some(0), "{}", transcript(&update));
    let ok = common::policyc(dir.path(), &["test", "--snapshots"]);
    assert_eq!(ok.status.code(), Some(0), "{}", transcript(&ok));
    assert!(stdout(&ok).contains("ok     clean.snapshot.yaml (snapshot)\n2 passed, 0 failed"));
    let quiet = common::policyc(dir.path(), &["test", "--snapshots", "--quiet"]);
    assert_eq!(
        transcript(&quiet),
        "exit: 0\n----- stdout -----\n----- stderr -----\n"
    );
    // Make `writer` available on every tier: the tests still pass, the snapshot is stale.
    let policy = dir.path().join("clean.policy");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, text.replace("\"Writer\" on pro", "\"Writer\"")).unwrap();
    let stale = common::policyc(dir.path(), &["test", "--snapshots"]);
    assert_eq!(stale.status.code(), Some(1));
    insta::assert_snapshot!(transcript(&stale));
    let junit = common::policyc(dir.path(), &["test", "--snapshots", "--format", "junit"]);
    assert!(stdout(&junit).contains(r#"<testsuite name="snapshots" tests="1""#));
}

#[test]
fn check_reads_stdin_with_a_display_name() {
    let bad = b"role a \"A\" {\n  inherits b\n}\n";
    let out = run_with(
        &[
            "check",
            "-",
            "--stdin-filename",
            "src/a.policy",
            "--format",
            "github",
        ],
        bad,
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "::error file=src/a.policy,line=2,col=12,endLine=2,endColumn=12,title=P0201::unknown role `b`%0Ahelp: did you mean `a`?\n"
    );
    let human = run_with(&["check", "-"], bad, &[("NO_COLOR", "1")]);
    assert!(
        stderr(&human).contains("<stdin>:2:12"),
        "{}",
        stderr(&human)
    );
    // `-` and files in one run: both are checked.
    let both = run_with(
        &["check", "-", "clean.policy", "--format", "json"],
        b"tiers free\n",
        &[],
    );
    assert_eq!(both.status.code(), Some(0), "{}", transcript(&both));
    let doc: Value = serde_json::from_slice(&both.stdout).unwrap();
    let paths: Vec<&str> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["<stdin>", "clean.policy"]);
    let not_utf8 = run_with(&["check", "-"], &[0xff, 0xfe], &[("NO_COLOR", "1")]);
    assert_eq!(not_utf8.status.code(), Some(1));
    assert!(stderr(&not_utf8).contains("P0502"));
    let orphan = run(&["check", "clean.policy", "--stdin-filename", "x.policy"]);
    assert_eq!(orphan.status.code(), Some(2));
    assert!(stderr(&orphan).contains("`--stdin-filename` names the policy read from `-`"));
}

#[test]
fn color_always_never_auto_and_no_color() {
    let esc = |out: &Output| out.stderr.contains(&0x1b);
    let colored = |args: &[&str], env: &[(&str, &str)]| esc(&run_with(args, b"", env));
    let base = ["check", "formats.policy"];
    assert!(colored(
        &[&base[..], &["--color", "always"]].concat(),
        &[("NO_COLOR", "1")]
    ));
    assert!(
        colored(&[&["--color", "always"], &base[..]].concat(), &[]),
        "a global option"
    );
    assert!(!colored(&[&base[..], &["--color", "never"]].concat(), &[]));
    // auto: stderr is a pipe here, so no colour, with or without NO_COLOR.
    assert!(!colored(&base, &[]));
    assert!(!colored(&base, &[("NO_COLOR", "1")]));
    let bad = run(&["check", "--color", "sometimes"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn quiet_prints_only_problems() {
    let seeds = common::root().join("policies");
    let seeds = seeds.to_str().unwrap();
    for args in [
        vec!["-q", "check", seeds],
        vec!["test", seeds, "--quiet", "--snapshots"],
    ] {
        let out = run(&args);
        assert_eq!(
            transcript(&out),
            "exit: 0\n----- stdout -----\n----- stderr -----\n",
            "{args:?}"
        );
    }
    let stdin = run_with(
        &["check", "-", "-q"],
        common::seed("humanloop.policy").as_bytes(),
        &[],
    );
    assert_eq!(
        transcript(&stdin),
        "exit: 0\n----- stdout -----\n----- stderr -----\n"
    );
    let failing = run(&["check", "formats.policy", "-q"]);
    assert_eq!(failing.status.code(), Some(1));
    let err = stderr(&failing);
    assert!(
        err.contains("P0309") && err.ends_with("failed: checked 1 file: 1 error, 2 warnings\n")
    );
}

/// The bash completion script, loaded into a real bash, completes
/// subcommands and the values of `--format`.
#[test]
fn bash_completion_completes_subcommands_and_format_values() {
    let script = stdout(&run(&["completions", "bash"]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policyc.bash");
    std::fs::write(&path, script).unwrap();
    let driver = r#"
source "$1" || exit 3
complete -p policyc || exit 4
at() {
  COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
  COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
  _policyc policyc "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  echo "$* => ${COMPREPLY[*]}"
}
at policyc c
at policyc wh
at policyc check --format ''
at policyc test --format ''
at policyc check --format s
at policyc --color ''
at policyc completions ''
"#;
    let out = Command::new("bash")
        .arg("--norc")
        .arg("--noprofile")
        .arg("-c")
        .arg(driver)
        .arg("bash")
        .arg(&path)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("bash must be installed to test the bash completions");
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _policyc"),
        ("zsh", "#compdef policyc"),
        ("fish", "complete -c policyc"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[policyc]"),
    ] {
        let out = run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(stdout(&out).contains(marker), "{shell}");
        assert!(
            stdout(&out).contains("stdin-filename"),
            "{shell} knows the check flags"
        );
    }
    let unknown = run(&["completions", "tcsh"]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn man_pages_one_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("man/man1");
    let out = run(&["man", "--out-dir", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    insta::assert_snapshot!(names.join("\n"));
    let check = std::fs::read_to_string(out_dir.join("policyc-check.1")).unwrap();
    assert!(
        check.starts_with(".ie \\n(.g .ds Aq") || check.contains(".TH policyc-check 1"),
        "{check}"
    );
    assert!(check.contains("stdin\\-filename"), "{check}");
    let quiet = run(&["man", "--out-dir", out_dir.to_str().unwrap(), "-q"]);
    assert_eq!(
        transcript(&quiet),
        "exit: 0\n----- stdout -----\n----- stderr -----\n"
    );
}
