//! A compiled policy in the terms peer engines are given: per role, the
//! tiers with equal effective permissions and those permissions; and that
//! table as Cedar policies.

use std::collections::BTreeMap;
use std::fmt::Write;

use policy_compiler::{PermId, Policy, RoleId};

/// Tiers with equal effective sets, and that set (permission ids), in
/// tier order and declaration order.
pub type TierPerms = (Vec<String>, Vec<String>);

/// Per role (declaration order): its tier-sets and their effective
/// permissions, tiers with equal sets merged, empty sets left out.
pub fn flattened(policy: &Policy) -> Vec<(String, Vec<TierPerms>)> {
    policy
        .roles()
        .iter()
        .enumerate()
        .map(|(ri, role)| {
            let mut by_set: BTreeMap<Vec<u32>, Vec<String>> = BTreeMap::new();
            for t in policy.tier_ids() {
                let eff: Vec<u32> = policy
                    .effective(t, RoleId(ri as u32))
                    .iter()
                    .map(|p| p.0)
                    .collect();
                if !eff.is_empty() {
                    by_set
                        .entry(eff)
                        .or_default()
                        .push(policy.tier_name(t).to_string());
                }
            }
            let sets = by_set
                .into_iter()
                .map(|(perms, tiers)| {
                    let names = perms
                        .iter()
                        .filter_map(|p| policy.permission(PermId(*p)))
                        .map(|p| p.id.clone())
                        .collect();
                    (tiers, names)
                })
                .collect();
            (role.id.clone(), sets)
        })
        .collect()
}

/// The policy as Cedar text: one `permit(principal == Role::"r", action in
/// [...], resource) when { [tiers].contains(context.tier) };` per role and
/// set of tiers with equal permissions (the `decision` benchmark's encoding,
/// and the file `cedar check-parse` is timed on).
pub fn cedar_policies(policy: &Policy) -> String {
    let mut text = String::new();
    for (role, sets) in flattened(policy) {
        for (tiers, perms) in sets {
            let actions: Vec<String> = perms.iter().map(|p| format!("Action::\"{p}\"")).collect();
            let tiers: Vec<String> = tiers.iter().map(|t| format!("\"{t}\"")).collect();
            let _ = writeln!(
                text,
                "permit(principal == Role::\"{role}\", action in [{}], resource) when {{ [{}].contains(context.tier) }};",
                actions.join(", "),
                tiers.join(", ")
            );
        }
    }
    text
}

/// The policy statement by statement in Cedar syntax, for timing
/// `cedar check-parse` on about as much text as the policy itself: each
/// `grants` becomes a `permit(principal in Role::"r", action in [...],
/// resource)` (a pattern such as `res12.*` is the action group
/// `Action::"res12.*"`), with a `when` on the tiers of its `on` clause and
/// the role's; each `excludes` becomes a `forbid`. Declarations of tiers,
/// permissions and inheritance have no policy text in Cedar (they are its
/// schema and entity hierarchy), so they are left out: Cedar parses less
/// than policyc does.
pub fn cedar_statements(file: &policy_syntax::PolicyFile) -> String {
    use policy_syntax::{Item, RoleStmt, TierConstraint, TierSelector};
    let order: Vec<&str> = file
        .items
        .iter()
        .find_map(|i| match i {
            Item::Tiers(t) => Some(t.tiers.iter().map(|t| t.name.as_str()).collect()),
            _ => None,
        })
        .unwrap_or_default();
    // The benchmark shapes have one dimension: an `and` of terms is the
    // tiers every term selects, an `or` of those the tiers any selects.
    fn tiers_of<'a>(order: &[&'a str], c: &'a TierConstraint) -> Vec<&'a str> {
        let conj = |alt: &'a [TierSelector]| -> Vec<&'a str> {
            let mut terms = alt.iter().map(|t| term_tiers(order, t));
            let first = terms.next().unwrap_or_default();
            terms.fold(first, |acc, t| {
                acc.into_iter().filter(|x| t.contains(x)).collect()
            })
        };
        let any: Vec<Vec<&'a str>> = c.alternatives().map(conj).collect();
        order
            .iter()
            .copied()
            .filter(|t| any.iter().any(|a| a.contains(t)))
            .collect()
    }
    fn term_tiers<'a>(order: &[&'a str], term: &'a TierSelector) -> Vec<&'a str> {
        match term {
            TierSelector::List(list) => list.iter().map(|t| t.name.as_str()).collect(),
            TierSelector::Range { op, tier } => {
                let at = order.iter().position(|t| *t == tier.name).unwrap_or(0);
                order
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| match op {
                        policy_syntax::CmpOp::Ge => *i >= at,
                        policy_syntax::CmpOp::Gt => *i > at,
                        policy_syntax::CmpOp::Le => *i <= at,
                        policy_syntax::CmpOp::Lt => *i < at,
                    })
                    .map(|(_, t)| *t)
                    .collect()
            }
        }
    }
    let when = |c: Option<&TierConstraint>| match c {
        None => String::new(),
        Some(c) => {
            let list: Vec<String> = tiers_of(&order, c)
                .iter()
                .map(|t| format!("\"{t}\""))
                .collect();
            format!(" when {{ [{}].contains(context.tier) }}", list.join(", "))
        }
    };
    let mut text = String::new();
    for item in &file.items {
        let Item::Role(role) = item else { continue };
        let role_when = when(role.tiers.as_ref());
        for stmt in &role.body {
            let (effect, patterns, cond) = match stmt {
                RoleStmt::Grants {
                    patterns, tiers, ..
                } => ("permit", patterns, when(tiers.as_ref())),
                RoleStmt::Excludes { patterns, .. } => ("forbid", patterns, String::new()),
                // Who may be given the role is not a decision Cedar makes.
                RoleStmt::Assignable { .. } => continue,
                // Links between roles are Cedar's entity hierarchy.
                RoleStmt::Inherits { .. } | RoleStmt::ActsAs { .. } => continue,
            };
            let actions: Vec<String> = patterns
                .iter()
                .map(|p| format!("Action::\"{}\"", p.text))
                .collect();
            let _ = writeln!(
                text,
                "{effect}(principal in Role::\"{}\", action in [{}], resource){cond}{role_when};",
                role.id.name,
                actions.join(", ")
            );
        }
    }
    text
}
