//! Shared checks of the fuzz targets: decisions against the shared naive
//! reference (`policy-testkit`, the one every property test uses), and
//! the properties each target asserts. A failed property panics, which
//! libFuzzer reports as a crash with the input that caused it.

use std::collections::BTreeSet;

use policy_compiler::{PermId, Policy, RoleId};
use policy_eval::{Artifact, Evaluator, ReasonKind};

/// The largest tiers × roles × permissions table the targets check cell by
/// cell; bigger policies are only compiled (the check is quadratic).
pub const MAX_CELLS: usize = 5_000;

/// Decodes fuzz bytes as text: UTF-8 as is, anything else lossily, so every
/// input reaches the parser.
pub fn text_of(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The permissions `pattern` matches, by the reference's own matcher.
fn expand(policy: &Policy, pattern: &str) -> BTreeSet<usize> {
    policy
        .permissions()
        .iter()
        .enumerate()
        .filter(|(_, p)| policy_testkit::matches_id(pattern, &p.id))
        .map(|(i, _)| i)
        .collect()
}

/// The declarations of a compiled policy as the shared reference model
/// (`policy-testkit`) reads them: patterns as written, not the compiler's
/// expansions, so the reference recomputes every decision from the
/// language definition.
pub fn reference_spec(policy: &Policy) -> policy_testkit::Spec {
    let tiers = |set: policy_compiler::TierSet| -> BTreeSet<usize> {
        policy
            .tier_ids()
            .filter(|t| set.contains(*t))
            .map(|t| t.index())
            .collect()
    };
    policy_testkit::Spec {
        tiers: policy.tiers().len(),
        perms: policy
            .permissions()
            .iter()
            .map(|p| policy_testkit::SpecPerm {
                id: p.id.clone(),
                tiers: tiers(p.tiers),
            })
            .collect(),
        roles: policy
            .roles()
            .iter()
            .map(|r| policy_testkit::SpecRole {
                tiers: tiers(r.tiers),
                // Read by the level helpers (`role_id`, `acts_as`), not by
                // decisions: compiled patterns are already full (`l1.a.*`).
                level: r.scope.map(|s| s.index()),
                parents: r.parents.iter().map(|pp| pp.role.index()).collect(),
                grants: r
                    .grants
                    .iter()
                    .map(|g| policy_testkit::SpecGrant {
                        patterns: vec![g.pattern.clone()],
                        tiers: tiers(g.tiers),
                        when: g.when.0,
                    })
                    .collect(),
                excludes: r.exclusions.iter().map(|e| e.pattern.clone()).collect(),
                // The table takes an exclusion under conditions as one that
                // always applies, whatever its `when`: only the table is
                // compared here (the spec declares no conditions).
                exclude_when: 0,
                assignable: r.assignable.map(tiers),
            })
            .collect(),
        ..policy_testkit::Spec::default()
    }
}

/// Every grant's and exclusion's expansion agrees with the naive matcher
/// (a wildcard grant minus what its role excludes).
pub fn check_expansions(policy: &Policy) {
    for role in policy.roles() {
        for e in &role.exclusions {
            let got: BTreeSet<usize> = e.matches.iter().map(|m| m.index()).collect();
            assert_eq!(
                got,
                expand(policy, &e.pattern),
                "exclusion `{}` of `{}`",
                e.pattern,
                role.id
            );
        }
        for g in &role.grants {
            let got: BTreeSet<usize> = g.matches.iter().map(|m| m.index()).collect();
            // A grant's matches are its pattern's expansion; the exclusion
            // wins over a wildcard grant where sets are computed (checked
            // cell by cell against the reference).
            let want = expand(policy, &g.pattern);
            assert_eq!(got, want, "grant `{}` of `{}`", g.pattern, role.id);
        }
    }
}

/// Decisions of the compiler, the reference, the evaluator built from the
/// policy and the evaluator built from the artifact round-tripped through
/// JSON all agree, cell by cell, and every explanation agrees with its decision.
pub fn check_decisions(policy: &Policy) {
    let cells = policy.tier_count() * policy.roles().len() * policy.permissions().len();
    if cells > MAX_CELLS {
        return;
    }
    check_expansions(policy);
    let reference = reference_spec(policy);
    let eval = Evaluator::from_policy(policy);
    let artifact = Artifact::from_policy(policy);
    let json = match serde_json_text(&artifact) {
        Some(j) => j,
        None => panic!("the artifact does not serialise"),
    };
    let loaded = match Evaluator::from_artifact_json(&json) {
        Ok(e) => e,
        Err(e) => panic!("the artifact does not load back: {e:?}"),
    };
    for t in policy.tier_ids() {
        for r in 0..policy.roles().len() {
            let r = RoleId(r as u32);
            for p in 0..policy.permissions().len() {
                let pid = PermId(p as u32);
                let compiled = policy.allows(t, r, pid);
                let ctx = || {
                    format!(
                        "tier {:?}, role `{}`, permission `{}`",
                        policy.tier(t).map(|x| x.id.as_str()),
                        policy.role(r).map_or("?", |x| x.id.as_str()),
                        policy.permission(pid).map_or("?", |x| x.id.as_str())
                    )
                };
                assert_eq!(
                    compiled,
                    reference.allows(t.index(), r.index(), p),
                    "compiler vs reference, {}",
                    ctx()
                );
                assert_eq!(
                    compiled,
                    eval.decide_one(t, r, pid),
                    "evaluator vs compiler, {}",
                    ctx()
                );
                assert_eq!(
                    compiled,
                    loaded.decide_one(t, r, pid),
                    "artifact round trip, {}",
                    ctx()
                );
                let d = eval.explain(t, &[r], pid);
                assert_eq!(d.allowed, compiled, "explanation vs decision, {}", ctx());
                assert!(
                    !d.reasons.is_empty(),
                    "an explanation without a reason, {}",
                    ctx()
                );
                let last = d.reasons.last().map(|x| x.kind);
                if compiled {
                    assert_eq!(
                        last,
                        Some(ReasonKind::Granted),
                        "an allow ends in a grant, {}",
                        ctx()
                    );
                } else {
                    assert!(
                        d.reasons.iter().all(|x| !matches!(
                            x.kind,
                            ReasonKind::Granted | ReasonKind::Inherited
                        )),
                        "a deny explained by a grant, {}: {:?}",
                        ctx(),
                        d.reasons
                    );
                }
                let c = policy.derivation(t, r, pid).is_some();
                assert_eq!(
                    c,
                    policy.holds_raw(t, r, pid),
                    "derivation vs raw set, {}",
                    ctx()
                );
                assert_eq!(
                    policy.why_not(t, r, pid).is_none(),
                    compiled,
                    "why_not vs decision, {}",
                    ctx()
                );
            }
        }
    }
}

fn serde_json_text(artifact: &Artifact) -> Option<String> {
    serde_json::to_string(artifact).ok()
}

/// What a policy means, by name: diagnostic codes, labels, descriptions,
/// assertions as written, and every role's effective permissions per tier.
#[derive(Debug, PartialEq, Eq)]
pub struct Meaning {
    codes: Vec<&'static str>,
    tiers: Vec<String>,
    permissions: Vec<(String, String, Option<String>)>,
    roles: Vec<(String, String, Option<String>)>,
    assertions: Vec<String>,
    effective: Vec<(String, String, Vec<String>)>,
}

/// The [`Meaning`] of a source.
pub fn meaning(source: &policy_syntax::SourceFile) -> Meaning {
    let (file, _) = policy_syntax::parse(source);
    let (policy, diags) = policy_compiler::compile(source);
    let mut codes: Vec<&'static str> = diags.iter().map(|d| d.code().as_str()).collect();
    codes.sort_unstable();
    let assertions = file
        .items
        .iter()
        .filter_map(|i| match i {
            policy_syntax::Item::Assert(a) => Some(assertion_text(a)),
            _ => None,
        })
        .collect();
    let mut effective = Vec::new();
    let cells = policy.tier_count() * policy.roles().len() * policy.permissions().len();
    if cells <= MAX_CELLS {
        for t in policy.tier_ids() {
            for (r, role) in policy.roles().iter().enumerate() {
                let mut perms: Vec<String> = policy
                    .effective(t, RoleId(r as u32))
                    .into_iter()
                    .filter_map(|p| policy.permission(p).map(|x| x.id.clone()))
                    .collect();
                perms.sort();
                effective.push((policy.tier_name(t).to_string(), role.id.clone(), perms));
            }
        }
    }
    Meaning {
        codes,
        tiers: policy.tiers().iter().map(|t| t.id.clone()).collect(),
        permissions: policy
            .permissions()
            .iter()
            .map(|p| (p.id.clone(), p.label.clone(), p.description.clone()))
            .collect(),
        roles: policy
            .roles()
            .iter()
            .map(|r| (r.id.clone(), r.label.clone(), r.description.clone()))
            .collect(),
        assertions,
        effective,
    }
}

/// An assertion as a canonical text built from its syntax tree (names,
/// pattern, tier clause), so layout and comments do not count.
fn assertion_text(a: &policy_syntax::AssertDecl) -> String {
    use policy_syntax::{AssertKind, TierSelector};
    let names = |ids: &[policy_syntax::Ident]| {
        ids.iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    let claim = match &a.kind {
        AssertKind::Only { roles, pattern } => {
            format!("only {} can {}", names(roles), pattern.text)
        }
        AssertKind::NoneBelow { role, pattern } => {
            format!("no role below {} can {}", role.name, pattern.text)
        }
        AssertKind::NoRole { pattern } => format!("no role can {}", pattern.text),
        AssertKind::Includes { roles, others } => {
            format!("{} includes {}", names(roles), names(others))
        }
        AssertKind::Can {
            roles,
            pattern,
            negated,
            every,
        } => format!(
            "{} {}{} {}",
            names(roles),
            if *negated { "cannot" } else { "can" },
            if *every { " every" } else { "" },
            pattern.text
        ),
    };
    let term = |t: &TierSelector| match t {
        TierSelector::Range { op, tier } => format!("{op:?} {}", tier.name),
        TierSelector::List(list) => names(list),
    };
    let on = match &a.tiers {
        None => String::new(),
        Some(c) => format!(
            " on {}",
            c.alternatives()
                .map(|alt| alt.iter().map(term).collect::<Vec<_>>().join(" and "))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    };
    format!("assert {claim}{on}")
}

/// Formatting kept the meaning of `before` in `after`.
pub fn check_same_meaning(before: &policy_syntax::SourceFile, after: &policy_syntax::SourceFile) {
    let (a, b) = (meaning(before), meaning(after));
    assert_eq!(a, b, "fmt changed the meaning of the policy");
}
