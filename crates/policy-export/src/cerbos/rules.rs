//! The allow rules of a Cerbos export: each `grants` line's permissions
//! grouped by the roles they reach, under each assignment of the
//! conditions the exclusions below its role name, and the derived roles
//! those sets of roles become.

use std::collections::HashMap;

use policy_compiler::{ConditionSet, Exclusion, PermId, Policy, RoleId};

use super::{literal, Cel, MAX_EXCLUSION_CONDITIONS};
use crate::contexts::{Contexts, Syntax, Test};
use crate::plan::{lines, reach_groups, Hierarchy};

/// The conditions (indices, ascending) of the exclusions under conditions
/// of the roles in `below`.
pub(crate) fn exclusion_conditions(policy: &Policy, below: &[RoleId]) -> Vec<usize> {
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

/// The derived roles: one per set of roles some line reaches.
#[derive(Default)]
pub(crate) struct DerivedRoles {
    /// Each one's name and roles (parents first).
    pub(crate) list: Vec<(String, Vec<RoleId>)>,
    /// Where each set of roles is in `list`.
    index: HashMap<Vec<RoleId>, usize>,
}

impl DerivedRoles {
    /// The name of the derived role for `reached` (a line of `g` reaching
    /// it; `below`: `g` and every role that inherits it).
    fn name(&mut self, policy: &Policy, g: RoleId, below: &[RoleId], reached: &[RoleId]) -> String {
        if let Some((name, _)) = self.index.get(reached).and_then(|&i| self.list.get(i)) {
            return name.clone();
        }
        let id = |r: RoleId| policy.role(r).map_or("", |r| r.id.as_str());
        let mut name = id(g).to_string();
        if reached.len() < below.len() {
            // The roles that exclude: not reached, with a parent reached.
            let cut = below.iter().filter(|s| {
                !reached.contains(s)
                    && policy
                        .role(**s)
                        .is_some_and(|r| r.parents.iter().any(|p| reached.contains(&p.role)))
            });
            name.push_str(".except");
            for &s in cut {
                name.push('.');
                name.push_str(id(s));
            }
        }
        self.index.insert(reached.to_vec(), self.list.len());
        self.list.push((name.clone(), reached.to_vec()));
        name
    }
}

/// One `EFFECT_ALLOW` rule.
pub(crate) struct AllowRule {
    /// The role whose line it is.
    pub(crate) role: RoleId,
    /// Where the line's first pattern is.
    pub(crate) span: policy_syntax::Span,
    /// The permissions.
    pub(crate) perms: Vec<PermId>,
    /// The derived role it is for.
    pub(crate) derived: String,
    /// Its conditions, all of which must hold.
    pub(crate) conditions: Vec<String>,
}

/// The assignments (as bit masks over `k`) under which `when` holds,
/// written as a disjunction of conjunctions, `None` when it is all of
/// them.
fn assignments_test(policy: &Policy, k: &[usize], set: &[u32]) -> Option<String> {
    let all = 1u32 << k.len();
    if set.len() as u32 == all {
        return None;
    }
    if set.is_empty() {
        return Some("false".into());
    }
    let full = all - 1;
    // Prime implicants by merging terms that differ in one variable
    // (value, care): a short test for a readable rule.
    let mut terms: Vec<(u32, u32)> = set.iter().map(|&a| (a, full)).collect();
    let mut primes: Vec<(u32, u32)> = Vec::new();
    while !terms.is_empty() {
        let mut merged: Vec<(u32, u32)> = Vec::new();
        let mut used = vec![false; terms.len()];
        for (i, &(v, c)) in terms.iter().enumerate() {
            for (j, &(w, d)) in terms.iter().enumerate().skip(i + 1) {
                let diff = v ^ w;
                if c == d && diff.count_ones() == 1 {
                    let m = (v & !diff, c & !diff);
                    if !merged.contains(&m) {
                        merged.push(m);
                    }
                    if let Some(u) = used.get_mut(i) {
                        *u = true;
                    }
                    if let Some(u) = used.get_mut(j) {
                        *u = true;
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
    // A cover: the prime covering the most assignments left, in turn.
    let covers = |&(v, c): &(u32, u32), a: u32| a & c == v;
    let mut left: Vec<u32> = set.to_vec();
    let mut chosen: Vec<(u32, u32)> = Vec::new();
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
    let parts: Vec<String> = chosen
        .iter()
        .map(|&(v, c)| {
            let lits: Vec<String> = k
                .iter()
                .enumerate()
                .filter(|(b, _)| c >> b & 1 == 1)
                .map(|(b, &i)| literal(policy, i, v >> b & 1 == 1))
                .collect();
            Cel.and(&lits)
        })
        .collect();
    Some(Cel.or(&parts))
}

/// The allow rules of every line, and the derived roles they name.
pub(crate) fn allow_rules(policy: &Policy, contexts: &Contexts) -> (Vec<AllowRule>, DerivedRoles) {
    let h = Hierarchy::new(policy);
    let mut derived = DerivedRoles::default();
    let mut rules = Vec::new();
    for g in (0..policy.roles().len() as u32).map(RoleId) {
        let below = h.below(g);
        let k = exclusion_conditions(policy, &below);
        if k.len() > MAX_EXCLUSION_CONDITIONS {
            continue;
        }
        let holds_under = |when: ConditionSet, a: u32| {
            when.literals().all(|(i, holds)| {
                k.iter()
                    .position(|&x| x == i)
                    .is_some_and(|b| (a >> b & 1 == 1) == holds)
            })
        };
        for line in lines(policy, g) {
            // Each permission's reached roles under each assignment.
            let mut by_perm: Vec<(PermId, Vec<Vec<RoleId>>)> = Vec::new();
            let mut at: HashMap<PermId, usize> = HashMap::new();
            let count = 1u32 << k.len();
            for a in 0..count {
                let active = |e: &Exclusion| e.when.is_empty() || holds_under(e.when, a);
                for (reached, perms) in reach_groups(policy, &below, g, &line, &active) {
                    for p in perms {
                        let i = *at.entry(p).or_insert_with(|| {
                            by_perm.push((p, vec![Vec::new(); count as usize]));
                            by_perm.len() - 1
                        });
                        if let Some(slot) =
                            by_perm.get_mut(i).and_then(|(_, v)| v.get_mut(a as usize))
                        {
                            *slot = reached.clone();
                        }
                    }
                }
            }
            // Permissions reaching the same roles under every assignment
            // share rules; one rule per set of roles, under its facts.
            let mut groups: Vec<(Vec<Vec<RoleId>>, Vec<PermId>)> = Vec::new();
            for (p, by_a) in by_perm {
                match groups.iter_mut().find(|(v, _)| *v == by_a) {
                    Some((_, perms)) => perms.push(p),
                    None => groups.push((by_a, vec![p])),
                }
            }
            let gate = match contexts.test(line.gate, contexts.all(), &Cel) {
                Test::Always => None,
                Test::Never => continue,
                Test::Expr(e) => Some(e),
            };
            for (by_a, perms) in groups {
                let mut sets: Vec<(&Vec<RoleId>, Vec<u32>)> = Vec::new();
                for (a, reached) in by_a.iter().enumerate() {
                    if reached.is_empty() {
                        continue;
                    }
                    match sets.iter_mut().find(|(r, _)| *r == reached) {
                        Some((_, list)) => list.push(a as u32),
                        None => sets.push((reached, vec![a as u32])),
                    }
                }
                for (reached, under) in sets {
                    let mut conditions: Vec<String> = gate.iter().cloned().collect();
                    conditions.extend(
                        line.when
                            .literals()
                            .map(|(i, holds)| literal(policy, i, holds)),
                    );
                    conditions.extend(assignments_test(policy, &k, &under));
                    rules.push(AllowRule {
                        role: g,
                        span: line.span,
                        perms: perms.clone(),
                        derived: derived.name(policy, g, &below, reached),
                        conditions,
                    });
                }
            }
        }
    }
    (rules, derived)
}
