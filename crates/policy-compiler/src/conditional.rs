//! Grants that hold only under conditions (`grants items.delete when own`):
//! for every context and role, the permissions the role holds under some
//! conditions but not always, each with its *ways*: the condition sets any
//! one of which suffices (a disjunction of conjunctions, kept minimal).
//!
//! It follows the rule of the unconditional sets (`sets::compute`):
//! `cond(t, r) = ((⋃ cond(t, parent) ∪ own conditional wildcard grants) −
//! exclusions) ∪ own conditional exact grants`, less what `r` holds on `t`
//! whatever the facts. An exclusion under conditions (`excludes
//! items.delete when archived`) is, for the unconditional sets, an
//! exclusion; here, what it takes away (held always, or under some ways)
//! stays under each way with one of its conditions negated (`not
//! archived`). A policy without a `when` clause computes nothing.

use std::collections::BTreeMap;

use crate::model::*;

/// Adds the way `c` to `ways`, keeping them minimal: a way that needs
/// more than another is dropped (`own` makes `own and x` redundant), and
/// a way no request meets (`own and not own`) is not added.
pub(crate) fn add_way(ways: &mut Vec<ConditionSet>, c: ConditionSet) {
    if c.is_contradictory() || ways.iter().any(|w| w.is_subset(c)) {
        return;
    }
    ways.retain(|w| !c.is_subset(*w));
    ways.push(c);
    ways.sort_unstable();
}

/// The ways of `ways` once an exclusion under `when` applies: each way
/// holds still where `when` does not (one negated literal of it added),
/// less the ways no request meets.
fn unless(ways: &[ConditionSet], when: ConditionSet) -> Vec<ConditionSet> {
    let mut out = Vec::new();
    for &w in ways {
        for n in when.negations() {
            add_way(&mut out, w.union(n));
        }
    }
    out
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
        let conditional = |r: &Role| {
            r.grants.iter().any(|g| !g.when.is_empty())
                || r.exclusions.iter().any(|e| !e.when.is_empty())
        };
        if !roles.iter().any(conditional) {
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
                let active = |g: &&Grant| g.tiers.contains(tier);
                // What a conditional exclusion may take away, held always
                // before it: inherited, or by the role's own wildcard grant.
                for e in role.exclusions.iter().filter(|e| !e.when.is_empty()) {
                    for &p in &e.matches {
                        let inherited = role.parents.iter().any(|x| holds_raw(tier, x.role, p));
                        let own = role.grants.iter().filter(active).any(|g| {
                            g.when.is_empty() && g.pattern.contains('*') && g.matches.contains(&p)
                        });
                        if inherited || own {
                            add_way(held.entry(p).or_default(), ConditionSet::default());
                        }
                    }
                }
                // The role's own conditional wildcard grants, which its
                // exclusions take away from as from what it inherits.
                let (exact, wildcard): (Vec<&Grant>, Vec<&Grant>) = role
                    .grants
                    .iter()
                    .filter(active)
                    .filter(|g| !g.when.is_empty())
                    .partition(|g| !g.pattern.contains('*'));
                for g in wildcard {
                    for p in &g.matches {
                        add_way(held.entry(*p).or_default(), g.when);
                    }
                }
                for e in &role.exclusions {
                    for p in &e.matches {
                        if e.when.is_empty() {
                            held.remove(p);
                        } else if let Some(ways) = held.get_mut(p) {
                            *ways = unless(ways, e.when);
                        }
                    }
                }
                for g in exact {
                    for p in &g.matches {
                        add_way(held.entry(*p).or_default(), g.when);
                    }
                }
                held.retain(|p, ways| !ways.is_empty() && !holds_raw(tier, rid, *p));
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
    // The spans of the permissions and roles held under conditions,
    // gathered once: one lookup per lint (a scan per lint was quadratic).
    let mut held_perms = std::collections::HashSet::new();
    let mut held_roles = std::collections::HashSet::new();
    for (_, r, p, usable, _) in policy.conditional.all() {
        if usable {
            held_perms.insert(p);
            held_roles.insert(r);
        }
    }
    let perm_spans: std::collections::HashSet<_> = held_perms
        .iter()
        .filter_map(|p| policy.permission(*p).map(|x| x.span))
        .collect();
    let role_spans: std::collections::HashSet<_> = held_roles
        .iter()
        .filter_map(|r| policy.role(*r).map(|x| x.span))
        .collect();
    let any_parent_holds = |role: &Role, perm: PermId| {
        role.parents.iter().any(|p| {
            policy
                .tier_ids()
                .any(|t| !policy.conditional.ways(t, p.role, perm).is_empty())
        })
    };
    // The exclusions that take away what a parent holds under conditions,
    // by span (gathered only when some exclusion is reported useless).
    let useful_exclusions: std::collections::HashSet<_> =
        if lints.iter().any(|d| d.code() == Code::UselessExclusion) {
            policy
                .roles()
                .iter()
                .flat_map(|role| {
                    role.exclusions
                        .iter()
                        .filter(|e| e.matches.iter().any(|p| any_parent_holds(role, *p)))
                        .map(|e| e.span)
                })
                .collect()
        } else {
            Default::default()
        };
    lints.retain(|d| {
        let Some(span) = d.primary_span() else {
            return true;
        };
        match d.code() {
            Code::UngrantedPermission => !perm_spans.contains(&span),
            Code::EmptyRole => !role_spans.contains(&span),
            Code::UselessExclusion => !useful_exclusions.contains(&span),
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

    /// The literals of `set` as written in a `when` clause (`own`, `not
    /// archived`), in declaration order.
    pub fn condition_names(&self, set: ConditionSet) -> Vec<String> {
        set.literals()
            .filter_map(|(i, holds)| {
                Some(crate::condition_set::literal_name(
                    &self.conditions.get(i)?.id,
                    holds,
                ))
            })
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
    /// its parents, whose grant of `perm` active on `tier` has conditions
    /// within `way` (exactly `way` unless an exclusion under conditions
    /// added to it, [`Policy::conditional_exclusions`]), with that grant.
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
            let grant = decl.grants.iter().find(|g| {
                g.when.is_subset(way) && g.tiers.contains(tier) && g.matches.contains(&perm)
            });
            if let Some(g) = grant {
                return Some((r, g));
            }
            // Through roles that hold it always, or under fewer conditions.
            for p in &decl.parents {
                if self.holds_raw(tier, p.role, perm)
                    || self
                        .conditional
                        .ways(tier, p.role, perm)
                        .iter()
                        .any(|w| w.is_subset(way))
                {
                    queue.push_back(p.role);
                }
            }
        }
        None
    }

    /// The exclusions under conditions behind a way: those of `role` and
    /// of the roles it inherits from that take `perm` away under
    /// conditions the way says do not hold (`excludes items.delete when
    /// archived` behind `not archived`), nearest first.
    pub fn conditional_exclusions(
        &self,
        role: RoleId,
        perm: PermId,
        way: ConditionSet,
    ) -> Vec<(RoleId, &Exclusion)> {
        let mut out = Vec::new();
        let mut seen = vec![false; self.roles.len()];
        let mut queue = std::collections::VecDeque::from([role]);
        while let Some(r) = queue.pop_front() {
            let Some(decl) = self.role(r) else { continue };
            if seen
                .get_mut(r.index())
                .is_none_or(|s| std::mem::replace(s, true))
            {
                continue;
            }
            for e in &decl.exclusions {
                let behind = !e.when.is_empty()
                    && e.matches.contains(&perm)
                    && e.when.negations().any(|n| n.is_subset(way));
                if behind {
                    out.push((r, e));
                }
            }
            queue.extend(decl.parents.iter().map(|p| p.role));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use policy_syntax::SourceFile;

    use crate::model::*;
    use crate::{Facts, Outcome};

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

    /// `not` and an exclusion under conditions: `member` inherits
    /// `items.delete` always from `guest` but gives it up when `archived`
    /// holds (so holds it when `not archived`); a way that needs `own`
    /// keeps it, less `archived`; the explanation names the exclusion.
    #[test]
    fn an_exclusion_under_conditions_leaves_the_negated_way() {
        let p = compile(
            "condition own \"Own\"\ncondition archived \"Archived\"\n\
             permission items.delete \"Delete\"\npermission items.edit \"Edit\"\n\
             permission items.view \"View\"\n\
             role guest \"Guest\" {\n  grants items.delete\n  grants items.edit when own\n  \
             grants items.view when not archived\n}\n\
             role member \"Member\" {\n  inherits guest\n  excludes items.delete, items.edit when archived\n}\n\
             role admin \"Admin\" {\n  inherits member\n}\n",
        );
        let (t, del, edit, view) = (TierId(0), PermId(0), PermId(1), PermId(2));
        let guest = p.role_id("guest").unwrap();
        let member = p.role_id("member").unwrap();
        let admin = p.role_id("admin").unwrap();
        let own = ConditionSet::literal(0, true);
        let not_archived = ConditionSet::literal(1, false);
        assert!(p.allows(t, guest, del));
        // Taken away for the table; held when `not archived`.
        assert!(!p.allows(t, member, del));
        assert_eq!(p.conditional_ways(t, member, del), [not_archived]);
        assert_eq!(p.conditional_ways(t, admin, del), [not_archived]);
        assert_eq!(
            p.conditional_ways(t, member, edit),
            [own.union(not_archived)]
        );
        assert_eq!(p.conditional_ways(t, guest, view), [not_archived]);
        assert_eq!(
            p.condition_names(own.union(not_archived)),
            ["own", "not archived"]
        );
        // The grant behind the way, and the exclusion.
        let (by, g) = p.conditional_grant(t, admin, del, not_archived).unwrap();
        assert_eq!((by, g.pattern.as_str()), (guest, "items.delete"));
        let ex = p.conditional_exclusions(admin, del, not_archived);
        assert_eq!(ex.len(), 1);
        assert_eq!(ex[0].0, member);
        // Outcomes under facts.
        let mut facts = Facts::default();
        assert!(matches!(
            p.outcome(false, t, &[member], del, facts),
            Outcome::Conditional { .. }
        ));
        facts.set(1, true);
        assert_eq!(p.outcome(false, t, &[member], del, facts), Outcome::Deny);
        facts.set(1, false);
        assert_eq!(
            p.outcome(false, t, &[member], del, facts),
            Outcome::Allow { when: not_archived }
        );
        let d = p.explain_with(&p, t, &[admin], del, facts);
        assert!(d.allowed);
        assert_eq!(d.when, ["not archived"]);
        let message = &d.reasons[0].message;
        assert!(
            message.contains("when `not archived`, by `guest`'s grant")
                && message.contains(
                    "unless `archived` (`member`'s `excludes items.delete when archived`)"
                ),
            "{message}"
        );
    }

    /// `when own and not own` is `P0218`, and the grant allows nothing.
    #[test]
    fn a_contradictory_clause_is_an_error() {
        let (p, d) = crate::compile(&SourceFile::new(
            "c.policy",
            "condition own \"Own\"\npermission a.b \"A\"\n\
             role r \"R\" {\n  grants a.b when own and not own\n}\n",
        ));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code(), policy_syntax::Code::ContradictoryConditions);
        assert!(p
            .conditional_ways(TierId(0), RoleId(0), PermId(0))
            .is_empty());
    }
}
