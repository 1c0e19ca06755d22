//! The compiled-policy artifact written by `policyc compile`: the resolved
//! policy as a deliberate, versioned serialization type (not the
//! compiler's internal types).
//!
//! It stores what the policy states and nothing that is cheap to derive, so
//! its size is proportional to the policy: every declaration, grant (its
//! pattern, not its expansion), exclusion, `inherits` edge and `on` clause
//! with its source position (byte span, line and column). The positions
//! are the one part that is not re-derivable without the source text.
//! [`Evaluator::from_artifact`] rebuilds the same [`Policy`] the source
//! compiles to — patterns expanded by the compiler's pattern index, the
//! order and the sets computed by the compiler's code — so an explanation
//! from an artifact equals the one from source. Loading checks the content
//! hash and that the loaded policy writes back the same artifact, and
//! refuses an artifact that disagrees with itself.

use std::collections::HashMap;

use policy_compiler::{
    assemble, Declarations, Exclusion, Grant, Parent, Permission, Policy, Role, RoleId, Tier,
    TierId, TierSet,
};
use policy_syntax::{LineCol, Span};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::EvalError;
use crate::model::Evaluator;

/// The artifact's schema version; bumped on any incompatible change.
/// Version 2 added source spans of every declaration, `inherits` edge and
/// `on` clause, tier declarations with positions, and the content hash.
/// Version 3 dropped what loading re-derives: each grant's and exclusion's
/// expanded `permissions` and the `effective` table (a 4 MB policy wrote
/// a 33.7 MB version-2 artifact; wildcard-heavy ones, gigabytes).
pub const SCHEMA_VERSION: u32 = 3;

/// Where something is written in the source: byte span, line and column.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArtifactSpan {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column of `start`, in characters.
    pub column: usize,
}

/// A declared tier.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArtifactTierDecl {
    /// Tier id.
    pub id: String,
    /// Where it is named in the `tiers` declaration.
    pub at: ArtifactSpan,
}

/// A permission.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArtifactPermission {
    /// Dotted id.
    pub id: String,
    /// Human label.
    pub label: String,
    /// Doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tiers on which it exists.
    pub tiers: Vec<String>,
    /// Its `on ...` clause, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<ArtifactSpan>,
    /// Where its id is written.
    pub at: ArtifactSpan,
}

/// An `inherits` edge.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArtifactParent {
    /// The parent role's id.
    pub role: String,
    /// Where the parent is named.
    pub at: ArtifactSpan,
}

/// A grant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArtifactGrant {
    /// The pattern as written.
    pub pattern: String,
    /// Tiers on which it holds.
    pub tiers: Vec<String>,
    /// Its `on ...` clause, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<ArtifactSpan>,
    /// Where the pattern is written.
    pub at: ArtifactSpan,
}

/// An exclusion.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArtifactExclusion {
    /// The pattern as written.
    pub pattern: String,
    /// Where the pattern is written.
    pub at: ArtifactSpan,
}

/// A role.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArtifactRole {
    /// Role id.
    pub id: String,
    /// Display label.
    pub label: String,
    /// Doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tiers on which it can be assigned.
    pub tiers: Vec<String>,
    /// Its `on ...` clause, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<ArtifactSpan>,
    /// Parent roles, in order.
    pub inherits: Vec<ArtifactParent>,
    /// Grants, in order.
    pub grants: Vec<ArtifactGrant>,
    /// Exclusions, in order.
    pub excludes: Vec<ArtifactExclusion>,
    /// Where its id is written.
    pub at: ArtifactSpan,
}

/// The whole artifact.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Artifact {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `sha256:` and the hex SHA-256 of the artifact's canonical bytes
    /// (compact JSON, with this field empty). The same for the JSON and
    /// the YAML form.
    pub content_hash: String,
    /// The source file it was compiled from.
    pub source: String,
    /// Tiers, lowest first.
    pub tiers: Vec<ArtifactTierDecl>,
    /// Permissions in declaration order.
    pub permissions: Vec<ArtifactPermission>,
    /// Roles in declaration order.
    pub roles: Vec<ArtifactRole>,
}

fn tier_names(policy: &Policy, set: TierSet) -> Vec<String> {
    set.iter()
        .filter_map(|t| policy.tier(t).map(|x| x.id.clone()))
        .collect()
}

impl Artifact {
    /// Builds the artifact of a compiled policy, with its content hash.
    pub fn from_policy(policy: &Policy) -> Self {
        let at = |s: Span| {
            let l = policy.location(s);
            ArtifactSpan {
                start: s.start,
                end: s.end,
                line: l.line,
                column: l.column,
            }
        };
        let permissions = policy
            .permissions()
            .iter()
            .map(|p| ArtifactPermission {
                id: p.id.clone(),
                label: p.label.clone(),
                description: p.description.clone(),
                tiers: tier_names(policy, p.tiers),
                on: p.tier_span.map(at),
                at: at(p.span),
            })
            .collect();
        let roles = policy
            .roles()
            .iter()
            .map(|r| ArtifactRole {
                id: r.id.clone(),
                label: r.label.clone(),
                description: r.description.clone(),
                tiers: tier_names(policy, r.tiers),
                on: r.tier_span.map(at),
                inherits: r
                    .parents
                    .iter()
                    .filter_map(|p| {
                        policy.role(p.role).map(|x| ArtifactParent {
                            role: x.id.clone(),
                            at: at(p.span),
                        })
                    })
                    .collect(),
                grants: r
                    .grants
                    .iter()
                    .map(|g| ArtifactGrant {
                        pattern: g.pattern.clone(),
                        tiers: tier_names(policy, g.tiers),
                        on: g.tier_span.map(at),
                        at: at(g.span),
                    })
                    .collect(),
                excludes: r
                    .exclusions
                    .iter()
                    .map(|e| ArtifactExclusion {
                        pattern: e.pattern.clone(),
                        at: at(e.span),
                    })
                    .collect(),
                at: at(r.span),
            })
            .collect();
        let mut artifact = Artifact {
            schema_version: SCHEMA_VERSION,
            content_hash: String::new(),
            source: policy.source().name().to_string(),
            tiers: policy
                .tiers()
                .iter()
                .map(|t| ArtifactTierDecl {
                    id: t.id.clone(),
                    at: at(t.span),
                })
                .collect(),
            permissions,
            roles,
        };
        artifact.content_hash = artifact.computed_hash();
        artifact
    }

    /// The hash of the canonical bytes: compact JSON of the artifact with
    /// `content_hash` and `source` empty. The policy's hash is a function
    /// of what it states alone: the same text compiled from `p.policy`,
    /// `good.policy` or an absolute path has one hash, so replicas that
    /// mount one file at different paths agree.
    pub fn computed_hash(&self) -> String {
        let mut hasher = Sha256::new();
        let blank = Artifact {
            content_hash: String::new(),
            source: String::new(),
            ..self.clone()
        };
        // Serializing plain structs of strings and integers cannot fail;
        // if it somehow did, the hash of nothing would never match.
        let bytes = serde_json::to_vec(&blank).unwrap_or_default();
        hasher.update(&bytes);
        let digest = hasher.finalize();
        let mut out = String::with_capacity(7 + 64);
        out.push_str("sha256:");
        for b in digest {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    /// Parses an artifact from `policyc compile --format json` output.
    /// The version is read first, so an artifact of another version is
    /// reported as such (`P0570`) rather than as a missing field.
    pub fn from_json(text: &str) -> Result<Self, EvalError> {
        check_version(
            serde_json::from_str::<VersionOnly>(text)
                .map_err(|e| EvalError::bad_artifact(format!("not a compiled policy: {e}")))?
                .schema_version,
        )?;
        serde_json::from_str(text)
            .map_err(|e| EvalError::bad_artifact(format!("not a compiled policy: {e}")))
    }
}

/// Read first, so that another schema is reported as a version mismatch.
#[derive(Deserialize)]
struct VersionOnly {
    schema_version: Option<u32>,
}

/// Checks an artifact's `schema_version` (`None`: the field is missing):
/// another version is [`EvalError::ArtifactVersion`] (`P0570`). Callers
/// that parse another format (YAML) check the version with this first.
pub fn check_version(v: Option<u32>) -> Result<(), EvalError> {
    match v {
        Some(SCHEMA_VERSION) => Ok(()),
        Some(found) => Err(EvalError::ArtifactVersion { found }),
        None => Err(EvalError::bad_artifact("it has no `schema_version`")),
    }
}

impl Evaluator {
    /// Loads `policyc compile --format json` output, without the source.
    ///
    /// ```
    /// use policy_eval::{Artifact, Evaluator};
    /// use policy_syntax::SourceFile;
    ///
    /// let src = SourceFile::new("p.policy", r#"
    ///     permission a.b "A"
    ///     role r "R" { grants a.* }
    /// "#);
    /// let policy = policy_compiler::compile(&src).0;
    /// let json = serde_json::to_string(&Artifact::from_policy(&policy)).unwrap();
    /// let eval = Evaluator::from_artifact_json(&json).unwrap();
    /// assert_eq!(eval.decide_by_name(None, &["r"], "a.b"), Ok(true));
    /// assert_eq!(eval.content_hash(), Evaluator::from_policy(&policy).content_hash());
    /// ```
    pub fn from_artifact_json(text: &str) -> Result<Self, EvalError> {
        Self::from_artifact(&Artifact::from_json(text)?)
    }

    /// Builds an evaluator from a parsed artifact: the content hash must
    /// match, the declarations are checked and assembled by the compiler
    /// (patterns expanded, order and sets computed), and the result must
    /// write back the same artifact. A hand-edited artifact that
    /// contradicts itself is refused (`P0507`) rather than trusted.
    pub fn from_artifact(a: &Artifact) -> Result<Self, EvalError> {
        check_version(Some(a.schema_version))?;
        if a.content_hash != a.computed_hash() {
            return Err(EvalError::bad_artifact(
                "its `content_hash` does not match its content (it was edited after `policyc compile`)",
            ));
        }
        let policy = assemble(declarations(a)?).map_err(|e| EvalError::bad_artifact(e.message))?;
        let eval = Evaluator::new(policy, true);
        // The artifact the loaded policy writes must be this one: nothing
        // was lost or reinterpreted on the way in.
        if Artifact::from_policy(&eval.policy) != *a {
            return Err(EvalError::bad_artifact(
                "it does not describe the policy its declarations resolve to",
            ));
        }
        let _ = eval.hash.set(a.content_hash.clone());
        Ok(eval)
    }
}

/// Checks what the grammar would have refused in source: ids, patterns,
/// labels and the source name are what a `.policy` file can write.
fn check_text(a: &Artifact) -> Result<(), EvalError> {
    let bad = |what: String| Err(EvalError::bad_artifact(what));
    if a.source.chars().any(char::is_control) {
        return bad(format!(
            "its `source` {:?} holds a control character",
            a.source
        ));
    }
    let label = |what: &str, id: &str, label: &str| -> Result<(), EvalError> {
        if policy_syntax::is_label(label) {
            Ok(())
        } else {
            bad(format!(
                "the label of {what} `{id}` holds a line break, which no policy can write"
            ))
        }
    };
    for t in &a.tiers {
        if !policy_syntax::is_identifier(&t.id) {
            return bad(format!("tier id {:?} is not an identifier", t.id));
        }
    }
    for p in &a.permissions {
        if !policy_syntax::is_permission_id(&p.id) {
            return bad(format!("permission id {:?} is not a permission id", p.id));
        }
        label("permission", &p.id, &p.label)?;
    }
    for r in &a.roles {
        if !policy_syntax::is_identifier(&r.id) {
            return bad(format!(
                "role id {:?} is not an identifier (a keyword, or not a name)",
                r.id
            ));
        }
        label("role", &r.id, &r.label)?;
        for pattern in r
            .grants
            .iter()
            .map(|g| &g.pattern)
            .chain(r.excludes.iter().map(|e| &e.pattern))
        {
            if !policy_syntax::is_permission_pattern(pattern) {
                return bad(format!(
                    "role `{}` has the pattern {pattern:?}, which is not a permission pattern",
                    r.id
                ));
            }
        }
    }
    Ok(())
}

/// The artifact's declarations with names resolved to ids.
fn declarations(a: &Artifact) -> Result<Declarations, EvalError> {
    check_text(a)?;
    let tierless = a.tiers.is_empty();
    let mut locations: HashMap<Span, LineCol> = HashMap::new();
    let mut span = |s: &ArtifactSpan| {
        let sp = Span::new(s.start, s.end);
        locations.insert(
            sp,
            LineCol {
                line: s.line,
                column: s.column,
            },
        );
        sp
    };
    let tier_index: HashMap<&str, TierId> = a
        .tiers
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), TierId(i as u32)))
        .collect();
    let tier_set = |names: &[String]| -> Result<TierSet, EvalError> {
        if tierless {
            return if names.is_empty() {
                Ok(TierSet::all(1))
            } else {
                Err(EvalError::bad_artifact(
                    "a policy without tiers names a tier",
                ))
            };
        }
        if names.is_empty() {
            // Source cannot state an empty `on` clause (the compiler
            // refuses it); a missing clause is every tier, written out.
            return Err(EvalError::bad_artifact(
                "an empty tier list: every declaration exists on at least one tier",
            ));
        }
        let mut set = TierSet::default();
        for n in names {
            let id = tier_index
                .get(n.as_str())
                .ok_or_else(|| EvalError::bad_artifact(format!("unknown tier `{n}`")))?;
            set.insert(*id);
        }
        Ok(set)
    };
    let tiers = a
        .tiers
        .iter()
        .map(|t| Tier {
            id: t.id.clone(),
            span: span(&t.at),
        })
        .collect();
    let role_index: HashMap<&str, RoleId> = a
        .roles
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), RoleId(i as u32)))
        .collect();
    let mut permissions = Vec::with_capacity(a.permissions.len());
    for p in &a.permissions {
        permissions.push(Permission {
            id: p.id.clone(),
            label: p.label.clone(),
            description: p.description.clone(),
            tiers: tier_set(&p.tiers)?,
            tier_span: p.on.as_ref().map(&mut span),
            span: span(&p.at),
        });
    }
    let mut roles = Vec::with_capacity(a.roles.len());
    for r in &a.roles {
        let mut parents = Vec::with_capacity(r.inherits.len());
        for p in &r.inherits {
            let role = role_index
                .get(p.role.as_str())
                .copied()
                .ok_or_else(|| EvalError::bad_artifact(format!("unknown role `{}`", p.role)))?;
            parents.push(Parent {
                role,
                span: span(&p.at),
            });
        }
        let mut grants = Vec::with_capacity(r.grants.len());
        for g in &r.grants {
            grants.push(Grant {
                pattern: g.pattern.clone(),
                span: span(&g.at),
                tiers: tier_set(&g.tiers)?,
                tier_span: g.on.as_ref().map(&mut span),
                matches: Vec::new(),
                doc: None,
            });
        }
        let mut exclusions = Vec::with_capacity(r.excludes.len());
        for e in &r.excludes {
            exclusions.push(Exclusion {
                pattern: e.pattern.clone(),
                span: span(&e.at),
                matches: Vec::new(),
                // Artifacts carry no doc comments (nor do their grants).
                doc: None,
            });
        }
        roles.push(Role {
            id: r.id.clone(),
            label: r.label.clone(),
            description: r.description.clone(),
            tiers: tier_set(&r.tiers)?,
            tier_span: r.on.as_ref().map(&mut span),
            parents,
            grants,
            exclusions,
            span: span(&r.at),
        });
    }
    Ok(Declarations {
        source_name: a.source.clone(),
        tiers,
        permissions,
        roles,
        locations,
    })
}
