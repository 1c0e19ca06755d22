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

use crate::model::{PermId, Policy, Role, RoleId, TierId};

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
        f.write_str(&crate::explain::wording::snapshot::source(
            self.granted,
            self.inherited_from.iter().map(String::as_str),
        ))
    }
}

impl Snapshot {
    /// Takes the snapshot of a compiled policy.
    ///
    /// Each role's sources are the union of its parents' (roles in
    /// resolution order), skipping a parent of its latest parent when that
    /// one excludes nothing: an inheritance chain, or roles that each
    /// inherit every earlier one, cost time proportional to the output.
    /// [`Snapshot::view`] computes the same snapshot while it is
    /// serialized, without holding it.
    pub fn from_policy(policy: &Policy) -> Self {
        let names = Names::new(policy);
        let tiers = policy
            .tier_ids()
            .map(|t| {
                let table = TierTable::new(policy, t, &names);
                let mut roles = BTreeMap::new();
                let Ok(()) = table.for_each_role(policy, &names, |id, perms| {
                    let perms = perms.map(|perms| {
                        perms
                            .into_iter()
                            .map(|(perm, granted, from)| {
                                let inherited_from =
                                    from.iter().map(|&k| names.role_id(policy, k).to_string());
                                let source = Source {
                                    granted,
                                    inherited_from: inherited_from.collect(),
                                };
                                (perm.to_string(), source)
                            })
                            .collect()
                    });
                    roles.insert(id.to_string(), perms);
                    Ok::<(), std::convert::Infallible>(())
                });
                TierSnapshot {
                    tier: policy.tier(t).map(|x| x.id.clone()),
                    roles,
                }
            })
            .collect();
        Snapshot {
            schema_version: SNAPSHOT_SCHEMA_VERSION,
            has_tiers: !policy.tiers().is_empty(),
            tiers,
        }
    }

    /// The snapshot of `policy`, computed while it is serialized: the same
    /// bytes as serializing [`Snapshot::from_policy`], holding one tier's
    /// sources at a time instead of every entry as strings.
    pub fn view(policy: &Policy) -> SnapshotView<'_> {
        SnapshotView { policy }
    }
}

/// A snapshot that is computed while it is serialized ([`Snapshot::view`]).
#[derive(Debug, Clone, Copy)]
pub struct SnapshotView<'a> {
    policy: &'a Policy,
}

/// Roles and permissions ranked by id, the order a snapshot lists them in.
struct Names {
    /// Role ids in ascending order of their id.
    roles_by_id: Vec<RoleId>,
    /// Per role, its rank in `roles_by_id`.
    role_rank: Vec<u32>,
    /// Per permission, its rank by id.
    perm_rank: Vec<u32>,
}

impl Names {
    fn new(policy: &Policy) -> Self {
        let mut roles_by_id: Vec<RoleId> = (0..policy.roles().len() as u32).map(RoleId).collect();
        let role_name = |r: &RoleId| policy.role(*r).map(|x| x.id.as_str());
        roles_by_id.sort_by(|a, b| role_name(a).cmp(&role_name(b)));
        let mut role_rank = vec![0; roles_by_id.len()];
        for (k, r) in roles_by_id.iter().enumerate() {
            if let Some(slot) = role_rank.get_mut(r.index()) {
                *slot = k as u32;
            }
        }
        let mut perms: Vec<PermId> = (0..policy.permissions().len() as u32).map(PermId).collect();
        let perm_name = |p: &PermId| policy.permission(*p).map(|x| x.id.as_str());
        perms.sort_by(|a, b| perm_name(a).cmp(&perm_name(b)));
        let mut perm_rank = vec![0; perms.len()];
        for (k, p) in perms.iter().enumerate() {
            if let Some(slot) = perm_rank.get_mut(p.index()) {
                *slot = k as u32;
            }
        }
        Names {
            roles_by_id,
            role_rank,
            perm_rank,
        }
    }

    fn role_rank(&self, r: RoleId) -> u32 {
        self.role_rank.get(r.index()).copied().unwrap_or(u32::MAX)
    }

    /// The id of the role of rank `k`.
    fn role_id<'p>(&self, policy: &'p Policy, k: u32) -> &'p str {
        self.roles_by_id
            .get(k as usize)
            .and_then(|r| policy.role(*r))
            .map_or("", |x| x.id.as_str())
    }
}

/// The ancestors a role inherits one permission from, as role ranks (so
/// in id order), shared along chains.
type From = Rc<BTreeSet<u32>>;

/// One role's permissions on a tier, with where each comes from: the
/// permission's id, whether the role grants it itself, and the ranks of
/// the roles it inherits it from.
type Entries<'p, 't> = Vec<(&'p str, bool, &'t BTreeSet<u32>)>;

/// The sources of every role's raw permissions on one tier.
struct TierTable {
    tier: TierId,
    /// Per role, its raw permissions (ascending) with the roles it
    /// inherits each from: the roles that grant it on the tier and pass it
    /// down through roles that all hold it.
    rows: Vec<Vec<(PermId, From)>>,
    /// Per role, what it grants itself on the tier (ascending).
    granted: Vec<Vec<PermId>>,
    /// The parents' entries merged to build the rows (the work done).
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the tests"))]
    merged: usize,
}

impl TierTable {
    /// Builds the table from the parents' rows, roles in resolution order
    /// (parents first): a role's row is the union of its parents' rows,
    /// each parent adding itself where it grants the permission.
    ///
    /// A parent that is also a parent of another parent `b` (the latest in
    /// resolution order) adds nothing when `b` excludes nothing: `b` holds
    /// all it holds, and its sources already include that parent's. So a
    /// role that inherits every earlier role costs its own row, not the sum
    /// of its parents' rows.
    fn new(policy: &Policy, tier: TierId, names: &Names) -> Self {
        let n_roles = policy.roles().len();
        let granted: Vec<Vec<PermId>> = policy
            .roles()
            .iter()
            .map(|role| {
                let mut own: Vec<PermId> = role
                    .grants
                    .iter()
                    .filter(|g| g.tiers.contains(tier))
                    .flat_map(|g| g.matches.iter().copied())
                    .collect();
                own.sort_unstable();
                own.dedup();
                own
            })
            .collect();
        let mut position = vec![usize::MAX; n_roles];
        for (k, r) in policy.resolution_order().iter().enumerate() {
            if let Some(slot) = position.get_mut(r.index()) {
                *slot = k;
            }
        }
        let empty: From = Rc::new(BTreeSet::new());
        let mut rows: Vec<Vec<(PermId, From)>> = vec![Vec::new(); n_roles];
        // Per permission, its index in the row being built (u32::MAX: none).
        let mut slot_of = vec![u32::MAX; policy.permissions().len()];
        let mut parents: Vec<RoleId> = Vec::new();
        let mut merged = 0;
        for &r in policy.resolution_order() {
            let Some(decl) = policy.role(r) else {
                continue;
            };
            active_parents(policy, decl, &position, &mut parents);
            let raw = policy.raw_perms(tier, r);
            for (k, p) in raw.iter().enumerate() {
                if let Some(s) = slot_of.get_mut(p.index()) {
                    *s = k as u32;
                }
            }
            let mut row: Vec<(PermId, Option<From>)> = raw.iter().map(|&p| (p, None)).collect();
            for &q in &parents {
                let (Some(theirs), Some(own)) = (rows.get(q.index()), granted.get(q.index()))
                else {
                    continue;
                };
                let q_rank = names.role_rank(q);
                merged += theirs.len();
                for (p, theirs) in theirs {
                    let Some((_, from)) = slot_of
                        .get(p.index())
                        .and_then(|&k| row.get_mut(k as usize))
                    else {
                        continue; // the role excludes it
                    };
                    let adds_self = own.binary_search(p).is_ok();
                    *from = Some(merge(from.take(), theirs, adds_self.then_some(q_rank)));
                }
            }
            for p in &raw {
                if let Some(s) = slot_of.get_mut(p.index()) {
                    *s = u32::MAX;
                }
            }
            if let Some(slot) = rows.get_mut(r.index()) {
                *slot = row
                    .into_iter()
                    .map(|(p, f)| (p, f.unwrap_or_else(|| Rc::clone(&empty))))
                    .collect();
            }
        }
        TierTable {
            tier,
            rows,
            granted,
            merged,
        }
    }

    /// Calls `f` for every role in id order with its id and its entries
    /// in permission-id order, or `None` when it is not available on the
    /// tier. Stops at the first error.
    fn for_each_role<'p, E>(
        &self,
        policy: &'p Policy,
        names: &Names,
        mut f: impl FnMut(&'p str, Option<Entries<'p, '_>>) -> Result<(), E>,
    ) -> Result<(), E> {
        for &r in &names.roles_by_id {
            let Some(decl) = policy.role(r) else {
                continue;
            };
            if !policy.role_available(r, self.tier) {
                f(&decl.id, None)?;
                continue;
            }
            let (Some(row), Some(own)) = (self.rows.get(r.index()), self.granted.get(r.index()))
            else {
                continue;
            };
            let mut entries: Vec<(u32, &'p str, bool, &BTreeSet<u32>)> = row
                .iter()
                .filter(|(p, _)| policy.perm_available(*p, self.tier))
                .filter_map(|(p, from)| {
                    let rank = names.perm_rank.get(p.index()).copied()?;
                    let id = policy.permission(*p)?.id.as_str();
                    Some((rank, id, own.binary_search(p).is_ok(), &**from))
                })
                .collect();
            entries.sort_unstable_by_key(|e| e.0);
            f(
                &decl.id,
                Some(
                    entries
                        .into_iter()
                        .map(|(_, p, g, from)| (p, g, from))
                        .collect(),
                ),
            )?;
        }
        Ok(())
    }
}

/// The parents of `decl` whose rows a role must merge, into `out`: all of
/// them, except those that are parents of the latest one in resolution
/// order when that one excludes nothing (it already holds and passes on
/// everything they do).
fn active_parents(policy: &Policy, decl: &Role, position: &[usize], out: &mut Vec<RoleId>) {
    out.clear();
    out.extend(decl.parents.iter().map(|p| p.role));
    if out.len() < 2 {
        return;
    }
    let pos = |r: RoleId| position.get(r.index()).copied().unwrap_or(usize::MAX);
    let Some(base) = out.iter().copied().max_by_key(|&r| pos(r)) else {
        return;
    };
    let Some(base_decl) = policy.role(base) else {
        return;
    };
    if !base_decl.exclusions.is_empty() {
        return;
    }
    let mut covered: Vec<RoleId> = base_decl.parents.iter().map(|p| p.role).collect();
    covered.push(base);
    covered.sort_unstable();
    out.retain(|r| covered.binary_search(r).is_err());
    out.push(base);
}

/// `mine` with `theirs` (a parent's sources of one permission) added, and
/// the parent itself (`parent`, its rank) when it grants the permission;
/// shares `theirs` or `mine` when nothing is added to it.
fn merge(mine: Option<From>, theirs: &From, parent: Option<u32>) -> From {
    match mine {
        None => match parent {
            None => Rc::clone(theirs),
            Some(q) => {
                let mut set = BTreeSet::clone(theirs);
                set.insert(q);
                Rc::new(set)
            }
        },
        Some(mine) => {
            if parent.is_none_or(|q| mine.contains(&q))
                && (Rc::ptr_eq(&mine, theirs) || theirs.is_subset(&mine))
            {
                mine
            } else {
                let mut set = BTreeSet::clone(&mine);
                set.extend(theirs.iter().copied());
                set.extend(parent);
                Rc::new(set)
            }
        }
    }
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
                None => {
                    m.serialize_entry(role, crate::explain::wording::snapshot::NOT_AVAILABLE)?
                }
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

impl Serialize for SnapshotView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let policy = self.policy;
        let names = Names::new(policy);
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("schema_version", &SNAPSHOT_SCHEMA_VERSION)?;
        let tiers: Vec<TierId> = policy.tier_ids().collect();
        match tiers.as_slice() {
            [only] if policy.tiers().is_empty() => m.serialize_entry(
                "roles",
                &LazyRoles {
                    policy,
                    names: &names,
                    tier: *only,
                },
            )?,
            _ => m.serialize_entry(
                "tiers",
                &LazyTiers {
                    policy,
                    names: &names,
                    tiers: &tiers,
                },
            )?,
        }
        m.end()
    }
}

/// The tiers of a [`SnapshotView`], each computed as it is serialized.
struct LazyTiers<'a> {
    policy: &'a Policy,
    names: &'a Names,
    tiers: &'a [TierId],
}

impl Serialize for LazyTiers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.tiers.len()))?;
        for &tier in self.tiers {
            let name = self.policy.tier(tier).map_or("default", |x| x.id.as_str());
            let roles = LazyRoles {
                policy: self.policy,
                names: self.names,
                tier,
            };
            m.serialize_entry(name, &roles)?;
        }
        m.end()
    }
}

/// The roles of one tier of a [`SnapshotView`].
struct LazyRoles<'a> {
    policy: &'a Policy,
    names: &'a Names,
    tier: TierId,
}

impl Serialize for LazyRoles<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (policy, names) = (self.policy, self.names);
        let table = TierTable::new(policy, self.tier, names);
        let mut m = s.serialize_map(Some(policy.roles().len()))?;
        table.for_each_role(policy, names, |id, entries| match entries {
            None => m.serialize_entry(id, crate::explain::wording::snapshot::NOT_AVAILABLE),
            Some(entries) => m.serialize_entry(
                id,
                &LazyPerms {
                    policy,
                    names,
                    entries,
                },
            ),
        })?;
        m.end()
    }
}

/// One role's entries in a [`SnapshotView`].
struct LazyPerms<'a, 't> {
    policy: &'a Policy,
    names: &'a Names,
    entries: Entries<'a, 't>,
}

impl Serialize for LazyPerms<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.entries.len()))?;
        for &(perm, granted, from) in &self.entries {
            let from = from.iter().map(|&k| self.names.role_id(self.policy, k));
            m.serialize_entry(
                perm,
                &crate::explain::wording::snapshot::source(granted, from),
            )?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests;
