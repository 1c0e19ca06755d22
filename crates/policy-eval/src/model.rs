//! The evaluator: the resolved [`Policy`] plus the decision table (its
//! effective sets) built from the policy's sets.

use std::sync::OnceLock;

use policy_compiler::context::ContextError;
use policy_compiler::{PermId, PermSets, Policy, RoleId, SetId, TierId};
use policy_syntax::SourceFile;

use crate::artifact::Artifact;
use crate::cond_index::ConditionalIndex;
use crate::error::EvalError;
use crate::name_index::NameIndex;

/// A policy ready to answer queries.
///
/// Build it with [`Evaluator::from_policy`] (from source, through the
/// compiler) or [`Evaluator::from_artifact_json`] /
/// [`Evaluator::from_artifact`] (from `policyc compile` output, without the
/// source; a YAML artifact is parsed by the caller into an [`crate::Artifact`]).
/// It owns the resolved [`Policy`] — every explanation comes from it — and
/// the effective set of every tier × role, interned from the policy's sets
/// ([`Policy::effective_table`]), so [`Evaluator::decide`] is a short
/// directory scan and one word per role.
///
/// ```
/// use policy_eval::Evaluator;
/// use policy_syntax::SourceFile;
///
/// let src = SourceFile::new("demo.policy", r#"
///     tiers free < enterprise
///     permission billing.manage "Manage billing"
///     permission files.manage "Create and manage Files"
///     role member "Member" on enterprise { grants files.* }
///     role admin "Admin" { inherits member grants billing.manage }
/// "#);
/// let (policy, diagnostics) = policy_compiler::compile(&src);
/// assert!(!policy_compiler::has_errors(&diagnostics));
/// let eval = Evaluator::from_policy(&policy);
///
/// // Resolve names once, then decide by id (no allocation).
/// let free = eval.tier_id("free").unwrap();
/// let admin = eval.role_id("admin").unwrap();
/// let member = eval.role_id("member").unwrap();
/// let files = eval.perm_id("files.manage").unwrap();
/// assert!(eval.decide(free, &[admin], files));
/// assert!(!eval.decide(free, &[member], files)); // member is enterprise-only
///
/// // Or by name; an unknown name is an error, never an allow.
/// assert_eq!(eval.decide_by_name(Some("enterprise"), &["member"], "files.manage"), Ok(true));
/// assert!(eval.decide_by_name(Some("enterprise"), &["membr"], "files.manage").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Evaluator {
    /// The one resolved policy: declarations, resolution order, raw sets.
    pub(crate) policy: Policy,
    /// Whether it was loaded from a compiled artifact (no source text).
    pub(crate) from_artifact: bool,
    pub(crate) tiers: Vec<String>,
    pub(crate) n_tiers: usize,
    pub(crate) n_roles: usize,
    pub(crate) n_perms: usize,
    /// Effective sets: the policy's raw sets ∩ available permissions, empty
    /// where the role is not available ([`Policy::effective_table`]).
    pub(crate) table: PermSets,
    /// `slots[tier * roles + role]`: the effective set in `table`.
    pub(crate) slots: Vec<SetId>,
    /// The same sets as a dense `[tier][role][word]` table, when that costs
    /// at most [`DENSE_MAX_BYTES`]: a decision is then one load.
    pub(crate) dense: Option<Dense>,
    /// The cells held only under conditions, for [`Evaluator::outcome`].
    pub(crate) conditional: ConditionalIndex,
    pub(crate) role_index: NameIndex,
    pub(crate) perm_index: NameIndex,
    pub(crate) tier_index: NameIndex,
    pub(crate) hash: OnceLock<String>,
}

/// The largest dense decision table kept beside the interned sets. A
/// bound, so memory still follows the policy; below it, one load per decision.
pub const DENSE_MAX_BYTES: usize = 8 << 20;

/// The effective sets as one dense bit table.
#[derive(Debug, Clone)]
pub(crate) struct Dense {
    words: usize,
    bits: Vec<u64>,
}

impl Dense {
    fn new(table: &PermSets, slots: &[SetId], n_perms: usize) -> Self {
        let words = n_perms.div_ceil(64);
        let mut bits = vec![0u64; slots.len() * words];
        for (i, &s) in slots.iter().enumerate() {
            let Some(row) = bits.get_mut(i * words..(i + 1) * words) else {
                continue;
            };
            for (k, chunk) in table.chunks(s) {
                let base = k as usize * policy_compiler::CHUNK_BITS / 64;
                for (j, &w) in chunk.iter().enumerate() {
                    if let Some(d) = row.get_mut(base + j) {
                        *d = w;
                    }
                }
            }
        }
        Dense { words, bits }
    }
}

impl Evaluator {
    /// Builds an evaluator from a compiled policy (cloned). The policy
    /// should have compiled without errors; if it did not, what was dropped
    /// grants nothing (fail closed).
    pub fn from_policy(policy: &Policy) -> Self {
        Self::new(policy.clone(), false)
    }

    /// Builds an evaluator that owns `policy`, without copying it.
    pub fn from_owned_policy(policy: Policy) -> Self {
        Self::new(policy, false)
    }

    /// Takes the policy's effective sets ([`Policy::effective_table`]):
    /// `table(t, r) = raw(t, r) ∩ available(t)` where `r` is available on
    /// `t`, else empty. Nothing is recomputed from declarations, and the
    /// cost is that of the stored sets, not roles × permissions.
    pub(crate) fn new(policy: Policy, from_artifact: bool) -> Self {
        let n_tiers = policy.tier_count();
        let n_roles = policy.roles().len();
        let n_perms = policy.permissions().len();
        let (table, slots) = policy.effective_table();
        let dense_bytes = slots
            .len()
            .saturating_mul(n_perms.div_ceil(64))
            .saturating_mul(8);
        let dense = (dense_bytes <= DENSE_MAX_BYTES).then(|| Dense::new(&table, &slots, n_perms));
        let role_index = NameIndex::new(policy.roles().iter().map(|r| r.id.as_str()));
        let perm_index = NameIndex::new(policy.permissions().iter().map(|p| p.id.as_str()));
        let tiers: Vec<String> = policy.tiers().iter().map(|t| t.id.clone()).collect();
        let tier_index = NameIndex::new(tiers.iter().map(String::as_str));
        let conditional = ConditionalIndex::new(&policy);
        let eval = Evaluator {
            policy,
            from_artifact,
            tiers,
            n_tiers,
            n_roles,
            n_perms,
            table,
            slots,
            dense,
            conditional,
            role_index,
            perm_index,
            tier_index,
            hash: OnceLock::new(),
        };
        // `outcome` looks at the index before the table: no cell in it is
        // one the table allows (the compiler's rule).
        debug_assert!(eval
            .policy
            .conditional_cells()
            .all(|(t, r, p, _)| !eval.decide_one(t, r, p)));
        eval
    }

    /// The policy source, when built from source (not from an artifact).
    pub fn source(&self) -> Option<&SourceFile> {
        (!self.from_artifact).then(|| self.policy.source())
    }

    /// The name of the source file the policy was compiled from.
    pub fn source_name(&self) -> &str {
        self.policy.source().name()
    }

    /// The resolved policy every decision and explanation comes from.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The content hash of the policy's compiled artifact,
    /// `sha256:` and 64 hex digits: the same whether the evaluator was built
    /// from source or loaded from the artifact (JSON or YAML), so a fleet
    /// can tell policy versions apart. Computed on first use.
    pub fn content_hash(&self) -> &str {
        self.hash
            .get_or_init(|| Artifact::from_policy(&self.policy).content_hash)
    }

    /// The declared tiers, lowest first; empty for a tierless policy.
    pub fn tiers(&self) -> &[String] {
        &self.tiers
    }

    /// How many tiers decisions are computed for (1 for a tierless policy,
    /// whose only tier is `TierId(0)`).
    pub fn tier_count(&self) -> usize {
        self.n_tiers
    }

    /// How many roles the policy declares (ids are `0..role_count`).
    pub fn role_count(&self) -> usize {
        self.n_roles
    }

    /// How many permissions the policy declares (ids are `0..perm_count`).
    pub fn perm_count(&self) -> usize {
        self.n_perms
    }

    /// A tier's name, or `None` for the implicit tier of a tierless policy.
    pub fn tier_name(&self, tier: TierId) -> Option<&str> {
        self.tiers.get(tier.index()).map(String::as_str)
    }

    /// A role's id and label.
    pub fn role_name(&self, role: RoleId) -> Option<(&str, &str)> {
        self.policy
            .role(role)
            .map(|r| (r.id.as_str(), r.label.as_str()))
    }

    /// A permission's id and label.
    pub fn perm_name(&self, perm: PermId) -> Option<(&str, &str)> {
        self.policy
            .permission(perm)
            .map(|p| (p.id.as_str(), p.label.as_str()))
    }

    /// Interns a role name.
    #[inline]
    pub fn role_id(&self, name: &str) -> Option<RoleId> {
        self.role_index.get(name).map(RoleId)
    }

    /// Interns a permission name.
    #[inline]
    pub fn perm_id(&self, name: &str) -> Option<PermId> {
        self.perm_index.get(name).map(PermId)
    }

    /// Interns a tier name (`None` for a tierless policy: use `TierId(0)`).
    #[inline]
    pub fn tier_id(&self, name: &str) -> Option<TierId> {
        self.tier_index.get(name).map(TierId)
    }

    /// The hot path: whether a user holding `roles` (their union) may use
    /// `perm` on `tier`. Per role: its set, a scan of that set's (usually
    /// one or two entry) chunk directory, one word; no allocation.
    /// Out-of-range ids and an empty `roles` give `false` (fail closed).
    #[inline]
    pub fn decide(&self, tier: TierId, roles: &[RoleId], perm: PermId) -> bool {
        roles.iter().any(|&r| self.decide_one(tier, r, perm))
    }

    /// [`Evaluator::decide`] for a single role.
    #[inline]
    pub fn decide_one(&self, tier: TierId, role: RoleId, perm: PermId) -> bool {
        let (t, r, p) = (tier.index(), role.index(), perm.index());
        if t >= self.n_tiers || r >= self.n_roles || p >= self.n_perms {
            return false;
        }
        let cell = t * self.n_roles + r;
        match &self.dense {
            Some(d) => d
                .bits
                .get(cell * d.words + (p >> 6))
                .is_some_and(|w| w & (1u64 << (p & 63)) != 0),
            None => self
                .slots
                .get(cell)
                .is_some_and(|&s| self.table.contains(s, p)),
        }
    }

    /// The same evaluator deciding from the interned sets only (no dense
    /// table, whatever its size): for tests that check both paths agree.
    #[doc(hidden)]
    pub fn without_dense_table(mut self) -> Self {
        self.dense = None;
        self
    }

    /// Whether `role` holds `perm` on `tier` through grants and inheritance,
    /// ignoring availability (what it passes on to roles inheriting from it).
    pub fn holds_raw(&self, tier: TierId, role: RoleId, perm: PermId) -> bool {
        self.policy.holds_raw(tier, role, perm)
    }

    /// The one tier lookup of every command and endpoint: the tier of a
    /// query, required (and checked) when the policy has tiers, refused
    /// when it has none. An unknown tier is `P0401` (with a did-you-mean
    /// and the declared tiers), a missing or superfluous one `P0402`.
    pub fn resolve_tier(&self, tier: Option<&str>) -> Result<TierId, EvalError> {
        let dims = self.policy.dimensions();
        match (tier, self.tiers.is_empty()) {
            (None, true) => Ok(TierId(0)),
            (Some(t), true) => Err(EvalError::UnexpectedTier {
                tier: t.to_string(),
            }),
            (None, false) if dims.len() > 1 => Err(EvalError::MissingContext {
                dimensions: policy_compiler::context::describe_dimensions(dims),
            }),
            (None, false) => Err(EvalError::MissingTier {
                tiers: self.tiers.clone(),
            }),
            (Some(t), false) => match self.tier_id(t) {
                Some(id) => Ok(id),
                None => self.context(t),
            },
        }
    }

    /// A context given other than by its name: `plan=pro`, or the values
    /// of several dimensions in any order (the compiler's one parser).
    /// With one dimension an unknown value keeps the words of a tier.
    fn context(&self, text: &str) -> Result<TierId, EvalError> {
        let dims = self.policy.dimensions();
        let error = match self.policy.context(text) {
            Some(Ok(id)) => return Ok(id),
            Some(Err(e)) => e,
            None => {
                return Err(EvalError::UnexpectedTier {
                    tier: text.to_string(),
                })
            }
        };
        match error {
            ContextError::UnknownValue {
                dimension: None, ..
            } if dims.len() == 1 => Err(EvalError::UnknownTier {
                name: text.to_string(),
                suggestion: suggest(text, self.tiers.iter().map(String::as_str)),
                tiers: self.tiers.clone(),
            }),
            error => Err(EvalError::Context {
                error,
                dimensions: policy_compiler::context::describe_dimensions(dims),
            }),
        }
    }

    /// The tiers a listing answers for (`who-can`, `what-can`): the one
    /// named ([`Evaluator::resolve_tier`]), or every tier (the implicit one
    /// of a tierless policy).
    /// With several dimensions, a context that leaves dimensions out
    /// (`plan=pro`) shows every context with the values it names.
    pub fn tiers_to_show(&self, tier: Option<&str>) -> Result<Vec<TierId>, EvalError> {
        let dims = self.policy.dimensions();
        match tier {
            Some(t) if dims.len() > 1 && self.tier_id(t).is_none() => {
                let space = self.policy.context_space();
                let context_error = |error| EvalError::Context {
                    error,
                    dimensions: policy_compiler::context::describe_dimensions(dims),
                };
                match space.matching(t) {
                    // Values no offered context has: refused as a context
                    // that is not offered (the whole one, when named).
                    Ok(found) if found.is_empty() => Err(context_error(match space.parse(t) {
                        Err(e @ ContextError::NotOffered { .. }) => e,
                        _ => ContextError::NotOffered {
                            context: t.to_string(),
                            offered: space.contexts().into_iter().map(|c| c.id).collect(),
                        },
                    })),
                    found => found.map_err(context_error),
                }
            }
            Some(_) => Ok(vec![self.resolve_tier(tier)?]),
            None => Ok((0..self.n_tiers as u32).map(TierId).collect()),
        }
    }

    /// The tier a single-tier view shows (`matrix`): the one named
    /// ([`Evaluator::resolve_tier`]), or the highest.
    pub fn tier_or_highest(&self, tier: Option<&str>) -> Result<TierId, EvalError> {
        match tier {
            Some(_) => self.resolve_tier(tier),
            None => Ok(TierId(self.n_tiers.saturating_sub(1) as u32)),
        }
    }

    /// The level a query names (`--scope team`, `"scope": "team"`), as
    /// declared; `None` without one. An unknown level is `P0401`, with a
    /// did-you-mean.
    pub fn resolve_scope<'s>(&self, scope: Option<&'s str>) -> Result<Option<&'s str>, EvalError> {
        let Some(s) = scope else { return Ok(None) };
        if self.policy.scope_id(s).is_some() {
            return Ok(Some(s));
        }
        Err(EvalError::UnknownName {
            kind: crate::NameKind::Scope,
            name: s.to_string(),
            suggestion: suggest(s, self.policy.scopes().iter().map(|x| x.id.as_str())),
        })
    }

    /// A role's or permission's full id from a name given on level
    /// `scope` (see [`policy_syntax::qualify`], the one reading of a name
    /// on a level): on `team`, `admin` is `team.admin` and a permission
    /// `p` is `team.p`; a role written `organization.owner` is as written.
    /// Without a level, names are full ids.
    pub fn scoped_name(
        &self,
        scope: Option<&str>,
        kind: crate::NameKind,
        name: &str,
    ) -> Result<String, EvalError> {
        let scope = self.resolve_scope(scope)?;
        let full = policy_syntax::qualify(kind, scope, name).into_owned();
        let Some(level) = scope else {
            return Ok(full);
        };
        let declared = |id: &str| match kind {
            crate::NameKind::Role => self.role_id(id).is_some(),
            crate::NameKind::Permission => self.perm_id(id).is_some(),
            _ => true,
        };
        if declared(&full) {
            return Ok(full);
        }
        let levels = self.policy.scopes().iter().map(|s| s.id.as_str());
        match policy_syntax::on_other_level(kind, level, name, levels, declared) {
            Some(other) => Err(EvalError::OnOtherLevel {
                kind,
                name: name.to_string(),
                scope: level.to_string(),
                other,
            }),
            // Unknown on every level: named as given, with a did-you-mean
            // written as it would be given on this level.
            None => {
                let suggestion = match kind {
                    crate::NameKind::Role => {
                        suggest(&full, self.policy.roles().iter().map(|r| r.id.as_str())).map(|s| {
                            match s.strip_prefix(&format!("{level}.")) {
                                Some(own) => own.to_string(),
                                None => s,
                            }
                        })
                    }
                    crate::NameKind::Permission => suggest(
                        &full,
                        self.policy.permissions().iter().map(|p| p.id.as_str()),
                    )
                    .and_then(|s| s.strip_prefix(&format!("{level}.")).map(str::to_string)),
                    _ => None,
                };
                Err(EvalError::UnknownName {
                    kind,
                    name: name.to_string(),
                    suggestion,
                })
            }
        }
    }

    /// Resolves a role name, with a did-you-mean on failure.
    pub fn resolve_role(&self, name: &str) -> Result<RoleId, EvalError> {
        self.role_id(name).ok_or_else(|| EvalError::UnknownName {
            kind: crate::NameKind::Role,
            name: name.to_string(),
            suggestion: suggest(name, self.policy.roles().iter().map(|r| r.id.as_str())),
        })
    }

    /// Resolves a permission name, with a did-you-mean on failure.
    pub fn resolve_perm(&self, name: &str) -> Result<PermId, EvalError> {
        self.perm_id(name).ok_or_else(|| EvalError::UnknownName {
            kind: crate::NameKind::Permission,
            name: name.to_string(),
            suggestion: suggest(
                name,
                self.policy.permissions().iter().map(|p| p.id.as_str()),
            ),
        })
    }

    /// The by-name path: resolves through hash maps, then decides. Any
    /// unknown name, a missing tier (policy with tiers), a tier given to a
    /// tierless policy, or no roles at all is an error, never an allow.
    /// No allocation unless it fails.
    pub fn decide_by_name(
        &self,
        tier: Option<&str>,
        roles: &[&str],
        perm: &str,
    ) -> Result<bool, EvalError> {
        // Fast path: plain lookups; errors are built only on the slow path.
        let fast_tier = match (tier, self.tiers.is_empty()) {
            (None, true) => Some(TierId(0)),
            (Some(t), false) => self.tier_id(t),
            _ => None,
        };
        if let (Some(t), Some(p), false) = (fast_tier, self.perm_id(perm), roles.is_empty()) {
            let mut allowed = false;
            let mut known = true;
            for name in roles {
                match self.role_id(name) {
                    Some(r) => allowed |= self.decide_one(t, r, p),
                    None => {
                        known = false;
                        break;
                    }
                }
            }
            if known {
                return Ok(allowed);
            }
        }
        let t = self.resolve_tier(tier)?;
        let p = self.resolve_perm(perm)?;
        if roles.is_empty() {
            return Err(EvalError::NoRoles);
        }
        let mut allowed = false;
        for name in roles {
            let r = self.resolve_role(name)?;
            allowed |= self.decide_one(t, r, p);
        }
        Ok(allowed)
    }

    /// The permissions `role` may use on `tier`, in declaration order.
    pub fn what_can(&self, tier: TierId, role: RoleId) -> Vec<PermId> {
        let (t, r) = (tier.index(), role.index());
        if t >= self.n_tiers || r >= self.n_roles {
            return Vec::new();
        }
        let set = self
            .slots
            .get(t * self.n_roles + r)
            .copied()
            .unwrap_or(SetId::EMPTY);
        self.table
            .iter(set)
            .filter(|&p| p < self.n_perms)
            .map(|p| PermId(p as u32))
            .collect()
    }

    /// The roles that may use `perm` on `tier`, in declaration order.
    pub fn who_can(&self, tier: TierId, perm: PermId) -> Vec<RoleId> {
        (0..self.n_roles as u32)
            .map(RoleId)
            .filter(|r| self.decide_one(tier, *r, perm))
            .collect()
    }
}

pub(crate) fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut names: Vec<&str> = candidates.collect();
    names.sort_unstable();
    policy_syntax::did_you_mean(name, names)
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

    /// Builds an evaluator from a parsed artifact, checked and assembled by
    /// [`Artifact::to_policy`]; its content hash is the artifact's.
    pub fn from_artifact(a: &Artifact) -> Result<Self, EvalError> {
        let eval = Evaluator::new(a.to_policy()?, true);
        let _ = eval.hash.set(a.content_hash.clone());
        Ok(eval)
    }
}
