//! Grants that hold only under conditions (`grants items.delete when own`):
//! for every context and role, the permissions the role holds under some
//! conditions but not always, each with its *ways*: the condition sets any
//! one of which suffices (a disjunction of conjunctions, kept minimal).
//!
//! It follows the rule of the unconditional sets (`sets::compute`):
//! `cond(t, r) = ((⋃ cond(t, parent) ∪ own conditional wildcard grants) −
//! exclusions) ∪ own conditional exact grants`, less what `r` holds on `t`
//! whatever the facts. A policy without a `when` clause computes nothing.

use std::collections::BTreeMap;

use crate::model::*;

/// Adds the way `c` to `ways`, keeping them minimal: a way that needs
/// more than another is dropped (`own` makes `own and x` redundant).
pub(crate) fn add_way(ways: &mut Vec<ConditionSet>, c: ConditionSet) {
    if ways.iter().any(|w| w.is_subset(c)) {
        return;
    }
    ways.retain(|w| !c.is_subset(*w));
    ways.push(c);
    ways.sort_unstable();
}

impl ConditionalSets {
    /// Computes the conditional sets of `roles` on every context, parents
    /// first (`order`); `holds_raw` is the unconditional raw set, and
    /// `usable` whether a role and a permission both exist on a context.
    pub(crate) fn compute(
        tier_count: usize,
        roles: &[Role],
        order: &[RoleId],
        holds_raw: impl Fn(TierId, RoleId, PermId) -> bool,
        usable: impl Fn(TierId, RoleId, PermId) -> bool,
    ) -> Self {
        let n = roles.len();
        if !roles
            .iter()
            .any(|r| r.grants.iter().any(|g| !g.when.is_empty()))
        {
            return ConditionalSets::default();
        }
        let mut slots: Vec<Vec<(PermId, Vec<ConditionSet>)>> = vec![Vec::new(); tier_count * n];
        for t in 0..tier_count {
            let tier = TierId(t as u32);
            for &rid in order {
                let Some(role) = roles.get(rid.index()) else {
                    continue;
                };
                let mut held: BTreeMap<PermId, Vec<ConditionSet>> = BTreeMap::new();
                for p in &role.parents {
                    for (perm, ways) in slots.get(t * n + p.role.index()).into_iter().flatten() {
                        let entry = held.entry(*perm).or_default();
                        for w in ways {
                            add_way(entry, *w);
                        }
                    }
                }
                for e in &role.exclusions {
                    for p in &e.matches {
                        held.remove(p);
                    }
                }
                let conditional = role
                    .grants
                    .iter()
                    .filter(|g| !g.when.is_empty() && g.tiers.contains(tier));
                for g in conditional {
                    let wildcard = g.pattern.contains('*');
                    for p in &g.matches {
                        // As unconditionally: an exclusion wins over the
                        // role's own wildcard grant.
                        if wildcard && role.exclusions.iter().any(|e| e.matches.contains(p)) {
                            continue;
                        }
                        add_way(held.entry(*p).or_default(), g.when);
                    }
                }
                held.retain(|p, _| !holds_raw(tier, rid, *p));
                if let Some(s) = slots.get_mut(t * n + rid.index()) {
                    *s = held.into_iter().collect();
                }
            }
        }
        // Flattened: a clone of the policy then copies a few vectors.
        let mut sets = ConditionalSets {
            starts: Vec::with_capacity(slots.len() + 1),
            n_roles: n,
            ..ConditionalSets::default()
        };
        sets.starts.push(0);
        for (slot, entries) in slots.into_iter().enumerate() {
            let (tier, role) = (TierId((slot / n) as u32), RoleId((slot % n) as u32));
            for (perm, ways) in entries {
                sets.way_starts.push(sets.ways.len());
                sets.perms.push(perm);
                sets.usable.push(usable(tier, role, perm));
                sets.ways.extend(ways);
            }
            sets.starts.push(sets.perms.len());
        }
        sets.way_starts.push(sets.ways.len());
        sets
    }
}

/// Drops the lints of the unconditional sets that conditional grants
/// answer: a permission held under conditions is held (`P0304`), a role
/// that holds something under conditions is not empty (`P0306`), and an
/// exclusion that takes away what a parent holds under conditions does
/// something (`P0302`).
pub(crate) fn refine_lints(policy: &Policy, lints: &mut Vec<policy_syntax::Diagnostic>) {
    use policy_syntax::Code;
    if !policy.has_conditional() {
        return;
    }
    let held: Vec<(TierId, RoleId, PermId)> = policy
        .conditional
        .all()
        .filter(|(_, _, _, usable, _)| *usable)
        .map(|(t, r, p, _, _)| (t, r, p))
        .collect();
    let any_parent_holds = |role: &Role, perm: PermId| {
        role.parents.iter().any(|p| {
            policy
                .tier_ids()
                .any(|t| !policy.conditional.ways(t, p.role, perm).is_empty())
        })
    };
    lints.retain(|d| {
        let Some(span) = d.primary_span() else {
            return true;
        };
        match d.code() {
            Code::UngrantedPermission => !held
                .iter()
                .any(|(_, _, p)| policy.permission(*p).is_some_and(|x| x.span == span)),
            Code::EmptyRole => !held
                .iter()
                .any(|(_, r, _)| policy.role(*r).is_some_and(|x| x.span == span)),
            Code::UselessExclusion => !policy.roles().iter().any(|role| {
                role.exclusions
                    .iter()
                    .any(|e| e.span == span && e.matches.iter().any(|p| any_parent_holds(role, *p)))
            }),
            _ => true,
        }
    });
}

impl Policy {
    /// The declared conditions, in declaration order (a [`ConditionSet`]
    /// indexes into them).
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// The index of the condition named `id`.
    pub fn condition_id(&self, id: &str) -> Option<usize> {
        self.conditions.iter().position(|c| c.id == id)
    }

    /// The ids of the conditions of `set`, in declaration order.
    pub fn condition_names(&self, set: ConditionSet) -> Vec<&str> {
        set.iter()
            .filter_map(|i| self.conditions.get(i).map(|c| c.id.as_str()))
            .collect()
    }

    /// Whether some role holds some permission only under conditions.
    pub fn has_conditional(&self) -> bool {
        !self.conditional.is_empty()
    }

    /// The ways `role` may use `perm` on `tier` under conditions: each a
    /// set of conditions that, all holding, allow it. Empty where it is
    /// always allowed or never (the role not available there, the
    /// permission not existing there, or no conditional grant).
    pub fn conditional_ways(&self, tier: TierId, role: RoleId, perm: PermId) -> &[ConditionSet] {
        self.conditional.usable_ways(tier, role, perm)
    }

    /// Every cell held under conditions only where its role and its
    /// permission both exist, with its ways (as
    /// [`Policy::conditional_ways`] gives them), by context, then role,
    /// then permission: what an evaluator indexes.
    pub fn conditional_cells(
        &self,
    ) -> impl Iterator<Item = (TierId, RoleId, PermId, &[ConditionSet])> + '_ {
        self.conditional
            .all()
            .filter(|(_, _, _, usable, _)| *usable)
            .map(|(t, r, p, _, ways)| (t, r, p, ways))
    }

    /// The grant behind a way: the nearest role, from `role` up through
    /// its parents, whose conditional grant of `perm` active on `tier`
    /// has exactly the conditions `way`, with that grant.
    pub fn conditional_grant(
        &self,
        tier: TierId,
        role: RoleId,
        perm: PermId,
        way: ConditionSet,
    ) -> Option<(RoleId, &Grant)> {
        let mut seen = vec![false; self.roles.len()];
        let mut queue = std::collections::VecDeque::from([role]);
        while let Some(r) = queue.pop_front() {
            if std::mem::replace(seen.get_mut(r.index())?, true) {
                continue;
            }
            let decl = self.role(r)?;
            let grant = decl
                .grants
                .iter()
                .find(|g| g.when == way && g.tiers.contains(tier) && g.matches.contains(&perm));
            if let Some(g) = grant {
                return Some((r, g));
            }
            // Through roles that still hold it under conditions.
            for p in &decl.parents {
                if self.conditional.ways(tier, p.role, perm).contains(&way) {
                    queue.push_back(p.role);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use policy_syntax::SourceFile;

    use crate::model::*;

    fn compile(text: &str) -> Policy {
        let (p, d) = crate::compile(&SourceFile::new("c.policy", text));
        assert!(d.is_empty(), "{d:?}");
        p
    }

    #[test]
    fn ways_pass_to_children_stay_minimal_and_yield_to_unconditional_grants() {
        let p = compile(
            "condition own \"Own\"\ncondition public \"Public\"\n\
             permission items.delete \"Delete\"\npermission items.view \"View\"\n\
             role guest \"Guest\" {\n  grants items.* when own and public\n  grants items.delete when own\n}\n\
             role member \"Member\" {\n  inherits guest\n  grants items.view\n}\n\
             role editor \"Editor\" {\n  inherits member\n  excludes items.delete\n}\n",
        );
        let (t, del, view) = (TierId(0), PermId(0), PermId(1));
        let own = ConditionSet(1);
        let both = ConditionSet(3);
        let guest = p.role_id("guest").unwrap();
        let member = p.role_id("member").unwrap();
        let editor = p.role_id("editor").unwrap();
        // `own` makes `own and public` redundant for `items.delete`.
        assert_eq!(p.conditional_ways(t, guest, del), [own]);
        assert_eq!(p.conditional_ways(t, guest, view), [both]);
        assert!(
            !p.allows(t, guest, del),
            "a conditional grant never allows by itself"
        );
        // Inherited; `items.view` is the member's whatever the facts.
        assert_eq!(p.conditional_ways(t, member, del), [own]);
        assert!(p.conditional_ways(t, member, view).is_empty());
        // An exclusion takes the conditional permission away too.
        assert!(p.conditional_ways(t, editor, del).is_empty());
        let (r, g) = p.conditional_grant(t, member, del, own).unwrap();
        assert_eq!((r, g.pattern.as_str()), (guest, "items.delete"));
        assert_eq!(p.condition_names(both), ["own", "public"]);
    }

    #[test]
    fn a_policy_without_conditions_computes_nothing() {
        let p = compile("permission a.b \"A\"\nrole r \"R\" { grants a.b }\n");
        assert!(!p.has_conditional());
        assert!(p
            .conditional_ways(TierId(0), RoleId(0), PermId(0))
            .is_empty());
    }
}
