//! The Cerbos test suite of an export (`NAME_test.yaml`): a principal per
//! role, a resource per context and assignment of the facts, and one test
//! that expects every (role, permission, context, facts) cell to be
//! decided as policyc decides it. `cerbos compile DIR` runs it.

use std::fmt::Write as _;

use policy_compiler::{Facts, Outcome, PermId, Policy, RoleId, TierId};
use policy_eval::Evaluator;

use super::comment_header;
use super::yaml::{scalar, sequence};
use crate::contexts::Contexts;
use crate::Header;

/// The most decisions (roles × permissions × contexts × fact
/// assignments) the suite holds; a larger policy's export leaves the suite
/// out (`P0602`): it would take `cerbos compile` minutes and hundreds of
/// megabytes.
pub const MAX_SUITE_DECISIONS: usize = 1_000_000;

/// The decisions a suite of every cell of `policy` would hold.
pub fn decisions(policy: &Policy) -> usize {
    policy
        .roles()
        .len()
        .saturating_mul(policy.permissions().len())
        .saturating_mul(policy.tier_count())
        .saturating_mul(assignments(policy.conditions().len()).len())
}

/// The assignments of `k` conditions the suite covers (bit `i`:
/// condition `i` holds): every one up to 8 conditions; past that none,
/// all, each alone and each left out.
pub fn assignments(k: usize) -> Vec<u64> {
    if k <= 8 {
        return (0..1u64 << k).collect();
    }
    let all = if k >= 64 { u64::MAX } else { (1u64 << k) - 1 };
    let mut out = vec![0, all];
    for i in 0..k.min(64) {
        out.push(1 << i);
        out.push(all & !(1 << i));
    }
    out
}

/// The name of the resource standing for context `t` under facts `mask`:
/// the context as policyc writes it, then the facts (`pro, own, not
/// archived`); `request` for a policy with neither.
pub fn resource_name(policy: &Policy, t: TierId, mask: u64) -> String {
    let mut parts: Vec<String> = Vec::new();
    let context = policy.tier_name(t);
    if !context.is_empty() && !policy.dimensions().is_empty() {
        parts.push(context.to_string());
    }
    for (i, c) in policy.conditions().iter().enumerate() {
        parts.push(policy_compiler::literal_name(&c.id, mask >> i & 1 == 1));
    }
    if parts.is_empty() {
        "request".into()
    } else {
        parts.join(", ")
    }
}

/// The facts of assignment `mask`.
fn facts(policy: &Policy, mask: u64) -> Facts {
    let mut facts = Facts::default();
    for i in 0..policy.conditions().len() {
        facts.set(i, mask >> i & 1 == 1);
    }
    facts
}

/// The suite's text.
pub(crate) fn text(policy: &Policy, contexts: &Contexts, header: &Header) -> String {
    let eval = Evaluator::from_policy(policy);
    let masks = assignments(policy.conditions().len());
    let mut out = comment_header(header);
    out.push_str(
        "#\n# Every (role, permission, context, facts) cell as policyc decides it: a\n\
         # principal per role, a resource per context and facts; a pair not listed\n\
         # under `expected` is denied. Run with `cerbos compile DIR`.\n",
    );
    let _ = write!(
        out,
        "name: {}\ndescription: {}\n",
        scalar(&format!("{} (policyc)", header.name)),
        scalar(&format!(
            "Every cell of {} as policyc decides it",
            header.source
        ))
    );
    out.push_str("principals:");
    if policy.roles().is_empty() {
        out.push_str(" {}");
    }
    for r in policy.roles() {
        let id = scalar(&r.id);
        let _ = write!(out, "\n  {id}:\n    id: {id}\n    roles: [{id}]");
    }
    out.push_str("\nresources:");
    let mut resources: Vec<(TierId, u64, String)> = Vec::new();
    for t in policy.tier_ids() {
        for &mask in &masks {
            let name = scalar(&resource_name(policy, t, mask));
            let _ = write!(
                out,
                "\n  {name}:\n    kind: {}\n    id: {name}",
                scalar(header.name)
            );
            let mut attrs: Vec<String> = contexts
                .values(t)
                .into_iter()
                .map(|(d, v)| format!("{}: {}", scalar(d), scalar(v)))
                .collect();
            for (i, c) in policy.conditions().iter().enumerate() {
                attrs.push(format!("{}: {}", scalar(&c.id), mask >> i & 1 == 1));
            }
            if !attrs.is_empty() {
                out.push_str("\n    attr:");
                for a in attrs {
                    let _ = write!(out, "\n      {a}");
                }
            }
            resources.push((t, mask, name));
        }
    }
    let perms: Vec<String> = policy.permissions().iter().map(|p| scalar(&p.id)).collect();
    if policy.roles().is_empty() || perms.is_empty() {
        out.push_str("\ntests: []\n");
        return out;
    }
    let _ = write!(
        out,
        "\ntests:\n  - name: every cell\n    input:\n      principals:{}\n      resources:{}\n      actions:{}\n    expected:",
        sequence(
            &policy.roles().iter().map(|r| scalar(&r.id)).collect::<Vec<_>>(),
            8,
            18
        ),
        sequence(
            &resources.iter().map(|(_, _, n)| n.clone()).collect::<Vec<_>>(),
            8,
            17
        ),
        sequence(&perms, 8, 15)
    );
    let mut any = false;
    for (ri, r) in policy.roles().iter().enumerate() {
        for (t, mask, name) in &resources {
            let f = facts(policy, *mask);
            let allowed: Vec<&String> = perms
                .iter()
                .enumerate()
                .filter(|(pi, _)| {
                    matches!(
                        eval.outcome(*t, &[RoleId(ri as u32)], PermId(*pi as u32), f),
                        Outcome::Allow { .. }
                    )
                })
                .map(|(_, p)| p)
                .collect();
            if allowed.is_empty() {
                continue;
            }
            any = true;
            let _ = write!(
                out,
                "\n      - principal: {}\n        resource: {name}\n        actions:",
                scalar(&r.id)
            );
            for p in allowed {
                let _ = write!(out, "\n          {p}: EFFECT_ALLOW");
            }
        }
    }
    if !any {
        // Cerbos wants some expectation: the first cell, denied.
        if let (Some(r), Some((_, _, name)), Some(p)) =
            (policy.roles().first(), resources.first(), perms.first())
        {
            let _ = write!(
                out,
                "\n      - principal: {}\n        resource: {name}\n        actions:\n          {p}: EFFECT_DENY",
                scalar(&r.id)
            );
        }
    }
    out.push('\n');
    out
}
