//! Decisions that conditions decide (`grants items.delete when own`): the
//! facts a request states ([`Facts`]), the three outcomes ([`Outcome`]),
//! and the explanation of each, worded by [`super::wording`].

use super::{wording, Decider, Decision, Reason, ReasonKind};
use crate::model::{ConditionSet, PermId, Policy, RoleId, TierId};

/// What a request states about the policy's conditions: those that hold
/// and those that do not. A condition in neither is unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    /// The conditions that hold.
    pub holds: ConditionSet,
    /// The conditions that do not hold.
    pub fails: ConditionSet,
}

impl Facts {
    /// States that condition `i` holds (`true`) or not; the last word wins.
    pub fn set(&mut self, i: usize, value: bool) {
        let bit = ConditionSet(1u64.checked_shl(i as u32).unwrap_or(0));
        if value {
            self.holds.0 |= bit.0;
            self.fails.0 &= !bit.0;
        } else {
            self.fails.0 |= bit.0;
            self.holds.0 &= !bit.0;
        }
    }
}

/// The outcome of a request once its conditions are weighed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Allowed; `when` holds the conditions the allow rests on (empty:
    /// allowed whatever the facts).
    Allow {
        /// The conditions of the way that allows.
        when: ConditionSet,
    },
    /// Denied, whatever the facts still unknown.
    Deny,
    /// Allowed if the facts still unknown turn out right: each way lists
    /// the conditions it still needs (any one way suffices).
    Conditional {
        /// The ways, each the conditions still needed.
        ways: Vec<ConditionSet>,
    },
}

impl Outcome {
    /// The outcome of a request the table does not allow, under `facts`,
    /// from the ways of each of its roles ([`Policy::conditional_ways`]):
    /// a way whose conditions all hold allows (the first one found); ways
    /// none of whose conditions fails make it conditional, each reduced
    /// to what it still needs; otherwise it is denied. The one weighing
    /// of [`Policy::outcome`] and of an evaluator's own index of the ways.
    pub fn weigh<'a>(ways: impl IntoIterator<Item = &'a [ConditionSet]>, facts: Facts) -> Outcome {
        let mut open = Vec::new();
        for &w in ways.into_iter().flatten() {
            if w.is_subset(facts.holds) {
                return Outcome::Allow { when: w };
            }
            if w.0 & facts.fails.0 == 0 {
                crate::conditional::add_way(&mut open, ConditionSet(w.0 & !facts.holds.0));
            }
        }
        if open.is_empty() {
            Outcome::Deny
        } else {
            Outcome::Conditional { ways: open }
        }
    }

    /// `"allow"`, `"deny"` or `"conditional"`: the JSON word.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Allow { .. } => "allow",
            Outcome::Deny => "deny",
            Outcome::Conditional { .. } => "conditional",
        }
    }
}

impl Policy {
    /// The outcome of `perm` for a user holding `roles` on `tier` under
    /// `facts`, `allowed` being the unconditional verdict (the decider's):
    /// an allow stands; otherwise a way whose conditions all hold allows,
    /// and ways none of whose conditions fails make it conditional.
    pub fn outcome(
        &self,
        allowed: bool,
        tier: TierId,
        roles: &[RoleId],
        perm: PermId,
        facts: Facts,
    ) -> Outcome {
        if allowed {
            return Outcome::Allow {
                when: ConditionSet::default(),
            };
        }
        Outcome::weigh(
            roles.iter().map(|&r| self.conditional_ways(tier, r, perm)),
            facts,
        )
    }

    /// [`Policy::explain_by`] under `facts`: the verdict of `decider`,
    /// then the conditions weighed ([`Policy::outcome`]). An allow that
    /// rests on conditions names them (`when`) and the conditional grant;
    /// a conditional outcome is a deny with `conditional` set, and a
    /// reason per role that holds it under conditions.
    pub fn explain_with(
        &self,
        decider: &(impl Decider + ?Sized),
        tier: TierId,
        roles: &[RoleId],
        perm: PermId,
        facts: Facts,
    ) -> Decision {
        let mut decision = self.explain_by(decider, tier, roles, perm);
        if decision.allowed || !self.has_conditional() {
            return decision;
        }
        let names = |set: ConditionSet| -> Vec<String> {
            self.condition_names(set)
                .into_iter()
                .map(str::to_string)
                .collect()
        };
        match self.outcome(false, tier, roles, perm, facts) {
            Outcome::Allow { when } => {
                decision.allowed = true;
                decision.when = names(when);
                decision.reasons = roles
                    .iter()
                    .find_map(|&r| self.conditional_reason(tier, r, perm, when, true))
                    .into_iter()
                    .collect();
            }
            Outcome::Conditional { ways } => {
                decision.conditional = ways.iter().map(|w| names(*w)).collect();
                let mut reasons: Vec<Reason> = Vec::new();
                for &r in roles {
                    for &w in self.conditional_ways(tier, r, perm) {
                        if w.0 & facts.fails.0 == 0 {
                            reasons.extend(self.conditional_reason(tier, r, perm, w, false));
                        }
                    }
                }
                // The roles that hold it under conditions replace their
                // "nothing grants it"; the nearest miss stays.
                decision.reasons.retain(|x| {
                    x.kind.is_nearest_miss()
                        || !reasons.iter().any(|c| c.role.is_some() && c.role == x.role)
                });
                let at = decision
                    .reasons
                    .iter()
                    .position(|x| x.kind.is_nearest_miss())
                    .unwrap_or(decision.reasons.len());
                decision.reasons.splice(at..at, reasons);
            }
            Outcome::Deny => {}
        }
        // A role denied because a fact given says a condition fails: said
        // so, in place of "nothing grants it" (whatever the outcome).
        for x in decision.reasons.iter_mut() {
            if x.kind != ReasonKind::NotGranted {
                continue;
            }
            let Some(r) = x.role.as_deref().and_then(|n| self.role_id(n)) else {
                continue;
            };
            let failed = self
                .conditional_ways(tier, r, perm)
                .iter()
                .find(|w| w.0 & facts.fails.0 != 0)
                .and_then(|w| self.conditional_reason(tier, r, perm, *w, false));
            if let Some(mut reason) = failed {
                reason.message = wording::condition_failed(&reason.message);
                reason.kind = ReasonKind::NotGranted;
                *x = reason;
            }
        }
        // The nearest miss names the roles that may use it under these
        // facts: always, or under conditions the facts meet.
        let tier_name = self.tier(tier).map(|t| t.id.as_str());
        let pname = self.permission(perm).map_or("?", |x| x.id.as_str());
        for x in decision.reasons.iter_mut() {
            if x.kind != ReasonKind::OtherRoles {
                continue;
            }
            let others: Vec<String> = (0..self.roles().len() as u32)
                .map(RoleId)
                .filter(|&r| {
                    decider.decides(tier, r, perm)
                        || self
                            .conditional_ways(tier, r, perm)
                            .iter()
                            .any(|w| w.is_subset(facts.holds))
                })
                .filter_map(|r| self.role(r).map(|x| x.id.clone()))
                .collect();
            x.message = wording::other_roles(&others, pname, tier_name);
            x.roles = others;
        }
        decision
    }

    /// The reason a way gives: the conditional grant behind it, with the
    /// conditions' labels; `allowed`: the facts meet it.
    fn conditional_reason(
        &self,
        tier: TierId,
        role: RoleId,
        perm: PermId,
        way: ConditionSet,
        allowed: bool,
    ) -> Option<Reason> {
        let (by, grant) = self.conditional_grant(tier, role, perm, way)?;
        let conditions: Vec<(&str, &str)> = way
            .iter()
            .filter_map(|i| self.conditions().get(i))
            .map(|c| (c.id.as_str(), c.label.as_str()))
            .collect();
        let rname = self.role(role).map_or("?", |x| x.id.as_str());
        let by_name = self.role(by).map_or("?", |x| x.id.as_str());
        let pname = self.permission(perm).map_or("?", |x| x.id.as_str());
        let message = wording::conditional(
            rname,
            (by != role).then_some(by_name),
            &grant.pattern,
            pname,
            &conditions,
            allowed,
        );
        // The grant line's doc comment, else the conditions' own.
        let docs: Vec<&str> = way
            .iter()
            .filter_map(|i| self.conditions().get(i)?.description.as_deref())
            .collect();
        let doc = grant
            .doc
            .clone()
            .or_else(|| (!docs.is_empty()).then(|| docs.join(" ")));
        Some(Reason::about(
            if allowed {
                ReasonKind::Granted
            } else {
                ReasonKind::Conditional
            },
            wording::with_doc(message, doc.as_deref()),
            rname,
            Some(self.location(grant.span)),
        ))
    }
}
