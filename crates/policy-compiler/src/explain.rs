//! The one explanation of a decision: the derivation of an allow, the
//! decisive reason of a deny and the nearest miss are *computed* here (as
//! [`Step`]s, a [`DenyReason`] and a [`NearestMiss`]) and *worded* in
//! [`wording`]. Every command (`query`, `test`, `check`'s assertions, `diff`)
//! and the evaluator explain through these functions; none words a reason
//! of its own.

mod conditional;
mod decision;
pub use conditional::{Facts, Outcome};
pub(crate) mod provenance;
pub mod wording;

pub use decision::Decider;

use std::collections::VecDeque;

use policy_syntax::Span;

pub use crate::decl::Location;
use crate::model::{Exclusion, PermId, Policy, RoleId, TierId};

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
        /// The doc comment of the `grants` line, if any.
        doc: Option<String>,
    },
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

/// The nearest miss of a deny: who has the permission here, and where the
/// asked-for roles would have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearestMiss {
    /// The roles that may use the permission on this tier, in declaration order.
    pub other_roles: Vec<RoleId>,
    /// Per asked-for role (in the order asked) that would have it on some
    /// other tier: those tiers, lowest first. Empty for a tierless policy.
    pub other_tiers: Vec<(RoleId, Vec<TierId>)>,
}

/// What a [`Reason`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonKind {
    /// Allow: a role inherits from the next role of the derivation.
    Inherited,
    /// Allow: the role grants the permission (possibly through a wildcard).
    Granted,
    /// Deny: the role cannot be assigned on this tier.
    RoleUnavailable,
    /// Deny: the permission does not exist on this tier.
    PermissionUnavailable,
    /// Deny: an `excludes` takes the permission away.
    Excluded,
    /// Deny: a grant exists but its `on` clause does not open on this tier.
    GateClosed,
    /// Deny: nothing grants the permission to the role.
    NotGranted,
    /// Deny, nearest miss: the roles that do have the permission on this tier.
    OtherRoles,
    /// Deny, nearest miss: the tiers on which the role would have it.
    OtherTiers,
    /// Not allowed yet: the role holds the permission under conditions
    /// the request does not state (`grants x when own`).
    Conditional,
}

impl ReasonKind {
    /// The kind as written in JSON output, e.g. `"role_unavailable"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonKind::Inherited => "inherited",
            ReasonKind::Granted => "granted",
            ReasonKind::RoleUnavailable => "role_unavailable",
            ReasonKind::PermissionUnavailable => "permission_unavailable",
            ReasonKind::Excluded => "excluded",
            ReasonKind::GateClosed => "gate_closed",
            ReasonKind::NotGranted => "not_granted",
            ReasonKind::OtherRoles => "other_roles",
            ReasonKind::OtherTiers => "other_tiers",
            ReasonKind::Conditional => "conditional",
        }
    }

    /// The kinds a decision can be explained by (the nearest miss's two
    /// left out): what a test case's `reason:` may name.
    pub const DECISIVE: [ReasonKind; 8] = [
        ReasonKind::Granted,
        ReasonKind::Inherited,
        ReasonKind::RoleUnavailable,
        ReasonKind::PermissionUnavailable,
        ReasonKind::Excluded,
        ReasonKind::GateClosed,
        ReasonKind::NotGranted,
        ReasonKind::Conditional,
    ];

    /// The kind as written in `*.test.yaml` files and `policyc test`'s
    /// output (docs/cli.md, docs/schemas/policy-test.schema.json): the
    /// JSON spelling with `-` for `_`, e.g. `"role-unavailable"`.
    pub fn as_test_str(self) -> &'static str {
        match self {
            ReasonKind::Inherited => "inherited",
            ReasonKind::Granted => "granted",
            ReasonKind::RoleUnavailable => "role-unavailable",
            ReasonKind::PermissionUnavailable => "permission-unavailable",
            ReasonKind::Excluded => "excluded",
            ReasonKind::GateClosed => "gate-closed",
            ReasonKind::NotGranted => "not-granted",
            ReasonKind::OtherRoles => "other-roles",
            ReasonKind::OtherTiers => "other-tiers",
            ReasonKind::Conditional => "conditional",
        }
    }

    /// Whether the kind explains an allow (`granted`, `inherited`).
    pub fn is_allow(self) -> bool {
        matches!(self, ReasonKind::Granted | ReasonKind::Inherited)
    }

    /// Whether the kind is part of a deny's nearest miss rather than a
    /// reason for the decision.
    pub fn is_nearest_miss(self) -> bool {
        matches!(self, ReasonKind::OtherRoles | ReasonKind::OtherTiers)
    }
}

/// One reason of a [`Decision`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// What it says.
    pub kind: ReasonKind,
    /// One line for people, e.g. ``"`admin` inherits `developer`"``.
    pub message: String,
    /// The role the reason is about, if any.
    pub role: Option<String>,
    /// Where in the policy, when one applies.
    pub location: Option<Location>,
    /// A related place: the `on` clause of a closed gate.
    pub related: Option<Location>,
    /// For [`ReasonKind::OtherRoles`]: the roles that have the permission.
    pub roles: Vec<String>,
    /// For [`ReasonKind::OtherTiers`]: the tiers where the role would have it.
    pub tiers: Vec<String>,
}

impl Reason {
    fn about(kind: ReasonKind, message: String, role: &str, location: Option<Location>) -> Self {
        Reason {
            kind,
            message,
            role: Some(role.to_string()),
            location,
            related: None,
            roles: Vec::new(),
            tiers: Vec::new(),
        }
    }
}

/// A decision with its reasons; never has an empty `reasons`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Allow or deny.
    pub allowed: bool,
    /// The roles asked about, as given.
    pub roles: Vec<String>,
    /// The permission.
    pub action: String,
    /// The tier, or `None` for a tierless policy.
    pub tier: Option<String>,
    /// Allow: the shortest derivation (inheritance steps, then the grant).
    /// Deny: the decisive reason per role, then the nearest miss.
    pub reasons: Vec<Reason>,
    /// The roles asked about that are available on the tier but can no
    /// longer be assigned there (their holders keep them), in the order
    /// asked; they do not change the decision.
    pub not_assignable: Vec<String>,
    /// An allow that rests on conditions: their ids (empty otherwise).
    pub when: Vec<String>,
    /// A deny that facts not yet given could turn into an allow (the
    /// third outcome, *conditional*): each way, the conditions it still
    /// needs; empty for a plain deny.
    pub conditional: Vec<Vec<String>>,
}

impl Decision {
    /// `"allow"`, `"deny"` or `"conditional"`.
    pub fn outcome_str(&self) -> &'static str {
        if self.allowed {
            "allow"
        } else if self.conditional.is_empty() {
            "deny"
        } else {
            "conditional"
        }
    }
}

impl Policy {
    /// The roles `role` inherits from, directly or not, nearest first.
    pub fn ancestors(&self, role: RoleId) -> Vec<RoleId> {
        let mut seen = vec![false; self.roles.len()];
        let mut out = Vec::new();
        let mut queue = VecDeque::from([role]);
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
    /// availability: inheritance steps from `role` up to the nearest role
    /// whose grant is active on `tier`, ending with the grant. `None` when
    /// the role does not hold it.
    pub fn derivation(&self, tier: TierId, role: RoleId, perm: PermId) -> Option<Vec<Step>> {
        if !self.holds_raw(tier, role, perm) {
            return None;
        }
        let n = self.roles.len();
        let mut prev: Vec<Option<(RoleId, Span)>> = vec![None; n];
        let mut seen = vec![false; n];
        *seen.get_mut(role.index())? = true;
        let mut queue = VecDeque::from([role]);
        while let Some(r) = queue.pop_front() {
            let decl = self.role(r)?;
            let grant = decl
                .grants
                .iter()
                .find(|g| g.holds_on(tier) && g.matches.contains(&perm));
            if let Some(g) = grant {
                let mut steps = vec![Step::Granted {
                    role: r,
                    pattern: g.pattern.clone(),
                    span: g.span,
                    doc: g.doc.clone(),
                }];
                let mut cur = r;
                while cur != role {
                    let (child, span) = (*prev.get(cur.index())?)?;
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
                let i = p.role.index();
                if seen.get(i) == Some(&false) && self.holds_raw(tier, p.role, perm) {
                    *seen.get_mut(i)? = true;
                    *prev.get_mut(i)? = Some((r, p.span));
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

    /// The exclusions that take `perm` away along `role`'s ancestry on
    /// `tier`, nearest first (itself first): each role that excludes `perm`
    /// while one of its parents holds it, or while one of its own wildcard
    /// grants active on `tier` matches it (an exclusion wins over the role's
    /// own wildcard). The one rule of which exclusions are in effect; the
    /// first is the decisive one.
    pub fn exclusions_in_effect(
        &self,
        tier: TierId,
        role: RoleId,
        perm: PermId,
    ) -> Vec<(RoleId, &Exclusion)> {
        std::iter::once(role)
            .chain(self.ancestors(role))
            .filter_map(|a| {
                let e = self.exclusion_of(a, perm)?;
                let pid = self.permission(perm).map_or("", |x| x.id.as_str());
                let takes_away = self.role(a).is_some_and(|ar| {
                    ar.parents
                        .iter()
                        .any(|p| self.holds_raw(tier, p.role, perm))
                        || ar.grants.iter().any(|g| {
                            g.pattern.contains('*')
                                && g.holds_on(tier)
                                && crate::pattern::matches(&g.pattern, pid)
                        })
                });
                takes_away.then_some((a, e))
            })
            .collect()
    }

    /// The decisive exclusion: the first of [`Policy::exclusions_in_effect`].
    pub fn decisive_exclusion(
        &self,
        tier: TierId,
        role: RoleId,
        perm: PermId,
    ) -> Option<(RoleId, &Exclusion)> {
        self.exclusions_in_effect(tier, role, perm)
            .into_iter()
            .next()
    }

    /// The decisive reason `role` may not use `perm` on `tier`, or `None`
    /// when it may. Checked in order: role availability, permission
    /// availability, exclusions, closed tier gates, no grant at all.
    pub fn why_not(&self, tier: TierId, role: RoleId, perm: PermId) -> Option<DenyReason> {
        if self.allows(tier, role, perm) {
            return None;
        }
        self.deny_cause(tier, role, perm)
    }

    /// The decisive reason of a deny that a [`Decider`] already made (so
    /// the verdict is not decided again here); `None` for unknown ids.
    pub(crate) fn deny_cause(
        &self,
        tier: TierId,
        role: RoleId,
        perm: PermId,
    ) -> Option<DenyReason> {
        let r = self.role(role)?;
        self.permission(perm)?;
        if !r.tiers.contains(tier) {
            return Some(DenyReason::RoleUnavailable { span: r.tier_span });
        }
        if !self.perm_available(perm, tier) {
            return Some(DenyReason::PermissionUnavailable {
                span: self.permission(perm).and_then(|p| p.tier_span),
            });
        }
        if let Some((a, e)) = self.decisive_exclusion(tier, role, perm) {
            return Some(DenyReason::Excluded {
                role: a,
                span: e.span,
            });
        }
        for a in std::iter::once(role).chain(self.ancestors(role)) {
            let gated = self.role(a).and_then(|ar| {
                ar.grants.iter().find(|g| {
                    !g.tiers.contains(tier) && g.when.is_empty() && g.matches.contains(&perm)
                })
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

    /// What exclusions take from `role` on `tier`: every permission whose
    /// decisive reason is an exclusion, with the role that excludes it and
    /// the exclusion's span, in the order the exclusions are written along
    /// the ancestry (the role first). For listings such as the language
    /// server's hover, which must not walk the inheritance themselves.
    pub fn excluded_perms(&self, tier: TierId, role: RoleId) -> Vec<(PermId, RoleId, Span)> {
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for a in std::iter::once(role).chain(self.ancestors(role)) {
            let Some(r) = self.role(a) else { continue };
            for e in &r.exclusions {
                for &p in &e.matches {
                    if seen.contains(&p) {
                        continue;
                    }
                    if let Some(DenyReason::Excluded { role: by, span }) =
                        self.why_not(tier, role, p)
                    {
                        seen.insert(p);
                        out.push((p, by, span));
                    }
                }
            }
        }
        out
    }
}
