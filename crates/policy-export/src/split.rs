//! A `grants` line split for a target whose rules name roles: its
//! permissions grouped by the roles they reach ([`reached`]), and, where
//! the exclusions below the line's role hold under conditions, by the
//! facts under which they reach them. Each part becomes one rule (Cedar's
//! `permit`, Cerbos's `EFFECT_ALLOW` rule), under a disjunction of
//! conjunctions of facts ([`Part::facts`]).
//!
//! [`reached`]: crate::flow::reached

use std::collections::HashMap;

use policy_compiler::{ConditionSet, Exclusion, PermId, Policy, RoleId};
use policy_syntax::{Code, Diagnostic};

use crate::flow::{reach_groups, Hierarchy, Line};
use crate::Target;

/// The most conditions the exclusions below one role may name: each of
/// its lines is split under every assignment of them.
pub const MAX_EXCLUSION_CONDITIONS: usize = 8;

/// One part of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The roles the line reaches with the part's permissions (parents
    /// first, the line's own role first).
    pub reached: Vec<RoleId>,
    /// The permissions.
    pub perms: Vec<PermId>,
    /// The facts under which the line reaches exactly those roles: any of
    /// these conjunctions (`None`: always).
    pub facts: Option<Vec<ConditionSet>>,
}

/// The conditions (indices, ascending) the exclusions of the roles in
/// `below` hold under.
pub fn exclusion_conditions(policy: &Policy, below: &[RoleId]) -> Vec<usize> {
    let mut set = ConditionSet::default();
    for role in below.iter().filter_map(|&s| policy.role(s)) {
        for e in &role.exclusions {
            set = set.union(e.when);
        }
    }
    let mut out: Vec<usize> = set.literals().map(|(i, _)| i).collect();
    out.dedup();
    out
}

/// The roles whose lines reach more conditional exclusions than
/// [`MAX_EXCLUSION_CONDITIONS`], as `P0601` errors.
pub(crate) fn refusals(policy: &Policy, target: Target) -> Vec<Diagnostic> {
    if policy
        .roles()
        .iter()
        .all(|r| r.exclusions.iter().all(|e| e.when.is_empty()))
    {
        return Vec::new();
    }
    let h = Hierarchy::new(policy);
    let mut out = Vec::new();
    for (i, role) in policy.roles().iter().enumerate() {
        let below = h.below(RoleId(i as u32));
        let k = exclusion_conditions(policy, &below).len();
        if k > MAX_EXCLUSION_CONDITIONS && !role.grants.is_empty() {
            out.push(
                Diagnostic::new(
                    Code::ExportUnsupported,
                    format!(
                        "cannot export to {}: the exclusions below role `{}` name {k} conditions",
                        target.name(),
                        role.id
                    ),
                )
                .with_source(policy.source())
                .primary(role.span, "this role's grants")
                .help(format!(
                    "the export works out each line's rules under every assignment of those \
                     conditions, at most {MAX_EXCLUSION_CONDITIONS}; write fewer exclusions \
                     under conditions below this role"
                )),
            );
        }
    }
    out
}

/// The parts of `line`, a line of `g` (`below`: `g` and the roles that
/// inherit it, parents first; `k`: [`exclusion_conditions`] of `below`,
/// at most [`MAX_EXCLUSION_CONDITIONS`]), in the order of their first
/// permission, then of the first assignment giving them.
pub(crate) fn split_line(
    policy: &Policy,
    below: &[RoleId],
    g: RoleId,
    line: &Line,
    k: &[usize],
) -> Vec<Part> {
    let count = 1usize << k.len().min(MAX_EXCLUSION_CONDITIONS);
    let holds_under = |when: ConditionSet, a: usize| {
        when.literals().all(|(i, holds)| {
            k.iter()
                .position(|&x| x == i)
                .is_some_and(|b| (a >> b & 1 == 1) == holds)
        })
    };
    // Each permission's reached roles under each assignment.
    let mut by_perm: Vec<(PermId, Vec<Vec<RoleId>>)> = Vec::new();
    let mut at: HashMap<PermId, usize> = HashMap::new();
    for a in 0..count {
        let active = |e: &Exclusion| e.when.is_empty() || holds_under(e.when, a);
        for (reached, perms) in reach_groups(policy, below, g, line, &active) {
            for p in perms {
                let i = *at.entry(p).or_insert_with(|| {
                    by_perm.push((p, vec![Vec::new(); count]));
                    by_perm.len() - 1
                });
                if let Some(slot) = by_perm.get_mut(i).and_then(|(_, v)| v.get_mut(a)) {
                    *slot = reached.clone();
                }
            }
        }
    }
    // Permissions reaching the same roles under every assignment share
    // parts; one part per set of roles, under its facts.
    let mut groups: Vec<(Vec<Vec<RoleId>>, Vec<PermId>)> = Vec::new();
    let mut group_of: HashMap<Vec<Vec<RoleId>>, usize> = HashMap::new();
    for (p, by_a) in by_perm {
        match group_of.get(&by_a).and_then(|&i| groups.get_mut(i)) {
            Some((_, perms)) => perms.push(p),
            None => {
                group_of.insert(by_a.clone(), groups.len());
                groups.push((by_a, vec![p]));
            }
        }
    }
    let mut out = Vec::new();
    for (by_a, perms) in groups {
        let mut sets: Vec<(&Vec<RoleId>, Vec<usize>)> = Vec::new();
        for (a, reached) in by_a.iter().enumerate().filter(|(_, r)| !r.is_empty()) {
            match sets.iter_mut().find(|(r, _)| *r == reached) {
                Some((_, list)) => list.push(a),
                None => sets.push((reached, vec![a])),
            }
        }
        for (reached, under) in sets {
            out.push(Part {
                reached: reached.clone(),
                perms: perms.clone(),
                facts: dnf(k, &under, count),
            });
        }
    }
    out
}

/// The assignments `set` (of `count`, as bit masks over the conditions
/// `k`) as a short disjunction of conjunctions: its prime implicants
/// (terms merged while they differ in one condition), the one covering
/// the most assignments left taken in turn. `None` when `set` is every
/// assignment.
fn dnf(k: &[usize], set: &[usize], count: usize) -> Option<Vec<ConditionSet>> {
    if set.len() == count {
        return None;
    }
    let full = count.saturating_sub(1);
    let mut terms: Vec<(usize, usize)> = set.iter().map(|&a| (a, full)).collect();
    let mut primes: Vec<(usize, usize)> = Vec::new();
    while !terms.is_empty() {
        let mut merged: Vec<(usize, usize)> = Vec::new();
        let mut used = vec![false; terms.len()];
        for (i, &(v, c)) in terms.iter().enumerate() {
            for (j, &(w, d)) in terms.iter().enumerate().skip(i + 1) {
                let diff = v ^ w;
                if c == d && diff.count_ones() == 1 {
                    let m = (v & !diff, c & !diff);
                    if !merged.contains(&m) {
                        merged.push(m);
                    }
                    for u in [i, j] {
                        if let Some(u) = used.get_mut(u) {
                            *u = true;
                        }
                    }
                }
            }
        }
        for (t, u) in terms.iter().zip(&used) {
            if !u && !primes.contains(t) {
                primes.push(*t);
            }
        }
        terms = merged;
    }
    let covers = |&(v, c): &(usize, usize), a: usize| a & c == v;
    let mut left: Vec<usize> = set.to_vec();
    let mut chosen: Vec<(usize, usize)> = Vec::new();
    while !left.is_empty() {
        let Some(best) = primes
            .iter()
            .max_by_key(|p| {
                (
                    left.iter().filter(|&&a| covers(p, a)).count(),
                    p.1.count_zeros(),
                )
            })
            .copied()
        else {
            break;
        };
        left.retain(|&a| !covers(&best, a));
        chosen.push(best);
    }
    chosen.sort_by_key(|&(v, c)| (std::cmp::Reverse(c.count_zeros()), v));
    Some(
        chosen
            .into_iter()
            .map(|(v, c)| {
                let mut set = ConditionSet::default();
                for (b, &i) in k.iter().enumerate().filter(|(b, _)| c >> b & 1 == 1) {
                    set.insert_literal(i, v >> b & 1 == 1);
                }
                set
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The disjunction holds under exactly the assignments given, for
    /// every set of assignments of up to three conditions.
    #[test]
    fn the_disjunction_holds_under_exactly_the_assignments_given() {
        let k = [0usize, 1, 2];
        let count = 8;
        for mask in 0u32..256 {
            let set: Vec<usize> = (0..count).filter(|a| mask >> a & 1 == 1).collect();
            let holds = |terms: &Option<Vec<ConditionSet>>, a: usize| match terms {
                None => true,
                Some(terms) => terms.iter().any(|t| {
                    t.literals().all(|(i, h)| {
                        (a >> k.iter().position(|&x| x == i).unwrap_or(9) & 1 == 1) == h
                    })
                }),
            };
            let terms = dnf(&k, &set, count);
            for a in 0..count {
                assert_eq!(
                    holds(&terms, a),
                    set.contains(&a),
                    "{mask:b} at {a:b}: {terms:?}"
                );
            }
        }
    }

    #[test]
    fn one_condition_is_one_literal() {
        let own = |h| Some(vec![ConditionSet::literal(4, h)]);
        assert_eq!(dnf(&[4], &[1], 2), own(true));
        assert_eq!(dnf(&[4], &[0], 2), own(false));
        assert_eq!(dnf(&[4], &[0, 1], 2), None);
    }
}
