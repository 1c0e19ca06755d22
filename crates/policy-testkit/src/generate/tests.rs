//! Pinned cases of the generator and the reference.

use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use super::*;

/// A pinned case, checking the reference against the language
/// definition: `r1` inherits `r0` and excludes `a.del`; `r0` is
/// assignable only on `t0` but still passes `a.*` to `r1` on `t1`.
#[test]
fn raw_sets_pass_through_unavailable_roles() {
    let spec = build(&PolicyRaw {
        tiers: 2,
        // `a.view`, `a.del`.
        perms: vec![(0, GateRaw::None), (2, GateRaw::None)],
        roles: vec![
            RoleRaw {
                gate: GateRaw::List(vec![0]),
                // `a.*`.
                grants: vec![(vec![PatRaw::Wild(1)], GateRaw::None)],
                ..RoleRaw::default()
            },
            RoleRaw {
                parents: vec![0],
                // `a.del`.
                excludes: vec![PatRaw::Exact(1)],
                ..RoleRaw::default()
            },
        ],
        ..PolicyRaw::default()
    });
    assert_eq!(
        spec.text,
        "tiers t0 < t1\n\
         permission a.view \"Perm a.view\"\n\
         permission a.del \"Perm a.del\"\n\
         role r0 \"Role 0\" on t0 {\n  grants a.*\n}\n\
         role r1 \"Role 1\" {\n  inherits r0\n  excludes a.del\n}\n"
    );
    assert!(spec.allows(1, 1, 0), "r1 holds a.view on t1 through r0");
    assert!(!spec.allows(1, 0, 0), "r0 is not assignable on t1");
    assert!(spec.holds_raw(1, 0, 0), "but it holds a.view there");
    assert!(!spec.holds_raw(0, 1, 1), "r1 excludes a.del");
    assert!(spec.holds_raw(0, 0, 1), "r0 has a.del");
    assert!(!spec.expects_errors());
}

/// Two dimensions: contexts are tier-major and an `on` clause is the
/// conjunction of its terms.
#[test]
fn an_edition_term_joins_the_tier_term_with_and() {
    let spec = build(&PolicyRaw {
        tiers: 2,
        editions: 2,
        edition_terms: vec![vec![1], vec![], vec![]],
        // `a.view` on `>= t1 and e1`.
        perms: vec![(0, GateRaw::Range(0, 1))],
        roles: vec![RoleRaw {
            grants: vec![(vec![PatRaw::Wild(0)], GateRaw::None)],
            ..RoleRaw::default()
        }],
        ..PolicyRaw::default()
    });
    assert_eq!(
        spec.text,
        "tiers t0 < t1\n\
         dimension edition e0 | e1\n\
         permission a.view \"Perm a.view\" on >= t1 and e1\n\
         role r0 \"Role 0\" {\n  grants *\n}\n"
    );
    assert_eq!(
        spec.tier_names(),
        [
            Some("t0+e0".to_string()),
            Some("t0+e1".into()),
            Some("t1+e0".into()),
            Some("t1+e1".into())
        ]
    );
    let allowed: Vec<usize> = (0..4).filter(|&c| spec.allows(c, 0, 0)).collect();
    assert_eq!(allowed, [3], "only `t1+e1`");
}

#[test]
fn mistakes_are_kept_only_when_asked() {
    let raw = |mistakes| PolicyRaw {
        mistakes,
        tiers: 2,
        perms: vec![(0, GateRaw::Range(1, 1))],
        roles: vec![RoleRaw {
            grants: vec![(vec![PatRaw::Exact(0)], GateRaw::None)],
            excludes: vec![PatRaw::Exact(0)],
            back_edge: Some(0),
            ..RoleRaw::default()
        }],
        ..PolicyRaw::default()
    };
    let kept = build(&raw(true));
    assert!(kept.empty_gate && kept.has_cycle() && kept.grant_exclude_conflict());
    let repaired = build(&raw(false));
    assert!(!repaired.expects_errors(), "{}", repaired.text);
}

/// Two levels: `l0.r0` acts as `l1.r1`, so it holds `l1.a.view` (which
/// `r1` grants) besides what its own `*` (`l0.*`) matches; no inner role
/// holds an outer permission, not even `l1.r2` through its `*` (`l1.*`).
#[test]
fn an_outer_role_acts_as_an_inner_one() {
    let spec = build(&PolicyRaw {
        levels: 2,
        // `a.view` on both levels, `a.edit` on level 1.
        perms: vec![(0, GateRaw::None), (0, GateRaw::None), (1, GateRaw::None)],
        perm_levels: vec![0, 1, 1],
        roles: vec![
            RoleRaw {
                level: 0,
                acts: vec![0],
                // `*`.
                grants: vec![(vec![PatRaw::Wild(0)], GateRaw::None)],
                ..RoleRaw::default()
            },
            RoleRaw {
                level: 1,
                // `a.view`, the level's own.
                grants: vec![(vec![PatRaw::Exact(0)], GateRaw::None)],
                ..RoleRaw::default()
            },
            RoleRaw {
                level: 1,
                parents: vec![0],
                grants: vec![(vec![PatRaw::Wild(0)], GateRaw::None)],
                ..RoleRaw::default()
            },
        ],
        ..PolicyRaw::default()
    });
    assert_eq!(
        spec.text,
        "scope l0 \"Level 0\"\n\
         permission a.view \"Perm a.view\"\n\
         role r0 \"Role 0\" {\n  acts as l1.r1\n  grants *\n}\n\
         scope l1 \"Level 1\" in l0\n\
         permission a.view \"Perm a.view\"\n\
         permission a.edit \"Perm a.edit\"\n\
         role r1 \"Role 1\" {\n  grants a.view\n}\n\
         role r2 \"Role 2\" {\n  inherits r1\n  grants *\n}\n"
    );
    let ids: Vec<&str> = spec.perms.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["l0.a.view", "l1.a.view", "l1.a.edit"]);
    let roles: Vec<String> = (0..3).map(|r| spec.role_id(r)).collect();
    assert_eq!(roles, ["l0.r0", "l1.r1", "l1.r2"]);
    assert_eq!(spec.roles[0].grants[0].patterns, ["l0.*"]);
    assert_eq!(spec.roles[0].parents, [1]);
    assert!(spec.acts_as(0, 1) && !spec.acts_as(2, 1));
    assert_eq!(spec.role_written_in(0, 1), "l1.r1");
    assert_eq!(spec.role_written_in(2, 1), "r1");
    assert_eq!(spec.qualified(2, "*.view"), "l1.*.view");

    assert!(spec.allows(0, 0, 0), "r0's own `*` is `l0.*`");
    assert!(spec.allows(0, 0, 1), "r0 holds l1.a.view as l1.r1");
    assert!(!spec.allows(0, 0, 2), "l1.r1 does not hold l1.a.edit");
    assert!(spec.allows(0, 2, 2), "r2's `*` is `l1.*`");
    for inner in [1, 2] {
        assert!(
            !spec.holds_raw(0, inner, 0),
            "an inner role never holds an outer permission"
        );
    }
    assert!(!spec.expects_errors() && !spec.unreached_level() && !spec.empty_acts_as());
}

/// The warnings of levels: `P0318` for a level without roles, `P0317`
/// for acting as a role that holds nothing.
#[test]
fn levels_without_roles_and_empty_implications() {
    let spec = build(&PolicyRaw {
        levels: 3,
        perms: vec![(0, GateRaw::None)],
        perm_levels: vec![2],
        roles: vec![
            RoleRaw {
                level: 0,
                acts: vec![0],
                ..RoleRaw::default()
            },
            RoleRaw {
                level: 2,
                // Matches no permission of level 2.
                grants: vec![(vec![PatRaw::Wild(12)], GateRaw::None)],
                ..RoleRaw::default()
            },
        ],
        ..PolicyRaw::default()
    });
    assert_eq!(
        spec.text,
        "scope l0 \"Level 0\"\n\
         role r0 \"Role 0\" {\n  acts as l2.r1\n}\n\
         scope l1 \"Level 1\" in l0\n\
         scope l2 \"Level 2\" in l1\n\
         permission a.view \"Perm a.view\"\n\
         role r1 \"Role 1\" {\n  grants d.*\n}\n"
    );
    assert!(spec.unreached_level() && spec.empty_acts_as() && !spec.expects_errors());
}

/// Links between levels the wrong way are mistakes: dropped without them
/// (as the compiler drops them, they are never a parent); a back edge
/// stays on the role's level.
#[test]
fn links_the_wrong_way_are_kept_only_as_mistakes() {
    let raw = |mistakes| PolicyRaw {
        mistakes,
        levels: 2,
        perms: vec![(0, GateRaw::None)],
        roles: vec![
            RoleRaw {
                level: 0,
                back_edge: Some(1),
                // The only role of another level, `l1.r1`: `inherits`.
                wrong_level: Some(0),
                ..RoleRaw::default()
            },
            RoleRaw {
                level: 1,
                // `l0.r0`: `acts as`.
                wrong_level: Some(0),
                grants: vec![(vec![PatRaw::Wild(0)], GateRaw::None)],
                ..RoleRaw::default()
            },
        ],
        ..PolicyRaw::default()
    };
    let kept = build(&raw(true));
    assert_eq!(
        kept.text,
        "scope l0 \"Level 0\"\n\
         permission a.view \"Perm a.view\"\n\
         role r0 \"Role 0\" {\n  inherits r0, l1.r1\n}\n\
         scope l1 \"Level 1\" in l0\n\
         role r1 \"Role 1\" {\n  acts as l0.r0\n  grants *\n}\n"
    );
    assert!(kept.level_mismatch && kept.has_cycle());
    assert_eq!(kept.roles[0].parents, [0], "the back edge alone");
    assert!(kept.roles[1].parents.is_empty());
    let repaired = build(&raw(false));
    assert!(!repaired.expects_errors(), "{}", repaired.text);
    assert!(!repaired.text.contains("l0.r0") && !repaired.text.contains("l1.r1"));
}

/// The draws exercise levels: about a third have them, and many of
/// those link levels with `acts as` (counted on the specs built, so
/// on the links actually written).
#[test]
fn a_third_of_the_draws_have_levels_and_many_act_across_them() {
    let mut runner = TestRunner::deterministic();
    let n = 1000;
    let (mut levels, mut acting, mut mismatched) = (0, 0, 0);
    for _ in 0..n {
        let raw = policy().new_tree(&mut runner).unwrap().current();
        let spec = build(&raw);
        levels += usize::from(spec.levels > 0);
        acting += usize::from(
            (0..spec.roles.len())
                .any(|r| spec.roles[r].parents.iter().any(|&p| spec.acts_as(r, p))),
        );
        mismatched += usize::from(spec.level_mismatch);
    }
    eprintln!("of {n}: {levels} with levels, {acting} with `acts as`, {mismatched} the wrong way");
    assert!((250..420).contains(&levels), "{levels} of {n} with levels");
    assert!(acting >= n / 10, "{acting} of {n} with `acts as`");
    assert!(mismatched > 0);
}

/// The draws exercise conditions: about a third declare some, and many of
/// those write conditional grants (counted on the specs built).
#[test]
fn a_third_of_the_draws_have_conditions_and_many_conditional_grants() {
    let mut runner = TestRunner::deterministic();
    let n = 1000;
    let (mut declared, mut conditional, mut conjunctions) = (0, 0, 0);
    let (mut negated, mut excluding) = (0, 0);
    for _ in 0..n {
        let raw = policy().new_tree(&mut runner).unwrap().current();
        let spec = build(&raw);
        declared += usize::from(spec.conditions > 0);
        let whens: Vec<u64> = spec
            .roles
            .iter()
            .flat_map(|r| r.grants.iter().map(|g| g.when))
            .collect();
        conditional += usize::from(whens.iter().any(|w| *w != 0));
        conjunctions += usize::from(whens.iter().any(|w| w.count_ones() > 1));
        negated += usize::from(whens.iter().any(|w| w >> 32 != 0));
        excluding += usize::from(
            spec.roles
                .iter()
                .any(|r| r.exclude_when != 0 && !r.excludes.is_empty()),
        );
    }
    eprintln!("of {n}: {declared} with conditions, {conditional} with a conditional grant, {conjunctions} with a conjunction, {negated} with `not`, {excluding} with a conditional exclusion");
    assert!((250..420).contains(&declared), "{declared} of {n}");
    assert!(conditional >= n / 10, "{conditional} of {n}");
    assert!(conjunctions > 0);
    assert!(negated >= n / 20, "{negated} of {n} with `not`");
    assert!(
        excluding >= n / 20,
        "{excluding} of {n} with a conditional exclusion"
    );
}

/// The reference under facts: a conditional grant holds only when its
/// conditions do, and passes to children like any grant.
#[test]
fn conditional_grants_hold_only_under_their_conditions() {
    let spec = build(&PolicyRaw {
        conditions: 2,
        // `a.view`.
        perms: vec![(0, GateRaw::None)],
        roles: vec![
            RoleRaw {
                grants: vec![(vec![PatRaw::Exact(0)], GateRaw::None)],
                grant_when: vec![vec![0, 1]],
                ..RoleRaw::default()
            },
            RoleRaw {
                parents: vec![0],
                ..RoleRaw::default()
            },
        ],
        ..PolicyRaw::default()
    });
    assert_eq!(
        spec.text,
        "condition c0 \"Condition 0\"\ncondition c1 \"Condition 1\"\n\
         permission a.view \"Perm a.view\"\n\
         role r0 \"Role 0\" {\n  grants a.view when c0 and c1\n}\n\
         role r1 \"Role 1\" {\n  inherits r0\n}\n"
    );
    assert!(!spec.allows(0, 1, 0));
    assert!(!spec.allows_under(0, 1, 0, 0b01));
    assert!(spec.allows_under(0, 1, 0, 0b11));
    assert_eq!(spec.outcome(0, &[1], 0), "conditional");
}

/// The reference with `not` and an exclusion under conditions: `r1`
/// inherits `a.view` and `a.del` from `r0` but gives up `a.del` when `c0`
/// holds, so it holds `a.del` when `not c0`; `r0` holds `a.view` when
/// `not c1`.
#[test]
fn negated_conditions_and_exclusions_under_conditions() {
    let spec = build(&PolicyRaw {
        conditions: 2,
        // `a.view`, `a.del`.
        perms: vec![(0, GateRaw::None), (2, GateRaw::None)],
        roles: vec![
            RoleRaw {
                grants: vec![
                    (vec![PatRaw::Exact(1)], GateRaw::None),
                    (vec![PatRaw::Exact(0)], GateRaw::None),
                ],
                // `not c1` (5 = 2 × 2 + 1: negated, condition 1).
                grant_when: vec![vec![], vec![5]],
                ..RoleRaw::default()
            },
            RoleRaw {
                parents: vec![0],
                excludes: vec![PatRaw::Exact(1)],
                exclude_when: vec![0],
                ..RoleRaw::default()
            },
        ],
        ..PolicyRaw::default()
    });
    assert!(
        spec.text.contains("  grants a.view when not c1\n")
            && spec.text.contains("  excludes a.del when c0\n"),
        "{}",
        spec.text
    );
    // `a.del` (1): r0 always; r1 only when c0 does not hold.
    assert!(spec.allows(0, 0, 1));
    assert!(!spec.allows(0, 1, 1));
    assert!(spec.allows_under(0, 1, 1, 0b00));
    assert!(!spec.allows_under(0, 1, 1, 0b01));
    assert_eq!(spec.outcome(0, &[1], 1), "conditional");
    // `a.view` (0): when c1 does not hold.
    assert!(spec.allows_under(0, 1, 0, 0b01));
    assert!(!spec.allows_under(0, 1, 0, 0b10));
    assert_eq!(spec.outcome(0, &[0], 0), "conditional");
}
