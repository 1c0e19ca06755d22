//! Explained decisions. The derivation of an allow, the decisive reason of
//! a deny and the nearest miss are computed and worded once, by the
//! compiler ([`policy_compiler::Policy::explain`]); the evaluator answers
//! by name and hands its ids to that code.

use policy_compiler::{Decision, PermId, RoleId, TierId};

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
        let decision = self.policy.explain(tier, roles, perm);
        debug_assert_eq!(decision.allowed, self.decide(tier, roles, perm));
        decision
    }
}
