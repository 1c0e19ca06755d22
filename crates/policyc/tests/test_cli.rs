//! End-to-end tests of `policyc test`: the real binary, a cleared
//! environment, and temporary copies of the seed policies and their tests.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers: a failed lookup is a test failure"
)]

mod common;

use common::{policyc, root, sandbox, seed, transcript};

use serde_json::Value;
use std::process::Output;

/// The Humanloop policy with Developer's `deployments.manage` grant removed
/// and its assertions dropped (they would stop the policy compiling, and
/// the point is to see the tests catch it too).
fn broken_humanloop() -> String {
    let text = seed("humanloop.policy");
    let broken = text.replace(
        "grants api_keys.manage, deployments.manage, environments.manage",
        "grants api_keys.manage, environments.manage",
    );
    assert_ne!(broken, text, "the grant to remove is no longer in the seed");
    broken
        .lines()
        .filter(|l| !l.starts_with("assert "))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn last_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_string()
}

#[test]
fn seed_tests_pass() {
    let out = policyc(&root(), &["test", "policies/"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    assert!(
        stdout.contains("ok     policies/humanloop.test.yaml (153 tests)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ok     policies/vellum.test.yaml (211 tests)"),
        "{stdout}"
    );
    // The real products under policies/examples are tested too.
    for (file, n) in [
        ("policies/examples/plane/plane.test.yaml", 1842),
        ("policies/examples/n8n/n8n.test.yaml", 315),
        ("policies/examples/supabase/supabase.test.yaml", 3202),
        (
            "policies/examples/hcp-terraform/hcp-terraform.test.yaml",
            624,
        ),
        ("policies/examples/zulip/zulip.test.yaml", 216),
        (
            "policies/examples/splunk-oncall/splunk-oncall.test.yaml",
            318,
        ),
    ] {
        assert!(
            stdout.contains(&format!("ok     {file} ({n} tests)")),
            "{stdout}"
        );
    }
    assert_eq!(last_line(&out), "6881 passed, 0 failed");
}

#[test]
fn broken_copy_fails_with_expected_vs_actual() {
    let dir = sandbox(&[
        ("humanloop.policy", &broken_humanloop()),
        ("humanloop.test.yaml", &seed("humanloop.test.yaml")),
    ]);
    let out = policyc(dir.path(), &["test"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(last_line(&out), "142 passed, 11 failed");
    insta::assert_snapshot!(transcript(&out));
}

#[test]
fn broken_copy_json() {
    let dir = sandbox(&[
        ("humanloop.policy", &broken_humanloop()),
        ("humanloop.test.yaml", &seed("humanloop.test.yaml")),
    ]);
    let out = policyc(dir.path(), &["test", ".", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["summary"]["passed"], 142);
    assert_eq!(doc["summary"]["failed"], 11);
    assert_eq!(doc["summary"]["errors"], 0);
    let file = &doc["files"][0];
    assert_eq!(file["path"], "humanloop.test.yaml");
    assert_eq!(file["policy"], "humanloop.policy");
    let results = file["results"].as_array().unwrap();
    assert_eq!(results.len(), 153);
    let failed: Vec<&Value> = results.iter().filter(|r| r["passed"] == false).collect();
    assert_eq!(failed.len(), 11);
    let dev = failed
        .iter()
        .find(|r| r["name"] == "developer → deployments.manage on enterprise")
        .unwrap();
    assert_eq!(dev["kind"], "decision");
    assert_eq!(dev["location"]["line"], 76);
    let d = &dev["decision"];
    assert_eq!(d["expected"]["decision"], "allow");
    assert_eq!(d["expected"]["reason"], "granted");
    assert_eq!(d["actual"]["decision"], "deny");
    assert_eq!(d["actual"]["reason"], "not-granted");
    let set = failed.iter().find(|r| r["kind"] == "who-can").unwrap();
    assert!(!set["set"]["missing"].as_array().unwrap().is_empty());
    // Passed results carry no location.
    assert!(results
        .iter()
        .any(|r| r["passed"] == true && r["location"].is_null()));
}

#[test]
fn explanation_shows_the_derivation_of_an_unexpected_allow() {
    let policy = seed("humanloop.policy");
    let tests = "cases:\n  - { roles: [developer], action: files.manage, tier: enterprise, expect: deny }\n  - name: the union of two roles\n    roles: [member, admin]\n    action: billing.manage\n    tier: enterprise\n    expect: allow\n    reason: inherited\n  - { roles: [member, developer], action: billing.manage, tier: enterprise, expect: allow }\n  - { roles: [member], action: billing.manage, tier: free, expect: deny, reason: not-granted }\n";
    let dir = sandbox(&[
        ("humanloop.policy", &policy),
        ("humanloop.test.yaml", tests),
    ]);
    let out = policyc(dir.path(), &["test", "humanloop.test.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(transcript(&out));
}

#[test]
fn malformed_test_files_get_spanned_diagnostics() {
    let policy = seed("humanloop.policy");
    let unknown = "policy: humanloop.policy\ncases:\n  - { roles: [membr], action: files.manage, tier: enterprise, expect: allow }\n  - role: admin\n    action: billing.manag\n    tier: enterprize\n    expect: allow\n    reason: excluded\n  - { roles: developer, action: files.manage, expect: deny }\nwho-can:\n  - { action: files.manage, tier: free, roles: [admin, \"root\"] }\n";
    let field = "cases:\n  - { roles: [member], action: files.manage, tier: enterprise, expect: allow, extra: 1 }\n";
    let kind = "cases:\n  - roles: [member]\n    action: files.manage\n    tier: free\n    expect: maybe\n";
    let syntax = "cases: [ {\n";
    let dir = sandbox(&[
        ("humanloop.policy", &policy),
        ("a-names.test.yaml", unknown),
        ("b-field.test.yaml", field),
        ("c-kind.test.yaml", kind),
        ("d-syntax.test.yaml", syntax),
        ("e-empty.test.yaml", "# nothing yet\n"),
        (
            "f-nopolicy.test.yaml",
            "cases:\n  - { roles: [member], action: files.manage, tier: free, expect: deny }\n",
        ),
    ]);
    // Files without `policy:` use the policy with the same stem: give them one.
    for stem in ["b-field", "c-kind", "d-syntax", "e-empty"] {
        std::fs::write(dir.path().join(format!("{stem}.policy")), &policy).unwrap();
    }
    let out = policyc(dir.path(), &["test", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(last_line(&out), "0 passed, 0 failed");
    insta::assert_snapshot!(transcript(&out));

    let out = policyc(
        dir.path(),
        &["test", "a-names.test.yaml", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let diags = doc["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 6);
    assert!(diags.iter().all(|d| d["code"] == "P0508"));
    assert_eq!(diags[0]["message"], "unknown role `membr`");
    assert_eq!(diags[0]["location"]["line"], 3);
    assert_eq!(diags[0]["location"]["column"], 15);
    assert_eq!(diags[0]["suggestion"], "member");
    assert_eq!(doc["files"][0]["ran"], false);
}

#[test]
fn missing_paths_and_empty_directories_are_usage_errors() {
    let dir = sandbox(&[]);
    let out = policyc(dir.path(), &["test", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    let out = policyc(dir.path(), &["test"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no `*.test.yaml` files found"));
}

#[test]
fn a_policy_that_does_not_compile_runs_no_test() {
    let policy = seed("humanloop.policy").replace("inherits member", "inherits membr");
    let dir = sandbox(&[
        ("humanloop.policy", &policy),
        ("humanloop.test.yaml", &seed("humanloop.test.yaml")),
    ]);
    let out = policyc(dir.path(), &["test"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(last_line(&out), "0 passed, 0 failed");
    assert!(String::from_utf8_lossy(&out.stderr).contains("P0201"));
}
