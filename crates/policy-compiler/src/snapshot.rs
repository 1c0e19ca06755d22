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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::rc::Rc;

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
    ///
    /// Runs in time proportional to the policy plus the raw sets it
    /// resolves to: the sources of each role's permissions are built from
    /// its parents' (roles in resolution order, parents first), sharing one
    /// set along a chain, instead of a walk up the ancestors per entry.
    pub fn from_policy(policy: &Policy) -> Self {
        let tiers = policy
            .tier_ids()
            .map(|t| TierSnapshot {
                tier: policy.tier(t).map(|x| x.id.clone()),
                roles: tier_roles(policy, t),
            })
            .collect();
        Snapshot {
            schema_version: SNAPSHOT_SCHEMA_VERSION,
            has_tiers: !policy.tiers().is_empty(),
            tiers,
        }
    }
}

/// The ancestors a role inherits one permission from (shared along chains).
type From = Rc<BTreeSet<RoleId>>;

/// Per role, its raw permissions (ascending) with the roles it inherits
/// each from: the roles that grant it on the tier and pass it down through
/// roles that all hold it.
/// Also returns, per role, what it grants itself on the tier.
#[expect(clippy::type_complexity, reason = "two per-role tables, private")]
fn inherited_sources(
    policy: &Policy,
    tier: TierId,
) -> (Vec<Vec<(PermId, From)>>, Vec<BTreeSet<PermId>>) {
    let empty: From = Rc::new(BTreeSet::new());
    let mut table: Vec<Vec<(PermId, From)>> = vec![Vec::new(); policy.roles().len()];
    let mut granted: Vec<BTreeSet<PermId>> = vec![BTreeSet::new(); policy.roles().len()];
    for (i, role) in policy.roles().iter().enumerate() {
        if let Some(g) = granted.get_mut(i) {
            g.extend(
                role.grants
                    .iter()
                    .filter(|g| g.tiers.contains(tier))
                    .flat_map(|g| g.matches.iter().copied()),
            );
        }
    }
    let grants = |r: RoleId, p: PermId| granted.get(r.index()).is_some_and(|g| g.contains(&p));
    for &r in policy.resolution_order() {
        let Some(decl) = policy.role(r) else {
            continue;
        };
        let mut row = Vec::new();
        for p in policy.raw_perms(tier, r) {
            let mut from: Option<From> = None;
            for parent in &decl.parents {
                let q = parent.role;
                let Some(theirs) = table.get(q.index()).and_then(|t| {
                    let k = t.binary_search_by_key(&p, |(x, _)| *x).ok()?;
                    t.get(k).map(|(_, f)| f)
                }) else {
                    continue; // the parent does not hold it
                };
                let adds_self = grants(q, p);
                from = Some(match from {
                    None if !adds_self => Rc::clone(theirs),
                    None => {
                        let mut set = BTreeSet::clone(theirs);
                        set.insert(q);
                        Rc::new(set)
                    }
                    Some(mine) => {
                        if theirs.is_subset(&mine) && (!adds_self || mine.contains(&q)) {
                            mine
                        } else {
                            let mut set = BTreeSet::clone(&mine);
                            set.extend(theirs.iter().copied());
                            if adds_self {
                                set.insert(q);
                            }
                            Rc::new(set)
                        }
                    }
                });
            }
            row.push((p, from.unwrap_or_else(|| Rc::clone(&empty))));
        }
        if let Some(slot) = table.get_mut(r.index()) {
            *slot = row;
        }
    }
    (table, granted)
}

/// Every role of the snapshot of `tier`: its effective permissions with
/// their sources, or `None` when it is not available there.
fn tier_roles(policy: &Policy, tier: TierId) -> BTreeMap<String, Option<BTreeMap<String, Source>>> {
    let (table, granted) = inherited_sources(policy, tier);
    (0..policy.roles().len() as u32)
        .map(RoleId)
        .filter_map(|r| {
            let decl = policy.role(r)?;
            let id = decl.id.clone();
            if !policy.role_available(r, tier) {
                return Some((id, None));
            }
            let own = granted.get(r.index())?;
            let row = table.get(r.index())?;
            let perms = row
                .iter()
                .filter(|(p, _)| policy.perm_available(*p, tier))
                .filter_map(|(p, from)| {
                    let source = Source {
                        granted: own.contains(p),
                        inherited_from: from
                            .iter()
                            .filter_map(|q| Some(policy.role(*q)?.id.clone()))
                            .collect(),
                    };
                    Some((policy.permission(*p)?.id.clone(), source))
                })
                .collect();
            Some((id, Some(perms)))
        })
        .collect()
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
