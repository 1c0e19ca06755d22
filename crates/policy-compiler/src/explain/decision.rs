//! Decisions with their reasons: who decides each cell ([`Decider`]), the
//! explanation built around that verdict ([`Policy::explain_by`]), and the
//! reasons as [`Reason`]s, worded by [`super::wording`].

use super::{wording, Decision, DenyReason, NearestMiss, Reason, ReasonKind, Step};
use crate::model::{PermId, Policy, RoleId, TierId};

/// The one source of allow bits for an explanation. The policy decides
/// from its declarations ([`Policy::allows`]); the evaluator implements it
/// with its precomputed decision table, so that everything it explains is
/// decided by the table it answers from.
pub trait Decider {
    /// Whether `role` may use `perm` on `tier`; out-of-range ids give `false`.
    fn decides(&self, tier: TierId, role: RoleId, perm: PermId) -> bool;
}

impl Decider for Policy {
    fn decides(&self, tier: TierId, role: RoleId, perm: PermId) -> bool {
        self.allows(tier, role, perm)
    }
}

impl Policy {
    /// The nearest miss of a deny of `perm` to `roles` on `tier`, as the
    /// policy decides it.
    pub fn nearest_miss(&self, tier: TierId, roles: &[RoleId], perm: PermId) -> NearestMiss {
        self.nearest_miss_by(self, tier, roles, perm)
    }

    /// The nearest miss with every cell decided by `decider`.
    pub fn nearest_miss_by(
        &self,
        decider: &(impl Decider + ?Sized),
        tier: TierId,
        roles: &[RoleId],
        perm: PermId,
    ) -> NearestMiss {
        let other_tiers = if self.tiers.is_empty() {
            Vec::new()
        } else {
            roles
                .iter()
                .map(|&r| {
                    let tiers: Vec<TierId> = self
                        .tier_ids()
                        .filter(|t| decider.decides(*t, r, perm))
                        .collect();
                    (r, tiers)
                })
                .filter(|(_, t)| !t.is_empty())
                .collect()
        };
        NearestMiss {
            other_roles: (0..self.roles.len() as u32)
                .map(RoleId)
                .filter(|r| decider.decides(tier, *r, perm))
                .collect(),
            other_tiers,
        }
    }

    /// The decision for a user holding `roles` (their union) and its
    /// explanation, decided by the policy itself ([`Policy::allows`]).
    /// Services decide through the evaluator, which calls
    /// [`Policy::explain_by`] with its own decision table.
    pub fn explain(&self, tier: TierId, roles: &[RoleId], perm: PermId) -> Decision {
        self.explain_by(self, tier, roles, perm)
    }

    /// The decision for a user holding `roles` (their union) and its
    /// explanation, every allow bit taken from `decider`: for an allow, the
    /// shortest derivation among the roles `decider` allows; for a deny,
    /// the decisive reason per role, then the nearest miss. Out-of-range
    /// ids deny.
    pub fn explain_by(
        &self,
        decider: &(impl Decider + ?Sized),
        tier: TierId,
        roles: &[RoleId],
        perm: PermId,
    ) -> Decision {
        let allowed = roles.iter().any(|r| decider.decides(tier, *r, perm));
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
            not_assignable: roles
                .iter()
                .filter(|r| self.role_kept_not_assignable(**r, tier))
                .map(|r| role_str(*r).to_string())
                .collect(),
            when: Vec::new(),
            conditional: Vec::new(),
        };
        if allowed {
            let best = roles
                .iter()
                .filter(|r| decider.decides(tier, **r, perm))
                .filter_map(|r| self.derivation(tier, *r, perm))
                .min_by_key(Vec::len);
            decision.reasons = best
                .unwrap_or_default()
                .iter()
                .map(|s| self.step_reason(perm, s))
                .collect();
        } else if self.permission(perm).is_some() {
            for &r in roles {
                if let Some(why) = self.deny_cause(tier, r, perm) {
                    decision.reasons.push(self.deny_reason(tier, r, perm, &why));
                }
            }
            let miss = self.nearest_miss_by(decider, tier, roles, perm);
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
                wording::inherited(
                    role_str(*role),
                    role_str(*parent),
                    self.acts_as(*role, *parent),
                ),
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
                let when = exclusion.map_or(Vec::new(), |e| self.condition_names(e.when));
                let by_name = (*by != role).then(|| self.role(*by).map_or("?", |x| x.id.as_str()));
                Reason::about(
                    ReasonKind::Excluded,
                    wording::with_doc(
                        wording::excluded(rname, by_name, pname, pattern, &when),
                        doc,
                    ),
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
}
