//! The compiled-policy artifact written by `policyc compile`: the
//! compiler's declarations ([`Declarations`](policy_compiler::Declarations), the form [`assemble`]
//! takes), serialized, with a header.
//!
//! The declaration kinds are serialized by their own serde derives in the
//! compiler (`decl.rs`): there is no second description of them here. What
//! this module adds is the header (schema version, content hash, source
//! name), the table of distinct tier lists that the declarations' tier
//! sets index, and the [`LineTable`] that gives the line and column of
//! every span, the one part that is not re-derivable without the source
//! text. Nothing that is cheap to derive is stored: a grant's pattern, not
//! its expansion; no effective sets. [`Evaluator::from_artifact`] rebuilds
//! the same [`Policy`] the source compiles to — patterns expanded by the
//! compiler's pattern index, the order and the sets computed by the
//! compiler's code — so an explanation from an artifact equals the one
//! from source. Loading checks the content hash and that the loaded policy
//! writes back the same artifact, and refuses an artifact that disagrees
//! with itself.

use std::collections::HashMap;

use policy_compiler::{
    assemble, for_each_tier_set, Condition, Dimension, LineTable, Permission, Policy, Role, Scope,
    TierSet,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::EvalError;

/// The artifact's schema version; bumped on any incompatible change.
/// Version 2 added source spans of every declaration, `inherits` edge and
/// `on` clause, tier declarations with positions, and the content hash.
/// Version 3 dropped what loading re-derives: each grant's and exclusion's
/// expanded `permissions` and the `effective` table (a 4 MB policy wrote
/// a 33.7 MB version-2 artifact; wildcard-heavy ones, gigabytes).
/// Version 4 lists each distinct tier list once (`tier_sets`), named by
/// index from permissions, roles and grants, instead of a list per
/// declaration (a 3.1 MB policy of 390,000 gated grants over 64 tiers
/// wrote 0.5 to 1.4 GB of tier names).
/// Version 5 is the compiler's declarations serialized: a span is
/// `[start, end]`, line and column come from one table of the source's
/// lines (`lines`), and a parent is named by its role's index (a 3.1 MB
/// policy wrote a 140 MB version-4 artifact, ~360 bytes of positions per
/// grant).
/// Version 6 declares `dimensions` (each with its values; `tiers` is the
/// one named `tier`) in place of `tiers`; the tier lists name contexts.
/// Version 7 declares the `offered` contexts (when `offered` lines restrict
/// the combinations) and writes the empty set (`assignable nowhere`) as
/// `[]`; the implicit context of a policy without dimensions is named `""`.
/// Version 8 declares the levels (`scopes`, each with the level it is
/// `in`), the level (`scope`) of every permission and role on one, whose
/// ids are then qualified by the level's (`team.admin`), and `acts_as`
/// parent edges.
/// Version 9 declares the `conditions` (`condition` lines) and each
/// conditional grant's `when` (a bitmask over them) and `when_at`; the
/// content hash covers the levels and conditions too.
/// Version 10 writes a negated condition (`when not archived`) as bit
/// `32 + i` of a `when` (so at most 32 conditions), and each exclusion
/// under conditions' `when`.
pub const SCHEMA_VERSION: u32 = 10;

/// The whole artifact.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Artifact {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `sha256:` and the hex SHA-256 of the artifact's canonical bytes
    /// (compact JSON, with this field empty). The same for the JSON and
    /// the YAML form.
    pub content_hash: String,
    /// The source file it was compiled from (`Declarations::source_name`).
    pub source: String,
    /// Where the source's lines are (`Declarations::lines`).
    pub lines: LineTable,
    /// The dimensions, as declared; the contexts (tiers) are every
    /// combination of their values ([`policy_compiler::context`]).
    pub dimensions: Vec<Dimension>,
    /// The contexts the product offers, lowest first, when `offered` lines
    /// restrict the combinations of the dimensions; absent: every
    /// combination is a context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered: Option<Vec<String>>,
    /// The distinct context lists of the declarations (each lowest first), in
    /// order of first use ([`for_each_tier_set`]): permissions, then each
    /// role followed by its grants. In a policy without dimensions, the
    /// implicit context is named `""`. In an artifact, every [`TierSet`] of
    /// a declaration holds an index into this table.
    pub tier_sets: Vec<Vec<String>>,
    /// The levels (`scope` lines) in declaration order; absent for a
    /// policy without levels. A level's `in` is the index of the level it
    /// is inside.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<Scope>,
    /// The conditions (`condition` lines) in declaration order; absent for
    /// a policy without them. A grant's `when` is a bitmask over their
    /// indices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Permissions in declaration order.
    pub permissions: Vec<Permission>,
    /// Roles in declaration order; a parent is a role's index here.
    pub roles: Vec<Role>,
}

impl Artifact {
    /// Builds the artifact of a compiled policy, with its content hash.
    pub fn from_policy(policy: &Policy) -> Self {
        let mut permissions = policy.permissions().to_vec();
        let mut roles = policy.roles().to_vec();
        // What loading re-derives (expansions) or never carried (the doc
        // comments of grant and exclusion lines) is left out.
        for r in &mut roles {
            for g in &mut r.grants {
                g.matches = Vec::new();
                g.doc = None;
            }
            for e in &mut r.exclusions {
                e.matches = Vec::new();
                e.doc = None;
            }
        }
        let mut index: HashMap<TierSet, u64> = HashMap::new();
        let mut tier_sets: Vec<Vec<String>> = Vec::new();
        let _ = for_each_tier_set(&mut permissions, &mut roles, |set, _| {
            let next = tier_sets.len() as u64;
            let k = *index.entry(*set).or_insert(next);
            if k == next {
                tier_sets.push(
                    set.iter()
                        .map(|t| policy.tier(t).map_or_else(String::new, |x| x.id.clone()))
                        .collect(),
                );
            }
            *set = TierSet(k);
            Ok::<(), std::convert::Infallible>(())
        });
        let mut artifact = Artifact {
            schema_version: SCHEMA_VERSION,
            content_hash: String::new(),
            source: policy.source().name().to_string(),
            lines: policy.line_table(),
            dimensions: policy.dimensions().to_vec(),
            offered: policy
                .context_space()
                .is_restricted()
                .then(|| policy.tiers().iter().map(|t| t.id.clone()).collect()),
            tier_sets,
            scopes: policy.scopes().to_vec(),
            conditions: policy.conditions().to_vec(),
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
        let mut hasher = Hashing(Sha256::new());
        // The artifact's fields, borrowed: hashed as they are serialized,
        // without a copy of the artifact or its bytes.
        let blank = Blank {
            schema_version: self.schema_version,
            content_hash: "",
            source: "",
            lines: &self.lines,
            dimensions: &self.dimensions,
            offered: self.offered.as_deref(),
            tier_sets: &self.tier_sets,
            scopes: &self.scopes,
            conditions: &self.conditions,
            permissions: &self.permissions,
            roles: &self.roles,
        };
        // Serializing plain structs of strings and integers cannot fail;
        // if it somehow did, the hash would not match a written one.
        let _ = serde_json::to_writer(&mut hasher, &blank);
        let digest = hasher.0.finalize();
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

/// An [`Artifact`] with `content_hash` and `source` empty, borrowed: the
/// same fields in the same order, so the same JSON.
#[derive(Serialize)]
struct Blank<'a> {
    schema_version: u32,
    content_hash: &'a str,
    source: &'a str,
    lines: &'a LineTable,
    dimensions: &'a [Dimension],
    #[serde(skip_serializing_if = "Option::is_none")]
    offered: Option<&'a [String]>,
    tier_sets: &'a [Vec<String>],
    #[serde(skip_serializing_if = "<[Scope]>::is_empty")]
    scopes: &'a [Scope],
    #[serde(skip_serializing_if = "<[Condition]>::is_empty")]
    conditions: &'a [Condition],
    permissions: &'a [Permission],
    roles: &'a [Role],
}

/// Feeds what is written to it to the hash.
struct Hashing(Sha256);

impl std::io::Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
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

impl Artifact {
    /// The policy this artifact describes: the content hash must match, the
    /// declarations are checked and assembled by the compiler (patterns
    /// expanded, order and sets computed), and the result must write back
    /// this same artifact. A hand-edited artifact that contradicts itself is
    /// refused (`P0507`) rather than trusted.
    pub fn to_policy(&self) -> Result<Policy, EvalError> {
        check_version(Some(self.schema_version))?;
        if self.content_hash != self.computed_hash() {
            return Err(EvalError::bad_artifact(
                "its `content_hash` does not match its content (it was edited after `policyc compile`)",
            ));
        }
        let policy =
            assemble(load::declarations(self)?).map_err(|e| EvalError::bad_artifact(e.message))?;
        // The artifact the loaded policy writes must be this one: nothing
        // was lost or reinterpreted on the way in.
        if Artifact::from_policy(&policy) != *self {
            return Err(EvalError::bad_artifact(
                "it does not describe the policy its declarations resolve to",
            ));
        }
        Ok(policy)
    }
}

mod load;
