//! Why a cell changed between two versions: the attribution of each
//! gained or lost permission to what changed in the declarations and
//! derivations, and the wording of each reason.

use crate::explain::Step;
use crate::model::{PermId, Policy, RoleId, TierId, TierSet};

use super::{role_name, set_names, tier_of, Change, ChangeReason};

fn tiers_text(tiers: &[Option<String>]) -> String {
    if tiers.is_empty() {
        return "no tier".to_string();
    }
    tiers
        .iter()
        .map(|t| t.as_deref().unwrap_or("default"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ChangeReason {
    /// A one-line English description, with names in backticks.
    pub fn describe(&self) -> String {
        match self {
            ChangeReason::GrantAdded { role, pattern } => {
                format!("new grant `{pattern}` in role `{role}`")
            }
            ChangeReason::GrantRemoved { role, pattern } => {
                format!("grant `{pattern}` removed from role `{role}`")
            }
            ChangeReason::GrantTierGateChanged {
                role,
                pattern,
                old_tiers,
                new_tiers,
            } => {
                let o: Vec<Option<String>> = old_tiers.iter().cloned().map(Some).collect();
                let n: Vec<Option<String>> = new_tiers.iter().cloned().map(Some).collect();
                format!(
                    "tier gate of grant `{pattern}` in role `{role}` changed: {} → {}",
                    tiers_text(&o),
                    tiers_text(&n)
                )
            }
            ChangeReason::InheritanceAdded {
                role,
                parent,
                acts_as: false,
            } => {
                format!("new inheritance edge: `{role}` inherits `{parent}`")
            }
            ChangeReason::InheritanceAdded {
                role,
                parent,
                acts_as: true,
            } => {
                format!("new `acts as` link: `{role}` acts as `{parent}`")
            }
            ChangeReason::InheritanceRemoved {
                role,
                parent,
                acts_as: false,
            } => {
                format!("inheritance removed: `{role}` no longer inherits `{parent}`")
            }
            ChangeReason::InheritanceRemoved {
                role,
                parent,
                acts_as: true,
            } => {
                format!("`acts as` removed: `{role}` no longer acts as `{parent}`")
            }
            ChangeReason::ExclusionAdded { role, pattern } => {
                format!("new exclusion `{pattern}` in role `{role}`")
            }
            ChangeReason::ExclusionRemoved { role, pattern } => {
                format!("exclusion `{pattern}` removed from role `{role}`")
            }
            ChangeReason::RoleTierGateChanged {
                role,
                old_tiers,
                new_tiers,
            } => format!(
                "tier gate of role `{role}` changed: {} → {}",
                tiers_text(old_tiers),
                tiers_text(new_tiers)
            ),
            ChangeReason::PermissionTierGateChanged {
                permission,
                old_tiers,
                new_tiers,
            } => format!(
                "tier gate of permission `{permission}` changed: {} → {}",
                tiers_text(old_tiers),
                tiers_text(new_tiers)
            ),
            ChangeReason::PermissionAdded => "new permission".to_string(),
            ChangeReason::PermissionRemoved => "permission removed".to_string(),
            ChangeReason::TierAdded => "new tier".to_string(),
            ChangeReason::TierRemoved => "tier removed".to_string(),
            ChangeReason::Other => "derivation changed".to_string(),
            ChangeReason::NowConditional { when } => {
                format!(
                    "held only under conditions now: {}",
                    crate::explain::wording::snapshot::when(when)
                )
            }
            ChangeReason::Conditions { old, new } => {
                let ways = |w: &[String]| {
                    if w.is_empty() {
                        "under no condition".to_string()
                    } else {
                        crate::explain::wording::snapshot::when(w)
                    }
                };
                format!("conditions: {} → {}", ways(old), ways(new))
            }
        }
    }
}

/// The tiers of a policy by name: `None` for the implicit tier.
fn ids(
    p: &Policy,
    tier: &Option<String>,
    role: &str,
    perm: &str,
) -> Option<(TierId, RoleId, PermId)> {
    Some((tier_of(p, tier)?, p.role_id(role)?, p.perm_id(perm)?))
}

pub(super) fn allows(p: &Policy, tier: &Option<String>, role: &str, perm: &str) -> bool {
    ids(p, tier, role, perm).is_some_and(|(t, r, x)| p.allows(t, r, x))
}

/// The ways `role` holds `perm` on `tier` only under conditions, each as
/// `own and x` (empty where it is held whatever the facts, or never).
pub(super) fn ways(p: &Policy, tier: &Option<String>, role: &str, perm: &str) -> Vec<String> {
    ids(p, tier, role, perm).map_or_else(Vec::new, |(t, r, x)| {
        p.conditional_ways(t, r, x)
            .iter()
            .map(|w| p.condition_names(*w).join(" and "))
            .collect()
    })
}

/// Why `role` gained or lost `perm` on `tier` between `old` and `new`.
pub(super) fn attribute(
    old: &Policy,
    new: &Policy,
    tier: &Option<String>,
    role: &str,
    perm: &str,
    change: Change,
) -> Vec<ChangeReason> {
    let gained = change == Change::Gained;
    // `h` is the version that allows, `n` the one that denies.
    let (h, n) = if gained { (new, old) } else { (old, new) };
    let mut reasons = Vec::new();
    if tier_of(n, tier).is_none() {
        reasons.push(if gained {
            ChangeReason::TierAdded
        } else {
            ChangeReason::TierRemoved
        });
    }
    if n.perm_id(perm).is_none() {
        reasons.push(if gained {
            ChangeReason::PermissionAdded
        } else {
            ChangeReason::PermissionRemoved
        });
    }
    let (Some((th, rh, ph)), Some((tn, rn, pn))) =
        (ids(h, tier, role, perm), ids(n, tier, role, perm))
    else {
        if reasons.is_empty() {
            reasons.push(ChangeReason::Other);
        }
        return reasons;
    };
    let ordered =
        |a: Vec<Option<String>>, b: Vec<Option<String>>| if gained { (b, a) } else { (a, b) };
    if h.role_available(rh, th) != n.role_available(rn, tn) {
        let (old_tiers, new_tiers) = ordered(
            set_names(h, h.role(rh).map(|r| r.tiers).unwrap_or_default()),
            set_names(n, n.role(rn).map(|r| r.tiers).unwrap_or_default()),
        );
        reasons.push(ChangeReason::RoleTierGateChanged {
            role: role.to_string(),
            old_tiers,
            new_tiers,
        });
    }
    if h.perm_available(ph, th) != n.perm_available(pn, tn) {
        let (old_tiers, new_tiers) = ordered(
            set_names(h, h.permission(ph).map(|p| p.tiers).unwrap_or_default()),
            set_names(n, n.permission(pn).map(|p| p.tiers).unwrap_or_default()),
        );
        reasons.push(ChangeReason::PermissionTierGateChanged {
            permission: perm.to_string(),
            old_tiers,
            new_tiers,
        });
    }
    if h.holds_raw(th, rh, ph) && !n.holds_raw(tn, rn, pn) {
        raw_reasons(h, n, (th, rh, ph), (tn, rn, pn), gained, &mut reasons);
    }
    if reasons.is_empty() {
        reasons.push(ChangeReason::Other);
    }
    reasons.sort();
    reasons.dedup();
    reasons
}

/// Why `h` holds `perm` through inheritance and grants while `n` does not.
fn raw_reasons(
    h: &Policy,
    n: &Policy,
    (th, rh, ph): (TierId, RoleId, PermId),
    (tn, rn, pn): (TierId, RoleId, PermId),
    gained: bool,
    reasons: &mut Vec<ChangeReason>,
) {
    let perm_name = h.permission(ph).map(|p| p.id.as_str()).unwrap_or("");
    for step in h.derivation(th, rh, ph).unwrap_or_default() {
        match step {
            Step::Inherited { role, parent, .. } => {
                let (c, p) = (role_name(h, role), role_name(h, parent));
                let edge_in_n = n
                    .role_id(&c)
                    .and_then(|c| n.role(c))
                    .is_some_and(|c| c.parents.iter().any(|x| role_name(n, x.role) == p));
                if !edge_in_n {
                    let acts_as = h
                        .role(role)
                        .and_then(|r| r.parents.iter().find(|x| x.role == parent))
                        .is_some_and(|x| x.acts_as);
                    reasons.push(if gained {
                        ChangeReason::InheritanceAdded {
                            role: c,
                            parent: p,
                            acts_as,
                        }
                    } else {
                        ChangeReason::InheritanceRemoved {
                            role: c,
                            parent: p,
                            acts_as,
                        }
                    });
                }
            }
            Step::Granted { role, pattern, .. } => {
                let g = role_name(h, role);
                let h_tiers = h
                    .role(role)
                    .and_then(|r| {
                        r.grants
                            .iter()
                            .find(|x| x.pattern == pattern && x.when.is_empty())
                    })
                    .map(|x| x.tiers)
                    .unwrap_or_default();
                // The grant is a reason only if, in `n`, the same role no
                // longer gets `perm` from any grant on this tier: then it is
                // gone (no grant with this pattern) or its gate changed.
                let n_role = n.role_id(&g).and_then(|r| n.role(r));
                let still_granted = n_role.is_some_and(|r| {
                    r.grants.iter().any(|x| {
                        x.holds_on(tn)
                            && x.matches
                                .iter()
                                .any(|m| n.permission(*m).is_some_and(|m| m.id == perm_name))
                    })
                });
                if still_granted {
                    continue;
                }
                let n_grant = n_role.and_then(|r| {
                    r.grants
                        .iter()
                        .find(|x| x.pattern == pattern && x.when.is_empty())
                });
                match n_grant {
                    None => reasons.push(if gained {
                        ChangeReason::GrantAdded { role: g, pattern }
                    } else {
                        ChangeReason::GrantRemoved { role: g, pattern }
                    }),
                    Some(x) if !x.tiers.contains(tn) => {
                        let names = |p: &Policy, s: TierSet| -> Vec<String> {
                            set_names(p, s).into_iter().flatten().collect()
                        };
                        let (a, b) = (names(h, h_tiers), names(n, x.tiers));
                        let (old_tiers, new_tiers) = if gained { (b, a) } else { (a, b) };
                        reasons.push(ChangeReason::GrantTierGateChanged {
                            role: g,
                            pattern,
                            old_tiers,
                            new_tiers,
                        });
                    }
                    Some(_) => {}
                }
            }
        }
    }
    // The exclusions in effect in `n` (the one rule,
    // `Policy::exclusions_in_effect`) that `h` does not have.
    for (a, ex) in n.exclusions_in_effect(tn, rn, pn) {
        let name = role_name(n, a);
        let in_h = h
            .role_id(&name)
            .is_some_and(|x| h.exclusion_of(x, ph).is_some());
        if !in_h {
            let pattern = ex.pattern.clone();
            reasons.push(if gained {
                ChangeReason::ExclusionRemoved {
                    role: name,
                    pattern,
                }
            } else {
                ChangeReason::ExclusionAdded {
                    role: name,
                    pattern,
                }
            });
        }
    }
}
