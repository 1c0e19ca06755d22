//! What each `grants` line means for the roles below it, in the terms
//! an engine with role groups has: "the principal is in role X" is true
//! for a user holding X or any role that inherits X, directly or not.
//!
//! A grant line of role `g` reaches the roles that inherit `g` along some
//! path on which no role excludes the permission (exclusions take away
//! what is inherited). A reached role `s` holds the permission, through
//! this line, in the contexts where `s` exists and the line's `on` clause
//! holds, under the line's conditions: that is its target `T(s)`.
//!
//! The rule for the line is "in `g`, and in some listed role `x` whose
//! contexts hold" (the *terms*: `x` with `T(x)`, skipping a role whose
//! contexts its ancestors' terms already cover), "unless in some listed
//! role `u` in its contexts" (the *exceptions*). For a user holding one
//! role `s`, the terms give the union of `T` over `s` and its ancestors
//! below `g`; that is `T(s)` unless an ancestor holds in more contexts
//! than `s` (one `s` is not reached by, or exists in fewer contexts).
//! Each such `s` gets an exception for those contexts: "in `s`" when no
//! role below `s` holds the line there, else "`s` itself" (in `s` and in
//! none of the roles that inherit it directly). So the rule is exact for
//! a user holding one role; without exceptions it is exact for a user
//! holding several (a union of terms), which no rule on group membership
//! can be when one role holds less than a role it inherits (a user holding
//! both is in the same groups as a user holding the smaller one alone).

use std::collections::{BTreeMap, HashMap};

use policy_compiler::{ConditionSet, PermId, Policy, RoleId, TierSet};
use policy_syntax::Span;

use crate::flow::{lines, role_set, Hierarchy};
use crate::split::{exclusion_conditions, split_line, Part, MAX_EXCLUSION_CONDITIONS};

/// A role listed in a rule, with the contexts it applies in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleTerm {
    /// The role.
    pub role: RoleId,
    /// The contexts.
    pub contexts: TierSet,
    /// Only a user holding this very role (not a role that inherits it).
    pub itself: bool,
    /// The contexts are where the role does not exist (an exception
    /// written as "where it does not exist", read more easily than the
    /// list of those contexts).
    pub absent: bool,
}

/// One rule: a grant line's permissions that reach the same roles.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The role whose line it is.
    pub role: RoleId,
    /// The line's patterns, as written.
    pub patterns: Vec<String>,
    /// Where the line's first pattern is.
    pub span: Span,
    /// The permissions.
    pub perms: Vec<PermId>,
    /// The line's `on` clause.
    pub gate: TierSet,
    /// The line's `when` clause.
    pub when: ConditionSet,
    /// The facts under which the line reaches these roles (exclusions
    /// under conditions): any of these conjunctions; `None`: always.
    pub facts: Option<Vec<ConditionSet>>,
    /// Terms: the rule holds for a user in one of these roles, in its
    /// contexts (the line's own role first).
    pub terms: Vec<RoleTerm>,
    /// Exceptions: it does not for a user in one of these, in its contexts.
    pub unless: Vec<RoleTerm>,
}

/// Permissions that exist in some contexts only, and those contexts.
#[derive(Debug, Clone)]
pub struct Existence {
    /// The permissions.
    pub perms: Vec<PermId>,
    /// Where they exist.
    pub contexts: TierSet,
}

/// Every rule of a policy, and the permissions' existence.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The hierarchy.
    pub hierarchy: Hierarchy,
    /// The rules, by role (declaration order), then line.
    pub rules: Vec<Rule>,
    /// Permissions that do not exist everywhere, grouped by where they do.
    pub existence: Vec<Existence>,
}

impl Plan {
    /// Whether a user holding several roles is decided exactly by one
    /// request naming them all (no rule has an exception).
    pub fn several_roles_exact(&self) -> bool {
        self.rules.iter().all(|r| r.unless.is_empty())
    }
}

fn union(sets: impl IntoIterator<Item = TierSet>) -> TierSet {
    sets.into_iter().fold(TierSet::default(), TierSet::union)
}

/// The plan of `policy` (whose roles' exclusions name at most
/// [`MAX_EXCLUSION_CONDITIONS`] conditions below each: the caller refuses
/// the others first; a role past it gets no rules).
pub fn plan(policy: &Policy) -> Plan {
    let hierarchy = Hierarchy::new(policy);
    let avail = |s: RoleId| policy.role(s).map_or(TierSet(0), |r| r.tiers);
    let mut rules = Vec::new();
    for g in (0..policy.roles().len() as u32).map(RoleId) {
        let below = hierarchy.below(g);
        let k = exclusion_conditions(policy, &below);
        if k.len() > MAX_EXCLUSION_CONDITIONS {
            continue;
        }
        for line in lines(policy, g) {
            for Part {
                reached,
                perms,
                facts,
            } in split_line(policy, &below, g, &line, &k)
            {
                let hit = role_set(policy, &reached);
                let target = |s: RoleId| {
                    if hit.contains(s.index()) {
                        avail(s).intersection(line.gate)
                    } else {
                        TierSet(0)
                    }
                };
                let (terms, unless) = terms(&hierarchy, &below, &target, line.gate, &avail);
                rules.push(Rule {
                    role: g,
                    patterns: line.patterns.clone(),
                    span: line.span,
                    perms,
                    gate: line.gate,
                    when: line.when,
                    facts,
                    terms,
                    unless,
                });
            }
        }
    }
    Plan {
        hierarchy,
        rules,
        existence: existence(policy),
    }
}

/// The permissions that do not exist in every context, grouped by where
/// they do (groups in the order of their first permission).
pub(crate) fn existence(policy: &Policy) -> Vec<Existence> {
    let all = TierSet::all(policy.tier_count());
    let mut out: Vec<Existence> = Vec::new();
    let mut index: BTreeMap<u64, usize> = BTreeMap::new();
    for (i, p) in policy.permissions().iter().enumerate() {
        if p.tiers == all {
            continue;
        }
        let perm = PermId(i as u32);
        match index.get(&p.tiers.0).and_then(|&k| out.get_mut(k)) {
            Some(group) => group.perms.push(perm),
            None => {
                index.insert(p.tiers.0, out.len());
                out.push(Existence {
                    perms: vec![perm],
                    contexts: p.tiers,
                });
            }
        }
    }
    out
}

/// The terms and exceptions of a rule whose roles (`below`, the line's
/// own first, parents first) hold it in `target(s)` (see the module
/// documentation).
fn terms(
    h: &Hierarchy,
    below: &[RoleId],
    target: &dyn Fn(RoleId) -> TierSet,
    gate: TierSet,
    avail: &dyn Fn(RoleId) -> TierSet,
) -> (Vec<RoleTerm>, Vec<RoleTerm>) {
    // `above[i]`: the union of `target` over the strict ancestors of
    // `below[i]` within `below`, in one pass parents first (an ancestor of
    // a role of `below` that is itself in `below` reaches it through roles
    // of `below` only: they all inherit `g`).
    let position: HashMap<RoleId, usize> = below.iter().enumerate().map(|(i, &r)| (r, i)).collect();
    let mut above = vec![TierSet::default(); below.len()];
    for (i, &x) in below.iter().enumerate() {
        let from = above.get(i).copied().unwrap_or_default().union(target(x));
        for c in h.children.get(x.index()).into_iter().flatten() {
            if let Some(slot) = position.get(c).and_then(|&j| above.get_mut(j)) {
                *slot = slot.union(from);
            }
        }
    }
    let mut terms: Vec<RoleTerm> = Vec::new();
    for (&x, &covered) in below.iter().zip(&above) {
        let t = target(x);
        if !t.is_empty() && !t.is_subset(covered) {
            terms.push(RoleTerm {
                role: x,
                contexts: avail(x),
                itself: false,
                absent: false,
            });
        }
    }
    let mut unless: Vec<RoleTerm> = Vec::new();
    for (&s, &strictly_above) in below.iter().zip(&above) {
        let t = target(s);
        let excess = strictly_above.difference(t);
        if excess.is_empty() {
            continue;
        }
        let covered = union(
            unless
                .iter()
                .filter(|u| !u.itself && u.role != s && h.is_ancestor(u.role, s))
                .map(|u| u.contexts.intersection(gate)),
        );
        if excess.is_subset(covered) {
            continue;
        }
        // Where `s` must not hold the line: the gate's contexts where it
        // does not (all of them when the line does not reach it).
        let contexts = gate.difference(t);
        let itself = below.iter().any(|&d| {
            d != s && h.is_ancestor(s, d) && !target(d).intersection(contexts).is_empty()
        });
        unless.push(RoleTerm {
            role: s,
            contexts,
            itself,
            absent: !t.is_empty(),
        });
    }
    (terms, unless)
}
