//! End-to-end tests of what the diagnostics say (issue 7): rustc-style
//! headers people and `grep` find, one line model in human and JSON output,
//! codes of their own for usage errors, and `diff` reasons that name what
//! changed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed lookup is a test failure"
)]

mod common;

use common::{policyc, sandbox};
use serde_json::Value;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn human_diagnostics_say_error_or_warning_with_the_code() {
    let dir = sandbox(&[(
        "p.policy",
        "permission a.b \"A\"\npermission a.c \"C\"\nrole r \"R\" { inherits nobody grants a.b }\n",
    )]);
    let out = policyc(dir.path(), &["check", "p.policy"]);
    let err = stderr(&out);
    assert!(
        err.lines()
            .any(|l| l == "error[P0201]: unknown role `nobody`"),
        "{err}"
    );
    let out = policyc(dir.path(), &["check", "p.policy"]);
    assert_eq!(out.status.code(), Some(1));
    let fixed = sandbox(&[(
        "p.policy",
        "permission a.b \"A\"\npermission a.c \"C\"\nrole r \"R\" { grants a.b }\n",
    )]);
    let err = stderr(&policyc(fixed.path(), &["check", "p.policy"]));
    assert!(
        err.lines()
            .any(|l| l == "warning[P0304]: no role holds `a.c` on any tier"),
        "{err}"
    );
}

#[test]
fn lone_cr_line_endings_give_the_same_position_in_human_and_json_output() {
    let dir = sandbox(&[(
        "cr.policy",
        "permission a.b \"A\"\rrole r \"R\" { grants a.c }\r",
    )]);
    let human = stderr(&policyc(dir.path(), &["check", "cr.policy"]));
    assert!(human.contains("╭─[cr.policy:2:21]"), "{human}");
    assert!(human.contains(" 2 │ role r"), "{human}");
    let json = policyc(dir.path(), &["check", "--format", "json", "cr.policy"]);
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    let loc = &doc["diagnostics"][0]["location"];
    assert_eq!(
        (loc["line"].as_u64(), loc["column"].as_u64()),
        (Some(2), Some(21)),
        "{doc}"
    );
}

#[test]
fn usage_errors_have_their_own_codes() {
    let dir = sandbox(&[(
        "a.policy",
        "permission a.b \"A\"\nrole r \"R\" { grants a.b }\n",
    )]);
    let cases: &[(&[&str], &str)] = &[
        (&["fmt", "-", "a.policy"], "error[P0510]"),
        (&["diff", "a.policy"], "error[P0510]"),
        (&["explain", "P9999"], "error[P0405]"),
    ];
    for (args, want) in cases {
        let out = policyc(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).starts_with(want), "{args:?}: {}", stderr(&out));
    }
    let tiers = sandbox(&[(
        "t.policy",
        "tiers free < team\npermission a.b \"A\"\nrole r \"R\" { grants a.b }\n",
    )]);
    // One tier lookup, one code and one wording for an unknown tier,
    // whichever command is asked (issue 22: `matrix` had its own, P0404).
    let want = "error[P0401]: unknown tier `tem`\n  help: did you mean `team`? the tiers of this policy are `free`, `team`\n\n";
    for args in [
        &["matrix", "t.policy", "--tier", "tem"][..],
        &[
            "query", "t.policy", "--role", "r", "--action", "a.b", "--tier", "tem",
        ],
        &["who-can", "t.policy", "a.b", "--tier", "tem"],
        &["what-can", "t.policy", "r", "--tier", "tem"],
    ] {
        let out = policyc(tiers.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&out), want, "{args:?}");
    }
}

#[test]
fn diff_names_the_removed_inherit_not_an_unchanged_grant() {
    let old = "tiers t1 < t2\npermission x.b \"B\"\nrole base \"Base\" {\n  grants *.b on t1\n  grants x.b\n}\nrole user \"User\" { inherits base }\n";
    let new = old.replace("{ inherits base }", "{}");
    let dir = sandbox(&[("old.policy", old), ("new.policy", &new)]);
    let out = policyc(dir.path(), &["diff", "old.policy", "new.policy"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("inherits"), "{text}");
    assert!(!text.contains("tier gate"), "{text}");
}

#[test]
fn an_exclusion_wins_over_the_roles_own_wildcard() {
    let dir = sandbox(&[(
        "b.policy",
        "permission billing.view \"V\"\npermission billing.refund \"R\"\nrole clerk \"Clerk\" {\n  grants billing.*\n  excludes billing.refund\n}\nrole boss \"Boss\" { grants billing.refund }\n",
    )]);
    let check = policyc(dir.path(), &["check", "--deny-warnings", "b.policy"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let q = |perm: &str| {
        policyc(
            dir.path(),
            &["query", "b.policy", "--role", "clerk", "--action", perm],
        )
        .status
        .code()
    };
    assert_eq!(q("billing.refund"), Some(1), "denied");
    assert_eq!(q("billing.view"), Some(0), "allowed");
}

/// Control characters in labels, doc comments and source lines (an escape
/// sequence, a bell, a C1 CSI) never reach the terminal raw: every human
/// output escapes them; JSON keeps them, escaped by JSON.
#[test]
fn control_characters_are_escaped_in_every_human_output() {
    let old = "// a comment with \u{1b}[2J in it\n\
               permission a.b \"A \u{1b}[31mred\"\n\
               permission a.c \"C \u{9b}31m\"\n\
               role r \"R \u{7}bell\" { grants a.b }\n\
               role s \"S\" { grants a.b, a.x }\n";
    let new = "permission a.b \"A \u{1b}[31mred\"\n\
               permission a.d \"D \u{1b}]0;title\u{7}\"\n\
               role r \"R \u{7}bell\" { grants a.b, a.d }\n\
               role s \"S\" { grants a.b }\n";
    let fixed = old.replace(", a.x", "");
    let dir = sandbox(&[
        ("old.policy", &fixed),
        ("bad.policy", old),
        ("new.policy", new),
    ]);
    let raw = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        text.chars()
            .find(|c| c.is_control() && *c != '\n' && *c != '\t')
    };
    let mut covered = 0;
    for args in [
        &["check", "bad.policy"][..],
        &["matrix", "old.policy"],
        &["matrix", "old.policy", "--format", "csv"],
        &["who-can", "old.policy", "a.b"],
        &["what-can", "old.policy", "r"],
        &[
            "query",
            "old.policy",
            "--role",
            "r",
            "--action",
            "a.b",
            "--explain",
        ],
        &["diff", "old.policy", "new.policy"],
        &["diff", "old.policy", "new.policy", "--format", "markdown"],
    ] {
        let out = policyc(dir.path(), args);
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert_eq!(
                raw(bytes),
                None,
                "{args:?} {stream}: {}",
                String::from_utf8_lossy(bytes)
            );
        }
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        covered += usize::from(
            all.contains("\\u{1b}") || all.contains("\\u{7}") || all.contains("\\u{9b}"),
        );
    }
    assert!(
        covered >= 6,
        "only {covered} outputs showed an escaped control"
    );
    let out = policyc(
        dir.path(),
        &["what-can", "old.policy", "r", "--format", "json"],
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc.to_string().contains("A \\u001b[31mred"), "{doc}");
}
