//! End-to-end tests of command contracts that once drifted from what
//! `docs/cli.md` and `--help` promise: `fmt` layout, `snapshot --check` hunk
//! labels and usage, `check` naming one file twice, `diff --git` on added
//! and deleted files, and the `who-can`/`what-can` listings and help.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed lookup is a test failure"
)]

mod common;

use common::{run, sandbox, seed};

#[test]
fn fmt_keeps_the_blank_line_after_an_empty_role_and_the_on_list_whole() {
    let tiers: Vec<String> = (1..=14).map(|i| format!("tier{i:02}")).collect();
    let text = format!(
        "tiers {}\npermission a.b \"A\"\nrole r \"R\" {{}}\n\nrole s \"S\" {{ grants a.b on {} }}\n",
        tiers.join(" < "),
        tiers.join(", ")
    );
    let dir = sandbox(&[("p.policy", &text)]);
    let out = run(dir.path(), &["fmt", "p.policy"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let formatted = std::fs::read_to_string(dir.path().join("p.policy")).unwrap();
    assert!(
        formatted.contains("role r \"R\" {}\n\nrole s"),
        "{formatted}"
    );
    assert!(
        formatted.contains(&format!("  grants a.b on {}\n", tiers.join(", "))),
        "{formatted}"
    );
}

#[test]
fn snapshot_check_hunks_name_the_tier_and_role_that_changed() {
    let v1 = "tiers starter < business\npermission docs.view \"View\"\npermission docs.edit \"Edit\"\n\
              role admin \"Admin\" { grants docs.* }\nrole viewer \"Viewer\" on business { grants docs.view }\n\
              role editor \"Editor\" { grants docs.view }\n";
    let dir = sandbox(&[("p.policy", v1)]);
    let out = run(dir.path(), &["snapshot", "p.policy", "--update"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    // The viewer becomes available on starter; the editor gains a grant.
    let v2 = v1
        .replace(" on business { grants docs.view }", " { grants docs.view }")
        .replace(
            "role editor \"Editor\" { grants docs.view }",
            "role editor \"Editor\" { grants docs.view, docs.edit }",
        );
    std::fs::write(dir.path().join("p.policy"), v2).unwrap();
    let out = run(dir.path(), &["snapshot", "p.policy", "--check"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    let hunks: Vec<String> = out
        .stdout()
        .lines()
        .filter(|l| l.starts_with("@@"))
        .map(|l| l.rsplit("@@").next().unwrap().trim().to_string())
        .collect();
    assert!(
        hunks.contains(&"starter › editor".to_string()),
        "{hunks:?}\n{}",
        out.stdout()
    );
    assert!(
        hunks
            .iter()
            .all(|h| h.starts_with("starter") || h.starts_with("business")),
        "{hunks:?}"
    );
    let viewer = run(dir.path(), &["snapshot", "p.policy", "--update"]);
    assert_eq!(viewer.code, 0);
    // Only the availability of the viewer on starter changes.
    let v3 = std::fs::read_to_string(dir.path().join("p.policy"))
        .unwrap()
        .replace(
            "role viewer \"Viewer\" {",
            "role viewer \"Viewer\" on business {",
        );
    std::fs::write(dir.path().join("p.policy"), v3).unwrap();
    let out = run(dir.path(), &["snapshot", "p.policy", "--check"]);
    let first = out
        .stdout()
        .lines()
        .find(|l| l.starts_with("@@"))
        .unwrap()
        .to_string();
    assert!(
        first.ends_with("@@ starter › viewer"),
        "{first}\n{}",
        out.stdout()
    );
}

#[test]
fn snapshot_usage_shows_argument_orders_that_work() {
    let dir = sandbox(&[("humanloop.policy", &seed("humanloop.policy"))]);
    let help = run(dir.path(), &["snapshot", "--help"]).stdout();
    let usage: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Usage:"))
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.trim_start_matches("Usage:").trim())
        .collect();
    assert!(usage.len() >= 2, "{help}");
    // Each usage form, filled in, runs.
    assert_eq!(
        run(dir.path(), &["snapshot", "humanloop.policy", "--update"]).code,
        0
    );
    for form in usage {
        let line = form
            .replace("<FILE>", "humanloop.policy")
            .replace("[SNAPSHOT]", "humanloop.snapshot.yaml");
        let args: Vec<&str> = line.split_whitespace().skip(1).collect();
        let out = run(dir.path(), &args);
        assert_eq!(out.code, 0, "usage `{form}`: {}", out.transcript());
    }
}

#[test]
fn the_same_file_named_twice_is_checked_once() {
    let dir = sandbox(&[(
        "a.policy",
        "permission a.b \"A\"\nrole r \"R\" { grants a.b }\n",
    )]);
    let out = run(dir.path(), &["check", "a.policy", "./a.policy", "."]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(out.stderr().contains("checked 1 file:"), "{}", out.stderr());
    let out = run(
        dir.path(),
        &["check", "--format", "json", "a.policy", "./a.policy"],
    );
    let doc: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(doc["files"].as_array().unwrap().len(), 1, "{doc}");
}

#[test]
fn diff_git_on_an_added_file_is_all_additions_and_on_a_deleted_one_all_removals() {
    let policy = "permission a.b \"A\"\nrole r \"R\" { grants a.b }\n";
    let dir = sandbox(&[("kept.policy", policy), ("gone.policy", policy)]);
    common::git_commit_all(dir.path());
    std::fs::remove_file(dir.path().join("gone.policy")).unwrap();
    std::fs::write(dir.path().join("added.policy"), policy).unwrap();

    let out = run(dir.path(), &["diff", "--git", "HEAD", "--", "added.policy"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let text = out.stdout();
    assert!(text.contains("+ `r` \"R\""), "{text}");
    assert!(text.contains("+ `a.b` \"A\""), "{text}");
    assert!(!text.contains("  - "), "{text}");

    let out = run(dir.path(), &["diff", "--git", "HEAD", "--", "gone.policy"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let text = out.stdout();
    assert!(text.contains("- `r` \"R\""), "{text}");
    assert!(!text.contains("  + "), "{text}");

    // In neither: still an error; a bad revision too.
    let out = run(dir.path(), &["diff", "--git", "HEAD", "--", "never.policy"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    let out = run(
        dir.path(),
        &["diff", "--git", "nosuchrev", "--", "added.policy"],
    );
    assert_eq!(out.code, 2, "{}", out.transcript());
}

#[test]
fn who_can_and_what_can_help_describe_their_own_human_format() {
    let dir = sandbox(&[]);
    let query = run(dir.path(), &["query", "--help"]).stdout();
    for (cmd, own) in [
        ("who-can", "the roles that may use ACTION"),
        ("what-can", "the permissions ROLE may use"),
    ] {
        let help = run(dir.path(), &[cmd, "--help"]).stdout();
        let human = help
            .lines()
            .find(|l| l.trim_start().starts_with("- human:"))
            .unwrap_or_else(|| panic!("{cmd} --help has no `human` entry:\n{help}"));
        assert!(human.contains(own), "{cmd}: {human}");
        assert!(
            !query.lines().any(|q| q == human),
            "{cmd} describes `human` with query's text: {human}"
        );
    }
}

#[test]
fn what_can_says_why_a_tier_is_empty_and_who_can_aligns_its_columns() {
    let dir = sandbox(&[("humanloop.policy", &seed("humanloop.policy"))]);
    let out = run(dir.path(), &["what-can", "humanloop.policy", "member"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let text = out.stdout();
    assert!(
        text.contains("free:\n  (nothing: role `member` is not available on tier `free`)\n"),
        "{text}"
    );
    assert!(!text.contains("(nothing)\n"), "{text}");

    for args in [
        &[
            "who-can",
            "humanloop.policy",
            "files.manage",
            "--tier",
            "enterprise",
        ][..],
        &["what-can", "humanloop.policy", "admin", "--tier", "free"][..],
    ] {
        let out = run(dir.path(), args);
        assert_eq!(out.code, 0, "{}", out.transcript());
        let rows: Vec<String> = out
            .stdout()
            .lines()
            .filter(|l| l.starts_with("  "))
            .map(str::to_string)
            .collect();
        assert!(rows.len() >= 3, "{rows:?}");
        // The label column starts at the same place on every row.
        let starts: Vec<usize> = rows
            .iter()
            .map(|r| {
                let id_end = 2 + r[2..].find(' ').unwrap();
                id_end + r[id_end..].len() - r[id_end..].trim_start().len()
            })
            .collect();
        assert!(
            starts.windows(2).all(|w| w[0] == w[1]),
            "{args:?}:\n{}",
            out.stdout()
        );
    }
}
