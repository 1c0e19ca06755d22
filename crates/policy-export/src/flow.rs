//! How a grant line's permissions flow down the role hierarchy: the
//! hierarchy itself, a role's grant lines, and the roles each line
//! reaches with each permission. The one reading every target shares.

use fixedbitset::FixedBitSet;
use policy_compiler::{ConditionSet, Exclusion, PermId, Policy, RoleId, TierSet};
use policy_syntax::Span;

/// A role's place in the hierarchy.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    /// `anc[s]`: the roles `s` is or inherits, directly or not (one bit
    /// per role).
    anc: Vec<FixedBitSet>,
    /// The roles that inherit each role directly, in declaration order.
    pub children: Vec<Vec<RoleId>>,
    /// Each role's place in the policy's resolution order (parents first).
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

/// `roles` as a set: one bit per role of `policy`.
pub(crate) fn role_set(policy: &Policy, roles: &[RoleId]) -> FixedBitSet {
    let mut set = FixedBitSet::with_capacity(policy.roles().len());
    for r in roles {
        set.insert(r.index());
    }
    set
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
