//! Levels through the real binary: names given on a level (`--scope`),
//! and the errors for a name that is another level's, or no level's.
#![expect(
    clippy::unwrap_used,
    reason = "test code: a failed setup is a test failure"
)]

mod common;

use common::run;

const POLICY: &str = "scope organization \"Organization\"
permission billing.manage \"Manage billing\"
role manager \"Manager\" {
  grants billing.manage
  acts as team.admin
}

scope team \"Team\" in organization
permission projects.remove \"Remove a project\"
role admin \"Admin\" {
  grants projects.remove
}
";

fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("l.policy"), POLICY).unwrap();
    dir
}

#[test]
fn names_on_a_level_are_read_as_the_level_writes_them() {
    let dir = sandbox();
    let d = dir.path();
    let q = |role: &str, action: &str| {
        run(
            d,
            &[
                "query", "l.policy", "--scope", "team", "--role", role, "--action", action,
            ],
        )
    };
    let out = q("admin", "projects.remove");
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert_eq!(
        out.stdout(),
        "allowed: `team.admin` can use `team.projects.remove`\n"
    );
    let out = q("organization.manager", "projects.remove");
    assert_eq!(out.code, 0, "{}", out.transcript());
    let out = run(
        d,
        &["who-can", "l.policy", "--scope", "team", "projects.remove"],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stdout().contains("organization.manager"),
        "{}",
        out.transcript()
    );
    assert!(out.stdout().contains("team.admin"), "{}", out.transcript());
}

#[test]
fn another_levels_name_is_an_error_that_names_its_level() {
    let dir = sandbox();
    let d = dir.path();
    let q = |role: &str, action: &str| {
        run(
            d,
            &[
                "query", "l.policy", "--scope", "team", "--role", role, "--action", action,
            ],
        )
    };
    // A role of the outer level, not written in full.
    let out = q("manager", "projects.remove");
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr()
            .contains("error[P0401]: unknown role `manager` on level `team`"),
        "{}",
        out.transcript()
    );
    assert!(
        out.stderr()
            .contains("did you mean `organization.manager`?"),
        "{}",
        out.transcript()
    );
    // A permission of the outer level, short or in full.
    for action in ["billing.manage", "organization.billing.manage"] {
        let out = q("admin", action);
        assert_eq!(out.code, 2, "{}", out.transcript());
        let err = out.stderr().replace("\n        ", " ");
        assert!(
            err.contains(&format!("unknown permission `{action}` on level `team`")),
            "{err}"
        );
        assert!(
            err.contains("ask on that level (`--scope organization`), or name it `organization.billing.manage` without a level"),
            "{err}"
        );
    }
    // No level's name: the did-you-mean is written as the level writes it.
    let out = q("admin", "projects.remov");
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr().contains("unknown permission `projects.remov`"),
        "{}",
        out.transcript()
    );
    assert!(
        out.stderr().contains("did you mean `projects.remove`?"),
        "{}",
        out.transcript()
    );
    let out = q("admn", "projects.remove");
    assert!(
        out.stderr().contains("did you mean `admin`?"),
        "{}",
        out.transcript()
    );
    // An unknown level.
    let out = run(
        d,
        &[
            "query",
            "l.policy",
            "--scope",
            "teem",
            "--role",
            "admin",
            "--action",
            "projects.remove",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr().contains("unknown scope `teem`"),
        "{}",
        out.transcript()
    );
    assert!(
        out.stderr().contains("did you mean `team`?"),
        "{}",
        out.transcript()
    );
}
