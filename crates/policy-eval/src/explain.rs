//! Explained decisions: the derivation of an allow, the decisive reason of
//! a deny, and the nearest miss.

use std::collections::VecDeque;

use policy_compiler::{PermId, RoleId, TierId};

use crate::error::EvalError;
use crate::model::{Evaluator, Location};

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
    fn new(kind: ReasonKind, message: String, role: &str, location: Option<Location>) -> Self {
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

/// A query by name: what `policyc query` and `--batch` lines carry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// The roles the user holds (the union applies).
    pub roles: Vec<String>,
    /// The permission.
    pub action: String,
    /// The tier; required when the policy has tiers.
    pub tier: Option<String>,
}

impl Evaluator {
    /// Answers a query by name, with the full explanation.
    ///
    /// ```
    /// use policy_eval::{Evaluator, ReasonKind, Request};
    /// use policy_syntax::SourceFile;
    ///
    /// let src = SourceFile::new("p.policy", r#"
    ///     permission files.view "View files"
    ///     role viewer "Viewer" { grants files.* }
    ///     role editor "Editor" { inherits viewer }
    ///     role guest "Guest" { }
    /// "#);
    /// let eval = Evaluator::from_policy(&policy_compiler::compile(&src).0);
    /// let req = Request { roles: vec!["editor".into()], action: "files.view".into(), tier: None };
    /// let d = eval.query(&req).unwrap();
    /// assert!(d.allowed);
    /// assert_eq!(d.reasons[0].kind, ReasonKind::Inherited);
    /// assert_eq!(d.reasons[1].kind, ReasonKind::Granted);
    /// assert_eq!(d.reasons[1].location.unwrap().line, 3);
    ///
    /// let req = Request { roles: vec!["guest".into()], ..req };
    /// let d = eval.query(&req).unwrap();
    /// assert!(!d.allowed);
    /// assert_eq!(d.reasons[0].kind, ReasonKind::NotGranted);
    /// assert_eq!(d.reasons[1].roles, ["viewer", "editor"]); // the nearest miss
    /// ```
    pub fn query(&self, request: &Request) -> Result<Decision, EvalError> {
        let tier = self.resolve_tier(request.tier.as_deref())?;
        let perm = self.resolve_perm(&request.action)?;
        if request.roles.is_empty() {
            return Err(EvalError::NoRoles);
        }
        let roles = request
            .roles
            .iter()
            .map(|r| self.resolve_role(r))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.explain(tier, &roles, perm))
    }

    /// Explains a decision by ids: the same verdict as
    /// [`Evaluator::decide`], with its reasons. Out-of-range ids deny.
    pub fn explain(&self, tier: TierId, roles: &[RoleId], perm: PermId) -> Decision {
        let allowed = self.decide(tier, roles, perm);
        let mut decision = Decision {
            allowed,
            roles: roles
                .iter()
                .map(|r| self.role_name(*r).map_or("?", |x| x.0).to_string())
                .collect(),
            action: self.perm_name(perm).map_or("?", |x| x.0).to_string(),
            tier: self.tier_name(tier).map(str::to_string),
            reasons: Vec::new(),
        };
        if allowed {
            let best = roles
                .iter()
                .filter(|r| self.decide_one(tier, **r, perm))
                .filter_map(|r| self.derivation(tier, *r, perm))
                .min_by_key(Vec::len);
            decision.reasons = best.unwrap_or_default();
        } else {
            for &r in roles {
                decision.reasons.extend(self.why_not(tier, r, perm));
            }
            decision
                .reasons
                .extend(self.nearest_miss(tier, roles, perm));
        }
        if decision.reasons.is_empty() {
            decision.reasons.push(Reason {
                kind: ReasonKind::NotGranted,
                message: "the query names no role or permission of this policy".to_string(),
                role: None,
                location: None,
                related: None,
                roles: Vec::new(),
                tiers: Vec::new(),
            });
        }
        decision
    }

    fn role_str(&self, r: RoleId) -> &str {
        self.role_name(r).map_or("?", |x| x.0)
    }

    /// The shortest derivation of `perm` for `role` on `tier` (raw, ignoring
    /// availability): breadth-first up the inheritance graph to the nearest
    /// role whose grant is active on `tier`.
    fn derivation(&self, tier: TierId, role: RoleId, perm: PermId) -> Option<Vec<Reason>> {
        if !self.holds_raw(tier, role, perm) {
            return None;
        }
        let n = self.roles.len();
        let mut prev: Vec<Option<(RoleId, usize)>> = vec![None; n];
        let mut seen = vec![false; n];
        *seen.get_mut(role.index())? = true;
        let mut queue = VecDeque::from([role]);
        let pname = self.perm_name(perm).map_or("?", |x| x.0);
        while let Some(r) = queue.pop_front() {
            let decl = self.roles.get(r.index())?;
            let grant = decl
                .grants
                .iter()
                .find(|g| g.tiers.contains(tier) && g.matches.contains(&perm));
            if let Some(g) = grant {
                let msg = if g.pattern == pname {
                    format!("`{}` grants `{pname}`", decl.id)
                } else {
                    format!(
                        "`{}` grants `{}`, which matches `{pname}`",
                        decl.id, g.pattern
                    )
                };
                let mut out = vec![Reason::new(ReasonKind::Granted, msg, &decl.id, Some(g.at))];
                let mut cur = r;
                while cur != role {
                    let (child, pi) = (*prev.get(cur.index())?)?;
                    let c = self.roles.get(child.index())?;
                    let at = c.parents.get(pi).and_then(|p| p.at);
                    let msg = format!("`{}` inherits `{}`", c.id, self.role_str(cur));
                    out.push(Reason::new(ReasonKind::Inherited, msg, &c.id, at));
                    cur = child;
                }
                out.reverse();
                return Some(out);
            }
            for (pi, p) in decl.parents.iter().enumerate() {
                let i = p.role.index();
                if seen.get(i) == Some(&false) && self.holds_raw(tier, p.role, perm) {
                    *seen.get_mut(i)? = true;
                    *prev.get_mut(i)? = Some((r, pi));
                    queue.push_back(p.role);
                }
            }
        }
        None
    }

    /// The decisive reason `role` may not use `perm` on `tier`. Checked in
    /// order: role availability, permission availability, exclusions, closed
    /// tier gates, no grant at all.
    fn why_not(&self, tier: TierId, role: RoleId, perm: PermId) -> Option<Reason> {
        let r = self.roles.get(role.index())?;
        let p = self.perms.get(perm.index())?;
        let tname = self.tier_name(tier).unwrap_or("default");
        if !r.tiers.contains(tier) {
            let msg = format!("role `{}` is not available on tier `{tname}`", r.id);
            return Some(Reason::new(
                ReasonKind::RoleUnavailable,
                msg,
                &r.id,
                Some(r.tier_at.unwrap_or(r.at)),
            ));
        }
        if !p.tiers.contains(tier) {
            let msg = format!("permission `{}` does not exist on tier `{tname}`", p.id);
            return Some(Reason::new(
                ReasonKind::PermissionUnavailable,
                msg,
                &r.id,
                Some(p.tier_at.unwrap_or(p.at)),
            ));
        }
        let mut chain = vec![role];
        chain.extend(self.ancestors(role));
        for &a in &chain {
            let Some(ar) = self.roles.get(a.index()) else {
                continue;
            };
            let Some(e) = ar.exclusions.iter().find(|e| e.matches.contains(&perm)) else {
                continue;
            };
            // The exclusion took it away from a parent's set, or from one
            // of the role's own wildcard grants on this tier.
            if ar
                .parents
                .iter()
                .any(|pp| self.holds_raw(tier, pp.role, perm))
                || ar.grants.iter().any(|g| {
                    g.pattern.contains('*')
                        && g.tiers.contains(tier)
                        && policy_compiler::pattern_matches(&g.pattern, &p.id)
                })
            {
                let how = if e.pattern == p.id {
                    String::new()
                } else {
                    format!(" through `{}`", e.pattern)
                };
                let msg = if a == role {
                    format!("role `{}` excludes `{}`{how}", r.id, p.id)
                } else {
                    format!(
                        "role `{}` inherits from `{}`, which excludes `{}`{how}",
                        r.id, ar.id, p.id
                    )
                };
                return Some(Reason::new(ReasonKind::Excluded, msg, &r.id, Some(e.at)));
            }
        }
        for &a in &chain {
            let Some(ar) = self.roles.get(a.index()) else {
                continue;
            };
            if let Some(g) = ar
                .grants
                .iter()
                .find(|g| !g.tiers.contains(tier) && g.matches.contains(&perm))
            {
                let on: Vec<&str> = g.tiers.iter().filter_map(|t| self.tier_name(t)).collect();
                let msg = format!(
                    "`{}` grants `{}` only on {}, not on `{tname}`",
                    ar.id,
                    g.pattern,
                    on.iter()
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let mut reason = Reason::new(ReasonKind::GateClosed, msg, &r.id, Some(g.at));
                reason.related = g.tier_at;
                return Some(reason);
            }
        }
        let msg = format!("nothing grants `{}` to role `{}`", p.id, r.id);
        Some(Reason::new(ReasonKind::NotGranted, msg, &r.id, Some(r.at)))
    }

    fn nearest_miss(&self, tier: TierId, roles: &[RoleId], perm: PermId) -> Vec<Reason> {
        let mut out = Vec::new();
        let pname = self.perm_name(perm).map_or("?", |x| x.0);
        let tname = self.tier_name(tier);
        let others: Vec<String> = self
            .who_can(tier, perm)
            .into_iter()
            .map(|r| self.role_str(r).to_string())
            .collect();
        let on = tname.map(|t| format!(" on `{t}`")).unwrap_or_default();
        let message = if others.is_empty() {
            format!("no role can use `{pname}`{on}")
        } else {
            format!(
                "{} can use `{pname}`{on}",
                others
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.push(Reason {
            kind: ReasonKind::OtherRoles,
            message,
            role: None,
            location: None,
            related: None,
            roles: others,
            tiers: Vec::new(),
        });
        if self.tiers.is_empty() {
            return out;
        }
        for &r in roles {
            let tiers: Vec<String> = (0..self.n_tiers as u32)
                .map(TierId)
                .filter(|t| self.decide_one(*t, r, perm))
                .filter_map(|t| self.tier_name(t).map(str::to_string))
                .collect();
            if tiers.is_empty() {
                continue;
            }
            let message = format!(
                "`{}` would have `{pname}` on {}",
                self.role_str(r),
                tiers
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            out.push(Reason {
                kind: ReasonKind::OtherTiers,
                message,
                role: Some(self.role_str(r).to_string()),
                location: None,
                related: None,
                roles: Vec::new(),
                tiers,
            });
        }
        out
    }
}
