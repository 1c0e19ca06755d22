//! A set of conditions as one word ([`ConditionSet`]): the conditions of a
//! `when` clause, each holding or not (`when own and not archived`), and
//! how a literal is written.

use serde::{Deserialize, Serialize};

/// The most conditions a policy may declare: a grant's conditions are a
/// [`ConditionSet`], a bitmask of two bits per condition (it holds, it
/// does not).
pub const MAX_CONDITIONS: usize = 32;

/// A set of conditions, as a bitmask over their indices in
/// [`Policy::conditions`](crate::Policy::conditions): the conditions of a
/// `when` clause, all of which must hold. Bit `i` says condition `i`
/// holds, bit `32 + i` that it does not (`when not archived`); a set with
/// both is met by no request.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct ConditionSet(pub u64);

impl ConditionSet {
    /// The set of one literal: condition `i` holds (`holds`) or does not
    /// (empty past [`MAX_CONDITIONS`]).
    pub fn literal(i: usize, holds: bool) -> Self {
        if i >= MAX_CONDITIONS {
            return ConditionSet(0);
        }
        ConditionSet(1u64 << (i + if holds { 0 } else { MAX_CONDITIONS }))
    }

    /// Whether it names no condition (a grant that always holds).
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// Adds condition `i`, as holding (ignored past [`MAX_CONDITIONS`]).
    pub fn insert(&mut self, i: usize) {
        self.0 |= ConditionSet::literal(i, true).0;
    }

    /// Adds condition `i` holding (`holds`) or not.
    pub fn insert_literal(&mut self, i: usize, holds: bool) {
        self.0 |= ConditionSet::literal(i, holds).0;
    }

    /// The union of both sets' literals.
    pub fn union(self, other: ConditionSet) -> ConditionSet {
        ConditionSet(self.0 | other.0)
    }

    /// Whether every literal of `self` is in `other`.
    pub fn is_subset(self, other: ConditionSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// Whether it says of some condition both that it holds and that it
    /// does not (no request meets it).
    pub fn is_contradictory(self) -> bool {
        let (yes, no) = (self.0 & 0xffff_ffff, self.0 >> MAX_CONDITIONS);
        yes & no != 0
    }

    /// The literals, as (condition index, whether it must hold), by index,
    /// the one that holds first.
    pub fn literals(self) -> impl Iterator<Item = (usize, bool)> {
        // The set bits only: the conditions named, lowest index first.
        let (yes, no) = (self.0 as u32, (self.0 >> MAX_CONDITIONS) as u32);
        let mut named = yes | no;
        std::iter::from_fn(move || {
            (named != 0).then(|| {
                let i = named.trailing_zeros();
                named &= named - 1;
                i
            })
        })
        .flat_map(move |i| {
            [(yes, true), (no, false)]
                .into_iter()
                .filter(move |(bits, _)| (bits >> i) & 1 == 1)
                .map(move |(_, h)| (i as usize, h))
        })
    }

    /// The ways that hold when `self` does not (one literal each, negated):
    /// `not (a and not b)` is `not a` or `b`.
    pub fn negations(self) -> impl Iterator<Item = ConditionSet> {
        self.literals().map(|(i, h)| ConditionSet::literal(i, !h))
    }
}

/// A condition of a `when` clause as written: `own`, `not archived`.
pub fn literal_name(id: &str, holds: bool) -> String {
    if holds {
        id.to_string()
    } else {
        format!("not {id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The literals, by the set bits, are those of every index tested in
    /// turn, in the same order.
    #[test]
    fn literals_are_the_set_bits_by_index_holding_first() {
        let naive = |s: ConditionSet| -> Vec<(usize, bool)> {
            (0..MAX_CONDITIONS)
                .flat_map(|i| [(i, true), (i, false)])
                .filter(|&(i, h)| s.0 & ConditionSet::literal(i, h).0 != 0)
                .collect()
        };
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for s in [ConditionSet(x), ConditionSet(x & 0x0000_00F0_0000_0F0F)] {
                assert_eq!(s.literals().collect::<Vec<_>>(), naive(s), "{s:?}");
            }
        }
        assert_eq!(ConditionSet(0).literals().count(), 0);
        let own_not_archived =
            ConditionSet::literal(0, true).union(ConditionSet::literal(3, false));
        assert_eq!(
            own_not_archived.literals().collect::<Vec<_>>(),
            [(0, true), (3, false)]
        );
        assert_eq!(
            ConditionSet(u64::MAX).literals().count(),
            2 * MAX_CONDITIONS
        );
    }
}
