//! The declarations of a resolved policy: ids, tier sets, tiers,
//! permissions, roles and their grants, exclusions and parents, and where
//! each is written. Plain data, below everything that computes with it
//! (patterns, sets, the policy's queries, explanations).

use policy_syntax::Span;

/// Index of a tier in [`Policy::tiers`], lowest tier first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TierId(pub u32);
/// Index of a role in [`Policy::roles`], in declaration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleId(pub u32);
/// Index of a permission in [`Policy::permissions`], in declaration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PermId(pub u32);

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

/// The most tiers a policy may declare.
pub const MAX_TIERS: usize = 64;

/// A set of tiers, as a bitmask over [`TierId`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
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

    /// The tiers in the set, lowest first.
    pub fn iter(self) -> impl Iterator<Item = TierId> {
        (0..64u32)
            .filter(move |i| self.0 & (1u64 << i) != 0)
            .map(TierId)
    }
}

/// A declared tier.
#[derive(Debug, Clone)]
pub struct Tier {
    /// Its id.
    pub id: String,
    /// Where it is named in the `tiers` declaration.
    pub span: Span,
}

/// A declared permission.
#[derive(Debug, Clone)]
pub struct Permission {
    /// The dotted id.
    pub id: String,
    /// The human label.
    pub label: String,
    /// The doc comment, if any.
    pub description: Option<String>,
    /// The tiers on which it exists.
    pub tiers: TierSet,
    /// The span of its `on ...` clause, if it has one.
    pub tier_span: Option<Span>,
    /// The span of its id.
    pub span: Span,
}

/// A grant statement's resolved pattern.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The pattern as written.
    pub pattern: String,
    /// Where the pattern is written.
    pub span: Span,
    /// The tiers on which the grant holds.
    pub tiers: TierSet,
    /// The span of the grant's `on ...` clause, if it has one.
    pub tier_span: Option<Span>,
    /// The permissions it matches.
    pub matches: Vec<PermId>,
    /// The doc comment of its `grants` line, if any.
    pub doc: Option<String>,
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
#[derive(Debug, Clone)]
pub struct Exclusion {
    /// The pattern as written.
    pub pattern: String,
    /// Where the pattern is written.
    pub span: Span,
    /// The permissions it matches.
    pub matches: Vec<PermId>,
    /// The doc comment of its `excludes` line, if any (quoted in deny
    /// reasons as a grant's is in derivations).
    pub doc: Option<String>,
}

/// An `inherits` edge.
#[derive(Debug, Clone)]
pub struct Parent {
    /// The parent role.
    pub role: RoleId,
    /// Where the parent is named.
    pub span: Span,
}

/// A declared role.
#[derive(Debug, Clone)]
pub struct Role {
    /// Its id.
    pub id: String,
    /// The display label.
    pub label: String,
    /// The doc comment, if any.
    pub description: Option<String>,
    /// The tiers on which it can be assigned.
    pub tiers: TierSet,
    /// The span of its `on ...` clause, if it has one.
    pub tier_span: Option<Span>,
    /// The roles it inherits from, in order (cycle edges removed).
    pub parents: Vec<Parent>,
    /// Its grants, in order.
    pub grants: Vec<Grant>,
    /// Its exclusions, in order.
    pub exclusions: Vec<Exclusion>,
    /// The span of its id.
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
