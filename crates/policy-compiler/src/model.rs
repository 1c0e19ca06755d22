//! The resolved policy: declarations with resolved references, and the
//! effective permission sets per tier and role.

use std::collections::HashMap;

use fixedbitset::FixedBitSet;
use policy_syntax::{SourceFile, Span};

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

/// One step of a derivation: why a role holds a permission on a tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `role` inherits from `parent`, at `span`.
    Inherited {
        /// The inheriting role.
        role: RoleId,
        /// The role inherited from.
        parent: RoleId,
        /// Where `parent` is named in `role`'s `inherits`.
        span: Span,
    },
    /// `role` grants the permission itself, through `pattern` at `span`.
    Granted {
        /// The granting role.
        role: RoleId,
        /// The pattern that matched (`deployments.*` or the exact id).
        pattern: String,
        /// Where the pattern is written.
        span: Span,
    },
}

/// A compiled policy: every name resolved and the effective permission set
/// of every role on every tier precomputed as a bitset.
///
/// Built by [`crate::compile`]. When compilation reported errors, the
/// policy holds what could be resolved; unknown names were dropped, so it
/// grants less, never more (fail closed).
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) source: SourceFile,
    pub(crate) tiers: Vec<Tier>,
    pub(crate) permissions: Vec<Permission>,
    pub(crate) roles: Vec<Role>,
    pub(crate) role_index: HashMap<String, RoleId>,
    pub(crate) perm_index: HashMap<String, PermId>,
    pub(crate) tier_index: HashMap<String, TierId>,
    /// Distinct raw sets (inheritance, grants, exclusions; before the
    /// role- and permission-availability masks).
    pub(crate) sets: Vec<FixedBitSet>,
    /// `slots[tier * roles + role]` is the index into `sets`.
    pub(crate) slots: Vec<u32>,
    /// Per tier: the permissions that exist on it.
    pub(crate) perm_avail: Vec<FixedBitSet>,
    pub(crate) asserts: usize,
}

impl Policy {
    /// The source it was compiled from.
    pub fn source(&self) -> &SourceFile {
        &self.source
    }

    /// The declared tiers, lowest first; empty when the policy has none.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// How many tiers the sets are computed for: the declared ones, or one
    /// implicit tier when none are declared.
    pub fn tier_count(&self) -> usize {
        self.tiers.len().max(1)
    }

    /// Every tier id the sets are computed for.
    pub fn tier_ids(&self) -> impl Iterator<Item = TierId> {
        (0..self.tier_count() as u32).map(TierId)
    }

    /// The permissions, in declaration order.
    pub fn permissions(&self) -> &[Permission] {
        &self.permissions
    }

    /// The roles, in declaration order.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// How many `assert` declarations were checked.
    pub fn assertion_count(&self) -> usize {
        self.asserts
    }

    /// Looks a role up by id.
    pub fn role_id(&self, name: &str) -> Option<RoleId> {
        self.role_index.get(name).copied()
    }

    /// Looks a permission up by id.
    pub fn perm_id(&self, name: &str) -> Option<PermId> {
        self.perm_index.get(name).copied()
    }

    /// Looks a tier up by id.
    pub fn tier_id(&self, name: &str) -> Option<TierId> {
        self.tier_index.get(name).copied()
    }

    /// A role by id.
    pub fn role(&self, id: RoleId) -> Option<&Role> {
        self.roles.get(id.index())
    }

    /// A permission by id.
    pub fn permission(&self, id: PermId) -> Option<&Permission> {
        self.permissions.get(id.index())
    }

    /// A tier by id (`None` for the implicit tier of a tierless policy).
    pub fn tier(&self, id: TierId) -> Option<&Tier> {
        self.tiers.get(id.index())
    }

    /// Whether `role` can be assigned on `tier`.
    pub fn role_available(&self, role: RoleId, tier: TierId) -> bool {
        self.role(role).is_some_and(|r| r.tiers.contains(tier))
    }

    /// Whether `perm` exists on `tier`.
    pub fn perm_available(&self, perm: PermId, tier: TierId) -> bool {
        self.perm_avail
            .get(tier.index())
            .is_some_and(|s| s.contains(perm.index()))
    }

    pub(crate) fn raw_set(&self, tier: TierId, role: RoleId) -> Option<&FixedBitSet> {
        let slot = self
            .slots
            .get(tier.index() * self.roles.len() + role.index())?;
        self.sets.get(*slot as usize)
    }

    /// Whether `role` holds `perm` through inheritance and grants on `tier`,
    /// ignoring whether the role and permission are available there. This is
    /// what the role passes on to roles that inherit from it.
    pub fn holds_raw(&self, tier: TierId, role: RoleId, perm: PermId) -> bool {
        self.raw_set(tier, role)
            .is_some_and(|s| s.contains(perm.index()))
    }

    /// The decision: whether a user with `role` may use `perm` on `tier`.
    /// Unknown ids give `false`.
    #[inline]
    pub fn allows(&self, tier: TierId, role: RoleId, perm: PermId) -> bool {
        self.role_available(role, tier)
            && self.perm_available(perm, tier)
            && self.holds_raw(tier, role, perm)
    }

    /// The permissions `role` may use on `tier`, in declaration order.
    pub fn effective(&self, tier: TierId, role: RoleId) -> Vec<PermId> {
        if !self.role_available(role, tier) {
            return Vec::new();
        }
        let (Some(raw), Some(avail)) =
            (self.raw_set(tier, role), self.perm_avail.get(tier.index()))
        else {
            return Vec::new();
        };
        raw.intersection(avail).map(|i| PermId(i as u32)).collect()
    }

    /// The roles that may use `perm` on `tier`, in declaration order.
    pub fn who_can(&self, tier: TierId, perm: PermId) -> Vec<RoleId> {
        (0..self.roles.len() as u32)
            .map(RoleId)
            .filter(|r| self.allows(tier, *r, perm))
            .collect()
    }

    /// The roles `role` inherits from, directly or not, nearest first.
    pub fn ancestors(&self, role: RoleId) -> Vec<RoleId> {
        let mut seen = vec![false; self.roles.len()];
        let mut out = Vec::new();
        let mut queue = std::collections::VecDeque::from([role]);
        if let Some(s) = seen.get_mut(role.index()) {
            *s = true;
        }
        while let Some(r) = queue.pop_front() {
            for p in self.role(r).map(|r| r.parents.as_slice()).unwrap_or(&[]) {
                if let Some(s) = seen.get_mut(p.role.index()) {
                    if !*s {
                        *s = true;
                        out.push(p.role);
                        queue.push_back(p.role);
                    }
                }
            }
        }
        out
    }

    /// The shortest derivation of `perm` for `role` on `tier`, ignoring
    /// availability: inheritance steps from `role` up to the role that
    /// grants it, ending with the grant. `None` when the role does not hold it.
    pub fn derivation(&self, tier: TierId, role: RoleId, perm: PermId) -> Option<Vec<Step>> {
        if !self.holds_raw(tier, role, perm) {
            return None;
        }
        let mut prev: HashMap<RoleId, (RoleId, Span)> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([role]);
        prev.insert(role, (role, Span::default()));
        while let Some(r) = queue.pop_front() {
            let decl = self.role(r)?;
            let grant = decl
                .grants
                .iter()
                .find(|g| g.tiers.contains(tier) && g.matches.contains(&perm));
            if let Some(g) = grant {
                let mut steps = vec![Step::Granted {
                    role: r,
                    pattern: g.pattern.clone(),
                    span: g.span,
                }];
                let mut cur = r;
                while cur != role {
                    let (child, span) = *prev.get(&cur)?;
                    steps.push(Step::Inherited {
                        role: child,
                        parent: cur,
                        span,
                    });
                    cur = child;
                }
                steps.reverse();
                return Some(steps);
            }
            for p in &decl.parents {
                if !prev.contains_key(&p.role) && self.holds_raw(tier, p.role, perm) {
                    prev.insert(p.role, (r, p.span));
                    queue.push_back(p.role);
                }
            }
        }
        None
    }

    /// The exclusion in `role` that removes `perm`, if any.
    pub fn exclusion_of(&self, role: RoleId, perm: PermId) -> Option<&Exclusion> {
        self.role(role)?
            .exclusions
            .iter()
            .find(|e| e.matches.contains(&perm))
    }
}

/// Why a role may not use a permission on a tier: the decisive reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyReason {
    /// The role cannot be assigned on this tier.
    RoleUnavailable {
        /// The role's `on ...` clause.
        span: Option<Span>,
    },
    /// The permission does not exist on this tier.
    PermissionUnavailable {
        /// The permission's `on ...` clause.
        span: Option<Span>,
    },
    /// An exclusion takes the permission away.
    Excluded {
        /// The role whose `excludes` removes it.
        role: RoleId,
        /// The exclusion pattern.
        span: Span,
    },
    /// A grant exists (in the role or an ancestor) but its tier gate does not open on this tier.
    GateClosed {
        /// The role with the gated grant.
        role: RoleId,
        /// The grant's pattern.
        span: Span,
        /// The grant's `on ...` clause.
        tier_span: Option<Span>,
    },
    /// Nothing grants it to this role.
    NotGranted,
}

impl Policy {
    /// The decisive reason `role` may not use `perm` on `tier`, or `None`
    /// when it may. Checked in order: role availability, permission
    /// availability, exclusions, closed tier gates, no grant at all.
    pub fn why_not(&self, tier: TierId, role: RoleId, perm: PermId) -> Option<DenyReason> {
        if self.allows(tier, role, perm) {
            return None;
        }
        let r = self.role(role)?;
        if !r.tiers.contains(tier) {
            return Some(DenyReason::RoleUnavailable { span: r.tier_span });
        }
        if !self.perm_available(perm, tier) {
            return Some(DenyReason::PermissionUnavailable {
                span: self.permission(perm).and_then(|p| p.tier_span),
            });
        }
        let mut chain = vec![role];
        chain.extend(self.ancestors(role));
        for &a in &chain {
            if let Some(e) = self.exclusion_of(a, perm) {
                let pid = self.permission(perm).map_or("", |x| x.id.as_str());
                let parent_has = self.role(a).is_some_and(|ar| {
                    ar.parents
                        .iter()
                        .any(|p| self.holds_raw(tier, p.role, perm))
                        || ar.grants.iter().any(|g| {
                            g.pattern.contains('*')
                                && g.tiers.contains(tier)
                                && crate::pattern::matches(&g.pattern, pid)
                        })
                });
                if parent_has {
                    return Some(DenyReason::Excluded {
                        role: a,
                        span: e.span,
                    });
                }
            }
        }
        for &a in &chain {
            let gated = self.role(a).and_then(|ar| {
                ar.grants
                    .iter()
                    .find(|g| !g.tiers.contains(tier) && g.matches.contains(&perm))
            });
            if let Some(g) = gated {
                return Some(DenyReason::GateClosed {
                    role: a,
                    span: g.span,
                    tier_span: g.tier_span,
                });
            }
        }
        Some(DenyReason::NotGranted)
    }

    /// The name of a tier for messages: its id, or `default` for the implicit tier.
    pub fn tier_name(&self, tier: TierId) -> &str {
        self.tier(tier).map_or("default", |t| t.id.as_str())
    }
}
