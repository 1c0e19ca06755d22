//! The cells held only under conditions, indexed for the hot path of
//! [`crate::Evaluator::outcome`]: per context an open-addressing table
//! keyed by the role's and the permission's ids side by side, each slot
//! holding the cell's way inline, and a bit per permission saying whether
//! any cell of it is indexed. No indexed cell is allowed by the decision
//! table (the compiler's conditional sets leave out what a role holds
//! whatever the facts, and the table is built from the same raw sets;
//! checked when an evaluator is built in debug builds, and by the tests
//! here and in policy-bench), so for one role and a permission some role holds under
//! conditions the index is looked at first: a conditional decision with
//! facts costs the permission's bit, a hash and usually one load, and the
//! table's word is read only for a cell the index does not hold. For
//! any other permission the table alone decides, as
//! [`crate::Evaluator::decide`]. The compiler's [`Policy::conditional_ways`]
//! (a binary search in the slot's entries, then their ways) gives the
//! same ways; a cell with several ways is read from it.

use policy_compiler::{ConditionSet, PermId, Policy, RoleId, TierId};

/// Multiplicative hashing: the slot of a key is the top bits of `key × K`.
/// Not the golden ratio's `0x9e37_79b9_7f4a_7c15`: its low half, which
/// multiplies the role ids, is close to 1/2 and pairs consecutive roles
/// up; this one (MurmurHash3's finalizer's) spreads runs of roles and of
/// permissions alike (`cells_are_found_near_their_first_slot`).
const K: u64 = 0xff51_afd7_ed55_8ccd;

/// A free slot's key: that of role and permission `u32::MAX`, ids no
/// policy has (its ways would be the compiler's: none).
const FREE: u64 = u64::MAX;

/// The index (see the module).
#[derive(Debug, Clone, Default)]
pub(crate) struct ConditionalIndex {
    /// `(key, way)`, context after context; the way is
    /// [`ConditionSet`]`(0)` (never a way: a `when` names at least one
    /// condition) when the cell has several.
    slots: Vec<(u64, ConditionSet)>,
    /// How many contexts have a part of `slots` (all, or none without
    /// conditions), context `t`'s being slots `t << bits ..`.
    parts: usize,
    /// The log2 of a part's length: that of the context with the most
    /// conditional cells, so that a cell's slot does not wait for a load.
    bits: u32,
    /// One bit per permission: whether some role holds it under
    /// conditions on some context (the index has a cell with it).
    perms: Vec<u64>,
}

impl ConditionalIndex {
    /// Indexes `policy`'s conditional cells (none: an empty index, and
    /// nothing allocated).
    pub(crate) fn new(policy: &Policy) -> Self {
        let mut index = ConditionalIndex::default();
        if !policy.has_conditional() {
            return index;
        }
        // One pass over the compiler's cells: `(context, key, way)`.
        let mut perms = vec![0u64; policy.permissions().len().div_ceil(64)];
        let mut counts = vec![0usize; policy.tier_count()];
        let cells: Vec<(usize, u64, ConditionSet)> = policy
            .conditional_cells()
            .map(|(t, r, p, ways)| {
                if let Some(w) = perms.get_mut(p.index() / 64) {
                    *w |= 1 << (p.index() % 64);
                }
                if let Some(c) = counts.get_mut(t.index()) {
                    *c += 1;
                }
                let way = match ways {
                    [one] => *one,
                    _ => ConditionSet::default(),
                };
                (t.index(), key(r, p), way)
            })
            .collect();
        // At most half full (in the context with the most cells), so that
        // a probe ends soon.
        let most = counts.iter().copied().max().unwrap_or(0);
        let len = (most * 2).max(2).next_power_of_two();
        index.bits = len.trailing_zeros();
        index.parts = counts.len();
        index.slots = vec![(FREE, ConditionSet::default()); len * counts.len()];
        index.perms = perms;
        for (t, key, way) in cells {
            let mut i = index.home(key);
            while let Some(slot) = index.slots.get_mut((t << index.bits) + i) {
                if slot.0 == FREE {
                    *slot = (key, way);
                    break;
                }
                i = (i + 1) & index.mask();
            }
        }
        index
    }

    /// The slot a key is first looked for in, within its context's part.
    #[inline(always)]
    fn home(&self, key: u64) -> usize {
        key.wrapping_mul(K).wrapping_shr(64 - self.bits) as usize
    }

    /// A part's length less one.
    #[inline(always)]
    fn mask(&self) -> usize {
        (1 << self.bits) - 1
    }

    /// Whether some cell of `perm` is in the index (some role holds it
    /// under conditions on some context): if not, the table decides every
    /// request for it.
    #[inline(always)]
    pub(crate) fn has_perm(&self, perm: PermId) -> bool {
        self.perms
            .get(perm.index() / 64)
            .is_some_and(|w| w & (1 << (perm.index() % 64)) != 0)
    }

    /// The ways `role` may use `perm` on `tier` under conditions: the same
    /// as `policy.conditional_ways(tier, role, perm)`, `policy` being the
    /// one indexed; `None` for a cell the table decides (allowed, or
    /// never held), and for ids out of range.
    #[inline(always)]
    pub(crate) fn find<'a>(
        &'a self,
        policy: &'a Policy,
        tier: TierId,
        role: RoleId,
        perm: PermId,
    ) -> Option<&'a [ConditionSet]> {
        if tier.index() >= self.parts {
            return None;
        }
        let first = tier.index() << self.bits;
        let key = key(role, perm);
        let mut i = self.home(key);
        while let Some(slot) = self.slots.get(first + i) {
            if slot.0 == key {
                if slot.1.is_empty() {
                    // Several ways (or a free slot, for ids no policy has).
                    let ways = policy.conditional_ways(tier, role, perm);
                    return (!ways.is_empty()).then_some(ways);
                }
                return Some(std::slice::from_ref(&slot.1));
            }
            if slot.0 == FREE {
                break;
            }
            i = (i + 1) & self.mask();
        }
        None
    }

    /// [`ConditionalIndex::find`], none for a cell the table decides.
    #[inline]
    pub(crate) fn ways<'a>(
        &'a self,
        policy: &'a Policy,
        tier: TierId,
        role: RoleId,
        perm: PermId,
    ) -> &'a [ConditionSet] {
        self.find(policy, tier, role, perm).unwrap_or(&[])
    }
}

/// A cell's key in its context's table: its role's and its permission's
/// ids side by side (one key per cell, whatever the ids).
#[inline(always)]
fn key(r: RoleId, p: PermId) -> u64 {
    (u64::from(r.0) << 32) | u64::from(p.0)
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

    /// Every cell, in range or one past it (and far out), has the
    /// compiler's ways; none the table allows is in the index.
    #[test]
    fn the_index_gives_the_compilers_ways() {
        let policy = policy();
        let eval = crate::Evaluator::from_policy(&policy);
        let index = &eval.conditional;
        let mut conditional = 0;
        for t in [0, 1, 2, 3, u32::MAX] {
            for r in [0, 1, 2, 3, u32::MAX] {
                for p in [0, 1, 2, 3, u32::MAX] {
                    let (t, r, p) = (TierId(t), RoleId(r), PermId(p));
                    let ways = policy.conditional_ways(t, r, p);
                    assert_eq!(index.ways(&policy, t, r, p), ways, "{t:?} {r:?} {p:?}");
                    assert_eq!(index.find(&policy, t, r, p).is_some(), !ways.is_empty());
                    if !ways.is_empty() {
                        assert!(!eval.decide_one(t, r, p), "{t:?} {r:?} {p:?}");
                    }
                    conditional += usize::from(!ways.is_empty());
                }
            }
        }
        assert!(conditional > 5, "{conditional}");
        // A permission's bit: whether some role holds it under conditions
        // (`items.view` none does).
        for p in [0, 1, 2, 3, u32::MAX].map(PermId) {
            let held = (0..3).any(|t| {
                (0..3).any(|r| !policy.conditional_ways(TierId(t), RoleId(r), p).is_empty())
            });
            assert_eq!(index.has_perm(p), held, "{p:?}");
        }
        assert!(!index.has_perm(PermId(0)) && index.has_perm(PermId(1)));
        // `member` holds `items.delete` two ways on `team` (read from the policy).
        let (team, member, delete) = (TierId(1), RoleId(1), PermId(1));
        assert_eq!(index.ways(&policy, team, member, delete).len(), 2);
        // Without conditions, nothing is allocated.
        let (plain, _) = policy_compiler::compile(&SourceFile::new(
            "p.policy",
            "permission a.b \"A\"\nrole r \"R\" { grants a.b }\n",
        ));
        let index = ConditionalIndex::new(&plain);
        assert!(index.slots.is_empty() && index.parts == 0);
        assert!(index
            .ways(&plain, TierId(0), RoleId(0), PermId(0))
            .is_empty());
    }

    /// The hash spreads a chain of roles inheriting runs of conditional
    /// permissions (ids close together, as in generated policies): a cell
    /// is found in 1.5 slots on average, and none further than 20.
    #[test]
    fn cells_are_found_near_their_first_slot() {
        let mut text = String::new();
        for c in 0..8 {
            text += &format!("condition c{c} \"C\"\n");
        }
        for p in 0..400 {
            text += &format!("permission res{}.p{} \"P\"\n", p / 5, p % 5);
        }
        for r in 0..80 {
            let parent = if r > 0 {
                format!("inherits r{}\n", r - 1)
            } else {
                String::new()
            };
            text += &format!(
                "role r{r} \"R\" {{\n{parent}grants res{r}.* when c{}\n}}\n",
                r % 8
            );
        }
        let (policy, diags) = policy_compiler::compile(&SourceFile::new("chain.policy", text));
        assert!(diags.is_empty(), "{:?}", diags.first());
        let index = ConditionalIndex::new(&policy);
        let probes: Vec<usize> = policy
            .conditional_cells()
            .map(|(t, r, p, _)| {
                let first = t.index() << index.bits;
                let key = key(r, p);
                let mut i = index.home(key);
                let mut n = 1;
                while index.slots[first + i].0 != key {
                    i = (i + 1) & index.mask();
                    n += 1;
                }
                n
            })
            .collect();
        // r79 holds all 400 permissions under conditions, r0 five.
        assert_eq!(probes.len(), 5 * 80 * 81 / 2);
        let mean = probes.iter().sum::<usize>() as f64 / probes.len() as f64;
        let max = probes.iter().max().copied().unwrap_or(0);
        assert!(mean < 1.5 && max <= 20, "mean {mean:.3}, max {max}");
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
