//! Generated policies with conditions (`Spec::with_conditions`, issue 25):
//! they compile with no diagnostic at all, the cells the generator makes
//! conditional are conditional with the ways it says, and without
//! `--conditions` every generated text is byte for byte the one measured
//! before (docs/performance.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure is a test failure"
)]

use std::process::Command;

use policy_bench::{generate, parents, permission_ids, role_id, when_conditions, Spec};
use policy_compiler::{compile, ConditionSet, Outcome, Policy};
use policy_eval::Evaluator;
use policy_syntax::SourceFile;

fn clean(spec: Spec) -> Policy {
    let (policy, diags) = compile(&SourceFile::new("gen.policy", generate(&spec)));
    assert!(diags.is_empty(), "{spec:?}: {:?}", diags.first());
    policy
}

#[test]
fn small_policies_with_conditions_have_no_diagnostics() {
    for roles in [1, 2, 3, 4, 10, 12, 30, 100] {
        for perms in [1, roles, roles * 5 + 3] {
            for depth in [1, 2, 7, 100] {
                let spec = Spec::new(roles, perms, depth).with_conditions();
                for spec in [
                    spec,
                    spec.without_tiers(),
                    spec.with_editions(),
                    spec.with_levels(),
                    spec.with_levels().with_editions(),
                ] {
                    let policy = clean(spec);
                    let any =
                        (0..policy.roles().len()).any(|i| !when_conditions(&spec, i).is_empty());
                    assert_eq!(policy.has_conditional(), any, "{spec:?}");
                    assert_eq!(policy.conditions().is_empty(), !any, "{spec:?}");
                }
            }
        }
    }
}

/// The ways of role `i`'s last permission, as the generator writes them.
fn way(policy: &Policy, spec: &Spec, i: usize) -> ConditionSet {
    let mut set = ConditionSet::default();
    for id in when_conditions(spec, i) {
        set.0 |= 1 << policy.condition_id(id).unwrap();
    }
    set
}

#[test]
fn thousand_roles_with_conditions() {
    let spec = Spec::new(1_000, 5_000, 50).with_conditions();
    let policy = clean(spec);
    assert_eq!(policy.roles().len(), 1_000);
    assert_eq!(policy.permissions().len(), 5_000);
    assert_eq!(policy.conditions().len(), 8);
    assert!(policy
        .conditions()
        .iter()
        .any(|c| c.id == "setting.public_channels"));
    let enterprise = policy.tier_id("enterprise").unwrap();
    let (mut one, mut two) = (0, 0);
    for i in 0..1_000 {
        let ids = when_conditions(&spec, i);
        match ids.len() {
            0 => continue,
            1 => one += 1,
            _ => two += 1,
        }
        let r = policy.role_id(&role_id(&spec, i)).unwrap();
        let last = permission_ids(&spec, i).pop().unwrap();
        let p = policy.perm_id(&last).unwrap();
        assert!(!policy.allows(enterprise, r, p), "r{i} {last}");
        assert_eq!(
            policy.conditional_ways(enterprise, r, p),
            [way(&policy, &spec, i)],
            "r{i} {last}"
        );
    }
    assert!(
        one > 90 && two > 20,
        "{one} roles with one condition, {two} with two"
    );
    // Conditional cells pass down the chain: `r5` inherits `r4`'s.
    assert_eq!(parents(&spec, 5), [4]);
    let (r5, manage) = (
        policy.role_id("r5").unwrap(),
        policy.perm_id("res4.manage").unwrap(),
    );
    let own = way(&policy, &spec, 4);
    assert_eq!(when_conditions(&spec, 4), ["own"]);
    assert_eq!(policy.conditional_ways(enterprise, r5, manage), [own]);
    // Three outcomes by name.
    let eval = Evaluator::from_policy(&policy);
    let facts = |given: &[(&str, bool)]| eval.facts(given).unwrap();
    let outcome = |given: &[(&str, bool)]| eval.outcome(enterprise, &[r5], manage, facts(given));
    assert_eq!(outcome(&[("own", true)]), Outcome::Allow { when: own });
    assert_eq!(outcome(&[("own", false)]), Outcome::Deny);
    assert_eq!(outcome(&[]), Outcome::Conditional { ways: vec![own] });
    // `when` after `on enterprise and cloud`, and on three levels.
    clean(spec.with_editions());
    clean(spec.with_levels().with_editions());
}

/// The evaluator's index of the conditional cells gives the compiler's
/// outcomes: on every conditional cell and on a spread of others, under
/// facts that meet, fail or leave out the conditions, with the dense
/// decision table and without it (the interned sets).
#[test]
fn evaluator_outcomes_are_the_compilers() {
    let spec = Spec::new(1_000, 5_000, 50)
        .with_conditions()
        .with_editions();
    let policy = clean(spec);
    let eval = Evaluator::from_policy(&policy);
    let sparse = eval.clone().without_dense_table();
    let all = |v: bool| {
        let given: Vec<(&str, bool)> = policy
            .conditions()
            .iter()
            .map(|c| (c.id.as_str(), v))
            .collect();
        eval.facts(&given).unwrap()
    };
    let some = eval
        .facts(&[("own", true), ("mfa", false), ("feature.export", true)])
        .unwrap();
    let cells: Vec<_> = policy
        .conditional_cells()
        .map(|(t, r, p, _)| (t, r, p))
        .collect();
    assert!(cells.len() > 1_000, "{}", cells.len());
    let others = (0..20_000u32).map(|i| {
        let k = i.wrapping_mul(2_654_435_761);
        (
            policy_compiler::TierId(k % policy.tier_count() as u32),
            policy_compiler::RoleId(k % 1_000),
            policy_compiler::PermId((k >> 7) % 5_000),
        )
    });
    for (t, r, p) in cells.iter().copied().chain(others) {
        for facts in [
            all(true),
            all(false),
            some,
            policy_compiler::Facts::default(),
        ] {
            // One role, and two (the next one too).
            let next = policy_compiler::RoleId((r.0 + 1) % 1_000);
            for roles in [&[r][..], &[r, next]] {
                let expected = policy.outcome(eval.decide(t, roles, p), t, roles, p, facts);
                assert_eq!(
                    eval.outcome(t, roles, p, facts),
                    expected,
                    "{t:?} {roles:?} {p:?}"
                );
                assert_eq!(sparse.outcome(t, roles, p, facts), expected);
            }
        }
    }
}

#[test]
fn ten_thousand_roles_with_conditions() {
    let spec = Spec::new(10_000, 50_000, 50).with_conditions();
    let policy = clean(spec);
    assert_eq!(policy.roles().len(), 10_000);
    assert!(policy.has_conditional());
}

/// `policy-bench gen … --conditions` writes the same text as the library.
#[test]
fn gen_conditions_flag() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_policy-bench"))
            .arg("gen")
            .args(args)
            .env_clear()
            .output()
            .unwrap()
    };
    let out = run(&["30", "100", "7", "--levels", "--conditions"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        generate(&Spec::new(30, 100, 7).with_levels().with_conditions())
    );
    assert!(
        text.contains("\ncondition own \"On items they created\"\n"),
        "{text}"
    );
    let out = run(&["30", "100", "7", "--conditions", "--conditions"]);
    assert_eq!(out.status.code(), Some(2));
}

/// FNV-1a, 64 bits: a fingerprint of a generated text.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Without conditions the texts are the ones other benchmarks and the
/// numbers in docs/performance.md were measured on: these fingerprints
/// are those of the generator before conditions (`e840b46`).
#[test]
fn without_conditions_the_text_is_unchanged() {
    for (spec, bytes, hash) in [
        (Spec::new(1_000, 5_000, 50), 359_016, 0x6728_3e3f_df15_dfe3),
        (
            Spec::new(10_000, 50_000, 50),
            3_765_560,
            0xe296_6196_1913_24dd,
        ),
        (
            Spec::new(1_000, 5_000, 50).with_levels(),
            361_873,
            0x77bb_52ed_57bd_49cd,
        ),
        (
            Spec::new(1_000, 5_000, 50).with_editions(),
            363_148,
            0x4e3c_3c58_75d4_d5d4,
        ),
        (
            Spec::new(1_000, 5_000, 50).with_editions().with_levels(),
            366_005,
            0xadd9_9e6a_04d9_0a9c,
        ),
        (
            Spec::new(300, 1_000, 7).without_tiers().with_levels(),
            76_348,
            0xc18d_4a6e_21e5_7796,
        ),
    ] {
        let text = generate(&spec);
        assert_eq!((text.len(), fnv(&text)), (bytes, hash), "{spec:?}");
        assert!(!text.contains("condition "), "{spec:?}");
    }
}
