//! The declarations of a resolved policy: ids, tier sets, tiers,
//! permissions, roles and their grants, exclusions and parents, and where
//! each is written. Plain data, below everything that computes with it
//! (patterns, sets, the policy's queries, explanations).
//!
//! The serde derives here are the one description of the compiled
//! artifact's declarations (`policy_eval::Artifact`): a declaration kind,
//! or a field of one, is serialized by what is written here and nowhere
//! else. In an artifact a span is `[start, end]` (line and column come
//! from the artifact's [`crate::LineTable`]), a parent is a role's index,
//! and a [`TierSet`] field holds an index into the artifact's table of tier
//! lists (see [`for_each_tier_set`]).

use policy_syntax::Span;
use serde::{Deserialize, Serialize};

pub use crate::condition_set::{literal_name, ConditionSet, MAX_CONDITIONS};

/// Index of a tier in [`Policy::tiers`], lowest tier first; with several
/// dimensions, of a context (see [`crate::context`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TierId(pub u32);
/// Index of a role in [`Policy::roles`], in declaration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoleId(pub u32);
/// Index of a permission in [`Policy::permissions`], in declaration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PermId(pub u32);

/// Index of a level in [`Policy::scopes`], in declaration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScopeId(pub u32);

impl ScopeId {
    /// As a `usize` index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl TierId {
    /// As a `usize` index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
impl RoleId {
    /// As a `usize` index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
impl PermId {
    /// As a `usize` index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The most tiers a policy may declare, and the most contexts its
/// dimensions may combine into.
pub const MAX_TIERS: usize = 64;

/// A set of tiers, as a bitmask over [`TierId`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TierSet(pub u64);

impl TierSet {
    /// Every one of the first `count` tiers.
    pub fn all(count: usize) -> Self {
        if count >= 64 {
            TierSet(u64::MAX)
        } else {
            TierSet((1u64 << count) - 1)
        }
    }

    /// Whether `tier` is in the set.
    pub fn contains(self, tier: TierId) -> bool {
        tier.0 < 64 && self.0 & (1u64 << tier.0) != 0
    }

    /// Adds `tier`.
    pub fn insert(&mut self, tier: TierId) {
        if tier.0 < 64 {
            self.0 |= 1u64 << tier.0;
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The tiers in either set.
    pub fn union(self, other: TierSet) -> TierSet {
        TierSet(self.0 | other.0)
    }

    /// The tiers in both sets.
    pub fn intersection(self, other: TierSet) -> TierSet {
        TierSet(self.0 & other.0)
    }

    /// The tiers of `self` that are not in `other`.
    pub fn difference(self, other: TierSet) -> TierSet {
        TierSet(self.0 & !other.0)
    }

    /// Whether every tier of `self` is in `other`.
    pub fn is_subset(self, other: TierSet) -> bool {
        self.difference(other).is_empty()
    }

    /// The tiers in the set, lowest first.
    pub fn iter(self) -> impl Iterator<Item = TierId> {
        (0..64u32)
            .filter(move |i| self.0 & (1u64 << i) != 0)
            .map(TierId)
    }
}

/// A declared tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// Its id.
    pub id: String,
    /// Where it is named in the `tiers` declaration.
    #[serde(rename = "at", with = "span")]
    pub span: Span,
}

/// A declared dimension: `tiers a < b` (named `tier`), or
/// `dimension NAME a < b` (ordered) / `dimension NAME a | b` (unordered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimension {
    /// Its name (`tier` for a `tiers` declaration).
    pub name: String,
    /// Whether its values are unordered (written with `|`): no range
    /// (`>= x`) can be taken over them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unordered: bool,
    /// Its values, lowest first when ordered.
    pub values: Vec<Tier>,
    /// Where its name is written after `dimension` (`None` for `tiers`).
    #[serde(
        rename = "at",
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_span"
    )]
    pub span: Option<Span>,
}

/// A declared level of the product: `scope team "Team" in organization`.
/// Its permissions' and roles' ids are qualified by its id (`team.admin`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Its id.
    pub id: String,
    /// The display label.
    pub label: String,
    /// The doc comment, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The level it is inside; `None` for an outermost level.
    #[serde(rename = "in", default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ScopeId>,
    /// The span of its id.
    #[serde(rename = "at", with = "span")]
    pub span: Span,
}

/// Whether level `inner` is strictly inside level `outer` among `scopes`
/// (following each level's `in`; a walk of at most `scopes.len()` steps,
/// so a cycle in unchecked declarations ends it). The one nesting test of
/// the resolver and of an artifact's checks.
pub fn scope_inside(scopes: &[Scope], inner: ScopeId, outer: ScopeId) -> bool {
    let mut at = scopes.get(inner.index()).and_then(|s| s.parent);
    for _ in 0..scopes.len() {
        match at {
            Some(s) if s == outer => return true,
            Some(s) => at = scopes.get(s.index()).and_then(|x| x.parent),
            None => return false,
        }
    }
    false
}

/// A declared condition: `condition own "On items they created"`, a named
/// fact about a request that grants can depend on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// Its id (dotted, like a permission's: `setting.public_channels`).
    pub id: String,
    /// The display label.
    pub label: String,
    /// The doc comment, if any (quoted in explanations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The span of its id.
    #[serde(rename = "at", with = "span")]
    pub span: Span,
}

/// What every role holds only under conditions (computed by
/// `conditional.rs`): the conditional part of its sets, flattened (a few
/// vectors for the whole policy, rather than one per slot and one per
/// permission held: cloning the policy, as an evaluator does, then
/// costs a few copies, not one allocation per entry).
#[derive(Debug, Clone, Default)]
pub(crate) struct ConditionalSets {
    /// `perms[starts[s]..starts[s + 1]]`: the permissions slot `s`
    /// (`tier × roles + role`) holds under conditions only, sorted; empty
    /// without conditions.
    pub(crate) starts: Vec<usize>,
    /// The permissions of every slot, one after the other.
    pub(crate) perms: Vec<PermId>,
    /// `ways[way_starts[i]..way_starts[i + 1]]`: the ways of `perms[i]`
    /// (one more than `perms`).
    pub(crate) way_starts: Vec<usize>,
    /// The ways of every entry, one after the other.
    pub(crate) ways: Vec<ConditionSet>,
    /// Whether entry `i`'s role and permission both exist on its tier
    /// (else no request there is allowed by it).
    pub(crate) usable: Vec<bool>,
    pub(crate) n_roles: usize,
}

impl ConditionalSets {
    /// The entry of `perm` in the slot of `role` on `tier`, if any.
    fn entry(&self, tier: TierId, role: RoleId, perm: PermId) -> Option<usize> {
        if role.index() >= self.n_roles {
            return None;
        }
        let slot = tier.index() * self.n_roles + role.index();
        let (start, end) = (*self.starts.get(slot)?, *self.starts.get(slot + 1)?);
        let i = self.perms.get(start..end)?.binary_search(&perm).ok()?;
        Some(start + i)
    }

    /// The ways of entry `i`.
    fn entry_ways(&self, i: usize) -> &[ConditionSet] {
        match (self.way_starts.get(i), self.way_starts.get(i + 1)) {
            (Some(&a), Some(&b)) => self.ways.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The ways `role` holds `perm` on `tier` beyond what it always holds.
    pub(crate) fn ways(&self, tier: TierId, role: RoleId, perm: PermId) -> &[ConditionSet] {
        self.entry(tier, role, perm)
            .map_or(&[], |i| self.entry_ways(i))
    }

    /// [`ConditionalSets::ways`] where `role` and `perm` both exist on
    /// `tier`, else none.
    pub(crate) fn usable_ways(&self, tier: TierId, role: RoleId, perm: PermId) -> &[ConditionSet] {
        match self.entry(tier, role, perm) {
            Some(i) if self.usable.get(i).copied().unwrap_or(false) => self.entry_ways(i),
            _ => &[],
        }
    }

    /// Whether any role holds anything under conditions.
    pub(crate) fn is_empty(&self) -> bool {
        self.perms.is_empty()
    }

    /// Every (tier, role, permission) held under conditions, with whether
    /// it is usable and its ways.
    pub(crate) fn all(
        &self,
    ) -> impl Iterator<Item = (TierId, RoleId, PermId, bool, &[ConditionSet])> + '_ {
        let n = self.n_roles.max(1);
        self.starts
            .windows(2)
            .enumerate()
            .flat_map(move |(slot, w)| {
                let (t, r) = (TierId((slot / n) as u32), RoleId((slot % n) as u32));
                let range = match w {
                    [a, b] => *a..*b,
                    _ => 0..0,
                };
                range.filter_map(move |i| {
                    let (p, usable) = (*self.perms.get(i)?, *self.usable.get(i)?);
                    Some((t, r, p, usable, self.entry_ways(i)))
                })
            })
    }
}

/// A declared permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    /// The dotted id; on a level, qualified by the level's id
    /// (`team.projects.remove` for `projects.remove` in `scope team`).
    pub id: String,
    /// The level it belongs to (`None` in a policy without levels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeId>,
    /// The human label.
    pub label: String,
    /// The doc comment, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The tiers on which it exists.
    #[serde(rename = "tier_set")]
    pub tiers: TierSet,
    /// The span of its `on ...` clause, if it has one.
    #[serde(
        rename = "on",
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_span"
    )]
    pub tier_span: Option<Span>,
    /// Its wording in some contexts (`label "…" on …`), in order; where
    /// none selects a context, `label` is the wording.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<ContextLabel>,
    /// The span of its id.
    #[serde(rename = "at", with = "span")]
    pub span: Span,
}

/// A permission's label in some contexts: `label "…" on server`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextLabel {
    /// The wording there.
    pub label: String,
    /// The contexts (within the permission's own).
    #[serde(rename = "tier_set")]
    pub tiers: TierSet,
    /// Where the clause is written.
    #[serde(rename = "at", with = "span")]
    pub span: Span,
}

/// A grant statement's resolved pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The pattern, qualified by the level of the section it is written in
    /// (`team.projects.*` for `projects.*` below `scope team`); as written
    /// in a policy without levels.
    pub pattern: String,
    /// Where the pattern is written.
    #[serde(rename = "at", with = "span")]
    pub span: Span,
    /// The tiers on which the grant holds.
    #[serde(rename = "tier_set")]
    pub tiers: TierSet,
    /// The span of the grant's `on ...` clause, if it has one.
    #[serde(
        rename = "on",
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_span"
    )]
    pub tier_span: Option<Span>,
    /// The conditions under which it holds (its `when` clause; empty:
    /// always).
    #[serde(default, skip_serializing_if = "ConditionSet::is_empty")]
    pub when: ConditionSet,
    /// The span of its `when ...` clause, if it has one.
    #[serde(
        rename = "when_at",
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_span"
    )]
    pub when_span: Option<Span>,
    /// The permissions it matches.
    #[serde(skip)]
    pub matches: Vec<PermId>,
    /// The doc comment of its `grants` line, if any.
    #[serde(skip)]
    pub doc: Option<String>,
}

impl Grant {
    /// Whether the grant holds on `tier` whatever the facts: active there
    /// and without a `when` clause. The one test of the unconditional
    /// sets, their explanations and their lints.
    pub fn holds_on(&self, tier: TierId) -> bool {
        self.tiers.contains(tier) && self.when.is_empty()
    }
}

/// The contradictions of a role's own lines (`P0307`): each exclusion
/// (by index) that matches the permission an *exact* grant (by index)
/// names. An exclusion removes what the role inherits and what its own
/// wildcard grants match; against an exact grant it is a contradiction.
/// The one statement of the rule, for source (`resolve`) and compiled
/// artifacts (`assemble`) alike.
pub(crate) fn exact_grant_conflicts<'a>(
    grants: &'a [Grant],
    exclusions: &'a [Exclusion],
) -> impl Iterator<Item = (&'a Exclusion, &'a Grant)> + 'a {
    exclusions.iter().flat_map(move |e| {
        grants
            .iter()
            .filter(|g| !g.pattern.contains('*'))
            .filter(move |g| g.matches.first().is_some_and(|p| e.matches.contains(p)))
            .map(move |g| (e, g))
    })
}

/// An exclusion's resolved pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exclusion {
    /// The pattern, qualified by the level of the section it is written in
    /// (as for [`Grant::pattern`]).
    pub pattern: String,
    /// Where the pattern is written.
    #[serde(rename = "at", with = "span")]
    pub span: Span,
    /// The permissions it matches.
    #[serde(skip)]
    pub matches: Vec<PermId>,
    /// The doc comment of its `excludes` line, if any (quoted in deny
    /// reasons as a grant's is in derivations).
    #[serde(skip)]
    pub doc: Option<String>,
    /// The conditions under which it takes the permissions away (empty:
    /// always); when they do not hold, the role keeps what it inherits.
    #[serde(default, skip_serializing_if = "ConditionSet::is_empty")]
    pub when: ConditionSet,
}

/// An `inherits` edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parent {
    /// The parent role.
    pub role: RoleId,
    /// An `acts as` edge: the parent is a role on a level inside the
    /// child's (an `inherits` edge stays on one level).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub acts_as: bool,
    /// Where the parent is named.
    #[serde(rename = "at", with = "span")]
    pub span: Span,
}

/// A declared role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Its id; on a level, qualified by the level's id (`team.admin`).
    pub id: String,
    /// The level it belongs to (`None` in a policy without levels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeId>,
    /// The display label.
    pub label: String,
    /// The doc comment, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The tiers on which it can be assigned.
    #[serde(rename = "tier_set")]
    pub tiers: TierSet,
    /// The span of its `on ...` clause, if it has one.
    #[serde(
        rename = "on",
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_span"
    )]
    pub tier_span: Option<Span>,
    /// Where it can be newly given (its `assignable on` lines, united, within
    /// `tiers`); `None`: wherever it is available. Where it is available but
    /// not assignable, holders keep its permissions.
    #[serde(
        rename = "assignable_set",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub assignable: Option<TierSet>,
    /// The span of its first `assignable on` clause, if it has one.
    #[serde(
        rename = "assignable_on",
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_span"
    )]
    pub assignable_span: Option<Span>,
    /// The roles it inherits from and acts as, in order (cycle edges
    /// removed).
    #[serde(rename = "inherits")]
    pub parents: Vec<Parent>,
    /// Its grants, in order.
    pub grants: Vec<Grant>,
    /// Its exclusions, in order.
    #[serde(rename = "excludes")]
    pub exclusions: Vec<Exclusion>,
    /// The span of its id.
    #[serde(rename = "at", with = "span")]
    pub span: Span,
}

/// Where something is written in the policy source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The byte span (kept by compiled artifacts too, so an explanation
    /// from an artifact equals the one from source).
    pub span: Option<Span>,
}

/// Every [`TierSet`] field of `permissions` and `roles`, in the order a
/// compiled artifact numbers its tier lists: each permission followed by
/// its context labels, then each role (its availability, then its
/// assignability if declared) followed by its grants. `f` is given the field and what holds it
/// (for messages). The one list of where declarations hold tier sets: the
/// artifact maps them to indices and back through it.
pub fn for_each_tier_set<E>(
    permissions: &mut [Permission],
    roles: &mut [Role],
    mut f: impl FnMut(&mut TierSet, &dyn Fn() -> String) -> Result<(), E>,
) -> Result<(), E> {
    for p in permissions {
        f(&mut p.tiers, &|| format!("permission `{}`", p.id))?;
        let id = p.id.as_str();
        for l in &mut p.labels {
            f(&mut l.tiers, &|| format!("a label of permission `{id}`"))?;
        }
    }
    for r in roles {
        let id = r.id.as_str();
        f(&mut r.tiers, &|| format!("role `{id}`"))?;
        if let Some(a) = &mut r.assignable {
            f(a, &|| format!("where role `{id}` is assignable"))?;
        }
        for g in &mut r.grants {
            let pattern = g.pattern.as_str();
            f(&mut g.tiers, &|| {
                format!("the grant `{pattern}` of role `{id}`")
            })?;
        }
    }
    Ok(())
}

/// A [`Span`] as `[start, end]`.
mod span {
    use policy_syntax::Span;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(s: &Span, ser: S) -> Result<S::Ok, S::Error> {
        (s.start, s.end).serialize(ser)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Span, D::Error> {
        let (start, end) = <(usize, usize)>::deserialize(de)?;
        Ok(Span::new(start, end))
    }
}

/// An optional [`Span`] as `[start, end]`.
mod opt_span {
    use policy_syntax::Span;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: &Option<Span>, ser: S) -> Result<S::Ok, S::Error> {
        match s {
            Some(s) => super::span::serialize(s, ser),
            None => ser.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Span>, D::Error> {
        Ok(Option::<(usize, usize)>::deserialize(de)?.map(|(s, e)| Span::new(s, e)))
    }
}
