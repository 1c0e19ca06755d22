#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failed lookup is a test failure"
)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;
use crate::{compile, has_errors};
use policy_syntax::SourceFile;

/// The sources as the definition states them, one (role, permission) at a
/// time over every parent (the algorithm before the rows were merged per
/// parent): the oracle for `Policy::provenance`.
fn reference(
    policy: &Policy,
    tier: TierId,
) -> BTreeMap<(RoleId, PermId), (bool, BTreeSet<RoleId>)> {
    let grants = |r: RoleId, p: PermId| {
        policy
            .role(r)
            .unwrap()
            .grants
            .iter()
            .any(|g| g.tiers.contains(tier) && g.matches.contains(&p))
    };
    let mut out: BTreeMap<(RoleId, PermId), (bool, BTreeSet<RoleId>)> = BTreeMap::new();
    for &r in policy.resolution_order() {
        for p in policy.raw_perms(tier, r) {
            let mut from = BTreeSet::new();
            for parent in &policy.role(r).unwrap().parents {
                let q = parent.role;
                if let Some((_, theirs)) = out.get(&(q, p)) {
                    from.extend(theirs.iter().copied());
                    if grants(q, p) {
                        from.insert(q);
                    }
                }
            }
            out.insert((r, p), (grants(r, p), from));
        }
    }
    out
}

fn policy(text: &str) -> Policy {
    let (policy, diags) = compile(&SourceFile::new("t.policy", text));
    assert!(!has_errors(&diags), "{diags:?}\n{text}");
    policy
}

/// Checks the table of every tier against [`reference`], and the streamed
/// YAML against the YAML of the built snapshot.
fn agrees(policy: &Policy) {
    let names = Names::new(policy);
    for tier in policy.tier_ids() {
        let table = TierTable::new(policy, tier, &names);
        let want = reference(policy, tier);
        let mut got = BTreeMap::new();
        for &r in policy.resolution_order() {
            for (p, granted, from) in table.provenance.row(r) {
                let from = from
                    .iter()
                    .map(|&k| names.roles_by_id[k as usize])
                    .collect();
                got.insert((r, p), (granted, from));
            }
        }
        assert_eq!(got, want);
    }
    let built = serde_yaml::to_string(&Snapshot::from_policy(policy)).unwrap();
    let streamed = serde_yaml::to_string(&Snapshot::view(policy)).unwrap();
    assert_eq!(built, streamed);
}

#[test]
fn a_parent_of_another_parent_is_skipped_only_when_that_one_excludes_nothing() {
    agrees(&policy(
        r#"
        permission a.x "X"
        permission a.y "Y"
        role g "G" { grants a.x, a.y }
        role h "H" { grants a.x }
        role mid "Mid" { inherits g excludes a.x }
        role top "Top" { inherits g, mid, h }
        role all "All" { inherits g, h, top }
        "#,
    ));
}

/// A role inheriting every earlier role merges about its own row, not the
/// sum of its parents' rows (cubic before).
#[test]
fn inheriting_every_earlier_role_is_linear_in_the_output() {
    let n = 300;
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!("permission p{i}.x \"P\"\n"));
    }
    for i in 0..n {
        let parents: Vec<String> = (0..i).map(|k| format!("r{k}")).collect();
        let inherits = if parents.is_empty() {
            String::new()
        } else {
            format!("inherits {}", parents.join(", "))
        };
        text.push_str(&format!("role r{i} \"R\" {{ {inherits} grants p{i}.x }}\n"));
    }
    let policy = policy(&text);
    let names = Names::new(&policy);
    let tier = policy.tier_ids().next().unwrap();
    let table = TierTable::new(&policy, tier, &names);
    let entries: usize = policy
        .resolution_order()
        .iter()
        .map(|&r| table.provenance.row(r).count())
        .sum();
    assert_eq!(entries, n * (n + 1) / 2);
    let merged = table.provenance.merged;
    assert!(
        merged <= 2 * entries,
        "{merged} merged for {entries} entries"
    );
    agrees(&policy);
}

/// A small random policy: tiers, roles inheriting earlier ones, grants
/// (some gated, some wildcards) and exclusions.
fn random_policy() -> impl Strategy<Value = String> {
    let role = (
        proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
        proptest::collection::vec((0..6usize, 0..4usize), 0..4),
        proptest::collection::vec(0..6usize, 0..2),
    );
    (0..3usize, proptest::collection::vec(role, 1..10)).prop_map(|(n_tiers, roles)| {
        let tiers = ["free", "team", "pro"];
        let mut text = String::new();
        if n_tiers > 0 {
            text.push_str(&format!("tiers {}\n", tiers[..=n_tiers].join(" < ")));
        }
        for p in 0..6 {
            text.push_str(&format!("permission a{}.p{p} \"P\"\n", p % 2));
        }
        for (i, (parents, grants, excludes)) in roles.iter().enumerate() {
            text.push_str(&format!("role r{i} \"R\" {{\n"));
            if i > 0 {
                let mut ps: Vec<usize> = parents.iter().map(|x| x.index(i)).collect();
                ps.sort_unstable();
                ps.dedup();
                if !ps.is_empty() {
                    let ps: Vec<String> = ps.iter().map(|k| format!("r{k}")).collect();
                    text.push_str(&format!("  inherits {}\n", ps.join(", ")));
                }
            }
            let mut granted = BTreeSet::new();
            for &(p, gate) in grants {
                let pattern = if p == 5 {
                    "a1.*".to_string()
                } else {
                    format!("a{}.p{p}", p % 2)
                };
                granted.insert(p);
                let on = match (n_tiers, gate) {
                    (0, _) | (_, 0) => String::new(),
                    (_, 1) => " on free".to_string(),
                    (_, 2) => format!(" on >= {}", tiers[1]),
                    _ => format!(" on {}", tiers[n_tiers]),
                };
                text.push_str(&format!("  grants {pattern}{on}\n"));
            }
            for &p in excludes {
                if !granted.contains(&p) {
                    text.push_str(&format!("  excludes a{}.p{p}\n", p % 2));
                }
            }
            text.push_str("}\n");
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_table_agrees_with_the_definition(text in random_policy()) {
        let (policy, diags) = compile(&SourceFile::new("t.policy", text));
        prop_assume!(!has_errors(&diags));
        agrees(&policy);
    }
}

/// With several dimensions, contexts with equal tables are one entry named
/// by all of them, in the order of their first context; the streamed view
/// writes the same bytes; one dimension keeps one entry per tier.
#[test]
fn contexts_with_equal_tables_are_one_entry() {
    let (policy, diags) = compile(&SourceFile::new(
        "t.policy",
        "dimension edition cloud | server\ndimension plan free < pro\n\
         permission a.b \"A\"\npermission a.c \"C\" on pro\n\
         role r \"R\" { grants a.* }\nrole s \"S\" on server { grants a.b }\n",
    ));
    assert!(!has_errors(&diags), "{diags:?}");
    let snap = Snapshot::from_policy(&policy);
    let keys: Vec<&str> = snap
        .tiers
        .iter()
        .filter_map(|t| t.tier.as_deref())
        .collect();
    assert_eq!(
        keys,
        ["cloud+free", "cloud+pro", "server+free", "server+pro"],
        "every table differs"
    );
    let (policy, _) = compile(&SourceFile::new(
        "t.policy",
        "dimension edition cloud | server\ndimension plan free < pro\n\
         permission a.b \"A\"\npermission a.c \"C\" on pro\n\
         role r \"R\" { grants a.* }\n",
    ));
    let snap = Snapshot::from_policy(&policy);
    let keys: Vec<&str> = snap
        .tiers
        .iter()
        .filter_map(|t| t.tier.as_deref())
        .collect();
    assert_eq!(keys, ["cloud+free, server+free", "cloud+pro, server+pro"]);
    let built = serde_yaml::to_string(&snap).unwrap();
    assert_eq!(
        built,
        serde_yaml::to_string(&Snapshot::view(&policy)).unwrap()
    );
    assert!(built.contains("cloud+free, server+free:"), "{built}");
    let (one, _) = compile(&SourceFile::new(
        "t.policy",
        "tiers free < pro\npermission a.b \"A\"\nrole r \"R\" { grants a.b }\n",
    ));
    let snap = Snapshot::from_policy(&one);
    assert_eq!(snap.tiers.len(), 2, "one dimension: one entry per tier");
}

/// A permission held only under conditions is an entry of its own, `when
/// …`, in the built snapshot and in the streamed one alike.
#[test]
fn conditional_cells_are_entries_with_their_ways() {
    let p = policy(
        "condition own \"Own\"\ncondition public \"Public\"\n\
         permission items.delete \"D\"\npermission items.view \"V\"\n\
         role guest \"G\" {\n  grants items.view\n  grants items.delete when own\n  grants items.delete when public\n}\n\
         role member \"M\" { inherits guest }\n",
    );
    agrees(&p);
    let yaml = serde_yaml::to_string(&Snapshot::from_policy(&p)).unwrap();
    assert!(
        yaml.contains("items.delete: when own, or when public"),
        "{yaml}"
    );
    assert!(yaml.contains("items.view: inherited from guest"), "{yaml}");
}
