//! Decisions that conditions decide (`grants items.delete when own`): the
//! facts a request states ([`Facts`]), the three outcomes ([`Outcome`]),
//! and the explanation of each, worded by [`super::wording`].

use super::{wording, Decider, Decision, Reason, ReasonKind};
use crate::model::{ConditionSet, PermId, Policy, RoleId, TierId};

/// What a request states about the policy's conditions, as the literals
/// of [`ConditionSet`] it makes true (`met`: `own` when own holds, `not
/// archived` when archived does not) and false (`broken`). A condition
/// stated neither way is unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    /// The literals the facts make true.
    pub met: ConditionSet,
    /// The literals the facts make false.
    pub broken: ConditionSet,
}

impl Facts {
    /// States that condition `i` holds (`true`) or not; the last word wins.
    pub fn set(&mut self, i: usize, value: bool) {
        let (yes, no) = (
            ConditionSet::literal(i, value),
            ConditionSet::literal(i, !value),
        );
        self.met.0 = (self.met.0 & !no.0) | yes.0;
        self.broken.0 = (self.broken.0 & !yes.0) | no.0;
    }

    /// The facts of an assertion's `when`: each of the first `count`
    /// conditions holds if `set` says it holds, and does not otherwise.
    pub fn exactly(set: ConditionSet, count: usize) -> Facts {
        let mut facts = Facts::default();
        for i in 0..count {
            facts.set(i, ConditionSet::literal(i, true).is_subset(set));
        }
        facts
    }

    /// Whether the facts meet every literal of `way`.
    #[inline]
    pub fn meet(self, way: ConditionSet) -> bool {
        way.is_subset(self.met)
    }

    /// Whether the facts break a literal of `way` (it cannot hold).
    #[inline]
    pub fn contradict(self, way: ConditionSet) -> bool {
        way.0 & self.broken.0 != 0
    }

    /// What `way` still needs once the facts are known.
    pub fn rest(self, way: ConditionSet) -> ConditionSet {
        ConditionSet(way.0 & !self.met.0)
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
            if facts.meet(w) {
                return Outcome::Allow { when: w };
            }
            if !facts.contradict(w) {
                crate::conditional::add_way(&mut open, facts.rest(w));
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
        let names = |set: ConditionSet| self.condition_names(set);
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
                        if !facts.contradict(w) {
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
                .find(|w| facts.contradict(**w))
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
                            .any(|w| facts.meet(*w))
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
        let conditions: Vec<(String, &str)> = way
            .literals()
            .filter_map(|(i, holds)| {
                let c = self.conditions().get(i)?;
                Some((
                    crate::condition_set::literal_name(&c.id, holds),
                    c.label.as_str(),
                ))
            })
            .collect();
        let rname = self.role(role).map_or("?", |x| x.id.as_str());
        let by_name = self.role(by).map_or("?", |x| x.id.as_str());
        let pname = self.permission(perm).map_or("?", |x| x.id.as_str());
        let mut message = wording::conditional(
            rname,
            (by != role).then_some(by_name),
            &grant.pattern,
            pname,
            &conditions,
            allowed,
        );
        for (r, e) in self.conditional_exclusions(role, perm, way) {
            message.push_str(&wording::unless(
                &self.condition_names(e.when),
                (r != role).then(|| self.role(r).map_or("?", |x| x.id.as_str())),
                &e.pattern,
                e.doc.as_deref(),
            ));
        }
        // The grant line's doc comment, else the conditions' own.
        let docs: Vec<&str> = way
            .literals()
            .filter_map(|(i, _)| self.conditions().get(i)?.description.as_deref())
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
