//! The one explanation of a decision: the derivation of an allow, the
//! decisive reason of a deny and the nearest miss are *computed* here (as
//! [`Step`]s, a [`DenyReason`] and a [`NearestMiss`]) and *worded* in
//! [`wording`]. Every command (`query`, `test`, `check`'s assertions, `diff`)
//! and the evaluator explain through these functions; none words a reason
//! of its own.

pub mod wording;

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
        }
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
                .find(|g| g.tiers.contains(tier) && g.matches.contains(&perm));
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
                                && g.tiers.contains(tier)
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

    /// The nearest miss of a deny of `perm` to `roles` on `tier`.
    pub fn nearest_miss(&self, tier: TierId, roles: &[RoleId], perm: PermId) -> NearestMiss {
        let other_tiers = if self.tiers.is_empty() {
            Vec::new()
        } else {
            roles
                .iter()
                .map(|&r| {
                    let tiers: Vec<TierId> = self
                        .tier_ids()
                        .filter(|t| self.allows(*t, r, perm))
                        .collect();
                    (r, tiers)
                })
                .filter(|(_, t)| !t.is_empty())
                .collect()
        };
        NearestMiss {
            other_roles: self.who_can(tier, perm),
            other_tiers,
        }
    }

    /// The decision for a user holding `roles` (their union) and its
    /// explanation: for an allow, the shortest derivation among the roles
    /// that allow; for a deny, the decisive reason per role, then the
    /// nearest miss. Out-of-range ids deny.
    pub fn explain(&self, tier: TierId, roles: &[RoleId], perm: PermId) -> Decision {
        let allowed = roles.iter().any(|r| self.allows(tier, *r, perm));
        let role_str = |r: RoleId| self.role(r).map_or("?", |x| x.id.as_str());
        let mut decision = Decision {
            allowed,
            roles: roles.iter().map(|r| role_str(*r).to_string()).collect(),
            action: self
                .permission(perm)
                .map_or("?", |x| x.id.as_str())
                .to_string(),
            tier: self.tier(tier).map(|t| t.id.clone()),
            reasons: Vec::new(),
        };
        if allowed {
            let best = roles
                .iter()
                .filter(|r| self.allows(tier, **r, perm))
                .filter_map(|r| self.derivation(tier, *r, perm))
                .min_by_key(Vec::len);
            decision.reasons = best
                .unwrap_or_default()
                .iter()
                .map(|s| self.step_reason(perm, s))
                .collect();
        } else if self.permission(perm).is_some() {
            for &r in roles {
                if let Some(why) = self.why_not(tier, r, perm) {
                    decision.reasons.push(self.deny_reason(tier, r, perm, &why));
                }
            }
            let miss = self.nearest_miss(tier, roles, perm);
            decision
                .reasons
                .extend(self.miss_reasons(tier, perm, &miss));
        }
        if decision.reasons.is_empty() {
            decision.reasons.push(Reason {
                kind: ReasonKind::NotGranted,
                message: wording::nothing_known(),
                role: None,
                location: None,
                related: None,
                roles: Vec::new(),
                tiers: Vec::new(),
            });
        }
        decision
    }

    /// A derivation step as a [`Reason`].
    pub fn step_reason(&self, perm: PermId, step: &Step) -> Reason {
        let role_str = |r: RoleId| self.role(r).map_or("?", |x| x.id.as_str());
        let pname = self.permission(perm).map_or("?", |x| x.id.as_str());
        match step {
            Step::Inherited { role, parent, span } => Reason::about(
                ReasonKind::Inherited,
                wording::inherited(role_str(*role), role_str(*parent)),
                role_str(*role),
                Some(self.location(*span)),
            ),
            Step::Granted {
                role,
                pattern,
                span,
                doc,
            } => Reason::about(
                ReasonKind::Granted,
                wording::with_doc(
                    wording::granted(role_str(*role), pattern, pname),
                    doc.as_deref(),
                ),
                role_str(*role),
                Some(self.location(*span)),
            ),
        }
    }

    /// A deny reason of `role` as a [`Reason`].
    pub fn deny_reason(
        &self,
        tier: TierId,
        role: RoleId,
        perm: PermId,
        why: &DenyReason,
    ) -> Reason {
        let rname = self.role(role).map_or("?", |x| x.id.as_str());
        let pname = self.permission(perm).map_or("?", |x| x.id.as_str());
        let tname = self.tier_name(tier);
        let role_at = self.role(role).map(|r| self.location(r.span));
        let perm_at = self.permission(perm).map(|p| self.location(p.span));
        match why {
            DenyReason::RoleUnavailable { span } => Reason::about(
                ReasonKind::RoleUnavailable,
                wording::role_unavailable(rname, tname),
                rname,
                span.map(|s| self.location(s)).or(role_at),
            ),
            DenyReason::PermissionUnavailable { span } => Reason::about(
                ReasonKind::PermissionUnavailable,
                wording::permission_unavailable(pname, tname),
                rname,
                span.map(|s| self.location(s)).or(perm_at),
            ),
            DenyReason::Excluded { role: by, span } => {
                let exclusion = self.exclusion_of(*by, perm);
                let pattern = exclusion.map_or(pname, |e| &e.pattern);
                let doc = exclusion.and_then(|e| e.doc.as_deref());
                let by_name = (*by != role).then(|| self.role(*by).map_or("?", |x| x.id.as_str()));
                Reason::about(
                    ReasonKind::Excluded,
                    wording::with_doc(wording::excluded(rname, by_name, pname, pattern), doc),
                    rname,
                    Some(self.location(*span)),
                )
            }
            DenyReason::GateClosed {
                role: by,
                span,
                tier_span,
            } => {
                let grant = self
                    .role(*by)
                    .and_then(|r| r.grants.iter().find(|g| g.span == *span));
                let on: Vec<&str> = grant
                    .map(|g| g.tiers.iter().map(|t| self.tier_name(t)).collect())
                    .unwrap_or_default();
                let mut reason = Reason::about(
                    ReasonKind::GateClosed,
                    wording::gate_closed(
                        self.role(*by).map_or("?", |x| x.id.as_str()),
                        grant.map_or(pname, |g| g.pattern.as_str()),
                        &on,
                        tname,
                    ),
                    rname,
                    Some(self.location(*span)),
                );
                reason.related = tier_span.map(|s| self.location(s));
                reason
            }
            DenyReason::NotGranted => Reason::about(
                ReasonKind::NotGranted,
                wording::not_granted(pname, rname),
                rname,
                role_at,
            ),
        }
    }

    /// The nearest miss as [`Reason`]s.
    pub fn miss_reasons(&self, tier: TierId, perm: PermId, miss: &NearestMiss) -> Vec<Reason> {
        let role_str = |r: RoleId| self.role(r).map_or("?", |x| x.id.as_str()).to_string();
        let pname = self.permission(perm).map_or("?", |x| x.id.as_str());
        let tname = self.tier(tier).map(|t| t.id.as_str());
        let others: Vec<String> = miss.other_roles.iter().map(|r| role_str(*r)).collect();
        let mut out = vec![Reason {
            kind: ReasonKind::OtherRoles,
            message: wording::other_roles(&others, pname, tname),
            role: None,
            location: None,
            related: None,
            roles: others,
            tiers: Vec::new(),
        }];
        for (r, tiers) in &miss.other_tiers {
            let tiers: Vec<String> = tiers
                .iter()
                .map(|t| self.tier_name(*t).to_string())
                .collect();
            out.push(Reason {
                kind: ReasonKind::OtherTiers,
                message: wording::other_tiers(&role_str(*r), pname, &tiers),
                role: Some(role_str(*r)),
                location: None,
                related: None,
                roles: Vec::new(),
                tiers,
            });
        }
        out
    }

    /// The reason kind of one role's decision: `granted` or `inherited` for
    /// an allow (by the first step of the derivation), the deny reason's
    /// kind for a deny.
    pub fn reason_kind(&self, tier: TierId, role: RoleId, perm: PermId) -> ReasonKind {
        if self.allows(tier, role, perm) {
            return match self.derivation(tier, role, perm).as_deref() {
                Some([Step::Granted { .. }, ..]) => ReasonKind::Granted,
                _ => ReasonKind::Inherited,
            };
        }
        match self.why_not(tier, role, perm) {
            Some(DenyReason::RoleUnavailable { .. }) => ReasonKind::RoleUnavailable,
            Some(DenyReason::PermissionUnavailable { .. }) => ReasonKind::PermissionUnavailable,
            Some(DenyReason::Excluded { .. }) => ReasonKind::Excluded,
            Some(DenyReason::GateClosed { .. }) => ReasonKind::GateClosed,
            _ => ReasonKind::NotGranted,
        }
    }
}
