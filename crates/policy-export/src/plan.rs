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

use std::collections::BTreeMap;

use fixedbitset::FixedBitSet;
use policy_compiler::{ConditionSet, Exclusion, PermId, Policy, RoleId, TierSet};
use policy_syntax::Span;

use crate::split::{exclusion_conditions, split_line, Part, MAX_EXCLUSION_CONDITIONS};

/// A role's place in the hierarchy.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    /// `anc[s]`: the roles `s` is or inherits, directly or not (one bit
    /// per role).
    anc: Vec<FixedBitSet>,
    /// The roles that inherit each role directly, in declaration order.
    pub children: Vec<Vec<RoleId>>,
    /// Each role's place in [`Hierarchy::order`] (parents first).
    position: Vec<usize>,
}

impl Hierarchy {
    /// The hierarchy of `policy` (`inherits` and `acts as` edges alike).
    pub fn new(policy: &Policy) -> Self {
        let n = policy.roles().len();
        let mut anc = vec![FixedBitSet::with_capacity(n); n];
        let mut children: Vec<Vec<RoleId>> = vec![Vec::new(); n];
        let mut position = vec![0; n];
        for (i, &r) in policy.resolution_order().iter().enumerate() {
            if let Some(slot) = position.get_mut(r.index()) {
                *slot = i;
            }
            let mut row = FixedBitSet::with_capacity(n);
            row.insert(r.index());
            for p in policy.role(r).map_or(&[][..], |role| &role.parents) {
                if let Some(parent_row) = anc.get(p.role.index()) {
                    row.union_with(parent_row);
                }
                if let Some(c) = children.get_mut(p.role.index()) {
                    c.push(r);
                }
            }
            if let Some(slot) = anc.get_mut(r.index()) {
                *slot = row;
            }
        }
        for c in &mut children {
            c.sort();
            c.dedup();
        }
        Hierarchy {
            anc,
            children,
            position,
        }
    }

    /// Whether `x` is `s` or a role `s` inherits.
    pub fn is_ancestor(&self, x: RoleId, s: RoleId) -> bool {
        self.anc
            .get(s.index())
            .is_some_and(|row| row.contains(x.index()))
    }

    /// `g` and the roles that inherit it, directly or not, parents first.
    pub fn below(&self, g: RoleId) -> Vec<RoleId> {
        let mut seen = FixedBitSet::with_capacity(self.anc.len());
        let mut out = Vec::new();
        let mut stack = vec![g];
        while let Some(r) = stack.pop() {
            if r.index() >= seen.len() || seen.put(r.index()) {
                continue;
            }
            out.push(r);
            stack.extend(self.children.get(r.index()).into_iter().flatten());
        }
        out.sort_by_key(|r| self.position.get(r.index()).copied().unwrap_or(usize::MAX));
        out
    }
}

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

/// A grant line: consecutive `grants` items of one role with one line,
/// `on` and `when`.
pub(crate) struct Line {
    /// The patterns, as written.
    pub patterns: Vec<String>,
    /// Where the first pattern is.
    pub span: Span,
    /// The `on` clause.
    pub gate: TierSet,
    /// The `when` clause.
    pub when: ConditionSet,
    /// The permissions its exact items name.
    pub exact: Vec<PermId>,
    /// The permissions its wildcards match (before the role's exclusions).
    pub matched: Vec<PermId>,
}

impl Line {
    /// Its permissions when the exclusions `active` says take effect:
    /// the exact ones, and the wildcards' less what the role itself
    /// excludes (an exclusion takes from the role's wildcards too).
    pub(crate) fn perms(
        &self,
        role: &policy_compiler::Role,
        active: &dyn Fn(&Exclusion) -> bool,
    ) -> Vec<PermId> {
        let mut seen: std::collections::HashSet<PermId> = self.exact.iter().copied().collect();
        let mut out = self.exact.clone();
        let own_excluded: std::collections::HashSet<PermId> = role
            .exclusions
            .iter()
            .filter(|e| active(e))
            .flat_map(|e| e.matches.iter().copied())
            .collect();
        for &p in &self.matched {
            if !own_excluded.contains(&p) && seen.insert(p) {
                out.push(p);
            }
        }
        out
    }
}

/// The grant lines of a role, in order.
pub(crate) fn lines(policy: &Policy, r: RoleId) -> Vec<Line> {
    let Some(role) = policy.role(r) else {
        return Vec::new();
    };
    let mut out: Vec<(usize, Line)> = Vec::new();
    for g in &role.grants {
        let line_no = policy.location(g.span).line;
        let line = match out.last_mut() {
            Some((n, l)) if *n == line_no && l.gate == g.tiers && l.when == g.when => {
                l.patterns.push(g.pattern.clone());
                l
            }
            _ => {
                out.push((
                    line_no,
                    Line {
                        patterns: vec![g.pattern.clone()],
                        span: g.span,
                        gate: g.tiers,
                        when: g.when,
                        exact: Vec::new(),
                        matched: Vec::new(),
                    },
                ));
                match out.last_mut() {
                    Some((_, l)) => l,
                    None => continue,
                }
            }
        };
        let into = if g.pattern.contains('*') {
            &mut line.matched
        } else {
            &mut line.exact
        };
        into.extend_from_slice(&g.matches);
    }
    out.into_iter()
        .map(|(_, mut l)| {
            dedup(&mut l.exact);
            dedup(&mut l.matched);
            l
        })
        .collect()
}

/// Drops the repeats of `list`, keeping each first place.
fn dedup(list: &mut Vec<PermId>) {
    let mut seen = std::collections::HashSet::with_capacity(list.len());
    list.retain(|p| seen.insert(*p));
}

/// The roles of `below` (`g` and the roles that inherit it, parents
/// first) that the line of `g` reaches with `p`: `g`, and a role one of
/// whose parents it reaches, unless that role excludes `p` by an
/// exclusion `active` says takes effect. The one reading of how
/// permissions flow down the hierarchy that every target shares.
pub(crate) fn reached(
    policy: &Policy,
    below: &[RoleId],
    g: RoleId,
    p: PermId,
    active: &dyn Fn(&Exclusion) -> bool,
) -> Vec<RoleId> {
    let mut hit = FixedBitSet::with_capacity(policy.roles().len());
    let mut out = Vec::new();
    for &s in below {
        let Some(role) = policy.role(s) else {
            continue;
        };
        let via_parent = role.parents.iter().any(|x| hit.contains(x.role.index()));
        let excluded = || {
            role.exclusions
                .iter()
                .any(|e| active(e) && e.matches.contains(&p))
        };
        if s == g || (via_parent && !excluded()) {
            hit.insert(s.index());
            out.push(s);
        }
    }
    out
}

/// A line's permissions grouped by the roles it reaches with them (see
/// [`reached`]), each group in the order its first permission comes; a
/// permission the line gives no role (a wildcard's, which the role itself
/// excludes) is left out.
pub(crate) fn reach_groups(
    policy: &Policy,
    below: &[RoleId],
    g: RoleId,
    line: &Line,
    active: &dyn Fn(&Exclusion) -> bool,
) -> Vec<(Vec<RoleId>, Vec<PermId>)> {
    let Some(role) = policy.role(g) else {
        return Vec::new();
    };
    let mut groups: Vec<(Vec<RoleId>, Vec<PermId>)> = Vec::new();
    let mut index: std::collections::HashMap<Vec<RoleId>, usize> = std::collections::HashMap::new();
    for p in line.perms(role, active) {
        let r = reached(policy, below, g, p, active);
        match index.get(&r) {
            Some(&i) => {
                if let Some((_, perms)) = groups.get_mut(i) {
                    perms.push(p);
                }
            }
            None => {
                index.insert(r.clone(), groups.len());
                groups.push((r, vec![p]));
            }
        }
    }
    groups
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
                let mut hit = FixedBitSet::with_capacity(policy.roles().len());
                for s in &reached {
                    hit.insert(s.index());
                }
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
    let strict_ancestors = |s: RoleId| {
        below
            .iter()
            .copied()
            .filter(move |&x| x != s && h.is_ancestor(x, s))
    };
    let mut terms: Vec<RoleTerm> = Vec::new();
    for &x in below {
        let t = target(x);
        let covered = union(strict_ancestors(x).map(target));
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
    for &s in below {
        let up = union(
            below
                .iter()
                .copied()
                .filter(|&x| h.is_ancestor(x, s))
                .map(target),
        );
        let t = target(s);
        let excess = up.difference(t);
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
