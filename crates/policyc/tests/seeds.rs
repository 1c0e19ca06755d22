//! The seed policies against the seed documents they were written from.
//!
//! `policies/humanloop.policy` and `policies/vellum.policy` encode two real
//! products' access-control pages. The facts of those pages (the Humanloop
//! table row by row, the Vellum role sections bullet by bullet) are kept as
//! data in `tests/fixtures/seeds/*.table.yaml`; `.ci/run` checks that data
//! against the original documents. These tests run the real `policyc matrix
//! --format json` binary and compare it with the data cell by cell. A failure
//! names the row, role and tier that broke.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: clippy.toml allows these in #[test] functions but not in the helpers of an integration test; a failed lookup is a test failure"
)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

mod common;

/// A seed table of `tests/fixtures/seeds/`.
fn table<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_yaml::from_str(&common::fixture(&format!("seeds/{name}")))
        .unwrap_or_else(|e| panic!("tests/fixtures/seeds/{name}: {e}"))
}

/// The `policyc matrix --format json` document of one policy (and tier).
struct Matrix {
    tiers: Vec<String>,
    tier: Option<String>,
    /// Role label → role id.
    role_by_label: BTreeMap<String, String>,
    /// Permission label → (permission id, role ids that may use it).
    rows: BTreeMap<String, (String, BTreeSet<String>)>,
}

fn matrix(policy: &str, tier: Option<&str>) -> Matrix {
    let mut args = vec!["matrix", policy, "--format", "json"];
    if let Some(t) = tier {
        args.extend(["--tier", t]);
    }
    let out = common::policyc(&common::root(), &args);
    let what = format!("`policyc matrix {policy} --tier {tier:?} --format json`");
    assert!(
        out.status.success(),
        "{what} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what} printed invalid JSON: {e}"));
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap_or_else(|| panic!("{what}: expected an array, got {v}"))
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    let tiers = strings(&doc["tiers"]);
    let tier_out = doc["tier"].as_str().map(str::to_string);
    let mut role_by_label = BTreeMap::new();
    for r in doc["roles"].as_array().unwrap() {
        let label = r["label"].as_str().unwrap().to_string();
        let id = r["id"].as_str().unwrap().to_string();
        let prev = role_by_label.insert(label.clone(), id);
        assert!(prev.is_none(), "{what}: two roles are labelled {label:?}");
    }
    let mut rows = BTreeMap::new();
    for row in doc["rows"].as_array().unwrap() {
        let label = row["label"].as_str().unwrap().to_string();
        let id = row["permission"].as_str().unwrap().to_string();
        let roles: BTreeSet<String> = strings(&row["roles"]).into_iter().collect();
        let prev = rows.insert(label.clone(), (id, roles));
        assert!(
            prev.is_none(),
            "{what}: two permissions are labelled {label:?}"
        );
    }
    Matrix {
        tiers,
        tier: tier_out,
        role_by_label,
        rows,
    }
}

// ---------------------------------------------------------------- Humanloop

/// The Humanloop table's columns, in the order of its header.
const HUMANLOOP_COLUMNS: [&str; 3] = ["Member", "Developer", "Admin"];

/// One row of the Humanloop table.
#[derive(Debug, serde::Deserialize)]
struct TableRow {
    action: String,
    /// The columns that carry a mark.
    roles: BTreeSet<String>,
}

/// `humanloop.table.yaml`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Humanloop {
    document: String,
    columns: Vec<String>,
    enterprise_only: BTreeSet<String>,
    rows: Vec<TableRow>,
}

fn humanloop() -> Humanloop {
    let h: Humanloop = table("humanloop.table.yaml");
    assert_eq!(h.document, "humanloop-access-roles.txt");
    assert_eq!(h.columns, HUMANLOOP_COLUMNS);
    h
}

#[test]
fn humanloop_table_holds_the_page_as_it_shows_it() {
    let h = humanloop();
    let summary: Vec<(&str, usize)> = h
        .rows
        .iter()
        .map(|r| (r.action.as_str(), r.roles.len()))
        .collect();
    assert_eq!(summary.len(), 12, "{summary:#?}");
    assert_eq!(summary.first(), Some(&("Create and manage Files", 3)));
    assert_eq!(summary.last(), Some(&("Change Organization settings", 1)));
    // Every row names known columns, and the page's marks fill from the
    // right: a role with a mark implies every column to its right has one.
    for r in &h.rows {
        let marks = r.roles.len();
        let from_right: BTreeSet<String> = HUMANLOOP_COLUMNS[HUMANLOOP_COLUMNS.len() - marks..]
            .iter()
            .map(|c| (*c).to_string())
            .collect();
        assert_eq!(r.roles, from_right, "row {:?}", r.action);
    }
    let expected: BTreeSet<String> = ["Developer", "Member"].map(String::from).into();
    assert_eq!(h.enterprise_only, expected);
}

#[test]
fn humanloop_matrix_matches_the_seed_table_on_every_tier() {
    const POLICY: &str = "policies/humanloop.policy";
    let h = humanloop();
    let table = &h.rows;
    let enterprise_only = &h.enterprise_only;
    let tiers = matrix(POLICY, None).tiers;
    assert_eq!(
        tiers.last().map(String::as_str),
        Some("enterprise"),
        "{POLICY}: `enterprise` must be the highest tier, got {tiers:?}"
    );
    for tier in &tiers {
        let m = matrix(POLICY, Some(tier));
        assert_eq!(m.tier.as_deref(), Some(tier.as_str()));
        assert_eq!(&m.tiers, &tiers);
        // The columns map one-to-one onto the policy's roles by label.
        let labels: BTreeSet<&str> = m.role_by_label.keys().map(String::as_str).collect();
        let columns: BTreeSet<&str> = HUMANLOOP_COLUMNS.iter().copied().collect();
        assert_eq!(labels, columns, "tier {tier}: role labels vs table columns");
        // Every table row is exactly one matrix row, and vice versa.
        let actions: BTreeSet<&str> = table.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions.len(), table.len(), "the seed repeats an action");
        for label in m.rows.keys() {
            assert!(
                actions.contains(label.as_str()),
                "tier {tier}: permission labelled {label:?} is not a row of the seed table"
            );
        }
        let mut cells = 0;
        for row in table {
            let (perm, holders) = m.rows.get(&row.action).unwrap_or_else(|| {
                panic!(
                    "tier {tier}: seed row {:?} has no permission with that label",
                    row.action
                )
            });
            for column in HUMANLOOP_COLUMNS {
                let role = &m.role_by_label[column];
                let expected = if tier == "enterprise" {
                    row.roles.contains(column)
                } else {
                    !enterprise_only.contains(column)
                };
                let actual = holders.contains(role);
                assert_eq!(
                    actual, expected,
                    "tier {tier}, row {:?} (`{perm}`), column {column} (`{role}`): \
                     matrix says {actual}, seed says {expected}",
                    row.action
                );
                cells += 1;
            }
        }
        assert_eq!(cells, table.len() * HUMANLOOP_COLUMNS.len());
    }
}

// ---------------------------------------------------------------- Vellum

/// The Vellum role sections, in the order of the page.
const VELLUM_ROLES: [&str; 6] = [
    "Admin",
    "Deployment Editor",
    "Document Index Editor",
    "Test Suite Editor",
    "Playground Editor",
    "Member",
];

/// One role section of the Vellum page.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct VellumRole {
    role: String,
    bullets: Vec<String>,
}

/// `vellum.table.yaml`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Vellum {
    document: String,
    roles: Vec<VellumRole>,
}

/// The role sections and their bullets, in page order.
fn vellum_sections() -> Vec<(String, Vec<String>)> {
    let v: Vellum = table("vellum.table.yaml");
    assert_eq!(v.document, "vellum-rbac.txt");
    let sections: Vec<(String, Vec<String>)> =
        v.roles.into_iter().map(|r| (r.role, r.bullets)).collect();
    let names: Vec<&str> = sections.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, VELLUM_ROLES, "role sections of the Vellum seed");
    sections
}

#[test]
fn vellum_sections_hold_the_page_as_it_shows_them() {
    let sections = vellum_sections();
    let counts: Vec<(&str, usize)> = sections
        .iter()
        .map(|(n, b)| (n.as_str(), b.len()))
        .collect();
    assert_eq!(
        counts,
        [
            ("Admin", 7),
            ("Deployment Editor", 4),
            ("Document Index Editor", 5),
            ("Test Suite Editor", 3),
            ("Playground Editor", 3),
            ("Member", 0),
        ]
    );
    let mut seen = BTreeSet::new();
    for (role, bullets) in &sections {
        for b in bullets {
            assert!(seen.insert(b), "{role}: bullet {b:?} listed twice");
        }
    }
}

#[test]
fn vellum_matrix_matches_the_seed_roles() {
    const POLICY: &str = "policies/vellum.policy";
    let sections = vellum_sections();
    let m = matrix(POLICY, None);
    assert!(m.tiers.is_empty(), "{POLICY} declares tiers: {:?}", m.tiers);
    assert_eq!(m.tier, None);

    let labels: BTreeSet<&str> = m.role_by_label.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = VELLUM_ROLES.iter().copied().collect();
    assert_eq!(labels, expected, "role labels vs seed role sections");

    let views: BTreeSet<&str> = m
        .rows
        .keys()
        .map(String::as_str)
        .filter(|l| l.starts_with("View "))
        .collect();
    assert!(!views.is_empty(), "{POLICY} has no `View …` permissions");

    // Every bullet is a permission labelled with the bullet's text.
    let mut bullets: BTreeSet<&str> = BTreeSet::new();
    for (role, list) in &sections {
        for b in list {
            assert!(
                m.rows.contains_key(b),
                "{role}: bullet {b:?} is not the label of any permission in {POLICY}"
            );
            assert!(
                bullets.insert(b.as_str()),
                "bullet {b:?} appears under two roles"
            );
        }
    }
    // And vice versa: every permission is a bullet or a `View …` permission.
    for (label, (perm, _)) in &m.rows {
        assert!(
            bullets.contains(label.as_str()) || views.contains(label.as_str()),
            "permission `{perm}` ({label:?}) is neither a seed bullet nor a `View …` permission"
        );
    }

    for (role_label, own) in &sections {
        let role = &m.role_by_label[role_label];
        let held: BTreeSet<&str> = m
            .rows
            .iter()
            .filter(|(_, (_, holders))| holders.contains(role))
            .map(|(label, _)| label.as_str())
            .collect();
        for v in &views {
            assert!(
                held.contains(v),
                "{role_label} (`{role}`) lacks {v:?}; every role can view"
            );
        }
        let expected: BTreeSet<&str> = match role_label.as_str() {
            "Admin" => m.rows.keys().map(String::as_str).collect(),
            "Member" => views.clone(),
            _ => own
                .iter()
                .map(String::as_str)
                .chain(views.iter().copied())
                .collect(),
        };
        for label in m.rows.keys() {
            let (perm, _) = &m.rows[label];
            assert_eq!(
                held.contains(label.as_str()),
                expected.contains(label.as_str()),
                "{role_label} (`{role}`), row {label:?} (`{perm}`): matrix says {}, seed says {}",
                held.contains(label.as_str()),
                expected.contains(label.as_str())
            );
        }
    }
}
