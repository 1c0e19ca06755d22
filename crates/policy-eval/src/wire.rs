//! The JSON wire shapes of a decision: one request of `policyc query
//! --batch` (and of `POST /v1/decide` in `policyc serve`), and the decision
//! object of `policyc query --format json` (and of the server). One
//! definition for both, so a script can move between them.

use policy_compiler::wording;
use policy_syntax::Code;
use serde::{Deserialize, Serialize};

use crate::{Decision, EvalError, Evaluator, Location, PermId, Request, TierId};

/// The `schema_version` of every JSON document `policyc` (CLI and server)
/// prints that is not a library type with its own version. Raised on any
/// incompatible change of one of those shapes.
pub const WIRE_SCHEMA_VERSION: u32 = 1;

/// The one JSON envelope: `schema_version` first, then the fields of `body`
/// (which must serialize as a map). Every CLI and server document goes
/// through it.
#[derive(Debug, Serialize)]
pub struct Versioned<'a, T: Serialize> {
    /// Always [`WIRE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The document's own fields.
    #[serde(flatten)]
    pub body: &'a T,
}

impl<'a, T: Serialize> Versioned<'a, T> {
    /// `body` in the envelope.
    pub fn new(body: &'a T) -> Self {
        Versioned {
            schema_version: WIRE_SCHEMA_VERSION,
            body,
        }
    }
}

/// One request: `{"role": R, "roles": [R...], "action": A, "tier": T}`,
/// or with several dimensions `"on": {"edition": "cloud", "plan": "pro"}`
/// in place of (or beside) `"tier"`. `role` and `roles` are merged (`role`
/// first); any other field is an error.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireRequest {
    /// The roles the user holds.
    #[serde(default)]
    pub roles: Vec<String>,
    /// One more role (a shorthand for one-role requests).
    #[serde(default)]
    pub role: Option<String>,
    /// The permission.
    pub action: String,
    /// The tier, when the policy declares tiers (or a context as text).
    #[serde(default)]
    pub tier: Option<String>,
    /// The context as one value per dimension. With `tier` too, both are
    /// read as one context (so a dimension named twice is an error).
    #[serde(default)]
    pub on: Option<std::collections::BTreeMap<String, String>>,
    /// The level the names are given on, in a policy with levels: with
    /// `"scope": "team"`, `admin` is `team.admin` and the action `p` is
    /// `team.p`; without it, names are full ids.
    #[serde(default)]
    pub scope: Option<String>,
    /// The facts the request states about the policy's conditions:
    /// `{"own": true, "setting.public_channels": false}`. A condition left
    /// out is unknown: a cell that depends on it is `"conditional"`.
    #[serde(default)]
    pub when: Option<std::collections::BTreeMap<String, bool>>,
}

impl WireRequest {
    /// [`WireRequest::into_request`], with the facts it states resolved
    /// ([`Evaluator::facts`]; an unknown condition is an error).
    pub fn into_parts(
        mut self,
        eval: &Evaluator,
    ) -> Result<(Request, policy_compiler::Facts), EvalError> {
        let given: Vec<(String, bool)> = self.when.take().into_iter().flatten().collect();
        let facts = eval.facts(&given)?;
        Ok((self.into_request(eval)?, facts))
    }

    /// The evaluator's request, names given on `scope` made full ids
    /// ([`Evaluator::scoped_name`]); an unknown level is an error.
    pub fn into_request(self, eval: &Evaluator) -> Result<Request, EvalError> {
        let mut roles = self.roles;
        if let Some(r) = self.role {
            roles.insert(0, r);
        }
        let scope = self.scope.as_deref();
        let roles = roles
            .iter()
            .map(|r| eval.scoped_name(scope, crate::NameKind::Role, r))
            .collect::<Result<Vec<_>, _>>()?;
        let action = eval.scoped_name(scope, crate::NameKind::Permission, &self.action)?;
        let on = self.on.filter(|m| !m.is_empty()).map(|m| {
            m.iter()
                .map(|(d, v)| format!("{d}={v}"))
                .collect::<Vec<_>>()
                .join("+")
        });
        let tier = match (self.tier, on) {
            (Some(t), Some(on)) => Some(format!("{t}+{on}")),
            (t, on) => t.or(on),
        };
        Ok(Request {
            roles,
            action,
            tier,
        })
    }
}

/// A source location: `{"file", "line", "column"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireLocation {
    /// The policy file's name as loaded.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// One reason of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireReason {
    /// The reason's kind (`granted`, `inherited`, `role-unavailable`, ...).
    pub kind: &'static str,
    /// A sentence.
    pub message: String,
    /// The role it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Where in the policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<WireLocation>,
    /// A second place that matters (e.g. the tier gate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related: Option<WireLocation>,
    /// Roles of a near miss.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Tiers of a near miss.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<String>,
}

/// A decision (docs/cli.md, `policyc query --format json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireDecision {
    /// The 1-based number of the request in a batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<usize>,
    /// `"allow"`, `"deny"` or `"conditional"` (allowed if the conditions
    /// in `conditions` turn out to hold).
    pub decision: &'static str,
    /// An allow that rests on conditions: their ids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<String>,
    /// A conditional decision: each way to be allowed, as the conditions
    /// it still needs (any one way suffices).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Vec<String>>,
    /// The roles asked about.
    pub roles: Vec<String>,
    /// The permission.
    pub action: String,
    /// The tier (null for a tierless policy).
    pub tier: Option<String>,
    /// Why.
    pub reasons: Vec<WireReason>,
    /// The roles asked about that are available on the tier but can no
    /// longer be assigned there (holders keep them); absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_assignable: Vec<String>,
    /// The content hash of the policy that answered (`sha256:...`); set by
    /// `policyc serve`, absent from `policyc query`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_hash: Option<String>,
}

impl WireDecision {
    /// The wire form of `d`, decided by `eval`.
    pub fn new(eval: &Evaluator, d: &Decision, request: Option<usize>) -> Self {
        let loc = |l: Option<Location>| {
            l.map(|l| WireLocation {
                file: eval.policy().file_name_of(&l).to_string(),
                line: l.line,
                column: l.column,
            })
        };
        WireDecision {
            request,
            decision: d.outcome_str(),
            when: d.when.clone(),
            conditions: d.conditional.clone(),
            roles: d.roles.clone(),
            action: d.action.clone(),
            tier: d.tier.clone(),
            reasons: d
                .reasons
                .iter()
                .map(|r| WireReason {
                    kind: r.kind.as_str(),
                    message: r.message.clone(),
                    role: r.role.clone(),
                    location: loc(r.location),
                    related: loc(r.related),
                    roles: r.roles.clone(),
                    tiers: r.tiers.clone(),
                })
                .collect(),
            not_assignable: d.not_assignable.clone(),
            policy_hash: None,
        }
    }
}

/// Why a request got no decision: `{"code", "message", "suggestion"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireError {
    /// A stable diagnostic code (`P0401`, `P0403`, ...).
    pub code: &'static str,
    /// A sentence.
    pub message: String,
    /// A did-you-mean, for an unknown name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl WireError {
    /// A request that is not a well-formed query (`P0403`).
    pub fn malformed(why: impl std::fmt::Display) -> Self {
        WireError {
            code: Code::MalformedQuery.as_str(),
            message: format!("malformed request: {why}"),
            suggestion: None,
        }
    }

    /// An error of the given code.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        WireError {
            code: code.as_str(),
            message: message.into(),
            suggestion: None,
        }
    }
}

impl From<&EvalError> for WireError {
    fn from(e: &EvalError) -> Self {
        WireError {
            code: e.code().as_str(),
            message: e.to_string(),
            suggestion: e.suggestion().map(str::to_string),
        }
    }
}

/// A failed request of a batch: `{"request": N, "error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireFailure {
    /// The 1-based number of the request.
    pub request: usize,
    /// Why.
    pub error: WireError,
}

/// A role or permission in a listing: `{"id", "label"}`, and for a role
/// that can no longer be given on the tier, `"assignable": false`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireNamed {
    /// Its id.
    pub id: String,
    /// Its label.
    pub label: String,
    /// `Some(false)` for a role available on the tier but no longer
    /// assignable there (its holders keep it); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignable: Option<bool>,
    /// In a `conditional` list: each way it is allowed (condition ids).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<Vec<String>>,
}

/// One tier of a `who-can` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireWhoCanTier {
    /// The tier (null for a tierless policy).
    pub tier: Option<String>,
    /// The roles that may use the permission there, in declaration order.
    pub roles: Vec<WireNamed>,
    /// The roles that may use it there only under conditions, with `when`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditional: Vec<WireNamed>,
}

/// The answer of `policyc who-can --format json` and `GET /v1/who-can`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireWhoCan {
    /// The permission asked about.
    pub action: String,
    /// Per tier asked about.
    pub tiers: Vec<WireWhoCanTier>,
    /// As in [`WireDecision::policy_hash`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_hash: Option<String>,
}

/// One tier of a `what-can` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireWhatCanTier {
    /// The tier (null for a tierless policy).
    pub tier: Option<String>,
    /// The permissions the role may use there, in declaration order.
    pub permissions: Vec<WireNamed>,
    /// The permissions it may use there only under conditions, with `when`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditional: Vec<WireNamed>,
    /// `Some(false)` when the role is available on the tier but no longer
    /// assignable there (its holders keep these permissions); absent
    /// otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignable: Option<bool>,
}

/// The answer of `policyc what-can --format json` and `GET /v1/what-can`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireWhatCan {
    /// The role asked about.
    pub role: String,
    /// Per tier asked about.
    pub tiers: Vec<WireWhatCanTier>,
    /// As in [`WireDecision::policy_hash`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_hash: Option<String>,
}

/// Whether a role can be newly given in a context (`policyc assignable`,
/// docs/cli.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireAssignment {
    /// The role.
    pub role: String,
    /// The tier or context (null for a tierless policy).
    pub tier: Option<String>,
    /// Whether the role can be assigned there.
    pub assignable: bool,
    /// `assignable`, `role_unavailable` (the role does not exist there) or
    /// `not_assignable` (it exists, its holders keep it, but it is no
    /// longer given).
    pub kind: &'static str,
    /// Why, in the engine's words.
    pub message: String,
    /// As in [`WireDecision::policy_hash`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_hash: Option<String>,
}

/// Whether `role` can be newly assigned on `tier` (required when the policy
/// has tiers), and why not.
pub fn assignment(
    eval: &Evaluator,
    role: &str,
    tier: Option<&str>,
    scope: Option<&str>,
) -> Result<WireAssignment, EvalError> {
    let role = &eval.scoped_name(scope, crate::NameKind::Role, role)?;
    let r = eval.resolve_role(role)?;
    let t = eval.resolve_tier(tier)?;
    let policy = eval.policy();
    let name = eval.tier_name(t);
    let tier_text = name.unwrap_or("");
    let (assignable, kind, message) = if policy.role_assignable(r, t) {
        (true, "assignable", wording::assignable(role, name))
    } else if policy.role_available(r, t) {
        (
            false,
            "not_assignable",
            wording::not_assignable(role, tier_text),
        )
    } else {
        (
            false,
            "role_unavailable",
            wording::role_unavailable(role, tier_text),
        )
    };
    Ok(WireAssignment {
        role: role.to_string(),
        tier: name.map(str::to_string),
        assignable,
        kind,
        message,
        policy_hash: None,
    })
}

/// Who may use `action` (on `tier`, or on every tier), the action given
/// on level `scope` when there is one: the roles of that level and of the
/// outer levels that act as them.
pub fn who_can(
    eval: &Evaluator,
    action: &str,
    tier: Option<&str>,
    scope: Option<&str>,
) -> Result<WireWhoCan, EvalError> {
    let action = &eval.scoped_name(scope, crate::NameKind::Permission, action)?;
    let perm = eval.resolve_perm(action)?;
    let tiers = eval
        .tiers_to_show(tier)?
        .into_iter()
        .map(|t| WireWhoCanTier {
            tier: eval.tier_name(t).map(str::to_string),
            roles: eval
                .who_can(t, perm)
                .into_iter()
                .filter_map(|r| {
                    let kept = eval.policy().role_kept_not_assignable(r, t);
                    eval.role_name(r).map(|(id, label)| WireNamed {
                        id: id.to_string(),
                        label: label.to_string(),
                        assignable: kept.then_some(false),
                        when: Vec::new(),
                    })
                })
                .collect(),
            conditional: eval
                .conditional_roles(t, perm)
                .into_iter()
                .filter_map(|(r, when)| {
                    let (id, label) = eval.role_name(r)?;
                    let (id, label) = (id.to_string(), label.to_string());
                    Some(WireNamed {
                        id,
                        label,
                        assignable: None,
                        when,
                    })
                })
                .collect(),
        })
        .collect();
    Ok(WireWhoCan {
        action: action.to_string(),
        tiers,
        policy_hash: None,
    })
}

/// What `role` may use (on `tier`, or on every tier); with a level
/// (`scope`), the role is named on it and only that level's permissions
/// are listed.
pub fn what_can(
    eval: &Evaluator,
    role: &str,
    tier: Option<&str>,
    scope: Option<&str>,
) -> Result<WireWhatCan, EvalError> {
    let role = &eval.scoped_name(scope, crate::NameKind::Role, role)?;
    let r = eval.resolve_role(role)?;
    let level = scope.and_then(|s| eval.policy().scope_id(s));
    let on_level =
        |p: PermId| level.is_none() || eval.policy().permission(p).and_then(|x| x.scope) == level;
    let named = |p: PermId, t: TierId, when: Vec<Vec<String>>| {
        let label = eval.policy().perm_label(p, t)?;
        eval.perm_name(p).map(|(id, _)| WireNamed {
            id: id.to_string(),
            label: label.to_string(),
            assignable: None,
            when,
        })
    };
    let tiers = eval
        .tiers_to_show(tier)?
        .into_iter()
        .map(|t| WireWhatCanTier {
            tier: eval.tier_name(t).map(str::to_string),
            permissions: eval
                .what_can(t, r)
                .into_iter()
                .filter(|&p| on_level(p))
                .filter_map(|p| named(p, t, Vec::new()))
                .collect(),
            conditional: eval
                .conditional_perms(t, r)
                .into_iter()
                .filter(|(p, _)| on_level(*p))
                .filter_map(|(p, when)| named(p, t, when))
                .collect(),
            assignable: eval
                .policy()
                .role_kept_not_assignable(r, t)
                .then_some(false),
        })
        .collect();
    Ok(WireWhatCan {
        role: role.to_string(),
        tiers,
        policy_hash: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval() -> Evaluator {
        let src = policy_syntax::SourceFile::new(
            "p.policy",
            "permission a.b \"A\"\nrole r \"R\" { grants a.* }\n",
        );
        Evaluator::from_policy(&policy_compiler::compile(&src).0)
    }

    #[test]
    fn role_and_roles_merge_role_first() {
        let r: WireRequest =
            serde_json::from_str(r#"{"role":"x","roles":["y"],"action":"a.b"}"#).unwrap();
        assert_eq!(r.into_request(&eval()).unwrap().roles, vec!["x", "y"]);
    }

    /// A request on a level names that level's roles and permissions; a
    /// role of an outer level is written in full; an unknown level is an
    /// error with a did-you-mean.
    #[test]
    fn names_on_a_level_are_the_levels() {
        let src = policy_syntax::SourceFile::new(
            "p.policy",
            "scope org \"Org\"\nrole owner \"O\" { acts as team.admin }\n\
             scope team \"Team\" in org\npermission p.x \"X\"\nrole admin \"A\" { grants p.x }\n",
        );
        let eval = Evaluator::from_policy(&policy_compiler::compile(&src).0);
        let r: WireRequest = serde_json::from_str(
            r#"{"roles":["admin","org.owner"],"action":"p.x","scope":"team"}"#,
        )
        .unwrap();
        let req = r.into_request(&eval).unwrap();
        assert_eq!(req.roles, ["team.admin", "org.owner"]);
        assert_eq!(req.action, "team.p.x");
        assert!(eval.authorize(&req).unwrap().explain().allowed);
        let r: WireRequest =
            serde_json::from_str(r#"{"role":"admin","action":"p.x","scope":"teem"}"#).unwrap();
        let e = r.into_request(&eval).unwrap_err();
        assert_eq!(e.to_string(), "unknown scope `teem`");
        assert_eq!(e.suggestion(), Some("team"));
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let r = serde_json::from_str::<WireRequest>(r#"{"role":"x","acton":"a.b"}"#);
        assert!(r.unwrap_err().to_string().contains("unknown field `acton`"));
    }

    #[test]
    fn decision_shape_without_hash() {
        let e = eval();
        let req = Request {
            roles: vec!["r".into()],
            action: "a.b".into(),
            tier: None,
        };
        let d = WireDecision::new(&e, &e.authorize(&req).unwrap().explain(), Some(3));
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["request"], 3);
        assert_eq!(v["decision"], "allow");
        assert_eq!(v["reasons"][0]["location"]["file"], "p.policy");
        assert!(v.get("policy_hash").is_none());
    }

    #[test]
    fn unknown_name_error_carries_suggestion() {
        let e = eval();
        let err = e
            .authorize(&Request {
                roles: vec!["rr".into()],
                action: "a.b".into(),
                tier: None,
            })
            .unwrap_err();
        let w = WireError::from(&err);
        assert_eq!(w.code, "P0401");
        assert_eq!(w.suggestion.as_deref(), Some("r"));
    }
}
