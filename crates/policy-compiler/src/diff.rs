//! Comparing two versions of a policy by their effective permissions.
//!
//! [`diff_policies`] matches roles, permissions and tiers by id and reports
//! what a user of each role may do differently, on which tier, and why
//! (attributed by comparing the derivations and declarations of the two
//! versions). A refactor that changes no decision, label or availability
//! gives an empty [`PolicyDiff`].

use std::collections::BTreeSet;

use serde::Serialize;

use crate::model::{Policy, Role, RoleId, TierId, TierSet};

/// The version of the JSON shape of [`PolicyDiff`].
pub const DIFF_SCHEMA_VERSION: u32 = 1;

/// The effective difference between two versions of a policy.
///
/// Every list is sorted, so the value (and its JSON) is deterministic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyDiff {
    /// [`DIFF_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The name of the old version's source.
    pub old: String,
    /// The name of the new version's source.
    pub new: String,
    /// Tiers only the new version declares.
    pub tiers_added: Vec<String>,
    /// Tiers only the old version declares.
    pub tiers_removed: Vec<String>,
    /// Roles only the new version declares.
    pub roles_added: Vec<RoleEntry>,
    /// Roles only the old version declares.
    pub roles_removed: Vec<RoleEntry>,
    /// Permissions only the new version declares.
    pub permissions_added: Vec<PermissionEntry>,
    /// Permissions only the old version declares.
    pub permissions_removed: Vec<PermissionEntry>,
    /// Roles and permissions whose label changed.
    pub labels: Vec<LabelChange>,
    /// Roles and permissions available on different tiers.
    pub availability: Vec<AvailabilityChange>,
    /// Roles (of both versions) kept but no longer assignable on different
    /// tiers: where the role exists but its `assignable on` lines leave the
    /// tier out (a change of availability alone is not repeated here).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assignability: Vec<AvailabilityChange>,
    /// Permissions gained or lost by roles present in both versions.
    pub access: Vec<AccessChange>,
}

impl PolicyDiff {
    /// Whether the two versions are effectively the same: no decision,
    /// label, availability, role, permission or tier differs.
    pub fn is_empty(&self) -> bool {
        self.tiers_added.is_empty()
            && self.tiers_removed.is_empty()
            && self.roles_added.is_empty()
            && self.roles_removed.is_empty()
            && self.permissions_added.is_empty()
            && self.permissions_removed.is_empty()
            && self.labels.is_empty()
            && self.availability.is_empty()
            && self.assignability.is_empty()
            && self.access.is_empty()
    }
}

/// What a role may do on one tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierPermissions {
    /// The tier (`None` for the implicit tier of a policy without tiers).
    pub tier: Option<String>,
    /// The permissions, in declaration order.
    pub permissions: Vec<String>,
}

/// A role that exists in only one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleEntry {
    /// Its id.
    pub id: String,
    /// Its label.
    pub label: String,
    /// The tiers on which it can be assigned.
    pub available_on: Vec<Option<String>>,
    /// What it may do, per tier on which it is available.
    pub effective: Vec<TierPermissions>,
    /// A role on the other side that is probably the same role, renamed:
    /// it has the same label, or the same availability and effective permissions.
    pub same_as: Option<String>,
}

/// A permission that exists in only one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermissionEntry {
    /// Its id.
    pub id: String,
    /// Its label.
    pub label: String,
}

/// Whether a change is about a role or a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A role.
    Role,
    /// A permission.
    Permission,
}

impl Subject {
    /// `"role"` or `"permission"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Role => "role",
            Subject::Permission => "permission",
        }
    }
}

/// A label that changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LabelChange {
    /// Role or permission.
    pub subject: Subject,
    /// Its id.
    pub id: String,
    /// The old label.
    pub old: String,
    /// The new label.
    pub new: String,
    /// Where the wording changed, when only some tiers' (a `label "…" on
    /// …` clause); empty: the label itself.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<Option<String>>,
}

/// A role or permission available on different tiers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AvailabilityChange {
    /// Role or permission.
    pub subject: Subject,
    /// Its id.
    pub id: String,
    /// The tiers it was available on.
    pub old: Vec<Option<String>>,
    /// The tiers it is available on now.
    pub new: Vec<Option<String>>,
}

/// Whether a role gained or lost a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The new version allows what the old one denied.
    Gained,
    /// The new version denies what the old one allowed.
    Lost,
    /// Neither version allows it whatever the facts, but the conditions
    /// under which the role holds it changed (it is held under conditions
    /// now, or under other ones).
    Conditional,
}

/// A permission a role gained or lost on some tiers, for the same reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessChange {
    /// The role.
    pub role: String,
    /// The permission.
    pub permission: String,
    /// Gained or lost.
    pub change: Change,
    /// The tiers on which it changed (`None` for the implicit tier).
    pub tiers: Vec<Option<String>>,
    /// Why, as found by comparing the two versions.
    pub reasons: Vec<ChangeReason>,
}

/// Why a decision changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeReason {
    /// A role grants it now.
    GrantAdded {
        /// The granting role.
        role: String,
        /// The pattern that matches.
        pattern: String,
    },
    /// A role no longer grants it.
    GrantRemoved {
        /// The role that granted it.
        role: String,
        /// The pattern that matched.
        pattern: String,
    },
    /// A grant holds on different tiers.
    GrantTierGateChanged {
        /// The granting role.
        role: String,
        /// The pattern (in the version that allows).
        pattern: String,
        /// The tiers the grant held on.
        old_tiers: Vec<String>,
        /// The tiers the grant holds on now.
        new_tiers: Vec<String>,
    },
    /// `role` inherits from `parent` now (or acts as it, a role of an
    /// inner level).
    InheritanceAdded {
        /// The inheriting role.
        role: String,
        /// The parent.
        parent: String,
        /// Whether the link is an `acts as` line (absent when `false`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        acts_as: bool,
    },
    /// `role` no longer inherits from `parent` (or acts as it).
    InheritanceRemoved {
        /// The inheriting role.
        role: String,
        /// The former parent.
        parent: String,
        /// Whether the link was an `acts as` line (absent when `false`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        acts_as: bool,
    },
    /// An exclusion takes it away now.
    ExclusionAdded {
        /// The excluding role.
        role: String,
        /// The exclusion pattern.
        pattern: String,
    },
    /// An exclusion that took it away is gone.
    ExclusionRemoved {
        /// The role that excluded it.
        role: String,
        /// The exclusion pattern.
        pattern: String,
    },
    /// The role can be assigned on different tiers.
    RoleTierGateChanged {
        /// The role.
        role: String,
        /// Where it could be assigned.
        old_tiers: Vec<Option<String>>,
        /// Where it can be assigned now.
        new_tiers: Vec<Option<String>>,
    },
    /// The permission exists on different tiers.
    PermissionTierGateChanged {
        /// The permission.
        permission: String,
        /// Where it existed.
        old_tiers: Vec<Option<String>>,
        /// Where it exists now.
        new_tiers: Vec<Option<String>>,
    },
    /// The permission is new.
    PermissionAdded,
    /// The permission was removed.
    PermissionRemoved,
    /// The tier is new.
    TierAdded,
    /// The tier was removed.
    TierRemoved,
    /// The decision changed for a reason the comparison could not name.
    Other,
    /// The role holds it only under conditions now (it held it whatever
    /// the facts, or not at all): each way as `own and x`.
    NowConditional {
        /// The ways now.
        when: Vec<String>,
    },
    /// The conditions under which the role holds it changed: each way as
    /// `own and x` (empty: under none).
    Conditions {
        /// The ways before.
        old: Vec<String>,
        /// The ways now.
        new: Vec<String>,
    },
}

fn tier_keys(p: &Policy) -> Vec<Option<String>> {
    if p.tiers().is_empty() {
        vec![None]
    } else {
        p.tiers().iter().map(|t| Some(t.id.clone())).collect()
    }
}

fn tier_of(p: &Policy, key: &Option<String>) -> Option<TierId> {
    match key {
        None if p.tiers().is_empty() => Some(TierId(0)),
        None => None,
        Some(name) => p.tier_id(name),
    }
}

fn set_names(p: &Policy, set: TierSet) -> Vec<Option<String>> {
    p.tier_ids()
        .filter(|t| set.contains(*t))
        .map(|t| p.tier(t).map(|t| t.id.clone()))
        .collect()
}

fn role_name(p: &Policy, r: RoleId) -> String {
    p.role(r).map(|r| r.id.clone()).unwrap_or_default()
}

fn effective_of(p: &Policy, r: RoleId) -> Vec<TierPermissions> {
    p.tier_ids()
        .filter(|t| p.role_available(r, *t))
        .map(|t| TierPermissions {
            tier: p.tier(t).map(|t| t.id.clone()),
            permissions: p
                .effective(t, r)
                .into_iter()
                .filter_map(|perm| p.permission(perm).map(|x| x.id.clone()))
                .collect(),
        })
        .collect()
}

fn role_entry(p: &Policy, r: RoleId) -> Option<RoleEntry> {
    let role = p.role(r)?;
    Some(RoleEntry {
        id: role.id.clone(),
        label: role.label.clone(),
        available_on: set_names(p, role.tiers),
        effective: effective_of(p, r),
        same_as: None,
    })
}

/// Compares `old` and `new` by what they allow. Both should have compiled
/// without errors; with errors, the result describes what did compile.
pub fn diff_policies(old: &Policy, new: &Policy) -> PolicyDiff {
    let old_tiers = tier_keys(old);
    let new_tiers = tier_keys(new);
    let mut tiers: Vec<Option<String>> = new_tiers.clone();
    tiers.extend(old_tiers.iter().filter(|t| !new_tiers.contains(t)).cloned());

    let names = |v: &[Option<String>], other: &[Option<String>]| -> Vec<String> {
        v.iter()
            .filter(|t| !other.contains(t))
            .filter_map(|t| t.clone())
            .collect()
    };
    let mut diff = PolicyDiff {
        schema_version: DIFF_SCHEMA_VERSION,
        old: old.source().name().to_string(),
        new: new.source().name().to_string(),
        tiers_added: names(&new_tiers, &old_tiers),
        tiers_removed: names(&old_tiers, &new_tiers),
        roles_added: Vec::new(),
        roles_removed: Vec::new(),
        permissions_added: Vec::new(),
        permissions_removed: Vec::new(),
        labels: Vec::new(),
        availability: Vec::new(),
        assignability: Vec::new(),
        access: Vec::new(),
    };

    // Roles.
    for (i, role) in new.roles().iter().enumerate() {
        let rn = RoleId(i as u32);
        match old.role_id(&role.id) {
            None => diff.roles_added.extend(role_entry(new, rn)),
            Some(ro) => {
                let Some(o) = old.role(ro) else { continue };
                if o.label != role.label {
                    diff.labels.push(LabelChange {
                        subject: Subject::Role,
                        id: role.id.clone(),
                        old: o.label.clone(),
                        new: role.label.clone(),
                        tiers: Vec::new(),
                    });
                }
                let (a, b) = (set_names(old, o.tiers), set_names(new, role.tiers));
                if a != b {
                    diff.availability.push(AvailabilityChange {
                        subject: Subject::Role,
                        id: role.id.clone(),
                        old: a,
                        new: b,
                    });
                }
                let kept = |r: &Role| r.tiers.difference(r.assignable.unwrap_or(r.tiers));
                let (a, b) = (set_names(old, kept(o)), set_names(new, kept(role)));
                if a != b {
                    diff.assignability.push(AvailabilityChange {
                        subject: Subject::Role,
                        id: role.id.clone(),
                        old: a,
                        new: b,
                    });
                }
            }
        }
    }
    for (i, role) in old.roles().iter().enumerate() {
        if new.role_id(&role.id).is_none() {
            diff.roles_removed.extend(role_entry(old, RoleId(i as u32)));
        }
    }
    pair_renames(&mut diff.roles_added, &mut diff.roles_removed);

    // Permissions.
    for perm in new.permissions() {
        match old.perm_id(&perm.id).and_then(|p| old.permission(p)) {
            None => diff.permissions_added.push(PermissionEntry {
                id: perm.id.clone(),
                label: perm.label.clone(),
            }),
            Some(o) => {
                if o.label != perm.label {
                    diff.labels.push(LabelChange {
                        subject: Subject::Permission,
                        id: perm.id.clone(),
                        old: o.label.clone(),
                        new: perm.label.clone(),
                        tiers: Vec::new(),
                    });
                }
                diff.labels
                    .extend(context_label_changes(old, new, &perm.id, (o, perm)));
                let (a, b) = (set_names(old, o.tiers), set_names(new, perm.tiers));
                if a != b {
                    diff.availability.push(AvailabilityChange {
                        subject: Subject::Permission,
                        id: perm.id.clone(),
                        old: a,
                        new: b,
                    });
                }
            }
        }
    }
    for perm in old.permissions() {
        if new.perm_id(&perm.id).is_none() {
            diff.permissions_removed.push(PermissionEntry {
                id: perm.id.clone(),
                label: perm.label.clone(),
            });
        }
    }

    // Decisions of the roles both versions declare.
    let mut perms: BTreeSet<String> = new.permissions().iter().map(|p| p.id.clone()).collect();
    perms.extend(old.permissions().iter().map(|p| p.id.clone()));
    let mut roles: Vec<&str> = new
        .roles()
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| old.role_id(id).is_some())
        .collect();
    roles.sort_unstable();
    for role in roles {
        for perm in &perms {
            let mut current: Option<AccessChange> = None;
            for tier in &tiers {
                let before = allows(old, tier, role, perm);
                let after = allows(new, tier, role, perm);
                // What each version allows only under conditions (none
                // where it allows whatever the facts).
                let (ways_old, ways_new) = (
                    reasons::ways(old, tier, role, perm),
                    reasons::ways(new, tier, role, perm),
                );
                if before == after && ways_old == ways_new {
                    continue;
                }
                let change = match (before, after) {
                    (false, true) => Change::Gained,
                    (true, false) => Change::Lost,
                    _ if ways_new.is_empty() => Change::Lost,
                    _ => Change::Conditional,
                };
                let reasons = if ways_old.is_empty() && !ways_new.is_empty() {
                    vec![ChangeReason::NowConditional { when: ways_new }]
                } else if ways_old != ways_new && !after {
                    vec![ChangeReason::Conditions {
                        old: ways_old,
                        new: ways_new,
                    }]
                } else {
                    attribute(old, new, tier, role, perm, change)
                };
                match &mut current {
                    Some(c) if c.change == change && c.reasons == reasons => {
                        c.tiers.push(tier.clone());
                    }
                    _ => {
                        diff.access.extend(current.take());
                        current = Some(AccessChange {
                            role: role.to_string(),
                            permission: perm.clone(),
                            change,
                            tiers: vec![tier.clone()],
                            reasons,
                        });
                    }
                }
            }
            diff.access.extend(current);
        }
    }

    diff.labels.sort();
    diff.availability.sort();
    diff.roles_added.sort_by(|a, b| a.id.cmp(&b.id));
    diff.roles_removed.sort_by(|a, b| a.id.cmp(&b.id));
    diff.permissions_added.sort_by(|a, b| a.id.cmp(&b.id));
    diff.permissions_removed.sort_by(|a, b| a.id.cmp(&b.id));
    diff
}

mod renames;
use renames::pair_renames;

mod reasons;

use reasons::{allows, attribute};

#[cfg(test)]
mod tests;

/// The wording changes of a permission present in both versions in the
/// tiers both have, beyond a change of its label itself: one entry per
/// (old, new) pair, with the tiers where it applies, in tier order.
fn context_label_changes(
    old: &Policy,
    new: &Policy,
    id: &str,
    (o, n): (&crate::model::Permission, &crate::model::Permission),
) -> Vec<LabelChange> {
    if o.labels.is_empty() && n.labels.is_empty() {
        return Vec::new();
    }
    let (Some(op), Some(np)) = (old.perm_id(id), new.perm_id(id)) else {
        return Vec::new();
    };
    let mut out: Vec<LabelChange> = Vec::new();
    for (i, t) in new.tiers().iter().enumerate() {
        let Some(ot) = old.tier_id(&t.id) else {
            continue;
        };
        let a = old.perm_label(op, ot).unwrap_or("");
        let b = new.perm_label(np, TierId(i as u32)).unwrap_or("");
        if a == b || (a == o.label && b == n.label) {
            continue;
        }
        match out.iter_mut().find(|c| c.old == a && c.new == b) {
            Some(c) => c.tiers.push(Some(t.id.clone())),
            None => out.push(LabelChange {
                subject: Subject::Permission,
                id: id.to_string(),
                old: a.to_string(),
                new: b.to_string(),
                tiers: vec![Some(t.id.clone())],
            }),
        }
    }
    out
}
