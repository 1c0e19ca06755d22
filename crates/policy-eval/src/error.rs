//! The evaluator's errors: unknown names, a missing or superfluous tier, and
//! artifacts that cannot be loaded.

use std::fmt;

use policy_compiler::context::ContextError;
use policy_syntax::{Code, Diagnostic};

/// What kind of name a query got wrong: the language's one [`NameKind`]
/// (role, permission or tier), re-exported so `policy_eval::NameKind` keeps
/// working.
pub use policy_syntax::NameKind;

/// A query the evaluator cannot answer, or an artifact it cannot load.
///
/// The library never turns one of these into an allow: callers that want a
/// boolean should treat an error as a deny (fail closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// A name the policy does not declare (`P0401`), with a did-you-mean.
    UnknownName {
        /// Role, permission or tier.
        kind: NameKind,
        /// The name as given.
        name: String,
        /// The closest declared name, if one is close enough.
        suggestion: Option<String>,
    },
    /// A role or permission named on a level (`--scope team`) that is
    /// another level's (`P0401`): a role is then named in full, a
    /// permission asked on its own level.
    OnOtherLevel {
        /// Role or permission.
        kind: NameKind,
        /// The name as given.
        name: String,
        /// The level it was given on.
        scope: String,
        /// Its full id and its level.
        other: policy_syntax::OtherLevel,
    },
    /// A tier the policy does not declare (`P0401`), with a did-you-mean
    /// and the declared tiers (there are at most 64).
    UnknownTier {
        /// The tier as given.
        name: String,
        /// The closest declared tier, if one is close enough.
        suggestion: Option<String>,
        /// The declared tiers, lowest first.
        tiers: Vec<String>,
    },
    /// The policy has tiers but the query names none (`P0402`).
    MissingTier {
        /// The declared tiers, lowest first.
        tiers: Vec<String>,
    },
    /// The policy has several dimensions but the query names no context
    /// (`P0402`).
    MissingContext {
        /// The dimensions, described for help.
        dimensions: String,
    },
    /// A context that names no context of the policy: an unknown value or
    /// dimension (`P0401`), a dimension without a value or with two
    /// (`P0402`).
    Context {
        /// What is wrong.
        error: policy_compiler::context::ContextError,
        /// The dimensions, described for help.
        dimensions: String,
    },
    /// The policy declares no tiers but the query names one (`P0402`).
    UnexpectedTier {
        /// The tier given.
        tier: String,
    },
    /// The query names no role (`P0402` is about tiers, so this is `P0401`).
    NoRoles,
    /// A compiled artifact of a schema version this policyc does not read (`P0570`).
    ArtifactVersion {
        /// The version it declares.
        found: u32,
    },
    /// A compiled artifact that cannot be loaded (`P0507`).
    BadArtifact {
        /// What is wrong with it.
        message: String,
    },
}

impl EvalError {
    /// The stable diagnostic code.
    pub fn code(&self) -> Code {
        match self {
            EvalError::UnknownName { .. }
            | EvalError::OnOtherLevel { .. }
            | EvalError::UnknownTier { .. }
            | EvalError::NoRoles => Code::UnknownQueryName,
            EvalError::Context { error, .. } if error.is_unknown_name() => Code::UnknownQueryName,
            EvalError::MissingTier { .. }
            | EvalError::UnexpectedTier { .. }
            | EvalError::MissingContext { .. }
            | EvalError::Context { .. } => Code::QueryTier,
            EvalError::BadArtifact { .. } => Code::BadArtifact,
            EvalError::ArtifactVersion { .. } => Code::ArtifactVersion,
        }
    }

    /// The did-you-mean suggestion, if any.
    pub fn suggestion(&self) -> Option<&str> {
        match self {
            EvalError::UnknownName { suggestion, .. }
            | EvalError::UnknownTier { suggestion, .. } => suggestion.as_deref(),
            EvalError::Context { error, .. } => error.suggestion(),
            EvalError::OnOtherLevel {
                kind: NameKind::Role,
                other,
                ..
            } => Some(other.full.as_str()),
            _ => None,
        }
    }

    /// The concrete fix, as help text.
    pub fn help(&self) -> Option<String> {
        match self {
            EvalError::UnknownName {
                kind: NameKind::Condition,
                ..
            } => Some(
                "a fact names a condition the policy declares with a `condition` line".to_string(),
            ),
            EvalError::UnknownName { kind, .. } => Some(format!(
                "run `policyc matrix` to list the declared {}s",
                kind.as_str()
            )),
            EvalError::OnOtherLevel {
                kind: NameKind::Role,
                name,
                other,
                ..
            } => Some(format!(
                "`{name}` is a role of level `{}`, and a role of another level is named in full",
                other.level
            )),
            EvalError::OnOtherLevel { name, other, .. } => Some(format!(
                "`{name}` is a permission of level `{}`: ask on that level (`--scope {}`), or name it `{}` without a level",
                other.level, other.level, other.full
            )),
            EvalError::UnknownTier { tiers, .. } => {
                Some(format!("the tiers of this policy are {}", quoted(tiers)))
            }
            EvalError::MissingTier { tiers } => {
                Some(format!("pass `--tier` with one of {}", quoted(tiers)))
            }
            EvalError::UnexpectedTier { .. } => Some("leave out the tier".to_string()),
            EvalError::Context {
                error: ContextError::NotOffered { offered, .. },
                ..
            } => Some(format!(
                "the contexts this product offers are {}",
                quoted(offered)
            )),
            EvalError::MissingContext { dimensions } | EvalError::Context { dimensions, .. } => {
                Some(format!(
                    "name one value of each dimension, as `--on dimension=value` (or `value`): {dimensions}"
                ))
            }
            EvalError::NoRoles => Some("name at least one role".to_string()),
            EvalError::BadArtifact { .. } | EvalError::ArtifactVersion { .. } => {
                Some("recompile the policy with `policyc compile`".to_string())
            }
        }
    }

    /// As a [`Diagnostic`] (no source spans: a query is not part of the policy).
    pub fn to_diagnostic(&self) -> Diagnostic {
        let mut d = Diagnostic::new(self.code(), self.to_string())
            .suggest(self.suggestion().map(str::to_string));
        if let Some(h) = self.help() {
            d = d.help(h);
        }
        d
    }

    /// An artifact that cannot be loaded, with what is wrong.
    pub fn bad_artifact(message: impl Into<String>) -> Self {
        EvalError::BadArtifact {
            message: message.into(),
        }
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::UnknownName { kind, name, .. } => {
                write!(f, "unknown {} `{name}`", kind.as_str())
            }
            EvalError::OnOtherLevel {
                kind, name, scope, ..
            } => {
                write!(f, "unknown {} `{name}` on level `{scope}`", kind.as_str())
            }
            EvalError::UnknownTier { name, .. } => write!(f, "unknown tier `{name}`"),
            EvalError::MissingTier { .. } => {
                f.write_str("this policy has tiers, so a query must name one")
            }
            EvalError::MissingContext { .. } => f.write_str(
                "this policy has several dimensions, so a query must name a value of each",
            ),
            EvalError::Context { error, .. } => write!(f, "{error}"),
            EvalError::UnexpectedTier { tier } => {
                write!(
                    f,
                    "this policy declares no tiers, so tier `{tier}` cannot apply"
                )
            }
            EvalError::NoRoles => f.write_str("a query must name at least one role"),
            EvalError::BadArtifact { message } => {
                write!(f, "invalid compiled policy: {message}")
            }
            EvalError::ArtifactVersion { found } => write!(
                f,
                "artifact schema version {found} is not supported (this policyc reads version {})",
                crate::SCHEMA_VERSION
            ),
        }
    }
}

impl std::error::Error for EvalError {}

/// `` `a`, `b` ``.
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
