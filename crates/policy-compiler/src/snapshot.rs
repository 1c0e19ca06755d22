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

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::explain::provenance::Provenance;
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
/// sorted by id. With several dimensions, contexts whose tables are equal
/// are one entry named by their contexts joined by `, `
/// (`cloud+free, cloud+pro: …`), so the snapshot does not multiply.
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
    /// The tier id (with several dimensions, the contexts that share this
    /// table, joined by `, `), or `None` for the implicit tier of a
    /// tierless policy.
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
    /// Held only under conditions: each way, as `own and x` (then
    /// `granted` and `inherited_from` are empty).
    pub when: Vec<String>,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.when.is_empty() {
            return f.write_str(&crate::explain::wording::snapshot::when(&self.when));
        }
        f.write_str(&crate::explain::wording::snapshot::source(
            self.granted,
            self.inherited_from.iter().map(String::as_str),
        ))
    }
}

/// A permission held only under conditions, as a snapshot entry's ways
/// (`own and setting.public`), in the order of [`Policy::conditional_ways`].
fn ways_text(policy: &Policy, tier: TierId, role: RoleId, perm: PermId) -> Vec<String> {
    policy
        .conditional_ways(tier, role, perm)
        .iter()
        .map(|w| policy.condition_names(*w).join(" and "))
        .collect()
}

/// The empty set of roles a conditional entry inherits from.
static NO_ROLES: BTreeSet<u32> = BTreeSet::new();

impl Snapshot {
    /// Takes the snapshot of a compiled policy.
    ///
    /// The sources are the explanation's (`Policy::provenance`), which
    /// costs time proportional to the output even for an inheritance chain
    /// or roles that each inherit every earlier one.
    /// [`Snapshot::view`] computes the same snapshot while it is
    /// serialized, without holding it.
    pub fn from_policy(policy: &Policy) -> Self {
        let names = Names::new(policy);
        let tiers = context_groups(policy, &names)
            .into_iter()
            .map(|group| {
                let t = group.first().copied().unwrap_or(TierId(0));
                let table = TierTable::new(policy, t, &names);
                let mut roles = BTreeMap::new();
                let Ok(()) = table.for_each_role(policy, &names, |id, perms| {
                    let perms = perms.map(|perms| {
                        perms
                            .into_iter()
                            .map(|(perm, granted, from, when)| {
                                let inherited_from =
                                    from.iter().map(|&k| names.role_id(policy, k).to_string());
                                let source = Source {
                                    granted,
                                    inherited_from: inherited_from.collect(),
                                    when,
                                };
                                (perm.to_string(), source)
                            })
                            .collect()
                    });
                    roles.insert(id.to_string(), perms);
                    Ok::<(), std::convert::Infallible>(())
                });
                TierSnapshot {
                    tier: group_name(policy, &group),
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
    /// Per permission, its rank by id.
    perm_rank: Vec<u32>,
}

impl Names {
    fn new(policy: &Policy) -> Self {
        let mut roles_by_id: Vec<RoleId> = (0..policy.roles().len() as u32).map(RoleId).collect();
        let role_name = |r: &RoleId| policy.role(*r).map(|x| x.id.as_str());
        roles_by_id.sort_by(|a, b| role_name(a).cmp(&role_name(b)));
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
            perm_rank,
        }
    }

    /// The id of the role of rank `k`.
    fn role_id<'p>(&self, policy: &'p Policy, k: u32) -> &'p str {
        self.roles_by_id
            .get(k as usize)
            .and_then(|r| policy.role(*r))
            .map_or("", |x| x.id.as_str())
    }
}

/// One role's permissions on a tier, with where each comes from: the
/// permission's id, whether the role grants it itself, the ranks of the
/// roles it inherits it from, and for one held only under conditions, its
/// ways (then the two before are empty).
type Entries<'p, 't> = Vec<Entry<'p, 't>>;

/// One entry of [`Entries`].
type Entry<'p, 't> = (&'p str, bool, &'t BTreeSet<u32>, Vec<String>);

/// The sources of every role's raw permissions on one tier: the
/// explanation's [`Provenance`], with the roles ranked by id.
struct TierTable {
    tier: TierId,
    provenance: Provenance,
}

impl TierTable {
    fn new(policy: &Policy, tier: TierId, names: &Names) -> Self {
        TierTable {
            tier,
            provenance: policy.provenance(tier, &names.roles_by_id),
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
            // Ranked by permission id: (rank, entry).
            let mut entries: Vec<(u32, Entry<'p, '_>)> = self
                .provenance
                .row(r)
                .filter(|(p, _, _)| policy.perm_available(*p, self.tier))
                .filter_map(|(p, granted, from)| {
                    let rank = names.perm_rank.get(p.index()).copied()?;
                    let id = policy.permission(p)?.id.as_str();
                    Some((rank, (id, granted, from, Vec::new())))
                })
                .collect();
            if policy.has_conditional() {
                for p in 0..policy.permissions().len() as u32 {
                    let ways = ways_text(policy, self.tier, r, PermId(p));
                    if ways.is_empty() {
                        continue;
                    }
                    let (Some(rank), Some(decl)) = (
                        names.perm_rank.get(p as usize).copied(),
                        policy.permission(PermId(p)),
                    ) else {
                        continue;
                    };
                    entries.push((rank, (decl.id.as_str(), false, &NO_ROLES, ways)));
                }
            }
            entries.sort_unstable_by_key(|e| e.0);
            f(
                &decl.id,
                Some(entries.into_iter().map(|(_, e)| e).collect()),
            )?;
        }
        Ok(())
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
        if policy.tiers().is_empty() {
            m.serialize_entry(
                "roles",
                &LazyRoles {
                    policy,
                    names: &names,
                    tier: TierId(0),
                },
            )?;
        } else {
            let groups = context_groups(policy, &names);
            m.serialize_entry(
                "tiers",
                &LazyTiers {
                    policy,
                    names: &names,
                    groups: &groups,
                },
            )?;
        }
        m.end()
    }
}

/// The tiers of a [`SnapshotView`], each computed as it is serialized.
struct LazyTiers<'a> {
    policy: &'a Policy,
    names: &'a Names,
    groups: &'a [Vec<TierId>],
}

impl Serialize for LazyTiers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.groups.len()))?;
        for group in self.groups {
            let name = group_name(self.policy, group);
            let roles = LazyRoles {
                policy: self.policy,
                names: self.names,
                tier: group.first().copied().unwrap_or(TierId(0)),
            };
            m.serialize_entry(name.as_deref().unwrap_or("default"), &roles)?;
        }
        m.end()
    }
}

/// One context's table in a comparable form: per role in id order, its
/// entries (permission, granted, ranks inherited from), or `None` when it
/// is not available.
type Form = Vec<Option<Vec<(String, bool, Vec<u32>, Vec<String>)>>>;

fn form(policy: &Policy, names: &Names, tier: TierId) -> Form {
    let mut out = Vec::new();
    let Ok(()) = TierTable::new(policy, tier, names).for_each_role(policy, names, |_, entries| {
        out.push(entries.map(|e| {
            e.into_iter()
                .map(|(p, g, from, when)| (p.to_string(), g, from.iter().copied().collect(), when))
                .collect()
        }));
        Ok::<(), std::convert::Infallible>(())
    });
    out
}

/// The entries of a snapshot: each context alone, or — with several
/// dimensions, where the contexts multiply — the contexts whose tables
/// are equal as one group, in the order of their first context (the
/// matrix groups them the same way). Only a hash of each table is kept;
/// two tables with one hash are compared in full, so a group is exact.
fn context_groups(policy: &Policy, names: &Names) -> Vec<Vec<TierId>> {
    let tiers: Vec<TierId> = policy.tier_ids().collect();
    if policy.dimensions().len() < 2 {
        return tiers.into_iter().map(|t| vec![t]).collect();
    }
    let hash = |t: TierId| {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        form(policy, names, t).hash(&mut h);
        h.finish()
    };
    let mut groups: Vec<(u64, Vec<TierId>)> = Vec::new();
    for t in tiers {
        let h = hash(t);
        let same = groups.iter_mut().find(|(gh, g)| {
            *gh == h
                && g.first()
                    .is_some_and(|&f| form(policy, names, f) == form(policy, names, t))
        });
        match same {
            Some((_, g)) => g.push(t),
            None => groups.push((h, vec![t])),
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

/// A group's name: its contexts joined by `, ` (`None` for the implicit
/// tier of a policy without tiers).
fn group_name(policy: &Policy, group: &[TierId]) -> Option<String> {
    let names: Vec<&str> = group
        .iter()
        .filter_map(|&t| policy.tier(t).map(|x| x.id.as_str()))
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
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
        for (perm, granted, from, when) in &self.entries {
            if !when.is_empty() {
                m.serialize_entry(perm, &crate::explain::wording::snapshot::when(when))?;
                continue;
            }
            let from = from.iter().map(|&k| self.names.role_id(self.policy, k));
            m.serialize_entry(
                perm,
                &crate::explain::wording::snapshot::source(*granted, from),
            )?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests;
