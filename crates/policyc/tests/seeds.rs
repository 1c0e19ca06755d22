//! The seed policies against the seed documents they were written from.
//!
//! `policies/humanloop.policy` and `policies/vellum.policy` encode the
//! access-control pages in `shared/seeds/`. These tests parse the pages
//! themselves (the Humanloop table row by row, the Vellum role sections bullet
//! by bullet), run the real `policyc matrix --format json` binary, and compare
//! cell by cell. A failure names the row, role and tier that broke.
//!
//! The seed directory defaults to `<workspace>/../shared/seeds`; set
//! `POLICYC_SEEDS_DIR` to point elsewhere. A missing directory fails the test.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: clippy.toml allows these in #[test] functions but not in the helpers of an integration test; a failed lookup is a test failure"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The mark the seed pages use for "this role has it" (U+2714 U+FE0F).
const CHECK: &str = "\u{2714}\u{fe0f}";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn seeds_dir() -> PathBuf {
    match std::env::var_os("POLICYC_SEEDS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/seeds"
        )),
    }
}

fn read_seed(name: &str) -> String {
    let dir = seeds_dir();
    assert!(
        dir.is_dir(),
        "seed directory `{}` does not exist: the seed tests cannot run without the seed \
         documents; set POLICYC_SEEDS_DIR to the directory holding `{name}`",
        dir.display()
    );
    let path = dir.join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read seed document `{}`: {e}", path.display()))
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
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_policyc"));
    cmd.env_clear()
        .env("NO_COLOR", "1")
        .current_dir(workspace_root())
        .args(["matrix", policy, "--format", "json"]);
    if let Some(t) = tier {
        cmd.args(["--tier", t]);
    }
    let out = cmd.output().unwrap();
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
#[derive(Debug)]
struct TableRow {
    line: usize,
    action: String,
    /// The columns that carry a mark.
    roles: BTreeSet<&'static str>,
}

/// Parses the table after the `ActionMemberDeveloperAdmin` header. Each row
/// is the action followed by one mark per role that has it; the page drops
/// empty cells, so the marks fill the columns from the right.
fn parse_humanloop_table(text: &str) -> Vec<TableRow> {
    let header = format!("Action{}", HUMANLOOP_COLUMNS.concat());
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == header)
        .unwrap_or_else(|| panic!("the Humanloop seed has no `{header}` table header"));
    let mut rows = Vec::new();
    for (i, raw) in lines.iter().enumerate().skip(start + 1) {
        let line = raw.trim();
        if line.is_empty() {
            break;
        }
        let lineno = i + 1;
        let first = line
            .find(CHECK)
            .unwrap_or_else(|| panic!("seed line {lineno}: table row {line:?} has no ✔️ mark"));
        let action = line[..first].trim().to_string();
        let mut rest = &line[first..];
        let mut marks = 0;
        while let Some(r) = rest.strip_prefix(CHECK) {
            marks += 1;
            rest = r.trim_start();
        }
        assert!(
            rest.is_empty(),
            "seed line {lineno}: unexpected text {rest:?} after the marks of {action:?}"
        );
        assert!(
            !action.is_empty() && marks <= HUMANLOOP_COLUMNS.len(),
            "seed line {lineno}: malformed row {line:?} ({marks} marks)"
        );
        let roles = HUMANLOOP_COLUMNS[HUMANLOOP_COLUMNS.len() - marks..]
            .iter()
            .copied()
            .collect();
        rows.push(TableRow {
            line: lineno,
            action,
            roles,
        });
    }
    assert!(!rows.is_empty(), "the Humanloop table has no rows");
    rows
}

/// The roles the prose marks `(Enterprise tier only)`, e.g.
/// `Developer: (Enterprise tier only) Can deploy Files, ...`.
fn humanloop_enterprise_only(text: &str) -> BTreeSet<&'static str> {
    HUMANLOOP_COLUMNS
        .iter()
        .copied()
        .filter(|role| {
            text.lines().any(|l| {
                l.trim()
                    .strip_prefix(role)
                    .and_then(|r| r.strip_prefix(':'))
                    .is_some_and(|r| r.trim_start().starts_with("(Enterprise tier only)"))
            })
        })
        .collect()
}

#[test]
fn humanloop_table_parses_as_the_page_shows_it() {
    let rows = parse_humanloop_table(&read_seed("humanloop-access-roles.txt"));
    let summary: Vec<(String, usize)> = rows
        .iter()
        .map(|r| (r.action.clone(), r.roles.len()))
        .collect();
    assert_eq!(summary.len(), 12, "{summary:#?}");
    assert_eq!(
        summary.first(),
        Some(&("Create and manage Files".to_string(), 3))
    );
    assert_eq!(
        summary.last(),
        Some(&("Change Organization settings".to_string(), 1))
    );
    // Marks fill from the right: a one-mark row is Admin's alone.
    let last = rows.last().unwrap();
    assert_eq!(last.roles, BTreeSet::from(["Admin"]));
    let enterprise_only = humanloop_enterprise_only(&read_seed("humanloop-access-roles.txt"));
    assert_eq!(enterprise_only, BTreeSet::from(["Developer", "Member"]));
}

#[test]
fn humanloop_matrix_matches_the_seed_table_on_every_tier() {
    const POLICY: &str = "policies/humanloop.policy";
    let text = read_seed("humanloop-access-roles.txt");
    let table = parse_humanloop_table(&text);
    let enterprise_only = humanloop_enterprise_only(&text);
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
        for row in &table {
            let (perm, holders) = m.rows.get(&row.action).unwrap_or_else(|| {
                panic!(
                    "tier {tier}: seed row {:?} (line {}) has no permission with that label",
                    row.action, row.line
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
                    "tier {tier}, row {:?} (`{perm}`, seed line {}), column {column} (`{role}`): \
                     matrix says {actual}, seed says {expected}",
                    row.action, row.line
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

/// Parses the "Available Roles" part of the Vellum page into its role
/// sections and their bullets, in order. It ends at the next part
/// ("Managing User Roles" or "Best Practices").
fn parse_vellum_sections(text: &str) -> Vec<(String, Vec<String>)> {
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    let mut inside = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line == "Available Roles" {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        if line == "Managing User Roles" || line == "Best Practices" {
            break;
        }
        if VELLUM_ROLES.contains(&line) {
            sections.push((line.to_string(), Vec::new()));
        } else if let Some(bullet) = line.strip_prefix('•') {
            let (role, bullets) = sections
                .last_mut()
                .unwrap_or_else(|| panic!("seed line {}: bullet before any role section", i + 1));
            let bullet = bullet.trim().to_string();
            assert!(
                !bullets.contains(&bullet),
                "seed line {}: {role} lists {bullet:?} twice",
                i + 1
            );
            bullets.push(bullet);
        }
    }
    assert!(inside, "the Vellum seed has no `Available Roles` part");
    let names: Vec<&str> = sections.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, VELLUM_ROLES, "role sections of the Vellum seed");
    sections
}

#[test]
fn vellum_sections_parse_as_the_page_shows_them() {
    let sections = parse_vellum_sections(&read_seed("vellum-rbac.txt"));
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
    // The "Best Practices" bullets are not role bullets.
    assert!(sections
        .iter()
        .flat_map(|(_, b)| b)
        .all(|b| !b.contains("least privilege") && !b.starts_with("Limit the number")));
}

#[test]
fn vellum_matrix_matches_the_seed_roles() {
    const POLICY: &str = "policies/vellum.policy";
    let sections = parse_vellum_sections(&read_seed("vellum-rbac.txt"));
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
