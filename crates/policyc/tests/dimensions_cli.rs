//! End-to-end tests of dimensions and assignability through the real
//! binary: `--on`, partial contexts in listings, matrix groups, test files
//! with `on:`, the artifact round trip, `policyc assignable`, and how
//! `query`, `who-can`, `matrix` and `diff` show a role that is kept but no
//! longer assignable.
#![expect(
    clippy::unwrap_used,
    reason = "test code: a failed lookup is a test failure"
)]

mod common;

use common::run;
use serde_json::Value;

const EDITIONS: &str = "dimension edition cloud | server | dedicated
dimension plan free < pro < enterprise

permission docs.view \"View documents\"
permission audit.view \"View the audit log\" on cloud, dedicated and >= pro
permission sso.configure \"Configure SSO\" on server and enterprise

role member \"Member\" {
  grants docs.view
}

role admin \"Admin\" {
  inherits member
  grants audit.view, sso.configure
}

role auditor \"Auditor\" on >= pro {
  grants audit.view
}
";

const LEGACY: &str = "tiers free < team < business < enterprise

permission billing.manage \"Manage billing\"

role admin \"Admin\" on >= team {
  assignable on team, enterprise
  grants billing.manage
}
";

fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("e.policy"), EDITIONS).unwrap();
    std::fs::write(dir.path().join("l.policy"), LEGACY).unwrap();
    dir
}

fn json(out: &common::Run) -> Value {
    serde_json::from_str(&out.stdout()).unwrap()
}

#[test]
fn every_spelling_of_a_context_gets_the_same_answer() {
    let dir = sandbox();
    let d = dir.path();
    let spellings: [&[&str]; 5] = [
        &["--on", "edition=cloud", "--on", "plan=pro"],
        &["--on", "pro", "--on", "cloud"],
        &["--on", "plan=pro,edition=cloud"],
        &["--tier", "cloud+pro"],
        &["--tier", "pro+cloud"],
    ];
    for s in spellings {
        let mut args = vec![
            "query",
            "e.policy",
            "--role",
            "auditor",
            "--action",
            "audit.view",
        ];
        args.extend_from_slice(s);
        let out = run(d, &args);
        assert_eq!(out.code, 0, "{s:?}\n{}", out.transcript());
        assert_eq!(
            out.stdout(),
            "allowed: `auditor` can use `audit.view` in context `cloud+pro`\n"
        );
    }
    // A dimension left out or named twice is P0402; an unknown value P0401.
    for (args, code) in [
        (&["--on", "cloud"][..], "P0402"),
        (&["--on", "cloud", "--on", "server", "--on", "pro"], "P0402"),
        (&["--on", "clod", "--on", "pro"], "P0401"),
        (&["--on", "plna=pro", "--on", "cloud"], "P0401"),
    ] {
        let mut all = vec![
            "query",
            "e.policy",
            "--role",
            "admin",
            "--action",
            "docs.view",
        ];
        all.extend_from_slice(args);
        let out = run(d, &all);
        assert_eq!(out.code, 2, "{args:?}");
        assert!(
            out.stderr().contains(code),
            "{args:?}\n{}",
            out.transcript()
        );
    }
}

#[test]
fn the_denial_in_a_context_is_explained_and_fails_closed() {
    let dir = sandbox();
    let out = run(
        dir.path(),
        &[
            "query",
            "e.policy",
            "--role",
            "admin",
            "--action",
            "audit.view",
            "--on",
            "server",
            "--on",
            "enterprise",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.transcript());
    let v = json(&out);
    assert_eq!(v["decision"], "deny");
    assert_eq!(v["tier"], "server+enterprise");
    assert_eq!(v["reasons"][0]["kind"], "permission_unavailable");
}

#[test]
fn listings_take_partial_contexts_and_matrix_groups_equal_tables() {
    let dir = sandbox();
    let d = dir.path();
    let out = run(
        d,
        &[
            "who-can",
            "e.policy",
            "audit.view",
            "--on",
            "plan=pro",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    let v = json(&out);
    let tiers: Vec<&str> = v["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tier"].as_str().unwrap())
        .collect();
    assert_eq!(tiers, ["cloud+pro", "server+pro", "dedicated+pro"]);
    assert_eq!(v["tiers"][1]["roles"], serde_json::json!([]));

    let out = run(d, &["matrix", "e.policy", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let v = json(&out);
    let groups = v["groups"].as_array().unwrap();
    // 9 contexts, 3 distinct tables.
    assert_eq!(groups.len(), 3);
    let count: usize = groups
        .iter()
        .map(|g| g["contexts"].as_array().unwrap().len())
        .sum();
    assert_eq!(count, 9);
    assert_eq!(
        groups[2]["contexts"],
        serde_json::json!(["server+enterprise"]),
        "SSO exists only there"
    );
}

/// One unordered dimension has no highest value to stand for the others:
/// the matrix shows every value's table, headed by its context.
#[test]
fn matrix_of_one_unordered_dimension_shows_every_value() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("u.policy"),
        "dimension edition standard | europe\n\npermission files.manage \"Manage files\"\npermission sso.configure \"Configure SSO\" on europe\n\nrole admin \"Admin\" {\n  grants files.manage, sso.configure\n}\n",
    )
    .unwrap();
    let out = run(d, &["matrix", "u.policy"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert_eq!(
        out.stdout(),
        "Context: `standard`\n\n| Permission | Admin |\n|---|:-:|\n| Manage files | ✔️ |\n| Configure SSO |  |\n\nContext: `europe`\n\n| Permission | Admin |\n|---|:-:|\n| Manage files | ✔️ |\n| Configure SSO | ✔️ |\n"
    );
    let out = run(d, &["matrix", "u.policy", "--format", "json"]);
    let v = json(&out);
    let contexts: Vec<&serde_json::Value> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| &g["contexts"])
        .collect();
    assert_eq!(
        contexts,
        [
            &serde_json::json!(["standard"]),
            &serde_json::json!(["europe"])
        ]
    );
}

#[test]
fn test_files_name_contexts_with_on_and_artifacts_round_trip() {
    let dir = sandbox();
    let d = dir.path();
    std::fs::write(
        d.join("e.test.yaml"),
        "cases:\n\
         \x20 - role: auditor\n    action: audit.view\n    on: {edition: dedicated, plan: enterprise}\n    expect: allow\n\
         \x20 - role: auditor\n    action: audit.view\n    on: server+pro\n    expect: deny\n    reason: permission-unavailable\n\
         \x20 - role: auditor\n    action: docs.view\n    tier: cloud+free\n    expect: deny\n    reason: role-unavailable\n\
         who-can:\n\
         \x20 - action: sso.configure\n    on: {plan: enterprise, edition: server}\n    roles: [admin]\n",
    )
    .unwrap();
    let out = run(d, &["test", "e.test.yaml"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(out.stdout().contains("4 passed"), "{}", out.transcript());

    let out = run(d, &["compile", "e.policy", "-o", "e.json"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let artifact: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("e.json")).unwrap()).unwrap();
    assert_eq!(artifact["dimensions"][0]["name"], "edition");
    assert_eq!(artifact["dimensions"][0]["unordered"], true);
    assert!(artifact["dimensions"][1].get("unordered").is_none());
    for (src, art) in [("e.policy", "e.json")] {
        for ctx in ["cloud+free", "server+enterprise", "dedicated+pro"] {
            let a = run(d, &["who-can", src, "audit.view", "--tier", ctx]);
            let b = run(d, &["who-can", art, "audit.view", "--tier", ctx]);
            assert_eq!(a.stdout(), b.stdout(), "{ctx}");
        }
    }
}

#[test]
fn a_role_kept_but_not_assignable_is_said_everywhere() {
    let dir = sandbox();
    let d = dir.path();
    for (tier, code, kind) in [
        ("free", 1, "role_unavailable"),
        ("team", 0, "assignable"),
        ("business", 1, "not_assignable"),
        ("enterprise", 0, "assignable"),
    ] {
        let out = run(
            d,
            &[
                "assignable",
                "l.policy",
                "admin",
                "--tier",
                tier,
                "--format",
                "json",
            ],
        );
        assert_eq!(out.code, code, "{tier}\n{}", out.transcript());
        let v = json(&out);
        assert_eq!(v["kind"], kind, "{tier}");
        assert_eq!(v["schema_version"], 1);
    }
    let out = run(d, &["assignable", "l.policy", "admin"]);
    assert_eq!(out.code, 2, "a tier is required: {}", out.transcript());

    // The decision is unchanged: holders keep the role.
    let out = run(
        d,
        &[
            "query",
            "l.policy",
            "--role",
            "admin",
            "--action",
            "billing.manage",
            "--tier",
            "business",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert_eq!(json(&out)["not_assignable"], serde_json::json!(["admin"]));
    let out = run(
        d,
        &[
            "query",
            "l.policy",
            "--role",
            "admin",
            "--action",
            "billing.manage",
            "--tier",
            "team",
            "--format",
            "json",
        ],
    );
    assert!(json(&out).get("not_assignable").is_none());

    let out = run(
        d,
        &["who-can", "l.policy", "billing.manage", "--format", "json"],
    );
    let v = json(&out);
    assert_eq!(v["tiers"][2]["roles"][0]["assignable"], false);
    assert!(v["tiers"][1]["roles"][0].get("assignable").is_none());

    let out = run(d, &["matrix", "l.policy", "--tier", "business"]);
    assert!(out.stdout().contains("| Admin † |"), "{}", out.transcript());
    let out = run(d, &["matrix", "l.policy", "--tier", "team"]);
    assert!(!out.stdout().contains('†'), "{}", out.transcript());

    std::fs::write(
        d.join("l.test.yaml"),
        "assignments:\n\
         \x20 - role: admin\n    tier: business\n    assignable: false\n\
         \x20 - role: admin\n    on: {tier: enterprise}\n    assignable: true\n\
         \x20 - role: admin\n    tier: free\n    assignable: true\n",
    )
    .unwrap();
    let out = run(d, &["test", "l.test.yaml"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(
        out.stdout().contains(
            "FAIL l.test.yaml:8:5: admin is assignable on free\n  expected: assignable\n  actual:   not assignable\n  because:  role `admin` is not available on tier `free`\n"
        ),
        "{}",
        out.transcript()
    );
    assert!(
        out.stdout().contains("2 passed, 1 failed"),
        "{}",
        out.transcript()
    );

    std::fs::write(
        d.join("l2.policy"),
        LEGACY.replace("  assignable on team, enterprise\n", ""),
    )
    .unwrap();
    let out = run(d, &["diff", "l.policy", "l2.policy", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let v = json(&out);
    assert_eq!(
        v["assignability"],
        serde_json::json!([{"subject": "role", "id": "admin", "old": ["business"], "new": []}])
    );
    assert!(
        v["access"].as_array().unwrap().is_empty(),
        "no decision changed"
    );
}

#[test]
fn a_role_assignable_nowhere_is_kept_everywhere_it_exists() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("n.policy"),
        "tiers team < enterprise\n\
         permission tickets.solve \"Solve tickets\"\n\
         /// Agents not yet given a role keep what they had; no one is given it.\n\
         role legacy_agent \"Legacy agent\" on enterprise {\n  assignable nowhere\n  grants tickets.solve\n}\n",
    )
    .unwrap();
    for (tier, kind) in [
        ("team", "role_unavailable"),
        ("enterprise", "not_assignable"),
    ] {
        let out = run(
            d,
            &[
                "assignable",
                "n.policy",
                "legacy_agent",
                "--tier",
                tier,
                "--format",
                "json",
            ],
        );
        assert_eq!(out.code, 1, "{}", out.transcript());
        assert_eq!(json(&out)["kind"], kind, "{tier}");
    }
    let out = run(
        d,
        &[
            "query",
            "n.policy",
            "--role",
            "legacy_agent",
            "--action",
            "tickets.solve",
            "--tier",
            "enterprise",
        ],
    );
    assert_eq!(out.code, 0, "holders keep it: {}", out.transcript());
}

/// With `offered` lines, every command works on the offered contexts only:
/// naming another is P0401 (exit 2) everywhere a context is read, the
/// listings and the matrix show only offered ones, and a compiled artifact
/// answers the same.
#[test]
fn only_offered_contexts_exist_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("o.policy"),
        "dimension edition cloud | community\ndimension plan free < pro\n\
         offered on cloud\noffered on community and free\n\
         permission docs.view \"View documents\"\n\
         permission sso.configure \"Configure SSO\" on pro\n\
         role admin \"Admin\" {\n  grants docs.view, sso.configure\n}\n",
    )
    .unwrap();
    let out = run(d, &["compile", "o.policy", "-o", "o.json"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    for src in ["o.policy", "o.json"] {
        for args in [
            vec![
                "query",
                src,
                "--role",
                "admin",
                "--action",
                "docs.view",
                "--on",
                "community",
                "--on",
                "pro",
            ],
            vec!["who-can", src, "docs.view", "--tier", "community+pro"],
            vec!["what-can", src, "admin", "--on", "pro+community"],
            vec!["assignable", src, "admin", "--tier", "community+pro"],
        ] {
            let out = run(d, &args);
            assert_eq!(out.code, 2, "{args:?}: {}", out.transcript());
            assert!(
                out.stderr()
                    .contains("error[P0401]: the product does not offer context `community+pro`"),
                "{args:?}: {}",
                out.transcript()
            );
        }
        let out = run(d, &["who-can", src, "sso.configure", "--format", "json"]);
        assert_eq!(out.code, 0, "{}", out.transcript());
        let shown = out.stdout();
        assert!(
            shown.contains("cloud+pro") && !shown.contains("community+pro"),
            "{shown}"
        );
    }
    let out = run(d, &["matrix", "o.policy"]);
    assert!(
        !out.stdout().contains("community+pro"),
        "{}",
        out.transcript()
    );
    assert!(
        out.stdout().contains("community+free"),
        "{}",
        out.transcript()
    );
    std::fs::write(
        d.join("o.test.yaml"),
        "policy: o.policy\ncases:\n\
         \x20 - role: admin\n    action: sso.configure\n    on: {edition: community, plan: pro}\n    expect: deny\n",
    )
    .unwrap();
    let out = run(d, &["test", "o.test.yaml"]);
    assert_ne!(out.code, 0, "{}", out.transcript());
    assert!(
        out.transcript()
            .contains("does not offer context `community+pro`"),
        "{}",
        out.transcript()
    );
}
