//! Property test: the compiler's precomputed bitsets against a naive
//! reference implementation.
//!
//! Random policies from `policy-testkit` (0–4 tiers, permissions with
//! optional tier gates, roles with `on` clauses, an inheritance DAG with an
//! occasional cycle, grants of exact ids and wildcards with tier gates,
//! exclusions; a third on one to three levels, with `acts as` links to
//! roles of deeper levels and the occasional link the wrong way) are
//! compiled, and every `(tier, role, permission)` decision
//! is compared with the testkit's reference, written from the language
//! definition alone:
//!
//! ```text
//! raw(t, r)  = (⋃ raw(t, parent) − excluded(r))
//!              ∪ exact grants of r active on t
//!              ∪ (wildcard grants of r active on t − excluded(r))
//! allowed    = role available on t ∧ permission available on t ∧ p ∈ raw(t, r)
//! ```
//!
//! The reference walks the inheritance graph recursively for every query and
//! has its own pattern matcher; it shares no code with the compiler. The
//! same reference and generator serve the evaluator's and the CLI's
//! differential tests.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: clippy.toml allows these in #[test] functions but not in the helpers of an integration test; a failed lookup is a test failure"
)]

use policy_compiler::{compile, has_errors, PermId, Policy, RoleId, Step, TierId};
use policy_syntax::{Code, SourceFile};
use policy_testkit::{matches_id, Spec};
use proptest::prelude::*;

// ------------------------------------------------------------------ check

struct Ids {
    tiers: Vec<TierId>,
    roles: Vec<RoleId>,
    perms: Vec<PermId>,
}

fn ids(spec: &Spec, policy: &Policy) -> Ids {
    // The spec's contexts by name (a tier, an edition, or both joined by
    // `+`): the compiler must name and number them the same way.
    let tiers: Vec<TierId> = spec
        .tier_names()
        .iter()
        .map(|name| match name {
            None => {
                assert!(policy.tiers().is_empty());
                TierId(0)
            }
            Some(n) => policy.tier_id(n).unwrap(),
        })
        .collect();
    assert_eq!(policy.tier_count(), tiers.len());
    let roles = (0..spec.roles.len())
        .map(|r| policy.role_id(&spec.role_id(r)).unwrap())
        .collect();
    let perms = spec
        .perms
        .iter()
        .map(|p| policy.perm_id(&p.id).unwrap())
        .collect();
    Ids {
        tiers,
        roles,
        perms,
    }
}

/// Checks that `steps` is a valid derivation of permission `p` for role `r`
/// on tier `t`: a chain of real `inherits` (or `acts as`) edges from `r`,
/// through roles that hold `p` and do not exclude it, ending in a grant of
/// `r`'s last ancestor that is active on `t` and matches `p`.
fn check_derivation(
    spec: &Spec,
    policy: &Policy,
    ids: &Ids,
    (t, r, p): (usize, usize, usize),
    steps: &[Step],
) -> Result<(), TestCaseError> {
    let role_of = |id: RoleId| ids.roles.iter().position(|x| *x == id).unwrap();
    let what = format!(
        "derivation of {} for {} on tier {t}",
        spec.perms[p].id,
        spec.role_id(r)
    );
    let (last, chain) = steps
        .split_last()
        .ok_or_else(|| TestCaseError::fail(format!("{what}: empty")))?;
    let mut cur = r;
    for step in chain {
        let Step::Inherited { role, parent, span } = step else {
            return Err(TestCaseError::fail(format!(
                "{what}: grant before the end: {steps:?}"
            )));
        };
        let (role, parent) = (role_of(*role), role_of(*parent));
        prop_assert_eq!(role, cur, "{}: the chain is broken: {:?}", what, steps);
        prop_assert!(
            spec.roles[role].parents.contains(&parent),
            "{}: {} does not inherit {}",
            what,
            spec.role_id(role),
            spec.role_id(parent)
        );
        // As written: the name on the role's own level, the full id of a
        // role of a deeper level it acts as.
        let parent_name = spec.role_written_in(role, parent);
        prop_assert_eq!(policy.source().slice(*span), parent_name.as_str());
        prop_assert!(
            !spec.excluded(role, p),
            "{}: {} excludes it",
            what,
            spec.role_id(role)
        );
        prop_assert!(
            spec.holds_raw(t, parent, p),
            "{}: {} does not hold it",
            what,
            spec.role_id(parent)
        );
        cur = parent;
    }
    let Step::Granted {
        role,
        pattern,
        span,
        ..
    } = last
    else {
        return Err(TestCaseError::fail(format!(
            "{what}: does not end in a grant: {steps:?}"
        )));
    };
    prop_assert_eq!(
        role_of(*role),
        cur,
        "{}: the grant is not the chain's end",
        what
    );
    // The step names the full pattern; the source, as the granting role's
    // level writes it.
    let full = spec.qualified(cur, policy.source().slice(*span));
    prop_assert_eq!(&full, pattern);
    prop_assert!(
        matches_id(&full, &spec.perms[p].id),
        "{}: `{}` does not match",
        what,
        full
    );
    let active = spec.roles[cur]
        .grants
        .iter()
        .any(|g| g.tiers.contains(&t) && g.patterns.contains(&full));
    prop_assert!(
        active,
        "{}: no grant `{}` of {} is active on the tier",
        what,
        full,
        spec.role_id(cur)
    );
    Ok(())
}

fn check(spec: &Spec) -> Result<(), TestCaseError> {
    let text = &spec.text;
    let source = SourceFile::new("random.policy", text.clone());
    let (policy, diags) = compile(&source);
    let codes: Vec<Code> = diags.iter().map(|d| d.code()).collect();

    // Errors arise exactly from the generator's deliberate mistakes.
    let cycle = spec.has_cycle();
    prop_assert_eq!(
        codes.contains(&Code::InheritanceCycle),
        cycle,
        "cycle detection\n{}\n{:?}",
        text,
        codes
    );
    prop_assert_eq!(
        codes.contains(&Code::LevelMismatch),
        spec.level_mismatch,
        "links between levels the wrong way\n{}\n{:?}",
        text,
        codes
    );
    let expect_errors = spec.expects_errors();
    prop_assert_eq!(
        has_errors(&diags),
        expect_errors,
        "errors\n{}\n{:?}",
        text,
        codes
    );
    let ids = ids(spec, &policy);
    if expect_errors {
        // Fail closed, never panic: every query still answers.
        for &t in &ids.tiers {
            for &r in &ids.roles {
                let _ = policy.effective(t, r);
                for &p in &ids.perms {
                    let _ = (policy.allows(t, r, p), policy.derivation(t, r, p));
                }
            }
        }
        return Ok(());
    }

    // The warnings of levels.
    prop_assert_eq!(
        codes.contains(&Code::UnreachedScope),
        spec.unreached_level(),
        "a level without roles\n{}\n{:?}",
        text,
        codes
    );
    prop_assert_eq!(
        codes.contains(&Code::EmptyImplication),
        spec.empty_acts_as(),
        "acting as a role that holds nothing\n{}\n{:?}",
        text,
        codes
    );

    let names = spec.tier_names();
    let tier_name = |ti: usize| names.get(ti).cloned().flatten().unwrap_or_default();
    for (ti, &t) in ids.tiers.iter().enumerate() {
        for (ri, &r) in ids.roles.iter().enumerate() {
            let mut expected_effective = Vec::new();
            for (pi, &p) in ids.perms.iter().enumerate() {
                let cell = format!(
                    "tier {}, role {}, permission {}\n{}",
                    tier_name(ti),
                    spec.role_id(ri),
                    spec.perms[pi].id,
                    text
                );
                let raw_ref = spec.holds_raw(ti, ri, pi);
                let allow_ref = spec.allows(ti, ri, pi);
                prop_assert_eq!(policy.holds_raw(t, r, p), raw_ref, "holds_raw: {}", cell);
                prop_assert_eq!(policy.allows(t, r, p), allow_ref, "allows: {}", cell);
                if allow_ref {
                    expected_effective.push(p);
                }
                match policy.derivation(t, r, p) {
                    Some(steps) => {
                        prop_assert!(raw_ref, "derivation without the permission: {}", cell);
                        check_derivation(spec, &policy, &ids, (ti, ri, pi), &steps)?;
                    }
                    None => prop_assert!(!raw_ref, "no derivation: {}", cell),
                }
            }
            prop_assert_eq!(
                policy.role_assignable(r, t),
                spec.assignable(ti, ri),
                "assignable: tier {}, role {}\n{}",
                tier_name(ti),
                spec.role_id(ri),
                text
            );
            prop_assert_eq!(
                policy.effective(t, r),
                expected_effective,
                "effective: tier {}, role {}\n{}",
                tier_name(ti),
                spec.role_id(ri),
                text
            );
        }
        for (pi, &p) in ids.perms.iter().enumerate() {
            let expected: Vec<RoleId> = ids
                .roles
                .iter()
                .enumerate()
                .filter(|(ri, _)| spec.allows(ti, *ri, pi))
                .map(|(_, r)| *r)
                .collect();
            prop_assert_eq!(
                policy.nearest_miss(t, &[], p).other_roles,
                expected,
                "who_can (the nearest miss's roles): tier {}, permission {}\n{}",
                tier_name(ti),
                spec.perms[pi].id,
                text
            );
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ run

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn compiler_agrees_with_the_naive_reference(raw in policy_testkit::policy()) {
        check(&policy_testkit::build(&raw))?;
    }
}

/// The testkit's matcher and the compiler's agree on the language's cases.
#[test]
fn reference_matcher_agrees_with_the_compiler() {
    for (pattern, id) in [
        ("a.view", "a.view"),
        ("a.view", "a.edit"),
        ("a.*", "a.view"),
        ("a.*", "a.x.view"),
        ("a.*", "a"),
        ("*.view", "a.x.view"),
        ("*.view", "view"),
        ("a.*.view", "a.view"),
        ("*", "a.x.view"),
        ("*.*", "a.view"),
        ("*.*.*", "a.view"),
    ] {
        assert_eq!(
            policy_compiler::pattern_matches(pattern, id),
            matches_id(pattern, id),
            "{pattern} vs {id}"
        );
    }
}
