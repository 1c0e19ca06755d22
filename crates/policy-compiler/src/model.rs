//! The resolved policy: declarations with resolved references, and the
//! effective permission sets per tier and role.

use std::collections::HashMap;

use policy_syntax::{SourceFile, Span};

pub use crate::decl::*;
use crate::sets::{word_bit, PermSets, SetBuilder, SetId, CHUNK_WORDS};

/// A compiled policy: every name resolved and the permission set of every
/// role on every tier precomputed, interned in a [`PermSets`].
///
/// Built by [`crate::compile`]. When compilation reported errors, the
/// policy holds what could be resolved; unknown names were dropped, so it
/// grants less, never more (fail closed).
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) source: SourceFile,
    /// The dimensions, as declared.
    pub(crate) dimensions: Vec<Dimension>,
    /// The combinations the `offered` lines select, as mixed-radix ids
    /// ascending; `None`: every combination is a context.
    pub(crate) offered: Option<Vec<u32>>,
    /// The levels (`scope` lines), in declaration order.
    pub(crate) scopes: Vec<Scope>,
    /// The contexts the dimensions combine into (with one dimension, its
    /// values): what every per-tier computation runs over.
    pub(crate) tiers: Vec<Tier>,
    pub(crate) permissions: Vec<Permission>,
    pub(crate) roles: Vec<Role>,
    pub(crate) role_index: HashMap<String, RoleId>,
    pub(crate) perm_index: HashMap<String, PermId>,
    pub(crate) tier_index: HashMap<String, TierId>,
    /// The distinct raw sets (inheritance, grants, exclusions; before the
    /// role- and permission-availability masks), interned.
    pub(crate) sets: PermSets,
    /// `slots[tier * roles + role]` is the raw set of `role` on `tier`.
    pub(crate) slots: Vec<SetId>,
    /// Per tier: the permissions that exist on it, as `u64` words.
    pub(crate) perm_avail: Vec<Vec<u64>>,
    pub(crate) asserts: usize,
    /// Every role, parents before children: the one resolution order
    /// (`graph.rs`), used to compute the sets.
    pub(crate) order: Vec<RoleId>,
    /// Where the source's lines are, for a policy loaded from a compiled
    /// artifact (which has no source text); `None` when the source text is
    /// at hand.
    pub(crate) lines: Option<crate::LineTable>,
    /// The conditions (`condition` lines), in declaration order.
    pub(crate) conditions: Vec<Condition>,
    /// What each role holds only under conditions (`conditional.rs`).
    pub(crate) conditional: ConditionalSets,
}

impl Policy {
    /// The source it was compiled from.
    pub fn source(&self) -> &SourceFile {
        &self.source
    }

    /// Where `span` is in the source: line and column (from the source
    /// text, or from the artifact the policy was loaded from).
    pub fn location(&self, span: Span) -> Location {
        let lc = match &self.lines {
            Some(table) => table.line_col(span.start),
            None => self.source.line_col(span.start),
        };
        Location {
            line: lc.line,
            column: lc.column,
            span: Some(span),
        }
    }

    /// The name of the file a location is in: for a project, the file of
    /// its span; else (or without a span) the source's name.
    pub fn file_name_of(&self, location: &Location) -> &str {
        let Some(span) = location.span else {
            return self.source.name();
        };
        match &self.lines {
            Some(table) => table.file_name_at(span.start).unwrap_or(self.source.name()),
            None => self.source.file_name_at(span.start),
        }
    }

    /// Where the source's lines are: from the source text, or the table
    /// of the artifact the policy was loaded from.
    pub fn line_table(&self) -> crate::LineTable {
        match &self.lines {
            Some(table) => table.clone(),
            None => crate::LineTable::of(&self.source),
        }
    }

    /// The roles in resolution order: every role after all of its parents.
    pub fn resolution_order(&self) -> &[RoleId] {
        &self.order
    }

    /// The effective sets: for every tier and role, the permissions the
    /// role may use there (`raw ∩ available`, empty where the role is not
    /// available), interned in a new store. `ids[tier * roles + role]`.
    /// What the evaluator's decision table is; its cost is that of the
    /// stored raw sets, never roles × permissions.
    pub fn effective_table(&self) -> (PermSets, Vec<SetId>) {
        let n_roles = self.roles.len();
        let mut builder = SetBuilder::new();
        let mut ids = vec![SetId::EMPTY; self.tier_count() * n_roles];
        // Roles sharing a raw set share its effective set on a tier.
        let mut memo: Vec<Option<SetId>> = vec![None; self.sets.id_bound()];
        let mut masked: Vec<(u32, [u64; CHUNK_WORDS])> = Vec::new();
        for t in self.tier_ids() {
            memo.iter_mut().for_each(|m| *m = None);
            let avail = self
                .perm_avail
                .get(t.index())
                .map_or(&[][..], Vec::as_slice);
            for (r, role) in self.roles.iter().enumerate() {
                if !role.tiers.contains(t) {
                    continue;
                }
                let Some(&raw) = self.slots.get(t.index() * n_roles + r) else {
                    continue;
                };
                let Some(known) = memo.get_mut(raw.offset()) else {
                    continue;
                };
                let eff = *known.get_or_insert_with(|| {
                    masked.clear();
                    masked.extend(self.sets.chunks(raw).map(|(k, c)| {
                        let base = k as usize * CHUNK_WORDS;
                        let mut m = *c;
                        for (i, w) in m.iter_mut().enumerate() {
                            *w &= avail.get(base + i).copied().unwrap_or(0);
                        }
                        (k, m)
                    }));
                    builder.intern(masked.iter().map(|(k, c)| (*k, c)))
                });
                if let Some(slot) = ids.get_mut(t.index() * n_roles + r) {
                    *slot = eff;
                }
            }
        }
        (builder.finish(), ids)
    }

    /// Bytes held by the stored raw sets (directories and chunks).
    pub fn stored_set_bytes(&self) -> usize {
        self.sets.stored_bytes() + self.slots.len() * std::mem::size_of::<SetId>()
    }

    /// The declared tiers, lowest first; with several dimensions, the
    /// contexts they combine into ([`crate::context`]); empty when the
    /// policy has none.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// The declared dimensions (a `tiers` line is the one named `tier`).
    pub fn dimensions(&self) -> &[Dimension] {
        &self.dimensions
    }

    /// The contexts: the dimensions, and the combinations offered.
    pub fn context_space(&self) -> crate::context::ContextSpace<'_> {
        crate::context::ContextSpace::new(&self.dimensions, self.offered.as_deref())
    }

    /// The offered combinations as mixed-radix ids (`None`: every
    /// combination), for [`crate::Declarations`].
    pub fn offered(&self) -> Option<&[u32]> {
        self.offered.as_deref()
    }

    /// The context `text` names (see [`crate::context::ContextSpace::parse`]):
    /// a tier's name, or one value of each dimension. The one lookup of a
    /// context by text; `None` when the policy declares no dimension.
    pub fn context(&self, text: &str) -> Option<Result<TierId, crate::context::ContextError>> {
        if self.dimensions.is_empty() {
            return None;
        }
        Some(match self.tier_id(text) {
            Some(id) => Ok(id),
            None => self.context_space().parse(text),
        })
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

    /// The levels (`scope` lines), in declaration order; empty for a
    /// policy without levels.
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// Looks a level up by id.
    pub fn scope_id(&self, name: &str) -> Option<ScopeId> {
        self.scopes
            .iter()
            .position(|s| s.id == name)
            .map(|i| ScopeId(i as u32))
    }

    /// A level by id.
    pub fn scope(&self, id: ScopeId) -> Option<&Scope> {
        self.scopes.get(id.index())
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

    /// Whether `role` reaches level `scope`: it is on it, or it inherits
    /// or acts as (directly or not) a role on it.
    pub fn reaches(&self, role: RoleId, scope: ScopeId) -> bool {
        let mut seen = vec![false; self.roles.len()];
        let mut stack = vec![role];
        while let Some(r) = stack.pop() {
            let Some(decl) = self.role(r) else { continue };
            if seen
                .get_mut(r.index())
                .is_none_or(|x| std::mem::replace(x, true))
            {
                continue;
            }
            if decl.scope == Some(scope) {
                return true;
            }
            stack.extend(decl.parents.iter().map(|p| p.role));
        }
        false
    }

    /// Whether `role`'s link to `parent` is `acts as` (a role of an inner
    /// level), not `inherits`.
    pub fn acts_as(&self, role: RoleId, parent: RoleId) -> bool {
        self.role(role)
            .is_some_and(|r| r.parents.iter().any(|p| p.role == parent && p.acts_as))
    }

    /// Whether `role` can be assigned on `tier`.
    pub fn role_available(&self, role: RoleId, tier: TierId) -> bool {
        self.role(role).is_some_and(|r| r.tiers.contains(tier))
    }

    /// Whether `role` can be newly assigned on `tier`: it is available
    /// there and its `assignable on` lines, if any, select the tier.
    pub fn role_assignable(&self, role: RoleId, tier: TierId) -> bool {
        self.role(role).is_some_and(|r| {
            r.tiers.contains(tier) && r.assignable.is_none_or(|a| a.contains(tier))
        })
    }

    /// Whether `role` is available on `tier` but can no longer be given
    /// there: holders keep its permissions.
    pub fn role_kept_not_assignable(&self, role: RoleId, tier: TierId) -> bool {
        self.role_available(role, tier) && !self.role_assignable(role, tier)
    }

    /// How `perm`'s row is worded on `tier`: its `label "…" on …` clause
    /// that selects the tier, else its label. `None` for an unknown id.
    pub fn perm_label(&self, perm: PermId, tier: TierId) -> Option<&str> {
        self.permission(perm).map(|p| {
            p.labels
                .iter()
                .find(|l| l.tiers.contains(tier))
                .map_or(p.label.as_str(), |l| l.label.as_str())
        })
    }

    /// Whether `perm` exists on `tier`.
    pub fn perm_available(&self, perm: PermId, tier: TierId) -> bool {
        self.perm_avail
            .get(tier.index())
            .is_some_and(|s| word_bit(s, perm.index()))
    }

    fn raw_set(&self, tier: TierId, role: RoleId) -> Option<SetId> {
        if role.index() >= self.roles.len() {
            return None;
        }
        self.slots
            .get(tier.index() * self.roles.len() + role.index())
            .copied()
    }

    /// The raw permissions of `role` on `tier` (inheritance, grants and
    /// exclusions, before availability), ascending; empty for unknown ids.
    pub(crate) fn raw_perms(&self, tier: TierId, role: RoleId) -> Vec<PermId> {
        self.raw_set(tier, role).map_or_else(Vec::new, |s| {
            self.sets.iter(s).map(|i| PermId(i as u32)).collect()
        })
    }

    /// Whether `role` holds `perm` through inheritance and grants on `tier`,
    /// ignoring whether the role and permission are available there. This is
    /// what the role passes on to roles that inherit from it.
    pub fn holds_raw(&self, tier: TierId, role: RoleId, perm: PermId) -> bool {
        self.raw_set(tier, role)
            .is_some_and(|s| self.sets.contains(s, perm.index()))
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
        self.sets
            .iter(raw)
            .filter(|&i| word_bit(avail, i))
            .map(|i| PermId(i as u32))
            .collect()
    }
}

impl Policy {
    /// The name of a tier for messages: its id, or `default` for the implicit tier.
    pub fn tier_name(&self, tier: TierId) -> &str {
        self.tier(tier).map_or("default", |t| t.id.as_str())
    }
}
