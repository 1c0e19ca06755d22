//! Policy projects through the real binary: a directory with a
//! `policyc.toml` is one policy for `check` (found inside a tree too),
//! `query`, `matrix`, `compile` and the artifact it writes, and test
//! files; diagnostics and explanations name each span's own file; a
//! manifest that cannot be used is P0512.

mod common;

use common::{run, sandbox};
use serde_json::Value;

const MANIFEST: &str = "[policy]\nname = \"acme\"\n";
const PLANS: &str = "tiers free < team\n\npermission files.manage \"Manage files\"\npermission billing.manage \"Manage billing\"\n";
const ADMIN: &str = "role admin \"Admin\" {\n  inherits member\n  grants billing.manage\n}\n";
const MEMBER: &str = "role member \"Member\" on team {\n  grants files.manage\n}\n";

fn project() -> tempfile::TempDir {
    sandbox(&[
        ("acme/policyc.toml", MANIFEST),
        ("acme/plans.policy", PLANS),
        ("acme/roles/admin.policy", ADMIN),
        ("acme/roles/member.policy", MEMBER),
        (
            "other.policy",
            "permission a.b \"A\"\nrole r \"R\" {\n  grants a.b\n}\n",
        ),
    ])
}

#[test]
fn check_takes_a_project_inside_a_tree_as_one_policy_counted_by_its_files() {
    let dir = project();
    let out = run(dir.path(), &["check", "."]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stderr()
            .contains("checked 4 files: 0 errors, 0 warnings"),
        "{}",
        out.transcript()
    );
    // Alone, by its directory or its manifest.
    for path in ["acme", "acme/policyc.toml"] {
        let out = run(dir.path(), &["check", path]);
        assert_eq!(out.code, 0, "{path}: {}", out.transcript());
        assert!(
            out.stderr().contains("checked 3 files"),
            "{}",
            out.transcript()
        );
    }
}

#[test]
fn a_clash_across_files_shows_both_files_and_json_names_each_file() {
    let dir = project();
    std::fs::write(
        dir.path().join("acme/roles/member.policy"),
        "role member \"Member\" on team {\n  grants files.manage\n  grants billing.mange\n}\n\nrole admin \"Admin again\" {}\n",
    )
    .unwrap();
    let out = run(dir.path(), &["check", "acme"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    let text = out.stdout() + &out.stderr();
    assert!(
        text.contains("error[P0204]: role `admin` is declared twice"),
        "{text}"
    );
    assert!(text.contains("╭─[acme/roles/admin.policy:1:6]"), "{text}");
    assert!(text.contains("╭─[acme/roles/member.policy:6:6]"), "{text}");
    assert!(text.contains("╭─[acme/roles/member.policy:3:10]"), "{text}");
    assert!(text.contains("did you mean `billing.manage`?"), "{text}");
    let out = run(dir.path(), &["check", "acme", "--format", "json"]);
    let json: Value = serde_json::from_str(&out.stdout()).unwrap();
    let unknown = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "P0202")
        .unwrap();
    assert_eq!(unknown["file"], "acme/roles/member.policy");
    assert_eq!(unknown["location"]["line"], 3);
    // The offsets are the file's own.
    let start = unknown["location"]["start"].as_u64().unwrap() as usize;
    let member = std::fs::read_to_string(dir.path().join("acme/roles/member.policy")).unwrap();
    assert_eq!(&member[start..start + 13], "billing.mange");
}

#[test]
fn query_and_the_compiled_artifact_name_the_file_of_each_reason() {
    let dir = project();
    let ask = |policy: &str| {
        let out = run(
            dir.path(),
            &[
                "query",
                policy,
                "--role",
                "admin",
                "--action",
                "files.manage",
                "--tier",
                "team",
                "--format",
                "json",
            ],
        );
        assert_eq!(out.code, 0, "{}", out.transcript());
        let json: Value = serde_json::from_str(&out.stdout()).unwrap();
        json["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let l = &r["location"];
                format!(
                    "{}:{}:{}",
                    l["file"].as_str().unwrap(),
                    l["line"],
                    l["column"]
                )
            })
            .collect::<Vec<_>>()
    };
    let from_source = ask("acme");
    assert_eq!(
        from_source,
        [
            "acme/roles/admin.policy:2:12",
            "acme/roles/member.policy:2:10"
        ]
    );
    let out = run(dir.path(), &["compile", "acme", "-o", "acme.json"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert_eq!(ask("acme.json"), from_source);
    let out = run(
        dir.path(),
        &[
            "matrix",
            "acme/policyc.toml",
            "--tier",
            "team",
            "--format",
            "csv",
        ],
    );
    assert_eq!(
        out.stdout(),
        "permission,label,admin,member\nfiles.manage,Manage files,yes,yes\nbilling.manage,Manage billing,yes,no\n"
    );
}

#[test]
fn a_test_file_runs_against_a_project() {
    let dir = project();
    std::fs::write(
        dir.path().join("acme/acme.test.yaml"),
        "policy: policyc.toml\ncases:\n  - { roles: [member], action: files.manage, tier: team, expect: allow }\n  - { roles: [member], action: billing.manage, tier: team, expect: deny }\n",
    )
    .unwrap();
    let out = run(dir.path(), &["test", "acme"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stdout().contains("2 passed, 0 failed"),
        "{}",
        out.transcript()
    );
}

#[test]
fn a_manifest_that_cannot_be_used_is_p0512() {
    // Each points at its place in the manifest, with a label.
    for (manifest, says, at) in [
        (
            "[policy]\nfile = [\"a.policy\"]\n",
            "unknown field `file`",
            "2:1",
        ),
        ("[policy]\nfiles = []\n", "`files` lists no file", "2:9"),
        (
            "[policy]\nfiles = [\"../other.policy\"]\n",
            "is outside the project's directory",
            "2:10",
        ),
        ("[policy]\nname = \"\"\n", "`name` is empty", "2:8"),
        ("[policy\n", "unclosed table, expected `]`", "1:8"),
    ] {
        let dir = project();
        std::fs::write(dir.path().join("acme/policyc.toml"), manifest).unwrap();
        let out = run(dir.path(), &["check", "acme"]);
        let text = out.stdout() + &out.stderr();
        assert_eq!(out.code, 1, "{manifest}: {text}");
        assert!(
            text.contains("error[P0512]") && text.contains(says),
            "{manifest}: {text}"
        );
        assert!(
            text.contains(&format!("[acme/policyc.toml:{at}]")),
            "{manifest}: {text}"
        );
    }
    // A listed file that does not exist: exit 2, named.
    let dir = project();
    std::fs::write(
        dir.path().join("acme/policyc.toml"),
        "[policy]\nfiles = [\"nope.policy\"]\n",
    )
    .unwrap();
    let out = run(dir.path(), &["check", "acme"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr().contains("nope.policy"), "{}", out.transcript());
    // `files` narrows the project: without `member.policy`, `admin` names an unknown role.
    std::fs::write(
        dir.path().join("acme/policyc.toml"),
        "[policy]\nfiles = [\"plans.policy\", \"roles/admin.policy\"]\n",
    )
    .unwrap();
    let out = run(dir.path(), &["check", "acme"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(
        out.stdout().contains("P0201") || out.stderr().contains("P0201"),
        "{}",
        out.transcript()
    );
}

#[test]
fn diff_compares_a_project_with_itself_at_a_git_revision() {
    let dir = project();
    common::git_commit_all(dir.path());
    // Another file of the project now gives `member` billing.
    std::fs::write(
        dir.path().join("acme/roles/member.policy"),
        "role member \"Member\" on team {\n  grants files.manage, billing.manage\n}\n",
    )
    .unwrap();
    let out = run(
        dir.path(),
        &["diff", "--exit-code", "--git", "HEAD", "--", "acme"],
    );
    assert_eq!(out.code, 1, "{}", out.transcript());
    let text = out.stdout();
    assert!(
        text.starts_with("policy diff: `HEAD:./acme` → `acme`"),
        "{text}"
    );
    assert!(
        text.contains("+ billing.manage on team: new grant `billing.manage` in role `member`"),
        "{text}"
    );
    let out = run(
        dir.path(),
        &["diff", "--exit-code", "HEAD:acme", "HEAD:acme/policyc.toml"],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
}

/// A file of a project given alone (as a pre-commit hook passes the files
/// changed) is checked as its project, once, from any directory.
#[test]
fn check_of_a_file_of_a_project_checks_the_project() {
    let dir = project();
    let out = run(
        dir.path(),
        &[
            "check",
            "acme/roles/admin.policy",
            "acme/plans.policy",
            "other.policy",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stderr().contains("checked 4 files"),
        "{}",
        out.transcript()
    );
    let out = run(
        &dir.path().join("acme/roles"),
        &["check", "--format", "json", "admin.policy"],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    let json: Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(json["files"][0]["path"], "../policyc.toml");
    // A file the manifest does not list is checked alone.
    std::fs::write(
        dir.path().join("acme/policyc.toml"),
        "[policy]\nfiles = [\"plans.policy\", \"roles\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("acme/draft.policy"),
        "permission d.x \"D\"\n",
    )
    .unwrap();
    let out = run(dir.path(), &["check", "acme/draft.policy"]);
    assert!(
        out.stderr().contains("checked 1 file:"),
        "{}",
        out.transcript()
    );
}

/// A place in a project is the place in the one file that holds it, not in
/// the project: a JUnit load error and an `expect`ation in `check --format
/// json` name `acme/roles/admin.policy` with its own line and column.
#[test]
fn places_in_a_project_name_the_file_that_holds_them() {
    let dir = project();
    std::fs::write(
        dir.path().join("acme/roles/admin.policy"),
        "role admin \"Admin\" {\n  inherits membr\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("acme.test.yaml"),
        "policy: acme\ncases:\n  - { roles: [member], action: files.manage, tier: team, expect: allow }\n",
    )
    .unwrap();
    let out = run(dir.path(), &["test", "acme.test.yaml", "--format", "junit"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(
        out.stdout()
            .contains(r#"message="acme/roles/admin.policy:2:12: P0201: unknown role `membr`""#),
        "{}",
        out.transcript()
    );

    std::fs::write(
        dir.path().join("acme/roles/admin.policy"),
        "role admin \"Admin\" {\n  inherits member\n}\n\nexpect unheld-permission \"not sold yet\"\npermission extra.thing \"Extra\"\n",
    )
    .unwrap();
    let out = run(dir.path(), &["check", "acme", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let json: Value = serde_json::from_str(&out.stdout()).unwrap();
    let at = &json["expected"][0]["expectation"];
    assert_eq!(at["file"], "acme/roles/admin.policy", "{json}");
    assert_eq!(at["line"], 5, "{json}");
}
