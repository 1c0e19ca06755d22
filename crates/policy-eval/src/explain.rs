//! The one query engine: [`Evaluator::authorize`] decides a request from
//! the decision table and explains that verdict. The derivation of an
//! allow, the decisive reason of a deny and the nearest miss are computed
//! and worded once, by the compiler ([`policy_compiler::Policy::explain_by`]),
//! with every allow bit taken from the evaluator's table (the evaluator is
//! the [`Decider`]), so a reason can never disagree with the verdict.

use policy_compiler::{Decider, Decision, PermId, RoleId, TierId};

use crate::error::EvalError;
use crate::model::Evaluator;

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

/// A decided request: the verdict, read from the decision table, and the
/// resolved ids it was decided for, so that its reasons
/// ([`Verdict::explain`]) are computed only when asked, without resolving
/// any name again.
#[derive(Debug, Clone)]
pub struct Verdict<'e> {
    eval: &'e Evaluator,
    tier: TierId,
    roles: Vec<RoleId>,
    perm: PermId,
    allowed: bool,
}

impl Verdict<'_> {
    /// Allow or deny.
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// The tier decided on (`TierId(0)` for a tierless policy).
    pub fn tier(&self) -> TierId {
        self.tier
    }

    /// The roles decided for, in the order asked.
    pub fn roles(&self) -> &[RoleId] {
        &self.roles
    }

    /// The permission decided.
    pub fn perm(&self) -> PermId {
        self.perm
    }

    /// The verdict with its reasons: for an allow the shortest derivation,
    /// for a deny the decisive reason per role and the nearest miss; a
    /// deny that conditions could lift is *conditional*
    /// ([`Decision::conditional`]).
    pub fn explain(&self) -> Decision {
        self.eval.explain(self.tier, &self.roles, self.perm)
    }

    /// [`Verdict::explain`] under `facts`: conditions the facts meet allow.
    pub fn explain_with(&self, facts: policy_compiler::Facts) -> Decision {
        self.eval
            .explain_with(self.tier, &self.roles, self.perm, facts)
    }
}

impl Decider for Evaluator {
    #[inline]
    fn decides(&self, tier: TierId, role: RoleId, perm: PermId) -> bool {
        self.decide_one(tier, role, perm)
    }
}

impl Evaluator {
    /// The one query engine: resolves a request by name (every name
    /// checked, an unknown one is an [`EvalError`], never an allow), decides
    /// it from the decision table and returns the [`Verdict`], whose
    /// reasons [`Verdict::explain`] gives.
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
    /// let verdict = eval.authorize(&req).unwrap();
    /// assert!(verdict.allowed());
    /// let d = verdict.explain();
    /// assert_eq!(d.reasons[0].kind, ReasonKind::Inherited);
    /// assert_eq!(d.reasons[1].kind, ReasonKind::Granted);
    /// assert_eq!(d.reasons[1].location.unwrap().line, 3);
    ///
    /// let req = Request { roles: vec!["guest".into()], ..req };
    /// let d = eval.authorize(&req).unwrap().explain();
    /// assert!(!d.allowed);
    /// assert_eq!(d.reasons[0].kind, ReasonKind::NotGranted);
    /// assert_eq!(d.reasons[1].roles, ["viewer", "editor"]); // the nearest miss
    /// ```
    pub fn authorize(&self, request: &Request) -> Result<Verdict<'_>, EvalError> {
        self.authorize_by_name(request.tier.as_deref(), &request.roles, &request.action)
    }

    /// [`Evaluator::authorize`] for names held elsewhere (an HTTP header,
    /// a gRPC attribute), without building a [`Request`].
    pub fn authorize_by_name<S: AsRef<str>>(
        &self,
        tier: Option<&str>,
        roles: &[S],
        perm: &str,
    ) -> Result<Verdict<'_>, EvalError> {
        let tier = self.resolve_tier(tier)?;
        let perm = self.resolve_perm(perm)?;
        if roles.is_empty() {
            return Err(EvalError::NoRoles);
        }
        let roles = roles
            .iter()
            .map(|r| self.resolve_role(r.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let allowed = self.decide(tier, &roles, perm);
        Ok(Verdict {
            eval: self,
            tier,
            roles,
            perm,
            allowed,
        })
    }

    /// Explains a decision by ids: the verdict of [`Evaluator::decide`]
    /// (the decision table), with its reasons. Out-of-range ids deny.
    pub fn explain(&self, tier: TierId, roles: &[RoleId], perm: PermId) -> Decision {
        self.explain_with(tier, roles, perm, policy_compiler::Facts::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy_compiler::{ReasonKind, SetId};

    /// Every decision is the evaluator's: with one cell of its table
    /// emptied (the policy itself unchanged), `authorize`, its explanation,
    /// the nearest miss and `who-can` all follow the table, never
    /// `Policy::allows`.
    #[test]
    fn the_table_decides_and_the_explanation_follows_it() {
        let src = policy_syntax::SourceFile::new(
            "p.policy",
            "permission a.b \"A\"\nrole r \"R\" { grants a.b }\nrole s \"S\" { grants a.b }\n",
        );
        let policy = policy_compiler::compile(&src).0;
        let mut eval = Evaluator::from_policy(&policy).without_dense_table();
        let req = Request {
            roles: vec!["r".into()],
            action: "a.b".into(),
            tier: None,
        };
        assert!(eval.authorize(&req).unwrap().allowed());
        if let Some(slot) = eval.slots.get_mut(0) {
            *slot = SetId::EMPTY; // r on the only tier: nothing
        }
        assert!(policy.allows(TierId(0), RoleId(0), PermId(0)));
        let v = eval.authorize(&req).unwrap();
        assert!(!v.allowed());
        let d = v.explain();
        assert!(!d.allowed);
        let miss = d
            .reasons
            .iter()
            .find(|r| r.kind == ReasonKind::OtherRoles)
            .unwrap();
        assert_eq!(miss.roles, ["s"]);
        assert_eq!(eval.who_can(TierId(0), PermId(0)), [RoleId(1)]);
    }
}
