//! Pairing an added and a removed role that are probably one role renamed.

use std::collections::BTreeSet;

use super::{RoleEntry, TierPermissions};

/// Marks an added and a removed role as probably the same role renamed
/// (one to one, in id order): identical availability and effective
/// permissions first, then the same label.
pub(super) fn pair_renames(added: &mut [RoleEntry], removed: &mut [RoleEntry]) {
    let same = |r: &RoleEntry, a: &RoleEntry| {
        r.available_on == a.available_on && same_effective(&r.effective, &a.effective)
    };
    for pass in 0..2 {
        for a in added.iter_mut().filter(|a| a.same_as.is_none()) {
            let twin = removed
                .iter_mut()
                .filter(|r| r.same_as.is_none())
                .find(|r| {
                    if pass == 0 {
                        same(r, a)
                    } else {
                        r.label == a.label
                    }
                });
            if let Some(r) = twin {
                r.same_as = Some(a.id.clone());
                a.same_as = Some(r.id.clone());
            }
        }
    }
}

fn same_effective(a: &[TierPermissions], b: &[TierPermissions]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.tier == y.tier
                && x.permissions.iter().collect::<BTreeSet<_>>()
                    == y.permissions.iter().collect::<BTreeSet<_>>()
        })
}
