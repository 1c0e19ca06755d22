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

use policy_compiler::{ConditionSet, PermId, Policy, RoleId, TierSet};
use policy_syntax::Span;

/// A role's place in the hierarchy.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    /// `anc[s][x]`: `x` is `s` or a role `s` inherits, directly or not.
    anc: Vec<Vec<bool>>,
    /// The roles that inherit each role directly, in declaration order.
    pub children: Vec<Vec<RoleId>>,
    /// Every role, parents first.
    order: Vec<RoleId>,
}

impl Hierarchy {
    /// The hierarchy of `policy` (`inherits` and `acts as` edges alike).
    pub fn new(policy: &Policy) -> Self {
        let n = policy.roles().len();
        let mut anc = vec![vec![false; n]; n];
        let mut children: Vec<Vec<RoleId>> = vec![Vec::new(); n];
        let order = policy.resolution_order().to_vec();
        for &r in &order {
            let mut row = vec![false; n];
            if let Some(slot) = row.get_mut(r.index()) {
                *slot = true;
            }
            for p in policy.role(r).map_or(&[][..], |role| &role.parents) {
                if let Some(parent_row) = anc.get(p.role.index()) {
                    for (slot, &a) in row.iter_mut().zip(parent_row) {
                        *slot |= a;
                    }
                }
                if let Some(c) = children.get_mut(p.role.index()) {
                    if !c.contains(&r) {
                        c.push(r);
                    }
                }
            }
            if let Some(slot) = anc.get_mut(r.index()) {
                *slot = row;
            }
        }
        for c in &mut children {
            c.sort();
        }
        Hierarchy {
            anc,
            children,
            order,
        }
    }

    /// Whether `x` is `s` or a role `s` inherits.
    pub fn is_ancestor(&self, x: RoleId, s: RoleId) -> bool {
        self.anc
            .get(s.index())
            .and_then(|row| row.get(x.index()))
            .copied()
            .unwrap_or(false)
    }

    /// `g` and the roles that inherit it, parents first.
    fn below(&self, g: RoleId) -> Vec<RoleId> {
        self.order
            .iter()
            .copied()
            .filter(|&s| self.is_ancestor(g, s))
            .collect()
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
    /// Its permissions for a target that reads exclusions as given: the
    /// exact ones, and the wildcards' less what the role excludes always.
    fn perms(&self, role: &policy_compiler::Role) -> Vec<PermId> {
        let own_excluded = |p: &PermId| {
            role.exclusions
                .iter()
                .any(|e| e.when.is_empty() && e.matches.contains(p))
        };
        let mut out = self.exact.clone();
        for p in self.matched.iter().filter(|p| !own_excluded(p)) {
            if !out.contains(p) {
                out.push(*p);
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
        for &p in &g.matches {
            if !into.contains(&p) {
                into.push(p);
            }
        }
    }
    out.into_iter().map(|(_, l)| l).collect()
}

fn union(sets: impl IntoIterator<Item = TierSet>) -> TierSet {
    TierSet(sets.into_iter().fold(0, |a, s| a | s.0))
}

fn subset(a: TierSet, b: TierSet) -> bool {
    a.0 & !b.0 == 0
}

/// The plan of `policy` (which has no conditional exclusion: the caller
/// refuses those first).
pub fn plan(policy: &Policy) -> Plan {
    let hierarchy = Hierarchy::new(policy);
    let excluded = |s: RoleId, p: PermId| {
        policy.role(s).is_some_and(|role| {
            role.exclusions
                .iter()
                .any(|e| e.when.is_empty() && e.matches.contains(&p))
        })
    };
    let avail = |s: RoleId| policy.role(s).map_or(TierSet(0), |r| r.tiers);
    let mut rules = Vec::new();
    for g in (0..policy.roles().len() as u32).map(RoleId) {
        let below = hierarchy.below(g);
        let Some(role) = policy.role(g) else {
            continue;
        };
        for line in lines(policy, g) {
            // Permissions grouped by the roles the line reaches with them.
            let mut groups: BTreeMap<Vec<RoleId>, Vec<PermId>> = BTreeMap::new();
            let mut first: Vec<Vec<RoleId>> = Vec::new();
            for p in line.perms(role) {
                let mut reached: Vec<RoleId> = Vec::new();
                for &s in &below {
                    let via_parent = policy
                        .role(s)
                        .is_some_and(|role| role.parents.iter().any(|x| reached.contains(&x.role)));
                    if s == g || (via_parent && !excluded(s, p)) {
                        reached.push(s);
                    }
                }
                if !groups.contains_key(&reached) {
                    first.push(reached.clone());
                }
                groups.entry(reached).or_default().push(p);
            }
            for reached in first {
                let perms = groups.remove(&reached).unwrap_or_default();
                let target = |s: RoleId| {
                    if reached.contains(&s) {
                        TierSet(avail(s).0 & line.gate.0)
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
                    terms,
                    unless,
                });
            }
        }
    }
    let all = TierSet::all(policy.tier_count());
    let mut by_contexts: BTreeMap<u64, Vec<PermId>> = BTreeMap::new();
    let mut order: Vec<u64> = Vec::new();
    for (i, p) in policy.permissions().iter().enumerate() {
        if p.tiers != all {
            if !by_contexts.contains_key(&p.tiers.0) {
                order.push(p.tiers.0);
            }
            by_contexts
                .entry(p.tiers.0)
                .or_default()
                .push(PermId(i as u32));
        }
    }
    let existence = order
        .into_iter()
        .map(|c| Existence {
            perms: by_contexts.remove(&c).unwrap_or_default(),
            contexts: TierSet(c),
        })
        .collect();
    Plan {
        hierarchy,
        rules,
        existence,
    }
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
        if t.0 != 0 && !subset(t, covered) {
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
        let excess = TierSet(up.0 & !t.0);
        if excess.0 == 0 {
            continue;
        }
        let covered = union(
            unless
                .iter()
                .filter(|u| !u.itself && u.role != s && h.is_ancestor(u.role, s))
                .map(|u| TierSet(u.contexts.0 & gate.0)),
        );
        if subset(excess, covered) {
            continue;
        }
        // Where `s` must not hold the line: the gate's contexts where it
        // does not (all of them when the line does not reach it).
        let contexts = TierSet(gate.0 & !t.0);
        let itself = below
            .iter()
            .any(|&d| d != s && h.is_ancestor(s, d) && target(d).0 & contexts.0 != 0);
        unless.push(RoleTerm {
            role: s,
            contexts,
            itself,
            absent: t.0 != 0,
        });
    }
    (terms, unless)
}
