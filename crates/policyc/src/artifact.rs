//! The compiled-policy artifact written by `policyc compile`: a deliberate,
//! versioned serialization type (not the compiler's internal types).

use policy_compiler::{Policy, RoleId, TierId, TierSet};
use policy_syntax::Span;
use serde::{Deserialize, Serialize};

/// The artifact's schema version; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Where a declaration is written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Location {
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
    pub at: Location,
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
    pub at: Location,
}

/// An exclusion.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArtifactExclusion {
    /// The pattern as written.
    pub pattern: String,
    /// The permissions it matches.
    pub permissions: Vec<String>,
    /// Where it is written.
    pub at: Location,
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
    pub at: Location,
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
            Location {
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
