//! Property test: on random policies (a third on levels, asked by full
//! ids) every decision path agrees on every cell with a naive reference — the library ([`Policy::allows`],
//! [`Evaluator::decide`] and `decide_by_name`), `query` from source and
//! from the artifact (JSON and YAML), `matrix`, `who-can`, `what-can`,
//! `snapshot` and `test` — and the explanation from the artifact equals
//! the explanation from source. The CLI paths are exercised through the
//! functions the commands call; `tests/agreement_cli.rs` runs the real
//! binary on fewer policies.
#![allow(
    clippy::needless_range_loop,
    reason = "cells are indexed by (tier, role, permission) numbers, as the reference takes them"
)]

use std::fmt::Write as _;

use policy_compiler::{PermId, Policy, RoleId, Snapshot, TierId};
use policy_eval::{Artifact, Evaluator, Request};
use policy_syntax::SourceFile;
use proptest::prelude::*;

use policy_testkit::Spec;

fn tier_id(eval: &Evaluator, name: &Option<String>) -> TierId {
    name.as_ref()
        .map_or(TierId(0), |n| eval.tier_id(n).unwrap())
}

/// A `*.test.yaml` that states the reference's answer for every cell, every
/// `who-can` and every `what-can` (inverted when `lie` is set, for one case).
fn test_file(g: &Spec, lie: bool) -> String {
    let mut s = String::from("policy: gen.policy\ncases:\n");
    let tier = |t: &Option<String>| t.as_ref().map_or(String::new(), |t| format!(", tier: {t}"));
    let mut lied = false;
    for (ti, t) in g.tier_names().iter().enumerate() {
        for roles in g.role_sets() {
            for (p, pid) in g.perms.iter().map(|x| x.id.as_str()).enumerate() {
                let mut expect = g.outcome(ti, &roles, p);
                if lie && !lied {
                    expect = if expect == "allow" { "deny" } else { "allow" };
                    lied = true;
                }
                let names: Vec<String> = roles.iter().map(|r| g.role_id(*r)).collect();
                let _ = writeln!(
                    s,
                    "  - {{ roles: [{}], action: {pid}{}, expect: {} }}",
                    names.join(", "),
                    tier(t),
                    expect
                );
            }
        }
    }
    s.push_str("who-can:\n");
    for (ti, t) in g.tier_names().iter().enumerate() {
        for (p, pid) in g.perms.iter().map(|x| x.id.as_str()).enumerate() {
            let roles: Vec<String> = (0..g.roles.len())
                .filter(|r| g.allows(ti, *r, p))
                .map(|r| g.role_id(r))
                .collect();
            let _ = writeln!(
                s,
                "  - {{ action: {pid}{}, roles: [{}] }}",
                tier(t),
                roles.join(", ")
            );
        }
    }
    s.push_str("what-can:\n");
    for (ti, t) in g.tier_names().iter().enumerate() {
        for r in 0..g.roles.len() {
            let perms: Vec<&str> = (0..g.perms.len())
                .filter(|p| g.allows(ti, r, *p))
                .map(|p| g.perms[p].id.as_str())
                .collect();
            let _ = writeln!(
                s,
                "  - {{ role: {}{}, permissions: [{}] }}",
                g.role_id(r),
                tier(t),
                perms.join(", ")
            );
        }
    }
    s
}

/// Runs a test file through the code `policyc test` runs.
fn run_tests(policy: &Policy, text: &str) -> Vec<bool> {
    let source = SourceFile::new("gen.test.yaml", text);
    let parsed = crate::cmd::test::schema::parse(&source).unwrap();
    let file = crate::cmd::test::schema::resolve(&source, parsed, policy)
        .unwrap_or_else(|d| panic!("{text}\n{d:?}"));
    crate::cmd::test::eval::run(&Evaluator::from_policy(policy), &file)
        .iter()
        .map(|r| r.passed)
        .collect()
}

fn check(g: &Spec) -> Result<(), TestCaseError> {
    let text = g.text.clone();
    let src = SourceFile::new("gen.policy", text.clone());
    let (policy, diags) = policy_compiler::compile(&src);
    prop_assert!(!policy_compiler::has_errors(&diags), "{text}\n{diags:?}");
    let from_source = Evaluator::from_policy(&policy);
    let artifact = Artifact::from_policy(&policy);
    let json = serde_json::to_string_pretty(&artifact).unwrap();
    let from_json = Evaluator::from_artifact_json(&json).unwrap();
    let yaml = crate::artifact::to_yaml(&artifact).unwrap();
    let from_yaml = crate::artifact::evaluator_from_yaml(&yaml).unwrap();
    // Lossless: the loaded policy writes the same artifact, hash included.
    prop_assert_eq!(&Artifact::from_policy(from_json.policy()), &artifact);
    prop_assert_eq!(from_json.content_hash(), from_source.content_hash());
    prop_assert_eq!(from_yaml.content_hash(), from_source.content_hash());
    let snapshot = Snapshot::from_policy(&policy);

    for (ti, tname) in g.tier_names().iter().enumerate() {
        let t = tier_id(&from_source, tname);
        // With several dimensions the snapshot groups equal contexts: the
        // entry of this context is the one whose name lists it.
        let snap_tier = snapshot
            .tiers
            .iter()
            .find(|e| match (&e.tier, tname) {
                (Some(group), Some(name)) => group.split(", ").any(|c| c == name),
                (None, None) => true,
                _ => false,
            })
            .expect("every context is in one snapshot entry");
        let grid = crate::cmd::matrix::grid(&from_source, t);
        let grid_art = crate::cmd::matrix::grid(&from_json, t);
        prop_assert_eq!(&grid, &grid_art, "matrix from the artifact");
        for p in 0..g.perms.len() {
            let pid = PermId(p as u32);
            let who = from_source.who_can(t, pid);
            prop_assert_eq!(
                &who,
                &from_json.who_can(t, pid),
                "who-can from the artifact"
            );
            for r in 0..g.roles.len() {
                let rid = RoleId(r as u32);
                let want = g.allows(ti, r, p);
                let cell = format!(
                    "{tname:?} {} {}\n{text}",
                    g.role_id(r),
                    g.perms[p].id.as_str()
                );
                prop_assert_eq!(policy.allows(t, rid, pid), want, "Policy::allows {}", cell);
                for (what, eval) in [
                    ("source", &from_source),
                    ("json", &from_json),
                    ("yaml", &from_yaml),
                ] {
                    prop_assert_eq!(
                        eval.decide(t, &[rid], pid),
                        want,
                        "decide ({}) {}",
                        what,
                        cell
                    );
                    let by_name = eval.decide_by_name(
                        tname.as_deref(),
                        &[&g.role_id(r)],
                        g.perms[p].id.as_str(),
                    );
                    prop_assert_eq!(by_name, Ok(want), "decide_by_name ({}) {}", what, cell);
                }
                prop_assert_eq!(grid[p][r], want, "matrix {}", cell);
                prop_assert_eq!(who.contains(&rid), want, "who-can {}", cell);
                prop_assert_eq!(
                    from_source.what_can(t, rid).contains(&pid),
                    want,
                    "what-can {}",
                    cell
                );
                let snap = &snap_tier.roles[&g.role_id(r)];
                let entry = snap.as_ref().and_then(|m| m.get(g.perms[p].id.as_str()));
                prop_assert_eq!(
                    entry.is_some_and(|e| e.when.is_empty()),
                    want,
                    "snapshot {}",
                    cell
                );
                // A cell held only under conditions: its ways, from every
                // assignment of the conditions.
                let outcome = g.outcome(ti, &[r], p);
                prop_assert_eq!(
                    entry.is_some_and(|e| !e.when.is_empty()),
                    outcome == "conditional",
                    "snapshot (conditional) {}",
                    cell
                );
                for f in 0..1u64 << g.conditions {
                    let given: Vec<(String, bool)> = (0..g.conditions)
                        .map(|i| (format!("c{i}"), f >> i & 1 == 1))
                        .collect();
                    let facts = from_source.facts(&given).unwrap();
                    let o = from_json.outcome(t, &[rid], pid, facts);
                    prop_assert_eq!(
                        matches!(o, policy_eval::Outcome::Allow { .. }),
                        g.allows_under(ti, r, p, f),
                        "outcome under facts {:b} {}",
                        f,
                        cell
                    );
                    prop_assert!(
                        !matches!(o, policy_eval::Outcome::Conditional { .. }),
                        "every fact given, yet conditional: {}",
                        cell
                    );
                }
                prop_assert_eq!(
                    from_yaml
                        .outcome(t, &[rid], pid, Default::default())
                        .as_str(),
                    outcome,
                    "outcome without facts {}",
                    cell
                );
            }
        }
        // `query`, by name, with several roles per request.
        for roles in g.role_sets() {
            for (p, pid) in g.perms.iter().map(|x| x.id.as_str()).enumerate() {
                let req = Request {
                    roles: roles.iter().map(|r| g.role_id(*r)).collect(),
                    action: (*pid).to_string(),
                    tier: tname.clone(),
                };
                let want = g.allows_any(ti, &roles, p);
                let d_src = from_source.authorize(&req).unwrap().explain();
                let d_json = from_json.authorize(&req).unwrap().explain();
                let d_yaml = from_yaml.authorize(&req).unwrap().explain();
                prop_assert_eq!(d_src.allowed, want, "query {:?}\n{}", req, text);
                prop_assert!(!d_src.reasons.is_empty());
                prop_assert_eq!(&d_json, &d_src, "explanation from the JSON artifact");
                prop_assert_eq!(&d_yaml, &d_src, "explanation from the YAML artifact");
            }
        }
    }
    // `policyc test`: the reference's answers pass, a lie fails.
    let passed = run_tests(&policy, &test_file(g, false));
    prop_assert!(passed.iter().all(|p| *p), "test\n{text}");
    let lied = run_tests(&policy, &test_file(g, true));
    prop_assert_eq!(
        lied.iter().filter(|p| !**p).count(),
        1,
        "one lie, one failure"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_path_agrees_on_every_cell(raw in policy_testkit::clean_policy()) {
        check(&policy_testkit::build(&raw))?;
    }
}
