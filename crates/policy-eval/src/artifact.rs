//! The compiled-policy artifact written by `policyc compile`: a deliberate,
//! versioned serialization type (not the compiler's internal types).

use policy_compiler::{PermId, Policy, RoleId, TierId, TierSet};
use policy_syntax::Span;
use serde::{Deserialize, Serialize};

use crate::error::EvalError;
use crate::model::{
    Evaluator, ExclusionInfo, FxMap, GrantInfo, Location as EvalLocation, ParentInfo, PermInfo,
    RoleInfo,
};

/// The artifact's schema version; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Where a declaration is written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArtifactLocation {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
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
    /// Where it is declared.
    pub at: ArtifactLocation,
}

/// A grant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArtifactGrant {
    /// The pattern as written.
    pub pattern: String,
    /// Tiers on which it holds.
    pub tiers: Vec<String>,
    /// The permissions it matches.
    pub permissions: Vec<String>,
    /// Where it is written.
    pub at: ArtifactLocation,
}

/// An exclusion.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArtifactExclusion {
    /// The pattern as written.
    pub pattern: String,
    /// The permissions it matches.
    pub permissions: Vec<String>,
    /// Where it is written.
    pub at: ArtifactLocation,
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
    /// Parent roles.
    pub inherits: Vec<String>,
    /// Grants.
    pub grants: Vec<ArtifactGrant>,
    /// Exclusions.
    pub excludes: Vec<ArtifactExclusion>,
    /// Where it is declared.
    pub at: ArtifactLocation,
}

/// A role's effective permissions on one tier.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArtifactRoleSet {
    /// Role id.
    pub role: String,
    /// Effective permissions, in declaration order.
    pub permissions: Vec<String>,
}

/// The effective permissions of every role on one tier.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArtifactTier {
    /// Tier id; null for a policy without tiers.
    pub tier: Option<String>,
    /// Per role, in declaration order.
    pub roles: Vec<ArtifactRoleSet>,
}

/// The whole artifact.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Artifact {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The source file it was compiled from.
    pub source: String,
    /// Tier ids, lowest first.
    pub tiers: Vec<String>,
    /// Permissions in declaration order.
    pub permissions: Vec<ArtifactPermission>,
    /// Roles in declaration order.
    pub roles: Vec<ArtifactRole>,
    /// Effective permissions per tier.
    pub effective: Vec<ArtifactTier>,
}

fn tier_names(policy: &Policy, set: TierSet) -> Vec<String> {
    set.iter()
        .filter_map(|t| policy.tier(t).map(|x| x.id.clone()))
        .collect()
}

impl Artifact {
    /// Builds the artifact of a compiled policy.
    pub fn from_policy(policy: &Policy) -> Self {
        let src = policy.source();
        let at = |s: Span| {
            let lc = src.line_col(s.start);
            ArtifactLocation {
                line: lc.line,
                column: lc.column,
            }
        };
        let perm_name = |p: &policy_compiler::PermId| {
            policy
                .permission(*p)
                .map(|x| x.id.clone())
                .unwrap_or_default()
        };
        let permissions = policy
            .permissions()
            .iter()
            .map(|p| ArtifactPermission {
                id: p.id.clone(),
                label: p.label.clone(),
                description: p.description.clone(),
                tiers: tier_names(policy, p.tiers),
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
                inherits: r
                    .parents
                    .iter()
                    .filter_map(|p| policy.role(p.role).map(|x| x.id.clone()))
                    .collect(),
                grants: r
                    .grants
                    .iter()
                    .map(|g| ArtifactGrant {
                        pattern: g.pattern.clone(),
                        tiers: tier_names(policy, g.tiers),
                        permissions: g.matches.iter().map(perm_name).collect(),
                        at: at(g.span),
                    })
                    .collect(),
                excludes: r
                    .exclusions
                    .iter()
                    .map(|e| ArtifactExclusion {
                        pattern: e.pattern.clone(),
                        permissions: e.matches.iter().map(perm_name).collect(),
                        at: at(e.span),
                    })
                    .collect(),
                at: at(r.span),
            })
            .collect();
        let effective = policy
            .tier_ids()
            .map(|t: TierId| ArtifactTier {
                tier: policy.tier(t).map(|x| x.id.clone()),
                roles: (0..policy.roles().len() as u32)
                    .map(RoleId)
                    .map(|r| ArtifactRoleSet {
                        role: policy.role(r).map(|x| x.id.clone()).unwrap_or_default(),
                        permissions: policy.effective(t, r).iter().map(perm_name).collect(),
                    })
                    .collect(),
            })
            .collect();
        Artifact {
            schema_version: SCHEMA_VERSION,
            source: src.name().to_string(),
            tiers: policy.tiers().iter().map(|t| t.id.clone()).collect(),
            permissions,
            roles,
            effective,
        }
    }
}

impl Artifact {
    /// Parses an artifact from `policyc compile --format json` output.
    pub fn from_json(text: &str) -> Result<Self, EvalError> {
        check_version(
            serde_json::from_str::<VersionOnly>(text)
                .map_err(|e| EvalError::bad_artifact(format!("not a compiled policy: {e}")))?
                .schema_version,
        )?;
        serde_json::from_str(text)
            .map_err(|e| EvalError::bad_artifact(format!("not a compiled policy: {e}")))
    }

    /// Parses an artifact from `policyc compile --format yaml` output.
    pub fn from_yaml(text: &str) -> Result<Self, EvalError> {
        check_version(
            serde_yaml::from_str::<VersionOnly>(text)
                .map_err(|e| EvalError::bad_artifact(format!("not a compiled policy: {e}")))?
                .schema_version,
        )?;
        serde_yaml::from_str(text)
            .map_err(|e| EvalError::bad_artifact(format!("not a compiled policy: {e}")))
    }
}

/// Read first, so that a future schema is reported as a version mismatch
/// rather than as a missing field.
#[derive(Deserialize)]
struct VersionOnly {
    schema_version: Option<u32>,
}

fn check_version(v: Option<u32>) -> Result<(), EvalError> {
    match v {
        Some(SCHEMA_VERSION) => Ok(()),
        Some(other) => Err(EvalError::bad_artifact(format!(
            "schema version {other} is not supported (this policyc reads version {SCHEMA_VERSION})"
        ))),
        None => Err(EvalError::bad_artifact("it has no `schema_version`")),
    }
}

fn loc(at: &ArtifactLocation) -> EvalLocation {
    EvalLocation {
        line: at.line,
        column: at.column,
        span: None,
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
    /// ```
    pub fn from_artifact_json(text: &str) -> Result<Self, EvalError> {
        Self::from_artifact(&Artifact::from_json(text)?)
    }

    /// Loads `policyc compile --format yaml` output, without the source.
    pub fn from_artifact_yaml(text: &str) -> Result<Self, EvalError> {
        Self::from_artifact(&Artifact::from_yaml(text)?)
    }

    /// Builds an evaluator from a parsed artifact. Every name is checked;
    /// the permission sets are recomputed from the declarations and must
    /// match the artifact's `effective` table, so a hand-edited artifact
    /// that contradicts itself is rejected (`P0507`) rather than trusted.
    pub fn from_artifact(a: &Artifact) -> Result<Self, EvalError> {
        if a.schema_version != SCHEMA_VERSION {
            check_version(Some(a.schema_version))?;
        }
        let tierless = a.tiers.is_empty();
        let mut tier_index: FxMap<TierId> = FxMap::default();
        for (i, t) in a.tiers.iter().enumerate() {
            if i >= policy_compiler::MAX_TIERS {
                return Err(EvalError::bad_artifact("too many tiers"));
            }
            if tier_index
                .insert(t.as_str().into(), TierId(i as u32))
                .is_some()
            {
                return Err(EvalError::bad_artifact(format!(
                    "tier `{t}` is listed twice"
                )));
            }
        }
        let tier_set = |names: &[String]| -> Result<TierSet, EvalError> {
            if tierless {
                return Ok(TierSet::all(1));
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
        let mut perm_index: FxMap<PermId> = FxMap::default();
        let mut perms = Vec::with_capacity(a.permissions.len());
        for (i, p) in a.permissions.iter().enumerate() {
            if perm_index
                .insert(p.id.as_str().into(), PermId(i as u32))
                .is_some()
            {
                return Err(EvalError::bad_artifact(format!(
                    "permission `{}` is listed twice",
                    p.id
                )));
            }
            perms.push(PermInfo {
                id: p.id.clone(),
                label: p.label.clone(),
                tiers: tier_set(&p.tiers)?,
                tier_at: None,
                at: loc(&p.at),
            });
        }
        let perm = |n: &String| -> Result<PermId, EvalError> {
            perm_index
                .get(n.as_str())
                .copied()
                .ok_or_else(|| EvalError::bad_artifact(format!("unknown permission `{n}`")))
        };
        let mut role_index: FxMap<RoleId> = FxMap::default();
        for (i, r) in a.roles.iter().enumerate() {
            if role_index
                .insert(r.id.as_str().into(), RoleId(i as u32))
                .is_some()
            {
                return Err(EvalError::bad_artifact(format!(
                    "role `{}` is listed twice",
                    r.id
                )));
            }
        }
        let mut roles = Vec::with_capacity(a.roles.len());
        for r in &a.roles {
            let parents = r
                .inherits
                .iter()
                .map(|n| {
                    role_index
                        .get(n.as_str())
                        .map(|id| ParentInfo {
                            role: *id,
                            at: None,
                        })
                        .ok_or_else(|| EvalError::bad_artifact(format!("unknown role `{n}`")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let grants = r
                .grants
                .iter()
                .map(|g| {
                    Ok(GrantInfo {
                        pattern: g.pattern.clone(),
                        tiers: tier_set(&g.tiers)?,
                        tier_at: None,
                        matches: g.permissions.iter().map(perm).collect::<Result<_, _>>()?,
                        at: loc(&g.at),
                    })
                })
                .collect::<Result<Vec<_>, EvalError>>()?;
            let exclusions = r
                .excludes
                .iter()
                .map(|e| {
                    Ok(ExclusionInfo {
                        pattern: e.pattern.clone(),
                        matches: e.permissions.iter().map(perm).collect::<Result<_, _>>()?,
                        at: loc(&e.at),
                    })
                })
                .collect::<Result<Vec<_>, EvalError>>()?;
            roles.push(RoleInfo {
                id: r.id.clone(),
                label: r.label.clone(),
                tiers: tier_set(&r.tiers)?,
                tier_at: None,
                parents,
                grants,
                exclusions,
                at: loc(&r.at),
            });
        }
        let eval = Evaluator::build(None, a.source.clone(), a.tiers.clone(), perms, roles)?;
        verify_effective(&eval, a)?;
        Ok(eval)
    }
}

/// Checks the recomputed table against the artifact's `effective` section.
fn verify_effective(eval: &Evaluator, a: &Artifact) -> Result<(), EvalError> {
    if a.effective.len() != eval.tier_count() {
        return Err(EvalError::bad_artifact(
            "the `effective` table does not list every tier",
        ));
    }
    for (t, tier) in a.effective.iter().enumerate() {
        let tid = TierId(t as u32);
        if tier.tier.as_deref() != eval.tier_name(tid) {
            return Err(EvalError::bad_artifact(
                "the `effective` table lists the tiers out of order",
            ));
        }
        if tier.roles.len() != eval.role_count() {
            return Err(EvalError::bad_artifact(
                "the `effective` table does not list every role",
            ));
        }
        for (r, set) in tier.roles.iter().enumerate() {
            let rid = RoleId(r as u32);
            let listed: Vec<Option<PermId>> =
                set.permissions.iter().map(|p| eval.perm_id(p)).collect();
            let computed: Vec<Option<PermId>> =
                eval.what_can(tid, rid).into_iter().map(Some).collect();
            if eval.role_name(rid).map(|x| x.0) != Some(set.role.as_str()) || listed != computed {
                return Err(EvalError::bad_artifact(format!(
                    "the `effective` permissions of role `{}` contradict its declarations",
                    set.role
                )));
            }
        }
    }
    Ok(())
}
