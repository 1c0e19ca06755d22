//! A canonical, reviewable picture of a resolved policy: per tier, per role,
//! the sorted effective permissions and where each comes from.
//!
//! The [`Snapshot`] is a deliberate serializable artifact (it has a
//! `schema_version`), not a dump of internal types. It names roles and
//! permissions only, never line numbers, so it stays the same under harmless
//! refactors (reordering declarations, splitting a `grants` line, adding
//! comments) and changes exactly when someone gains or loses a permission.
//!
//! ```
//! use policy_compiler::{compile, Snapshot};
//! use policy_syntax::SourceFile;
//!
//! let src = SourceFile::new("demo.policy", r#"
//!     permission files.manage "Manage files"
//!     permission billing.manage "Manage billing"
//!     role member "Member" { grants files.manage }
//!     role admin "Admin" { inherits member grants billing.manage }
//! "#);
//! let (policy, _) = compile(&src);
//! let snap = Snapshot::from_policy(&policy);
//! let admin = &snap.tiers[0].roles["admin"];
//! assert_eq!(admin.as_ref().unwrap()["files.manage"].to_string(), "inherited from member");
//! ```

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::model::{PermId, Policy, RoleId, TierId};

/// The version of the snapshot format; bumped on any change to its shape.
pub const SNAPSHOT_SCHEMA_VERSION: u32 = 1;

/// The effective permissions of every role on every tier.
///
/// Serializes (e.g. to YAML) as:
///
/// ```yaml
/// schema_version: 1
/// tiers:              # `roles:` directly when the policy declares no tiers
///   free:
///     admin:
///       billing.manage: granted
///       files.manage: inherited from member
///     member: not available
/// ```
///
/// Tiers keep their declared order (lowest first); roles and permissions are
/// sorted by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Always [`SNAPSHOT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Whether the policy declares tiers; when it does not, `tiers` holds
    /// one entry whose `tier` is `None`.
    pub has_tiers: bool,
    /// One entry per tier, lowest first.
    pub tiers: Vec<TierSnapshot>,
}

/// The roles on one tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierSnapshot {
    /// The tier id, or `None` for the implicit tier of a tierless policy.
    pub tier: Option<String>,
    /// Role id → its effective permissions, or `None` when the role cannot
    /// be assigned on this tier.
    pub roles: BTreeMap<String, Option<BTreeMap<String, Source>>>,
}

/// Where a role's effective permission comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Source {
    /// The role grants it itself (with a grant active on the tier).
    pub granted: bool,
    /// The roles it inherits it from: those of its ancestors, reachable
    /// through roles that hold the permission, that grant it on the tier.
    pub inherited_from: BTreeSet<String>,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let from = self
            .inherited_from
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        match (self.granted, from.is_empty()) {
            (true, true) => f.write_str("granted"),
            (true, false) => write!(f, "granted, also inherited from {from}"),
            (false, _) => write!(f, "inherited from {from}"),
        }
    }
}

impl Snapshot {
    /// Takes the snapshot of a compiled policy.
    pub fn from_policy(policy: &Policy) -> Self {
        let tiers = policy
            .tier_ids()
            .map(|t| TierSnapshot {
                tier: policy.tier(t).map(|x| x.id.clone()),
                roles: (0..policy.roles().len() as u32)
                    .map(RoleId)
                    .filter_map(|r| {
                        let id = policy.role(r)?.id.clone();
                        if !policy.role_available(r, t) {
                            return Some((id, None));
                        }
                        let perms = policy
                            .effective(t, r)
                            .into_iter()
                            .filter_map(|p| {
                                Some((policy.permission(p)?.id.clone(), source(policy, t, r, p)))
                            })
                            .collect();
                        Some((id, Some(perms)))
                    })
                    .collect(),
            })
            .collect();
        Snapshot {
            schema_version: SNAPSHOT_SCHEMA_VERSION,
            has_tiers: !policy.tiers().is_empty(),
            tiers,
        }
    }
}

/// Every role that grants `perm` on `tier` and passes it down to `role`
/// (through roles that all hold it), split into "itself" and "ancestors".
fn source(policy: &Policy, tier: TierId, role: RoleId, perm: PermId) -> Source {
    let mut out = Source::default();
    let mut seen = BTreeSet::from([role]);
    let mut queue = VecDeque::from([role]);
    while let Some(r) = queue.pop_front() {
        let Some(decl) = policy.role(r) else {
            continue;
        };
        let grants = decl
            .grants
            .iter()
            .any(|g| g.tiers.contains(tier) && g.matches.contains(&perm));
        if grants {
            if r == role {
                out.granted = true;
            } else {
                out.inherited_from.insert(decl.id.clone());
            }
        }
        for p in &decl.parents {
            if policy.holds_raw(tier, p.role, perm) && seen.insert(p.role) {
                queue.push_back(p.role);
            }
        }
    }
    out
}

struct Perms<'a>(&'a BTreeMap<String, Source>);

impl Serialize for Perms<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (perm, source) in self.0 {
            m.serialize_entry(perm, &source.to_string())?;
        }
        m.end()
    }
}

struct Roles<'a>(&'a BTreeMap<String, Option<BTreeMap<String, Source>>>);

impl Serialize for Roles<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (role, perms) in self.0 {
            match perms {
                Some(perms) => m.serialize_entry(role, &Perms(perms))?,
                None => m.serialize_entry(role, "not available")?,
            }
        }
        m.end()
    }
}

struct Tiers<'a>(&'a [TierSnapshot]);

impl Serialize for Tiers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for t in self.0 {
            m.serialize_entry(t.tier.as_deref().unwrap_or("default"), &Roles(&t.roles))?;
        }
        m.end()
    }
}

impl Serialize for Snapshot {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("schema_version", &self.schema_version)?;
        match (self.has_tiers, self.tiers.as_slice()) {
            (false, [only]) => m.serialize_entry("roles", &Roles(&only.roles))?,
            _ => m.serialize_entry("tiers", &Tiers(&self.tiers))?,
        }
        m.end()
    }
}
