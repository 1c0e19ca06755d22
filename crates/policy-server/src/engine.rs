//! The one adapter between the server and the evaluator: every decision the
//! server makes goes through [`Policy`]. When the evaluator's API changes,
//! this is the file to change.

use policy_eval::wire::{self, WireDecision, WireError, WireRequest, WireWhatCan, WireWhoCan};
use policy_eval::Evaluator;

/// A loaded, fully checked policy and its content hash. Immutable: a reload
/// builds a new one and swaps it in.
#[derive(Debug)]
pub struct Policy {
    eval: Evaluator,
    hash: String,
}

/// The answer to an ext_authz check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Allowed.
    Allow,
    /// Denied, with the decisive reason.
    Deny(String),
    /// No decision (unknown name, missing tier, no role): denied too.
    Invalid(WireError),
}

impl Policy {
    /// A policy from an evaluator; its hash is the artifact's content hash
    /// (`Evaluator::content_hash`), the same whether the server loaded the
    /// source, the JSON or the YAML artifact of one policy.
    pub fn new(eval: Evaluator) -> Self {
        let hash = eval.content_hash().to_string();
        Policy { eval, hash }
    }

    /// `sha256:...`, the content hash of the loaded policy.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Roles, permissions and tiers declared (for `/metrics`).
    pub fn size(&self) -> (usize, usize, usize) {
        (
            self.eval.role_count(),
            self.eval.perm_count(),
            self.eval.tiers().len(),
        )
    }

    /// One request, explained, as `policyc query --format json` answers it
    /// (plus `policy_hash`).
    pub fn decide(&self, req: WireRequest, n: Option<usize>) -> Result<WireDecision, WireError> {
        let (req, facts) = req
            .into_parts(&self.eval)
            .map_err(|e| WireError::from(&e))?;
        let d = self
            .eval
            .authorize(&req)
            .map_err(|e| WireError::from(&e))?
            .explain_with(facts);
        let mut w = WireDecision::new(&self.eval, &d, n);
        w.policy_hash = Some(self.hash.clone());
        Ok(w)
    }

    /// `GET /v1/who-can`.
    pub fn who_can(
        &self,
        action: &str,
        tier: Option<&str>,
        scope: Option<&str>,
    ) -> Result<WireWhoCan, WireError> {
        let mut w =
            wire::who_can(&self.eval, action, tier, scope).map_err(|e| WireError::from(&e))?;
        w.policy_hash = Some(self.hash.clone());
        Ok(w)
    }

    /// `GET /v1/what-can`.
    pub fn what_can(
        &self,
        role: &str,
        tier: Option<&str>,
        scope: Option<&str>,
    ) -> Result<WireWhatCan, WireError> {
        let mut w =
            wire::what_can(&self.eval, role, tier, scope).map_err(|e| WireError::from(&e))?;
        w.policy_hash = Some(self.hash.clone());
        Ok(w)
    }

    /// `GET /v1/assignable`.
    pub fn assignment(
        &self,
        role: &str,
        tier: Option<&str>,
        scope: Option<&str>,
    ) -> Result<wire::WireAssignment, WireError> {
        let mut w =
            wire::assignment(&self.eval, role, tier, scope).map_err(|e| WireError::from(&e))?;
        w.policy_hash = Some(self.hash.clone());
        Ok(w)
    }

    /// The ext_authz check: one call to the engine resolves the names and
    /// decides from the table; only a deny is explained, from the ids that
    /// call resolved (no name is looked up again).
    /// With `scope`, the names are given on that level and are read as the
    /// HTTP API reads them ([`WireRequest::into_request`]). `when` holds the
    /// facts the request states about the policy's conditions: a cell held
    /// only under conditions is allowed when they are met, and denied,
    /// saying which conditions it needs, when they are missing.
    pub fn check(
        &self,
        roles: &[&str],
        action: &str,
        tier: Option<&str>,
        scope: Option<&str>,
        when: &[(String, bool)],
    ) -> Check {
        let facts = match self.eval.facts(when) {
            Ok(f) => f,
            Err(e) => return Check::Invalid(WireError::from(&e)),
        };
        let verdict = match scope {
            None => self.eval.authorize_by_name(tier, roles, action),
            Some(scope) => WireRequest {
                roles: roles.iter().map(|r| r.to_string()).collect(),
                role: None,
                action: action.to_string(),
                tier: tier.map(str::to_string),
                on: None,
                scope: Some(scope.to_string()),
                when: None,
            }
            .into_request(&self.eval)
            .and_then(|req| self.eval.authorize(&req)),
        };
        match verdict {
            Ok(v) if v.allowed() => Check::Allow,
            Ok(v) => {
                let d = v.explain_with(facts);
                if d.allowed {
                    return Check::Allow;
                }
                let why = d
                    .reasons
                    .into_iter()
                    .next()
                    .map_or_else(|| "denied".to_string(), |r| r.message);
                if d.conditional.is_empty() {
                    Check::Deny(why)
                } else {
                    Check::Deny(format!("missing facts: {why}"))
                }
            }
            Err(e) => Check::Invalid(WireError::from(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        let text = "tiers free < team\npermission a.b \"A\"\npermission c.d \"C\" on team\nrole r \"R\" { grants a.*, c.* }\n";
        let src = policy_syntax::SourceFile::new("p.policy", text);
        Policy::new(Evaluator::from_policy(&policy_compiler::compile(&src).0))
    }

    #[test]
    fn hash_is_the_artifact_content_hash() {
        let p = policy();
        assert!(p.hash().starts_with("sha256:") && p.hash().len() == 7 + 64);
        assert_eq!(p.hash(), p.eval.content_hash());
    }

    #[test]
    fn check_reads_names_on_a_level() {
        let text = "scope organization \"Organization\"\npermission billing.manage \"B\"\nrole owner \"Owner\" {\n  grants billing.manage\n  acts as team.admin\n}\nscope team \"Team\" in organization\npermission projects.remove \"R\"\nrole admin \"Admin\" { grants projects.remove }\n";
        let src = policy_syntax::SourceFile::new("p.policy", text);
        let (compiled, diags) = policy_compiler::compile(&src);
        assert!(diags.is_empty(), "{diags:?}");
        let p = Policy::new(Evaluator::from_policy(&compiled));
        assert_eq!(
            p.check(&["admin"], "projects.remove", None, Some("team"), &[]),
            Check::Allow
        );
        assert_eq!(
            p.check(
                &["organization.owner"],
                "projects.remove",
                None,
                Some("team"),
                &[]
            ),
            Check::Allow
        );
        assert_eq!(
            p.check(&["team.admin"], "team.projects.remove", None, None, &[]),
            Check::Allow
        );
        assert!(matches!(
            p.check(&["admin"], "billing.manage", None, Some("team"), &[]),
            Check::Invalid(e) if e.code == "P0401"
        ));
        assert!(matches!(
            p.check(&["admin"], "projects.remove", None, Some("teem"), &[]),
            Check::Invalid(e) if e.code == "P0401" && e.message.contains("teem")
        ));
    }

    #[test]
    fn check_weighs_the_facts_given_and_says_what_is_missing() {
        let text = "condition own \"Own\"\npermission items.delete \"D\"\nrole guest \"Guest\" { grants items.delete when own }\n";
        let src = policy_syntax::SourceFile::new("p.policy", text);
        let (compiled, diags) = policy_compiler::compile(&src);
        assert!(diags.is_empty(), "{diags:?}");
        let p = Policy::new(Evaluator::from_policy(&compiled));
        let fact = |v: bool| vec![("own".to_string(), v)];
        assert_eq!(
            p.check(&["guest"], "items.delete", None, None, &fact(true)),
            Check::Allow
        );
        assert!(matches!(
            p.check(&["guest"], "items.delete", None, None, &[]),
            Check::Deny(m) if m.starts_with("missing facts: ") && m.contains("`own`")
        ));
        assert!(matches!(
            p.check(&["guest"], "items.delete", None, None, &fact(false)),
            Check::Deny(m) if !m.starts_with("missing facts")
        ));
        assert!(matches!(
            p.check(&["guest"], "items.delete", None, None, &[("onw".to_string(), true)]),
            Check::Invalid(e) if e.code == "P0401"
        ));
    }

    #[test]
    fn check_allow_deny_invalid() {
        let p = policy();
        assert_eq!(
            p.check(&["r"], "a.b", Some("free"), None, &[]),
            Check::Allow
        );
        assert!(
            matches!(p.check(&["r"], "c.d", Some("free"), None, &[]), Check::Deny(m) if m.contains("c.d"))
        );
        assert!(
            matches!(p.check(&["x"], "a.b", Some("free"), None, &[]), Check::Invalid(e) if e.code == "P0401")
        );
        assert!(
            matches!(p.check(&["r"], "a.b", None, None, &[]), Check::Invalid(e) if e.code == "P0402")
        );
        assert!(matches!(
            p.check(&[], "a.b", Some("free"), None, &[]),
            Check::Invalid(_)
        ));
    }

    #[test]
    fn decisions_carry_the_hash() {
        let p = policy();
        let req: WireRequest =
            serde_json::from_str(r#"{"role":"r","action":"a.b","tier":"team"}"#).unwrap();
        let d = p.decide(req, None).unwrap();
        assert_eq!(d.policy_hash.as_deref(), Some(p.hash()));
        assert_eq!(p.who_can("a.b", None, None).unwrap().tiers.len(), 2);
        assert_eq!(p.what_can("r", Some("free"), None).unwrap().tiers.len(), 1);
    }
}
