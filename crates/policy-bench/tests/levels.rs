//! Generated policies on three levels (`Spec::with_levels`, issue 24):
//! they compile with no diagnostic at all, their roles and permissions are
//! on the levels the generator says, and decisions across levels work by
//! the full ids `policyc` and its queries use (`organization.r0`,
//! `team.res100.view`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure is a test failure"
)]

use std::process::Command;

use policy_bench::{acts_as, generate, parents, permission_ids, role_id, Spec};
use policy_compiler::{compile, Policy};
use policy_eval::Evaluator;
use policy_syntax::SourceFile;

fn clean(spec: Spec) -> Policy {
    let (policy, diags) = compile(&SourceFile::new("gen.policy", generate(&spec)));
    assert!(diags.is_empty(), "{spec:?}: {:?}", diags.first());
    policy
}

/// The longest chain of `inherits` (not `acts as`), in roles.
fn max_depth(spec: &Spec, roles: usize) -> usize {
    let mut depth = vec![0usize; roles];
    for i in 0..roles {
        depth[i] = parents(spec, i)
            .iter()
            .map(|p| depth[*p] + 1)
            .max()
            .unwrap_or(1);
    }
    depth.into_iter().max().unwrap_or(0)
}

#[test]
fn small_levels_policies_have_no_diagnostics() {
    for roles in [1, 2, 3, 4, 10, 12, 30, 100] {
        for perms in [1, roles * 5 + 3] {
            for depth in [1, 2, 7, 100] {
                let spec = Spec::new(roles, perms, depth).with_levels();
                for spec in [spec, spec.without_tiers(), spec.with_editions()] {
                    let policy = clean(spec);
                    assert_eq!(policy.roles().len(), roles.max(3), "{spec:?}");
                    assert_eq!(policy.scopes().len(), 3, "{spec:?}");
                }
            }
        }
    }
}

#[test]
fn thousand_roles_on_three_levels() {
    let spec = Spec::new(1_000, 5_000, 50).with_levels();
    let policy = clean(spec);
    assert_eq!(policy.roles().len(), 1_000);
    assert_eq!(policy.permissions().len(), 5_000);
    assert_eq!(max_depth(&spec, 1_000), 50);
    // 10% of the roles on the organization level, 30% on the team's.
    for (i, id) in [
        (0, "organization.r0"),
        (99, "organization.r99"),
        (100, "team.r100"),
        (399, "team.r399"),
        (400, "project.r400"),
        (999, "project.r999"),
    ] {
        assert_eq!(role_id(&spec, i), id);
        assert_eq!(policy.roles()[i].id, id);
    }
    assert_eq!(permission_ids(&spec, 400)[0], "project.res400.view");
    // The compiled `acts as` edges are the generator's.
    let mut edges = 0;
    for (i, r) in policy.roles().iter().enumerate() {
        let acts: Vec<usize> = r
            .parents
            .iter()
            .filter(|p| p.acts_as)
            .map(|p| p.role.index())
            .collect();
        assert_eq!(acts, acts_as(&spec, i), "{}", r.id);
        edges += acts.len();
    }
    // 25 organization roles act as team roles (5 also as project roles),
    // 75 team roles as project roles.
    assert_eq!(edges, 25 + 5 + 75);
    assert_eq!(acts_as(&spec, 0), vec![100, 400]);
    assert_eq!(acts_as(&spec, 100), vec![400]);
}

/// The size the issue 24 `check` measurements use. Its `grants resN.*`
/// wildcards once tested every permission of their level (the pattern
/// index bucketed by the first segment, here the level: a minute in a
/// debug build); the index now takes the range of ids starting with the
/// pattern's literal segments (docs/performance.md, "Issue 24: levels").
#[test]
fn ten_thousand_roles_on_three_levels() {
    let spec = Spec::new(10_000, 50_000, 50).with_levels();
    let policy = clean(spec);
    assert_eq!(policy.roles().len(), 10_000);
    assert_eq!(policy.permissions().len(), 50_000);
    assert_eq!(role_id(&spec, 999), "organization.r999");
    assert_eq!(role_id(&spec, 1_000), "team.r1000");
    assert_eq!(role_id(&spec, 4_000), "project.r4000");
}

#[test]
fn decisions_across_levels_by_full_ids() {
    let spec = Spec::new(1_000, 5_000, 50).with_levels();
    let policy = clean(spec);
    let eval = Evaluator::from_policy(&policy);
    let decide = |role: &str, perm: &str| eval.decide_by_name(Some("free"), &[role], perm);
    // `organization.r0` acts as `team.r100` and `project.r400`;
    // `team.r100` acts as `project.r400`.
    assert_eq!(
        decide("organization.r0", "organization.res0.view"),
        Ok(true)
    );
    assert_eq!(decide("organization.r0", "team.res100.view"), Ok(true));
    assert_eq!(decide("organization.r0", "project.res400.view"), Ok(true));
    assert_eq!(decide("team.r100", "project.res400.view"), Ok(true));
    // Through inheritance on the organization level, then `acts as`.
    assert_eq!(decide("organization.r1", "team.res100.view"), Ok(true));
    // Never outwards, nor to a role not acted as.
    assert_eq!(decide("team.r100", "organization.res0.view"), Ok(false));
    assert_eq!(decide("project.r400", "team.res100.view"), Ok(false));
    assert_eq!(decide("organization.r0", "team.res101.view"), Ok(false));
    // The names are the full ids: a level's own name alone is unknown.
    assert!(decide("r0", "organization.res0.view").is_err());
    assert!(decide("organization.r0", "res0.view").is_err());
    // The explanation follows the `acts as` edge.
    let verdict = eval
        .authorize_by_name(Some("free"), &["organization.r0"], "team.res100.view")
        .unwrap();
    let why = verdict.explain();
    assert!(why.allowed);
    assert!(
        why.reasons
            .iter()
            .any(|r| r.message.contains("`organization.r0` acts as `team.r100`")),
        "{:?}",
        why.reasons
    );
}

/// `policy-bench gen … --levels` writes the same text as the library.
#[test]
fn gen_levels_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_policy-bench"))
        .args(["gen", "30", "100", "7", "--levels"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text, generate(&Spec::new(30, 100, 7).with_levels()));
    assert!(
        text.contains("scope project \"Project\" in team\n"),
        "{text}"
    );
    for bad in [&["--levels", "--levels"][..], &["--editions", "--no-tiers"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_policy-bench"))
            .args(["gen", "30", "100", "7"])
            .args(bad)
            .env_clear()
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}

/// Without `--levels` the text is the one other benchmarks and the
/// numbers in docs/performance.md were measured on: the sizes of the
/// issue 23 table.
#[test]
fn without_levels_the_text_is_unchanged() {
    assert_eq!(generate(&Spec::new(1_000, 5_000, 50)).len(), 359_016);
    assert_eq!(generate(&Spec::new(10_000, 50_000, 50)).len(), 3_765_560);
    let levels = generate(&Spec::new(1_000, 5_000, 50).with_levels());
    assert!(!generate(&Spec::new(1_000, 5_000, 50)).contains("scope "));
    assert!(levels.contains("  acts as team.r"));
    assert!(levels.contains("  acts as project.r"));
}
