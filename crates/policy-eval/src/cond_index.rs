//! The cells held only under conditions, indexed for the hot path of
//! [`crate::Evaluator::outcome`]: one open-addressing table keyed by the
//! cell's number (`(tier × roles + role) × permissions + permission`),
//! each slot holding the cell's way inline, so that a conditional decision
//! with facts costs, beyond the table's verdict, a hash and usually one
//! load. The compiler's [`Policy::conditional_ways`] (a binary search in
//! the slot's entries, then their ways, each in its own vector) gives the
//! same ways; a cell with several ways, or a policy too large to number its
//! cells, is read from it.

use policy_compiler::{ConditionSet, PermId, Policy, RoleId, TierId};

/// Marks a free slot (a key is a cell's number plus one).
const FREE: u64 = 0;
/// Fibonacci hashing: the slot of a key is the top bits of `key × K`.
const K: u64 = 0x9e37_79b9_7f4a_7c15;

/// The index (see the module).
#[derive(Debug, Clone, Default)]
pub(crate) struct ConditionalIndex {
    /// `(cell + 1, way)`; the way is [`ConditionSet`]`(0)` (never a way:
    /// a `when` names at least one condition) when the cell has several.
    slots: Vec<(u64, ConditionSet)>,
    /// `64 - log2(slots.len())`.
    shift: u32,
    n_tiers: usize,
    n_roles: usize,
    n_perms: usize,
    /// Whether the cells cannot be numbered in 64 bits: read the policy.
    from_policy: bool,
}

impl ConditionalIndex {
    /// Indexes `policy`'s conditional cells (none: an empty index, and
    /// nothing allocated).
    pub(crate) fn new(policy: &Policy) -> Self {
        let (n_tiers, n_roles, n_perms) = (
            policy.tier_count(),
            policy.roles().len(),
            policy.permissions().len(),
        );
        let mut index = ConditionalIndex {
            n_tiers,
            n_roles,
            n_perms,
            ..ConditionalIndex::default()
        };
        if !policy.has_conditional() {
            return index;
        }
        let cells = n_tiers
            .checked_mul(n_roles)
            .and_then(|c| c.checked_mul(n_perms));
        if cells.is_none() {
            index.from_policy = true;
            return index;
        }
        let count = policy.conditional_cells().count();
        // At most half full, so a probe that misses ends soon.
        let len = (count * 2).max(2).next_power_of_two();
        index.shift = 64 - len.trailing_zeros();
        index.slots = vec![(FREE, ConditionSet::default()); len];
        for (t, r, p, ways) in policy.conditional_cells() {
            let way = match ways {
                [one] => *one,
                _ => ConditionSet::default(),
            };
            let key = index.key(t, r, p);
            let mut i = index.home(key);
            while let Some(slot) = index.slots.get_mut(i) {
                if slot.0 == FREE {
                    *slot = (key, way);
                    break;
                }
                i = (i + 1) & (len - 1);
            }
        }
        index
    }

    /// The cell's number plus one (its ids in range, and numbering possible).
    #[inline]
    fn key(&self, t: TierId, r: RoleId, p: PermId) -> u64 {
        ((t.index() * self.n_roles + r.index()) * self.n_perms + p.index()) as u64 + 1
    }

    /// The first slot a key is looked for in.
    #[inline]
    fn home(&self, key: u64) -> usize {
        (key.wrapping_mul(K) >> self.shift) as usize
    }

    /// The ways `role` may use `perm` on `tier` under conditions: the same
    /// as `policy.conditional_ways(tier, role, perm)`, `policy` being the
    /// one indexed.
    #[inline]
    pub(crate) fn ways<'a>(
        &'a self,
        policy: &'a Policy,
        tier: TierId,
        role: RoleId,
        perm: PermId,
    ) -> &'a [ConditionSet] {
        if self.from_policy {
            return policy.conditional_ways(tier, role, perm);
        }
        if self.slots.is_empty()
            || tier.index() >= self.n_tiers
            || role.index() >= self.n_roles
            || perm.index() >= self.n_perms
        {
            return &[];
        }
        let key = self.key(tier, role, perm);
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        while let Some(slot) = self.slots.get(i) {
            if slot.0 == key {
                return if slot.1.is_empty() {
                    policy.conditional_ways(tier, role, perm)
                } else {
                    std::slice::from_ref(&slot.1)
                };
            }
            if slot.0 == FREE {
                break;
            }
            i = (i + 1) & mask;
        }
        &[]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy_syntax::SourceFile;

    const POLICY: &str = "tiers free < team < enterprise\n\
                    condition own \"Own\"\ncondition public \"Public\"\ncondition mfa \"MFA\"\n\
                    permission items.view \"View\"\npermission items.delete \"Delete\"\n\
                    permission items.export \"Export\" on >= team\n\
                    role guest \"Guest\" {\n  grants items.view\n  grants items.delete when own\n  \
                    grants items.* on enterprise when public and mfa\n}\n\
                    role member \"Member\" on >= team {\n  inherits guest\n  grants items.delete when mfa\n}\n\
                    role admin \"Admin\" {\n  inherits member\n  excludes items.export\n}\n";

    fn policy() -> Policy {
        let (policy, diags) = policy_compiler::compile(&SourceFile::new("c.policy", POLICY));
        assert!(diags.is_empty(), "{diags:?}");
        policy
    }

    /// Every cell, in range or one past it, has the compiler's ways.
    #[test]
    fn the_index_gives_the_compilers_ways() {
        let policy = policy();
        let index = ConditionalIndex::new(&policy);
        let mut conditional = 0;
        for t in 0..4u32 {
            for r in 0..4u32 {
                for p in 0..4u32 {
                    let (t, r, p) = (TierId(t), RoleId(r), PermId(p));
                    let ways = policy.conditional_ways(t, r, p);
                    assert_eq!(index.ways(&policy, t, r, p), ways, "{t:?} {r:?} {p:?}");
                    conditional += usize::from(!ways.is_empty());
                }
            }
        }
        assert!(conditional > 5, "{conditional}");
        // `member` holds `items.delete` two ways on `team` (read from the policy).
        let (team, member, delete) = (TierId(1), RoleId(1), PermId(1));
        assert_eq!(index.ways(&policy, team, member, delete).len(), 2);
        // Without conditions, nothing is allocated.
        let (plain, _) = policy_compiler::compile(&SourceFile::new(
            "p.policy",
            "permission a.b \"A\"\nrole r \"R\" { grants a.b }\n",
        ));
        let index = ConditionalIndex::new(&plain);
        assert!(index.slots.is_empty());
        assert!(index
            .ways(&plain, TierId(0), RoleId(0), PermId(0))
            .is_empty());
    }

    /// `Evaluator::outcome` (this index, and its shortcut for one role with
    /// one way) weighs as `Policy::outcome` does: every cell, one role and
    /// two, under every mix of facts (each condition holding, failing or
    /// left out).
    #[test]
    fn the_evaluators_outcomes_are_the_compilers() {
        let policy = policy();
        let eval = crate::Evaluator::from_policy(&policy);
        let mut seen = std::collections::BTreeSet::new();
        for mix in 0..27u32 {
            let mut facts = policy_compiler::Facts::default();
            for c in 0..3 {
                match mix / 3u32.pow(c) % 3 {
                    0 => facts.set(c as usize, true),
                    1 => facts.set(c as usize, false),
                    _ => {}
                }
            }
            for t in 0..4u32 {
                for r in 0..4u32 {
                    for p in 0..4u32 {
                        let (t, p) = (TierId(t), PermId(p));
                        for roles in [&[RoleId(r)][..], &[RoleId(r), RoleId((r + 1) % 3)]] {
                            let expected =
                                policy.outcome(eval.decide(t, roles, p), t, roles, p, facts);
                            assert_eq!(eval.outcome(t, roles, p, facts), expected);
                            seen.insert(expected.as_str());
                        }
                    }
                }
            }
        }
        assert_eq!(seen.len(), 3, "{seen:?}");
    }
}
