//! End-to-end tests of `policyc query`, `who-can` and `what-can`: the real
//! binary in a temporary directory with a cleared environment.
//!
//! Every cell of both seed tables, on every tier, is asked through `policyc
//! query`, with expectations derived from the seed tables in
//! `tests/fixtures/seeds/` (the documents' facts, not the policies under test): once in bulk through
//! `--batch` (the JSON decision and its reasons) and once per cell as its own
//! process (the exit code).
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failure should fail the test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use tempfile::TempDir;

mod common;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for name in ["humanloop.policy", "vellum.policy"] {
            std::fs::copy(root().join("policies").join(name), dir.path().join(name)).unwrap();
        }
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gates.policy"),
            dir.path().join("gates.policy"),
        )
        .unwrap();
        Sandbox { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        common::run_with_stdin(self.dir.path(), args, stdin).output()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, "")
    }
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Exit code, stdout and stderr, as a snapshot records them.
fn transcript(o: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        code(o),
        stdout(o),
        stderr(o)
    )
}

/// `permission ID "LABEL"` and `role ID "LABEL"` declarations of a policy.
fn labels(policy: &str, keyword: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("policies").join(policy)).unwrap();
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(keyword)?.strip_prefix(' '))
        .map(|rest| {
            let (id, tail) = rest.split_once(' ').unwrap();
            let label = tail.split('"').nth(1).unwrap();
            (id.to_string(), label.to_string())
        })
        .collect()
}

/// A seed table of `tests/fixtures/seeds/` (checked against the original
/// documents by `.ci/run`).
fn seed_table(name: &str) -> serde_yaml::Value {
    serde_yaml::from_str(&common::fixture(&format!("seeds/{name}"))).unwrap()
}

fn strings(v: &serde_yaml::Value) -> Vec<String> {
    v.as_sequence()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// One expected cell: (tier, role, permission) → allowed.
type Expected = BTreeMap<(Option<String>, String, String), bool>;

/// Humanloop: the table rows, ✔️ marks filled from the right over the
/// columns Member, Developer, Admin; Developer and Member exist only on
/// Enterprise.
fn humanloop_expected() -> Expected {
    let table = seed_table("humanloop.table.yaml");
    let by_label: BTreeMap<String, String> = labels("humanloop.policy", "permission")
        .into_iter()
        .map(|(id, label)| (label, id))
        .collect();
    let columns = ["member", "developer", "admin"];
    assert_eq!(strings(&table["columns"]), ["Member", "Developer", "Admin"]);
    let mut rows = Vec::new();
    for row in table["rows"].as_sequence().unwrap() {
        let label = row["action"].as_str().unwrap();
        let marks = strings(&row["roles"]).len();
        assert!((1..=3).contains(&marks), "{row:?}");
        let id = by_label
            .get(label)
            .unwrap_or_else(|| panic!("no permission is labelled {label:?}"));
        rows.push((id.clone(), marks));
    }
    assert_eq!(rows.len(), 12, "the seed table has 12 rows");
    assert_eq!(
        rows.len(),
        by_label.len(),
        "every permission is in the table"
    );
    let mut out = Expected::new();
    for tier in ["free", "team", "enterprise"] {
        for (perm, marks) in &rows {
            for (i, role) in columns.iter().enumerate() {
                let in_table = i >= columns.len() - marks;
                let available = tier == "enterprise" || *role == "admin";
                out.insert(
                    (Some(tier.to_string()), role.to_string(), perm.clone()),
                    in_table && available,
                );
            }
        }
    }
    out
}

/// Vellum: Admin holds everything; each editor its bullets plus every
/// "View …" permission; Member only the "View …" permissions.
fn vellum_expected() -> Expected {
    let table = seed_table("vellum.table.yaml");
    let perms = labels("vellum.policy", "permission");
    let by_label: BTreeMap<&str, &str> = perms
        .iter()
        .map(|(id, l)| (l.as_str(), id.as_str()))
        .collect();
    let roles = labels("vellum.policy", "role");
    let role_by_label: BTreeMap<&str, &str> = roles
        .iter()
        .map(|(id, l)| (l.as_str(), id.as_str()))
        .collect();
    let mut bullets: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for section in table["roles"].as_sequence().unwrap() {
        let label = section["role"].as_str().unwrap();
        let role = role_by_label
            .get(label)
            .unwrap_or_else(|| panic!("no role is labelled {label:?}"));
        let held = bullets.entry(role).or_default();
        for item in strings(&section["bullets"]) {
            let id = by_label
                .get(item.as_str())
                .unwrap_or_else(|| panic!("no permission is labelled {item:?}"));
            held.insert(id.to_string());
        }
    }
    assert_eq!(
        bullets.len(),
        6,
        "the seed describes six roles: {bullets:?}"
    );
    let views: BTreeSet<String> = perms
        .iter()
        .filter(|(_, l)| l.starts_with("View "))
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(views.len(), 7);
    let mut out = Expected::new();
    for (role, _) in &roles {
        for (perm, _) in &perms {
            let allowed = match role.as_str() {
                "admin" => true,
                "member" => views.contains(perm),
                _ => views.contains(perm) || bullets[role.as_str()].contains(perm),
            };
            out.insert((None, role.clone(), perm.clone()), allowed);
        }
    }
    out
}

fn batch_lines(expected: &Expected) -> String {
    expected
        .keys()
        .map(|(tier, role, perm)| {
            serde_json::json!({"role": role, "action": perm, "tier": tier}).to_string() + "\n"
        })
        .collect()
}

/// Runs every cell through `--batch` against `file` and checks each decision.
fn check_batch(sb: &Sandbox, file: &str, expected: &Expected) {
    let out = sb.run_with_stdin(&["query", file, "--batch", "-"], &batch_lines(expected));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), expected.len());
    for (n, ((tier, role, perm), allowed)) in expected.iter().enumerate() {
        let d = &lines[n];
        let ctx = format!("{file}: {role} {perm} on {tier:?}: {d}");
        assert_eq!(d["request"], n + 1, "{ctx}");
        assert_eq!(d["roles"], serde_json::json!([role]), "{ctx}");
        assert_eq!(d["action"], perm.as_str(), "{ctx}");
        assert_eq!(d["tier"].as_str(), tier.as_deref(), "{ctx}");
        let want = if *allowed { "allow" } else { "deny" };
        assert_eq!(d["decision"], want, "{ctx}");
        let reasons = d["reasons"].as_array().unwrap();
        assert!(!reasons.is_empty(), "{ctx}");
        for r in reasons {
            assert!(!r["kind"].as_str().unwrap().is_empty(), "{ctx}");
            assert!(!r["message"].as_str().unwrap().is_empty(), "{ctx}");
        }
        let decisive = &reasons[0];
        if *allowed {
            assert_eq!(reasons.last().unwrap()["kind"], "granted", "{ctx}");
        } else {
            assert!(
                [
                    "role_unavailable",
                    "permission_unavailable",
                    "excluded",
                    "gate_closed",
                    "not_granted"
                ]
                .contains(&decisive["kind"].as_str().unwrap()),
                "{ctx}"
            );
        }
        // The grant of an allow, and the decisive reason of a deny, point
        // into the policy (from source and from an artifact alike).
        let located = if *allowed {
            reasons.last().unwrap()
        } else {
            decisive
        };
        assert!(located["location"]["line"].as_u64().unwrap() > 0, "{ctx}");
    }
}

/// Every cell as its own process: exit 0 for allow, 1 for deny.
fn check_exit_codes(sb: &Sandbox, file: &str, expected: &Expected) {
    for ((tier, role, perm), allowed) in expected {
        let mut args = vec!["query", file, "--role", role, "--action", perm];
        if let Some(t) = tier {
            args.extend(["--tier", t]);
        }
        let out = sb.run(&args);
        let want = if *allowed { 0 } else { 1 };
        assert_eq!(code(&out), want, "{args:?}\n{}", transcript(&out));
        let first = stdout(&out).lines().next().unwrap_or_default().to_string();
        assert!(
            first.starts_with(if *allowed { "allowed:" } else { "denied:" }),
            "{first}"
        );
        if !allowed {
            assert!(stdout(&out).lines().count() > 1, "a deny gives its reason");
        }
    }
}

#[test]
fn humanloop_every_cell_on_every_tier() {
    let sb = Sandbox::new();
    let expected = humanloop_expected();
    assert_eq!(expected.len(), 12 * 3 * 3);
    check_batch(&sb, "humanloop.policy", &expected);
    check_exit_codes(&sb, "humanloop.policy", &expected);
}

#[test]
fn vellum_every_cell() {
    let sb = Sandbox::new();
    let expected = vellum_expected();
    assert_eq!(expected.len(), 29 * 6);
    check_batch(&sb, "vellum.policy", &expected);
    check_exit_codes(&sb, "vellum.policy", &expected);
}

#[test]
fn compiled_artifacts_give_the_same_decisions() {
    let sb = Sandbox::new();
    for (policy, expected) in [
        ("humanloop", humanloop_expected()),
        ("vellum", vellum_expected()),
    ] {
        for fmt in ["json", "yaml"] {
            let out_file = format!("{policy}.{fmt}");
            let src = format!("{policy}.policy");
            let out = sb.run(&["compile", &src, "--format", fmt, "-o", &out_file]);
            assert_eq!(code(&out), 0, "{}", transcript(&out));
            check_batch(&sb, &out_file, &expected);
        }
    }
    // One single call on an artifact, for the exit code.
    let out = sb.run(&[
        "query",
        "humanloop.json",
        "--role",
        "member",
        "--action",
        "billing.manage",
        "--tier",
        "enterprise",
    ]);
    assert_eq!(code(&out), 1, "{}", transcript(&out));
}

#[test]
fn exit_codes_for_errors() {
    let sb = Sandbox::new();
    let hl = "humanloop.policy";
    let cases: &[&[&str]] = &[
        &[
            "query",
            hl,
            "--role",
            "develper",
            "--action",
            "files.manage",
            "--tier",
            "team",
        ],
        &[
            "query",
            hl,
            "--role",
            "admin",
            "--action",
            "files.manag",
            "--tier",
            "team",
        ],
        &[
            "query",
            hl,
            "--role",
            "admin",
            "--action",
            "files.manage",
            "--tier",
            "tem",
        ],
        &["query", hl, "--role", "admin", "--action", "files.manage"],
        &[
            "query",
            "vellum.policy",
            "--role",
            "admin",
            "--action",
            "workspace.delete",
            "--tier",
            "team",
        ],
        &[
            "query",
            "missing.policy",
            "--role",
            "admin",
            "--action",
            "x",
        ],
        &["query", hl, "--action", "files.manage"],
    ];
    for args in cases {
        let out = sb.run(args);
        assert_eq!(code(&out), 2, "{args:?}\n{}", transcript(&out));
    }
    std::fs::write(sb.path("bad.json"), "{\"schema_version\": 10}").unwrap();
    let out = sb.run(&["query", "bad.json", "--role", "a", "--action", "b"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("P0507"), "{}", transcript(&out));
}

#[test]
fn json_contract_allow_and_deny() {
    let sb = Sandbox::new();
    let out = sb.run(&[
        "query",
        "humanloop.policy",
        "--role",
        "admin",
        "--action",
        "files.manage",
        "--tier",
        "enterprise",
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 0);
    let d: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(d["decision"], "allow");
    assert_eq!(d["roles"], serde_json::json!(["admin"]));
    assert_eq!(d["action"], "files.manage");
    assert_eq!(d["tier"], "enterprise");
    let kinds: Vec<&str> = d["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["inherited", "inherited", "granted"]);
    let grant = &d["reasons"][2];
    assert_eq!(grant["location"]["file"], "humanloop.policy");
    assert_eq!(grant["location"]["line"], 28);
    assert!(grant["location"]["column"].as_u64().unwrap() > 1);

    // Several roles: the union; a deny gives one decisive reason per role.
    let out = sb.run(&[
        "query",
        "humanloop.policy",
        "--role",
        "member",
        "--role",
        "developer",
        "--action",
        "billing.manage",
        "--tier",
        "team",
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 1);
    let d: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(d["decision"], "deny");
    assert_eq!(d["roles"], serde_json::json!(["member", "developer"]));
    assert_eq!(d["reasons"][0]["kind"], "role_unavailable");
    assert_eq!(d["reasons"][0]["role"], "member");
    assert_eq!(d["reasons"][1]["kind"], "role_unavailable");
    assert_eq!(d["reasons"][2]["kind"], "other_roles");
    assert_eq!(d["reasons"][2]["roles"], serde_json::json!(["admin"]));

    // Tierless: `tier` is null.
    let out = sb.run(&[
        "query",
        "vellum.policy",
        "--role",
        "member",
        "--role",
        "admin",
        "--action",
        "workspace.delete",
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 0);
    let d: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(d["tier"], Value::Null);
    assert_eq!(d["reasons"][0]["kind"], "granted");
    assert_eq!(d["reasons"][0]["role"], "admin");

    // An unknown name in JSON mode: a diagnostics document, exit 2.
    let out = sb.run(&[
        "query",
        "vellum.policy",
        "--role",
        "admn",
        "--action",
        "workspace.delete",
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 2);
    let d: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(d["diagnostics"][0]["code"], "P0401");
    assert_eq!(d["diagnostics"][0]["suggestion"], "admin");
}

#[test]
fn batch_keeps_going_after_a_bad_line() {
    let sb = Sandbox::new();
    let input = concat!(
        "{\"role\": \"admin\", \"action\": \"billing.manage\", \"tier\": \"free\"}\n",
        "not json\n",
        "\n",
        "{\"roles\": [\"membr\"], \"action\": \"files.manage\", \"tier\": \"enterprise\"}\n",
        "{\"role\": \"member\", \"acton\": \"files.manage\"}\n",
        "{\"roles\": [\"member\", \"developer\"], \"action\": \"deployments.manage\", \"tier\": \"enterprise\"}\n",
    );
    let out = sb.run_with_stdin(&["query", "humanloop.policy", "--batch", "-"], input);
    assert_eq!(code(&out), 2);
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["decision"], "allow");
    assert_eq!(lines[1]["request"], 2);
    assert_eq!(lines[1]["error"]["code"], "P0403");
    assert_eq!(lines[2]["request"], 4);
    assert_eq!(lines[2]["error"]["code"], "P0401");
    assert_eq!(lines[2]["error"]["suggestion"], "member");
    assert_eq!(lines[3]["error"]["code"], "P0403");
    assert_eq!(lines[4]["decision"], "allow");
    assert_eq!(lines[4]["request"], 6);

    // A YAML list from a file.
    std::fs::write(
        sb.path("requests.yaml"),
        "- {role: admin, action: billing.manage, tier: free}\n- role: developer\n  action: billing.manage\n  tier: enterprise\n",
    )
    .unwrap();
    let out = sb.run(&["query", "humanloop.policy", "--batch", "requests.yaml"]);
    assert_eq!(code(&out), 0, "{}", transcript(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["decision"], "allow");
    assert_eq!(lines[1]["decision"], "deny");
}

/// A batch that cannot be read is reported like any other load error:
/// human text on stderr by default, JSON only under `--format json`.
#[test]
fn an_unreadable_batch_is_reported_in_the_format_asked_for() {
    let sb = Sandbox::new();
    let out = sb.run(&["query", "humanloop.policy", "--batch", "missing.jsonl"]);
    assert_eq!(code(&out), 2);
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).starts_with("error[P0501]: cannot read `missing.jsonl`"),
        "{}",
        transcript(&out)
    );
    let out = sb.run(&[
        "query",
        "humanloop.policy",
        "--batch",
        "missing.jsonl",
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 2);
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["diagnostics"][0]["code"], "P0501");
}

#[test]
fn who_can_and_what_can() {
    let sb = Sandbox::new();
    let out = sb.run(&[
        "who-can",
        "humanloop.policy",
        "files.manage",
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 0);
    let d: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(d["action"], "files.manage");
    let per_tier: Vec<(String, Vec<String>)> = d["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tier"].as_str().unwrap().to_string(),
                t["roles"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["id"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        per_tier,
        [
            ("free".to_string(), vec!["admin".to_string()]),
            ("team".to_string(), vec!["admin".to_string()]),
            (
                "enterprise".to_string(),
                vec![
                    "member".to_string(),
                    "developer".to_string(),
                    "admin".to_string()
                ]
            ),
        ]
    );

    let out = sb.run(&["what-can", "vellum.policy", "member", "--format", "json"]);
    assert_eq!(code(&out), 0);
    let d: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(d["role"], "member");
    assert_eq!(d["tiers"][0]["tier"], Value::Null);
    let perms: Vec<&str> = d["tiers"][0]["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(perms.len(), 7);
    assert!(perms.iter().all(|p| p.ends_with(".view")));

    let out = sb.run(&[
        "what-can",
        "humanloop.policy",
        "developer",
        "--tier",
        "team",
    ]);
    assert_eq!(code(&out), 0);
    insta::assert_snapshot!("what_can_developer_team", transcript(&out));
    let out = sb.run(&[
        "who-can",
        "humanloop.policy",
        "billing.manage",
        "--tier",
        "enterprise",
    ]);
    insta::assert_snapshot!("who_can_billing_enterprise", transcript(&out));
    let out = sb.run(&["who-can", "humanloop.policy", "biling.manage"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("billing.manage"),
        "{}",
        transcript(&out)
    );
}

fn explain(sb: &Sandbox, args: &[&str]) -> String {
    let mut all = vec!["query"];
    all.extend(args);
    all.push("--explain");
    transcript(&sb.run(&all))
}

#[test]
fn explanation_snapshots() {
    let sb = Sandbox::new();
    let hl = "humanloop.policy";
    let cases: &[(&str, &[&str])] = &[
        (
            "allow_through_inheritance",
            &[
                hl,
                "--role",
                "admin",
                "--action",
                "files.manage",
                "--tier",
                "enterprise",
            ],
        ),
        (
            "allow_through_wildcard",
            &[
                "vellum.policy",
                "--role",
                "deployment_editor",
                "--action",
                "prompts.view",
            ],
        ),
        (
            "deny_by_tier",
            &[
                hl,
                "--role",
                "developer",
                "--action",
                "deployments.manage",
                "--tier",
                "team",
            ],
        ),
        (
            "deny_by_exclusion",
            &[
                "gates.policy",
                "--role",
                "contractor",
                "--action",
                "reports.export",
                "--tier",
                "pro",
            ],
        ),
        (
            "deny_by_closed_gate",
            &[
                "gates.policy",
                "--role",
                "auditor",
                "--action",
                "reports.export",
                "--tier",
                "free",
            ],
        ),
        (
            "deny_permission_unavailable",
            &[
                "gates.policy",
                "--role",
                "analyst",
                "--action",
                "audit.read",
                "--tier",
                "pro",
            ],
        ),
        (
            "deny_with_nearest_miss",
            &[
                hl,
                "--role",
                "developer",
                "--action",
                "billing.manage",
                "--tier",
                "enterprise",
            ],
        ),
        (
            "unknown_role_with_suggestion",
            &[
                hl,
                "--role",
                "develper",
                "--action",
                "files.manage",
                "--tier",
                "enterprise",
            ],
        ),
    ];
    for (name, args) in cases {
        insta::assert_snapshot!(*name, explain(&sb, args));
    }
    // Without --explain a deny is still explained, briefly.
    let out = sb.run(&[
        "query",
        "gates.policy",
        "--role",
        "contractor",
        "--action",
        "reports.export",
        "--tier",
        "pro",
    ]);
    insta::assert_snapshot!("deny_brief", transcript(&out));
}
