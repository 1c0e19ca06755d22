//! Where a role's permissions come from on a tier, for every role at once:
//! whether the role grants each itself, and the ancestors it inherits each
//! from (those that grant it on the tier and pass it down through roles
//! that all hold it). The snapshot's "granted" and "inherited from a, b"
//! are this, worded by [`super::wording::snapshot`]; like every other
//! explanation, it is the one walk over the inheritance here, in `explain`.

use std::collections::BTreeSet;
use std::rc::Rc;

use crate::model::{PermId, Policy, Role, RoleId, TierId};

/// The roles one permission is inherited from, as positions in the role
/// list given to [`Policy::provenance`] (so in that list's order); shared
/// along chains.
type Sources = Rc<BTreeSet<u32>>;

/// Where every role's raw permissions on one tier come from
/// ([`Policy::provenance`]).
pub(crate) struct Provenance {
    /// Per role, its raw permissions (ascending) with the roles it
    /// inherits each from.
    rows: Vec<Vec<(PermId, Sources)>>,
    /// Per role, what it grants itself on the tier (ascending).
    granted: Vec<Vec<PermId>>,
    /// The parents' entries merged to build the rows (the work done).
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the tests"))]
    pub(crate) merged: usize,
}

impl Provenance {
    /// `role`'s raw permissions on the tier (ascending, availability
    /// ignored), each with whether the role grants it itself (a grant
    /// active on the tier) and the roles it inherits it from, as positions
    /// in the list given to [`Policy::provenance`]. Empty for an unknown
    /// role.
    pub(crate) fn row(
        &self,
        role: RoleId,
    ) -> impl Iterator<Item = (PermId, bool, &BTreeSet<u32>)> + '_ {
        let own = self
            .granted
            .get(role.index())
            .map_or(&[][..], Vec::as_slice);
        self.rows
            .get(role.index())
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(move |(p, from)| (*p, own.binary_search(p).is_ok(), &**from))
    }
}

impl Policy {
    /// Where every role's raw permissions on `tier` come from: for each
    /// role and permission it holds, whether it grants it itself and the
    /// ancestors it inherits it from, named by their position in `listed`
    /// (every role once, in the order the caller lists them: each set
    /// iterates in that order).
    ///
    /// Built from the parents' rows, roles in resolution order (parents
    /// first): a role's row is the union of its parents' rows, each parent
    /// adding itself where it grants the permission. A parent that is also
    /// a parent of another parent `b` (the latest in resolution order) adds
    /// nothing when `b` excludes nothing: `b` holds all it holds, and its
    /// sources already include that parent's. So an inheritance chain, or
    /// roles that each inherit every earlier one, cost time proportional to
    /// the output, not the sum of the parents' rows.
    pub(crate) fn provenance(&self, tier: TierId, listed: &[RoleId]) -> Provenance {
        let n_roles = self.roles().len();
        let mut rank = vec![u32::MAX; n_roles];
        for (k, r) in listed.iter().enumerate() {
            if let Some(slot) = rank.get_mut(r.index()) {
                *slot = k as u32;
            }
        }
        let granted: Vec<Vec<PermId>> = self
            .roles()
            .iter()
            .map(|role| {
                let mut own: Vec<PermId> = role
                    .grants
                    .iter()
                    .filter(|g| g.holds_on(tier))
                    .flat_map(|g| g.matches.iter().copied())
                    .collect();
                own.sort_unstable();
                own.dedup();
                own
            })
            .collect();
        let mut position = vec![usize::MAX; n_roles];
        for (k, r) in self.resolution_order().iter().enumerate() {
            if let Some(slot) = position.get_mut(r.index()) {
                *slot = k;
            }
        }
        let empty: Sources = Rc::new(BTreeSet::new());
        let mut rows: Vec<Vec<(PermId, Sources)>> = vec![Vec::new(); n_roles];
        // Per permission, its index in the row being built (u32::MAX: none).
        let mut slot_of = vec![u32::MAX; self.permissions().len()];
        let mut parents: Vec<RoleId> = Vec::new();
        let mut merged = 0;
        for &r in self.resolution_order() {
            let Some(decl) = self.role(r) else {
                continue;
            };
            active_parents(self, decl, &position, &mut parents);
            let raw = self.raw_perms(tier, r);
            for (k, p) in raw.iter().enumerate() {
                if let Some(s) = slot_of.get_mut(p.index()) {
                    *s = k as u32;
                }
            }
            let mut row: Vec<(PermId, Option<Sources>)> = raw.iter().map(|&p| (p, None)).collect();
            for &q in &parents {
                let (Some(theirs), Some(own)) = (rows.get(q.index()), granted.get(q.index()))
                else {
                    continue;
                };
                let q_rank = rank.get(q.index()).copied().unwrap_or(u32::MAX);
                merged += theirs.len();
                for (p, theirs) in theirs {
                    let Some((_, from)) = slot_of
                        .get(p.index())
                        .and_then(|&k| row.get_mut(k as usize))
                    else {
                        continue; // the role excludes it
                    };
                    let adds_self = own.binary_search(p).is_ok();
                    *from = Some(merge(from.take(), theirs, adds_self.then_some(q_rank)));
                }
            }
            for p in &raw {
                if let Some(s) = slot_of.get_mut(p.index()) {
                    *s = u32::MAX;
                }
            }
            if let Some(slot) = rows.get_mut(r.index()) {
                *slot = row
                    .into_iter()
                    .map(|(p, f)| (p, f.unwrap_or_else(|| Rc::clone(&empty))))
                    .collect();
            }
        }
        Provenance {
            rows,
            granted,
            merged,
        }
    }
}

/// The parents of `decl` whose rows a role must merge, into `out`: all of
/// them, except those that are parents of the latest one in resolution
/// order when that one excludes nothing (it already holds and passes on
/// everything they do).
fn active_parents(policy: &Policy, decl: &Role, position: &[usize], out: &mut Vec<RoleId>) {
    out.clear();
    out.extend(decl.parents.iter().map(|p| p.role));
    if out.len() < 2 {
        return;
    }
    let pos = |r: RoleId| position.get(r.index()).copied().unwrap_or(usize::MAX);
    let Some(base) = out.iter().copied().max_by_key(|&r| pos(r)) else {
        return;
    };
    let Some(base_decl) = policy.role(base) else {
        return;
    };
    if !base_decl.exclusions.is_empty() {
        return;
    }
    let mut covered: Vec<RoleId> = base_decl.parents.iter().map(|p| p.role).collect();
    covered.push(base);
    covered.sort_unstable();
    out.retain(|r| covered.binary_search(r).is_err());
    out.push(base);
}

/// `mine` with `theirs` (a parent's sources of one permission) added, and
/// the parent itself (`parent`, its rank) when it grants the permission;
/// shares `theirs` or `mine` when nothing is added to it.
fn merge(mine: Option<Sources>, theirs: &Sources, parent: Option<u32>) -> Sources {
    match mine {
        None => match parent {
            None => Rc::clone(theirs),
            Some(q) => {
                let mut set = BTreeSet::clone(theirs);
                set.insert(q);
                Rc::new(set)
            }
        },
        Some(mine) => {
            if parent.is_none_or(|q| mine.contains(&q))
                && (Rc::ptr_eq(&mine, theirs) || theirs.is_subset(&mine))
            {
                mine
            } else {
                let mut set = BTreeSet::clone(&mine);
                set.extend(theirs.iter().copied());
                set.extend(parent);
                Rc::new(set)
            }
        }
    }
}
