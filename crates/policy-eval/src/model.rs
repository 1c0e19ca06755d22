//! The evaluator's own model of a resolved policy, and the dense decision
//! table built from it.

use std::collections::HashMap;

use policy_compiler::{PermId, Policy, RoleId, TierId, TierSet};
use policy_syntax::{SourceFile, Span};

use crate::error::EvalError;

/// Where something is written in the policy source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The byte span, when the evaluator was built from source (an artifact
    /// keeps only lines and columns).
    pub span: Option<Span>,
}

impl Location {
    /// From a span, trimmed of trailing whitespace (the parser's spans of
    /// `on ...` clauses include it) so labels stay on one line.
    fn of(source: &SourceFile, span: Span) -> Self {
        let lc = source.line_col(span.start);
        let text = source.slice(span);
        let trimmed = text.trim_end().len();
        let span = if trimmed > 0 {
            Span::new(span.start, span.start + trimmed)
        } else {
            span
        };
        Location {
            line: lc.line,
            column: lc.column,
            span: Some(span),
        }
    }
}

/// The name maps of the by-name path. foldhash hashes every byte of a key
/// (a hash of only part of a name would let names such as
/// `workspace.p1.settings.view` and `workspace.p2.settings.view` collide and
/// degrade lookups to a linear scan) and is several times faster than SipHash
/// on short keys. Its per-process random seed makes collisions impossible to
/// precompute; lookup results never depend on it.
pub(crate) type FxMap<V> = HashMap<Box<str>, V, foldhash::fast::RandomState>;

/// Name → index lookup for the by-name path. Up to [`NameIndex::SMALL`]
/// names are found by a linear scan (length first, then bytes), which beats
/// hashing for the handful of tiers and roles most policies have; larger
/// sets go through an [`FxMap`].
#[derive(Debug, Clone, Default)]
pub(crate) struct NameIndex {
    names: Vec<Box<str>>,
    /// Per name: its length and its first 8 bytes, compared before the name.
    keys: Vec<(usize, u64)>,
    map: Option<FxMap<u32>>,
}

/// A name's length and first (up to) 8 bytes, as one comparable key.
#[inline]
fn quick_key(name: &str) -> (usize, u64) {
    let b = name.as_bytes();
    let w = match b.first_chunk::<8>() {
        Some(c) => u64::from_le_bytes(*c),
        None => b
            .iter()
            .enumerate()
            .fold(0u64, |acc, (i, &x)| acc | (u64::from(x) << (8 * i))),
    };
    (b.len(), w)
}

impl NameIndex {
    /// The most names searched linearly.
    pub(crate) const SMALL: usize = 16;

    /// Indexes `names`; a name's index is its position.
    pub(crate) fn new<'a>(names: impl Iterator<Item = &'a str>) -> Self {
        let names: Vec<Box<str>> = names.map(Into::into).collect();
        let map = (names.len() > Self::SMALL).then(|| {
            let mut m = FxMap::default();
            for (i, n) in names.iter().enumerate() {
                m.entry(n.clone()).or_insert(i as u32);
            }
            m
        });
        let keys = names.iter().map(|n| quick_key(n)).collect();
        NameIndex { names, keys, map }
    }

    /// The position of `name`, if indexed.
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        match &self.map {
            Some(m) => m.get(name).copied(),
            None => {
                let key = quick_key(name);
                self.keys
                    .iter()
                    .zip(&self.names)
                    .position(|(k, n)| *k == key && (key.0 <= 8 || **n == *name))
                    .map(|i| i as u32)
            }
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PermInfo {
    pub id: String,
    pub label: String,
    pub tiers: TierSet,
    pub tier_at: Option<Location>,
    pub at: Location,
}

#[derive(Debug, Clone)]
pub(crate) struct ParentInfo {
    pub role: RoleId,
    pub at: Option<Location>,
}

#[derive(Debug, Clone)]
pub(crate) struct GrantInfo {
    pub pattern: String,
    pub tiers: TierSet,
    pub tier_at: Option<Location>,
    pub matches: Vec<PermId>,
    pub at: Location,
}

#[derive(Debug, Clone)]
pub(crate) struct ExclusionInfo {
    pub pattern: String,
    pub matches: Vec<PermId>,
    pub at: Location,
}

#[derive(Debug, Clone)]
pub(crate) struct RoleInfo {
    pub id: String,
    pub label: String,
    pub tiers: TierSet,
    pub tier_at: Option<Location>,
    pub parents: Vec<ParentInfo>,
    pub grants: Vec<GrantInfo>,
    pub exclusions: Vec<ExclusionInfo>,
    pub at: Location,
}

/// A policy ready to answer queries.
///
/// Build it with [`Evaluator::from_policy`] (from source, through the
/// compiler) or [`Evaluator::from_artifact_json`] /
/// [`Evaluator::from_artifact_yaml`] (from `policyc compile` output, without
/// the source). It holds one dense bitset per tier × role of the
/// permissions that role may use there, so [`Evaluator::decide`] is a load
/// and a mask per role.
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
    pub(crate) source: Option<SourceFile>,
    pub(crate) source_name: String,
    pub(crate) tiers: Vec<String>,
    pub(crate) n_tiers: usize,
    pub(crate) perms: Vec<PermInfo>,
    pub(crate) roles: Vec<RoleInfo>,
    /// `u64` words per (tier, role) row.
    pub(crate) words: usize,
    /// Raw sets (inheritance, grants, exclusions), `[tier][role][word]`.
    pub(crate) raw: Vec<u64>,
    /// Effective sets: raw ∩ available permissions, empty where the role is
    /// not available. `[tier][role][word]`.
    pub(crate) table: Vec<u64>,
    pub(crate) role_index: NameIndex,
    pub(crate) perm_index: NameIndex,
    pub(crate) tier_index: NameIndex,
}

impl Evaluator {
    /// Builds an evaluator from a compiled policy. The policy should have
    /// compiled without errors; if it did not, what was dropped grants
    /// nothing (fail closed).
    pub fn from_policy(policy: &Policy) -> Self {
        let src = policy.source();
        let loc = |s: Span| Location::of(src, s);
        let perms = policy
            .permissions()
            .iter()
            .map(|p| PermInfo {
                id: p.id.clone(),
                label: p.label.clone(),
                tiers: p.tiers,
                tier_at: p.tier_span.map(loc),
                at: loc(p.span),
            })
            .collect();
        let roles = policy
            .roles()
            .iter()
            .map(|r| RoleInfo {
                id: r.id.clone(),
                label: r.label.clone(),
                tiers: r.tiers,
                tier_at: r.tier_span.map(loc),
                parents: r
                    .parents
                    .iter()
                    .map(|p| ParentInfo {
                        role: p.role,
                        at: Some(loc(p.span)),
                    })
                    .collect(),
                grants: r
                    .grants
                    .iter()
                    .map(|g| GrantInfo {
                        pattern: g.pattern.clone(),
                        tiers: g.tiers,
                        tier_at: g.tier_span.map(loc),
                        matches: g.matches.clone(),
                        at: loc(g.span),
                    })
                    .collect(),
                exclusions: r
                    .exclusions
                    .iter()
                    .map(|e| ExclusionInfo {
                        pattern: e.pattern.clone(),
                        matches: e.matches.clone(),
                        at: loc(e.span),
                    })
                    .collect(),
                at: loc(r.span),
            })
            .collect();
        let tiers = policy.tiers().iter().map(|t| t.id.clone()).collect();
        // A compiled policy's graph is acyclic (the compiler removed cycle
        // edges), so building cannot fail; fall back to an empty table
        // (deny everything) if it somehow did.
        Self::build(
            Some(src.clone()),
            src.name().to_string(),
            tiers,
            perms,
            roles,
        )
        .unwrap_or_else(|_| Self::empty(src.name().to_string()))
    }

    fn empty(source_name: String) -> Self {
        Evaluator {
            source: None,
            source_name,
            tiers: Vec::new(),
            n_tiers: 1,
            perms: Vec::new(),
            roles: Vec::new(),
            words: 0,
            raw: Vec::new(),
            table: Vec::new(),
            role_index: NameIndex::default(),
            perm_index: NameIndex::default(),
            tier_index: NameIndex::default(),
        }
    }

    /// Computes the tables: `raw(t, r) = (⋃ raw(t, parent) − exclusions(r)) ∪
    /// grants of r active on t`, parents first; then the effective table.
    pub(crate) fn build(
        source: Option<SourceFile>,
        source_name: String,
        tiers: Vec<String>,
        perms: Vec<PermInfo>,
        roles: Vec<RoleInfo>,
    ) -> Result<Self, EvalError> {
        let n_tiers = tiers.len().max(1);
        let n_roles = roles.len();
        let words = perms.len().div_ceil(64);
        let order = topological(&roles)?;
        let row = |t: usize, r: usize| (t * n_roles + r) * words;
        let mut raw = vec![0u64; n_tiers * n_roles * words];
        let mut scratch = vec![0u64; words];
        let mut excluded = vec![0u64; words];
        for &r in &order {
            let Some(role) = roles.get(r) else { continue };
            excluded.iter_mut().for_each(|w| *w = 0);
            for e in &role.exclusions {
                for p in &e.matches {
                    set_bit(&mut excluded, p.index());
                }
            }
            for t in 0..n_tiers {
                scratch.iter_mut().for_each(|w| *w = 0);
                for p in &role.parents {
                    let base = row(t, p.role.index());
                    if let Some(src) = raw.get(base..base + words) {
                        for (d, s) in scratch.iter_mut().zip(src) {
                            *d |= *s;
                        }
                    }
                }
                for (d, e) in scratch.iter_mut().zip(&excluded) {
                    *d &= !*e;
                }
                for g in &role.grants {
                    if g.tiers.contains(TierId(t as u32)) {
                        for p in &g.matches {
                            set_bit(&mut scratch, p.index());
                        }
                    }
                }
                let base = row(t, r);
                if let Some(dst) = raw.get_mut(base..base + words) {
                    dst.copy_from_slice(&scratch);
                }
            }
        }
        let mut table = raw.clone();
        for t in 0..n_tiers {
            let mut avail = vec![0u64; words];
            for (i, p) in perms.iter().enumerate() {
                if p.tiers.contains(TierId(t as u32)) {
                    set_bit(&mut avail, i);
                }
            }
            for (r, role) in roles.iter().enumerate() {
                let on = role.tiers.contains(TierId(t as u32));
                let base = row(t, r);
                if let Some(dst) = table.get_mut(base..base + words) {
                    for (d, a) in dst.iter_mut().zip(&avail) {
                        *d = if on { *d & *a } else { 0 };
                    }
                }
            }
        }
        let role_index = NameIndex::new(roles.iter().map(|r| r.id.as_str()));
        let perm_index = NameIndex::new(perms.iter().map(|p| p.id.as_str()));
        let tier_index = NameIndex::new(tiers.iter().map(String::as_str));
        Ok(Evaluator {
            source,
            source_name,
            tiers,
            n_tiers,
            perms,
            roles,
            words,
            raw,
            table,
            role_index,
            perm_index,
            tier_index,
        })
    }

    /// The policy source, when built from source (not from an artifact).
    pub fn source(&self) -> Option<&SourceFile> {
        self.source.as_ref()
    }

    /// The name of the source file the policy was compiled from.
    pub fn source_name(&self) -> &str {
        &self.source_name
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
        self.roles.len()
    }

    /// How many permissions the policy declares (ids are `0..perm_count`).
    pub fn perm_count(&self) -> usize {
        self.perms.len()
    }

    /// A tier's name, or `None` for the implicit tier of a tierless policy.
    pub fn tier_name(&self, tier: TierId) -> Option<&str> {
        self.tiers.get(tier.index()).map(String::as_str)
    }

    /// A role's id and label.
    pub fn role_name(&self, role: RoleId) -> Option<(&str, &str)> {
        self.roles
            .get(role.index())
            .map(|r| (r.id.as_str(), r.label.as_str()))
    }

    /// A permission's id and label.
    pub fn perm_name(&self, perm: PermId) -> Option<(&str, &str)> {
        self.perms
            .get(perm.index())
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
    /// `perm` on `tier`. One load and one mask per role; no allocation.
    /// Out-of-range ids and an empty `roles` give `false` (fail closed).
    #[inline]
    pub fn decide(&self, tier: TierId, roles: &[RoleId], perm: PermId) -> bool {
        roles.iter().any(|&r| self.decide_one(tier, r, perm))
    }

    /// [`Evaluator::decide`] for a single role.
    #[inline]
    pub fn decide_one(&self, tier: TierId, role: RoleId, perm: PermId) -> bool {
        let (t, r, p) = (tier.index(), role.index(), perm.index());
        if t >= self.n_tiers || r >= self.roles.len() || p >= self.perms.len() {
            return false;
        }
        let idx = (t * self.roles.len() + r) * self.words + (p >> 6);
        self.table
            .get(idx)
            .is_some_and(|w| w & (1u64 << (p & 63)) != 0)
    }

    /// Whether `role` holds `perm` on `tier` through grants and inheritance,
    /// ignoring availability (what it passes on to roles inheriting from it).
    pub fn holds_raw(&self, tier: TierId, role: RoleId, perm: PermId) -> bool {
        let (t, r, p) = (tier.index(), role.index(), perm.index());
        if t >= self.n_tiers || r >= self.roles.len() || p >= self.perms.len() {
            return false;
        }
        let idx = (t * self.roles.len() + r) * self.words + (p >> 6);
        self.raw
            .get(idx)
            .is_some_and(|w| w & (1u64 << (p & 63)) != 0)
    }

    /// Resolves the tier of a query: required (and checked) when the policy
    /// has tiers, refused when it has none.
    pub fn resolve_tier(&self, tier: Option<&str>) -> Result<TierId, EvalError> {
        match (tier, self.tiers.is_empty()) {
            (None, true) => Ok(TierId(0)),
            (Some(t), true) => Err(EvalError::UnexpectedTier {
                tier: t.to_string(),
            }),
            (None, false) => Err(EvalError::MissingTier {
                tiers: self.tiers.clone(),
            }),
            (Some(t), false) => self.tier_id(t).ok_or_else(|| EvalError::UnknownName {
                kind: crate::NameKind::Tier,
                name: t.to_string(),
                suggestion: suggest(t, self.tiers.iter().map(String::as_str)),
            }),
        }
    }

    /// Resolves a role name, with a did-you-mean on failure.
    pub fn resolve_role(&self, name: &str) -> Result<RoleId, EvalError> {
        self.role_id(name).ok_or_else(|| EvalError::UnknownName {
            kind: crate::NameKind::Role,
            name: name.to_string(),
            suggestion: suggest(name, self.roles.iter().map(|r| r.id.as_str())),
        })
    }

    /// Resolves a permission name, with a did-you-mean on failure.
    pub fn resolve_perm(&self, name: &str) -> Result<PermId, EvalError> {
        self.perm_id(name).ok_or_else(|| EvalError::UnknownName {
            kind: crate::NameKind::Permission,
            name: name.to_string(),
            suggestion: suggest(name, self.perms.iter().map(|p| p.id.as_str())),
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
        (0..self.perms.len() as u32)
            .map(PermId)
            .filter(|p| self.decide_one(tier, role, *p))
            .collect()
    }

    /// The roles that may use `perm` on `tier`, in declaration order.
    pub fn who_can(&self, tier: TierId, perm: PermId) -> Vec<RoleId> {
        (0..self.roles.len() as u32)
            .map(RoleId)
            .filter(|r| self.decide_one(tier, *r, perm))
            .collect()
    }

    /// The roles `role` inherits from, directly or not, nearest first.
    pub(crate) fn ancestors(&self, role: RoleId) -> Vec<RoleId> {
        let mut seen = vec![false; self.roles.len()];
        let mut out = Vec::new();
        let mut queue = std::collections::VecDeque::from([role]);
        if let Some(s) = seen.get_mut(role.index()) {
            *s = true;
        }
        while let Some(r) = queue.pop_front() {
            let parents = self.roles.get(r.index()).map_or(&[][..], |x| &x.parents);
            for p in parents {
                if let Some(s) = seen.get_mut(p.role.index()) {
                    if !*s {
                        *s = true;
                        out.push(p.role);
                        queue.push_back(p.role);
                    }
                }
            }
        }
        out
    }
}

fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut names: Vec<&str> = candidates.collect();
    names.sort_unstable();
    policy_syntax::did_you_mean(name, names)
}

fn set_bit(words: &mut [u64], bit: usize) {
    if let Some(w) = words.get_mut(bit >> 6) {
        *w |= 1u64 << (bit & 63);
    }
}

/// Kahn's algorithm, parents first; a cycle is an error.
fn topological(roles: &[RoleInfo]) -> Result<Vec<usize>, EvalError> {
    let n = roles.len();
    let mut pending: Vec<usize> = roles.iter().map(|r| r.parents.len()).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, r) in roles.iter().enumerate() {
        for p in &r.parents {
            match children.get_mut(p.role.index()) {
                Some(c) => c.push(i),
                None => return Err(EvalError::bad_artifact("a role inherits from no role")),
            }
        }
    }
    let mut queue: std::collections::VecDeque<usize> = (0..n)
        .filter(|&i| pending.get(i).copied() == Some(0))
        .collect();
    let mut order = Vec::with_capacity(n);
    while let Some(r) = queue.pop_front() {
        order.push(r);
        for &c in children.get(r).map_or(&[][..], |v| v.as_slice()) {
            if let Some(p) = pending.get_mut(c) {
                *p -= 1;
                if *p == 0 {
                    queue.push_back(c);
                }
            }
        }
    }
    if order.len() != n {
        return Err(EvalError::bad_artifact(
            "roles inherit from each other in a cycle",
        ));
    }
    Ok(order)
}

#[cfg(test)]
mod name_index_tests {
    use super::NameIndex;

    fn check(names: &[&str]) {
        let index = NameIndex::new(names.iter().copied());
        for (i, n) in names.iter().enumerate() {
            assert_eq!(index.get(n), Some(i as u32), "{n}");
        }
        for missing in [
            "",
            "x",
            "organization.settings",
            "organization.settings.changes",
            "ADMIN",
        ] {
            if !names.contains(&missing) {
                assert_eq!(index.get(missing), None, "{missing}");
            }
        }
    }

    #[test]
    fn small_sets_scan() {
        // Same length and same first 8 bytes: the full name decides.
        check(&[
            "admin",
            "member",
            "workspace.p1.view",
            "workspace.p2.view",
            "a",
            "",
        ]);
    }

    #[test]
    fn large_sets_hash() {
        let names: Vec<String> = (0..NameIndex::SMALL * 3)
            .map(|i| format!("workspace.p{i}.settings.view"))
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        check(&refs);
    }
}
