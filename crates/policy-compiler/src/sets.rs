//! Computing the permission sets of every role on every tier, and the
//! lints that fall out of that computation.

mod store;

use policy_syntax::{Code, Diagnostic, SourceFile, Span};

use crate::decl::*;
use store::WorkSet;
pub use store::{Chunk, PermSets, SetBuilder, SetId, CHUNK_BITS, CHUNK_WORDS};

/// The most bytes of stored sets (directories and chunks) the compiler
/// builds; past it the policy gets `P0509` and decides nothing.
pub const MAX_SET_BYTES: usize = 1 << 30;
/// The most chunk operations (chunks merged from parents, permissions
/// granted or excluded) the compiler performs computing the sets; past it
/// the policy gets `P0509` and decides nothing.
pub const MAX_SET_WORK: u64 = 1 << 31;

/// The bounds of one set computation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Stored bytes (directories and chunks).
    pub bytes: usize,
    /// Chunk operations.
    pub work: u64,
}

impl Limits {
    /// [`MAX_SET_BYTES`] and [`MAX_SET_WORK`].
    pub const DEFAULT: Limits = Limits {
        bytes: MAX_SET_BYTES,
        work: MAX_SET_WORK,
    };
}

/// Which bound of the set computation a policy exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TooLarge {
    /// More than [`MAX_SET_BYTES`] of stored sets.
    Bytes,
    /// More than [`MAX_SET_WORK`] chunk operations.
    Work,
}

/// The computed sets plus what the lints need.
pub(crate) struct Sets {
    pub sets: PermSets,
    pub slots: Vec<SetId>,
    pub perm_avail: Vec<Vec<u64>>,
    /// Set when the computation stopped at a bound (then there are no sets).
    pub too_large: Option<TooLarge>,
}

impl Sets {
    /// No sets at all: every lookup misses, so every decision is a deny.
    pub fn empty(tier_count: usize, permissions: &[Permission]) -> Self {
        Sets {
            sets: PermSets::default(),
            slots: Vec::new(),
            perm_avail: perm_avail(tier_count, permissions),
            too_large: None,
        }
    }
}

/// Per tier: the permissions that exist on it, as `u64` words.
fn perm_avail(tier_count: usize, permissions: &[Permission]) -> Vec<Vec<u64>> {
    let words = permissions.len().div_ceil(64);
    (0..tier_count as u32)
        .map(|t| {
            let mut s = vec![0u64; words];
            for (i, p) in permissions.iter().enumerate() {
                if p.tiers.contains(TierId(t)) {
                    if let Some(w) = s.get_mut(i / 64) {
                        *w |= 1 << (i % 64);
                    }
                }
            }
            s
        })
        .collect()
}

/// Whether bit `i` of `words` is set.
pub(crate) fn word_bit(words: &[u64], i: usize) -> bool {
    words.get(i / 64).is_some_and(|w| (w >> (i % 64)) & 1 != 0)
}

/// Computes `raw(tier, role) = ((⋃ raw(tier, parent) ∪ own wildcard grants) − exclusions) ∪ own exact grants`,
/// over the grants active on tier,
/// in `order` (parents first). A role whose grants and ancestors' grants
/// are all ungated shares one set across every tier.
pub(crate) fn compute(
    tier_count: usize,
    permissions: &[Permission],
    roles: &[Role],
    repeated_grants: &[(RoleId, Span, PermId)],
    order: &[RoleId],
    source: &SourceFile,
    diags: &mut Vec<Diagnostic>,
) -> Sets {
    compute_within(
        Limits::DEFAULT,
        tier_count,
        permissions,
        roles,
        repeated_grants,
        order,
        source,
        diags,
    )
}

/// [`compute`] within `limits`: past one, no sets and `too_large` set.
#[expect(
    clippy::too_many_arguments,
    reason = "compute's arguments plus the bounds"
)]
pub(crate) fn compute_within(
    limits: Limits,
    tier_count: usize,
    permissions: &[Permission],
    roles: &[Role],
    repeated_grants: &[(RoleId, Span, PermId)],
    order: &[RoleId],
    source: &SourceFile,
    diags: &mut Vec<Diagnostic>,
) -> Sets {
    let n_perms = permissions.len();
    let n_roles = roles.len();
    let all = TierSet::all(tier_count);
    let mut variant = vec![false; n_roles];
    let mut slots = vec![SetId::EMPTY; tier_count * n_roles];
    let mut builder = SetBuilder::new();
    let mut set = WorkSet::new(n_perms);
    let mut work: u64 = 0;
    // Lint state: per role, per grant: redundant on every tier so far; per exclusion: ever used.
    let mut grant_redundant: Vec<Vec<bool>> = roles
        .iter()
        .map(|r| {
            r.grants
                .iter()
                .map(|g| {
                    !r.parents.is_empty()
                        && !g.pattern.contains('*')
                        && !g.tiers.is_empty()
                        && g.when.is_empty()
                })
                .collect()
        })
        .collect();
    // An exclusion that takes something out of the role's own wildcard
    // grant does something even when the role inherits nothing.
    let mut exclusion_used: Vec<Vec<bool>> = roles
        .iter()
        .map(|r| {
            r.exclusions
                .iter()
                .map(|e| {
                    e.matches.iter().any(|p| {
                        let id = permissions.get(p.index()).map_or("", |x| x.id.as_str());
                        r.grants.iter().any(|g| {
                            g.pattern.contains('*') && crate::pattern::matches(&g.pattern, id)
                        })
                    })
                })
                .collect()
        })
        .collect();

    for &rid in order {
        let r = rid.index();
        let Some(role) = roles.get(r) else { continue };
        // A conditional grant (`when`) is not in these sets at all: what it
        // gives is computed apart (`conditional.rs`).
        let is_variant = role.grants.iter().any(|g| g.tiers != all)
            || role
                .parents
                .iter()
                .any(|p| variant.get(p.role.index()).copied().unwrap_or(false));
        if let Some(v) = variant.get_mut(r) {
            *v = is_variant;
        }
        let tiers: Vec<TierId> = if is_variant {
            (0..tier_count as u32).map(TierId).collect()
        } else {
            vec![TierId(0)]
        };
        for t in tiers {
            set.clear();
            for p in &role.parents {
                let slot = slots
                    .get(t.index() * n_roles + p.role.index())
                    .copied()
                    .unwrap_or(SetId::EMPTY);
                work += set.union_with(builder.store(), slot) as u64 + 1;
            }
            if let (Some(used), Some(_)) = (exclusion_used.get_mut(r), role.parents.first()) {
                for (ei, e) in role.exclusions.iter().enumerate() {
                    if e.matches.iter().any(|p| set.contains(p.index())) {
                        if let Some(u) = used.get_mut(ei) {
                            *u = true;
                        }
                    }
                }
            }
            for e in &role.exclusions {
                work += e.matches.len() as u64;
                for p in &e.matches {
                    set.remove(p.index());
                }
            }
            for (gi, g) in role.grants.iter().enumerate() {
                if (is_variant && !g.tiers.contains(t)) || !g.when.is_empty() {
                    continue;
                }
                if let Some(flag) = grant_redundant.get_mut(r).and_then(|v| v.get_mut(gi)) {
                    if *flag && g.matches.first().is_some_and(|p| !set.contains(p.index())) {
                        *flag = false;
                    }
                }
            }
            for g in &role.grants {
                if (is_variant && !g.tiers.contains(t)) || !g.when.is_empty() {
                    continue;
                }
                work += g.matches.len() as u64;
                let wildcard = g.pattern.contains('*');
                for p in &g.matches {
                    // An exclusion wins over the role's own wildcard grant:
                    // `grants billing.*` + `excludes billing.refund`.
                    if wildcard && role.exclusions.iter().any(|e| e.matches.contains(p)) {
                        continue;
                    }
                    set.insert(p.index());
                }
            }
            // Equal sets (a child that adds nothing, a tier whose gates
            // change nothing) get the same id: the store interns them.
            let id = set.intern(&mut builder);
            if is_variant {
                if let Some(s) = slots.get_mut(t.index() * n_roles + r) {
                    *s = id;
                }
            } else {
                for tt in 0..tier_count {
                    if let Some(s) = slots.get_mut(tt * n_roles + r) {
                        *s = id;
                    }
                }
            }
        }
        let too_large = if builder.store().stored_bytes() > limits.bytes {
            Some(TooLarge::Bytes)
        } else if work > limits.work {
            Some(TooLarge::Work)
        } else {
            None
        };
        if too_large.is_some() {
            return Sets {
                too_large,
                ..Sets::empty(tier_count, permissions)
            };
        }
    }

    let out = Sets {
        sets: builder.finish(),
        slots,
        perm_avail: perm_avail(tier_count, permissions),
        too_large: None,
    };
    lint(
        &out,
        tier_count,
        permissions,
        roles,
        &grant_redundant,
        &exclusion_used,
        repeated_grants,
        source,
        diags,
    );
    out
}

#[expect(
    clippy::too_many_arguments,
    reason = "the lint pass reads every piece of the set computation"
)]
fn lint(
    sets: &Sets,
    tier_count: usize,
    permissions: &[Permission],
    roles: &[Role],
    grant_redundant: &[Vec<bool>],
    exclusion_used: &[Vec<bool>],
    repeated_grants: &[(RoleId, Span, PermId)],
    source: &SourceFile,
    diags: &mut Vec<Diagnostic>,
) {
    let n_roles = roles.len();
    let raw = |t: usize, r: usize| -> Option<SetId> { sets.slots.get(t * n_roles + r).copied() };
    let mut granted_somewhere = vec![0u64; permissions.len().div_ceil(64)];
    for (r, role) in roles.iter().enumerate() {
        let mut has_any = false;
        for t in 0..tier_count {
            if !role.tiers.contains(TierId(t as u32)) {
                continue;
            }
            let (Some(set), Some(avail)) = (raw(t, r), sets.perm_avail.get(t)) else {
                continue;
            };
            // granted_somewhere |= set ∩ avail, chunk by chunk.
            for (k, chunk) in sets.sets.chunks(set) {
                let base = k as usize * CHUNK_WORDS;
                for (i, &w) in chunk.iter().enumerate() {
                    let eff = w & avail.get(base + i).copied().unwrap_or(0);
                    has_any |= eff != 0;
                    if let Some(g) = granted_somewhere.get_mut(base + i) {
                        *g |= eff;
                    }
                }
            }
        }
        if !has_any && !role.tiers.is_empty() {
            let mut d = Diagnostic::new(
                Code::EmptyRole,
                format!(
                    "role `{}` has no permissions on any tier where it is available",
                    role.id
                ),
            )
            .with_source(source)
            .primary(role.span, "this role can do nothing");
            if let Some(ts) = role.tier_span {
                d = d.secondary(ts, "available only here");
            }
            d = d.help("grant it permissions, inherit from a role that has some, or remove it");
            diags.push(d);
        }
        for (gi, g) in role.grants.iter().enumerate() {
            if !grant_redundant
                .get(r)
                .and_then(|v| v.get(gi))
                .copied()
                .unwrap_or(false)
            {
                continue;
            }
            let Some(perm) = g.matches.first() else {
                continue;
            };
            let from = role.parents.iter().find(|p| {
                g.tiers.iter().all(|t| {
                    raw(t.index(), p.role.index())
                        .is_some_and(|s| sets.sets.contains(s, perm.index()))
                })
            });
            let mut d = Diagnostic::new(
                Code::RedundantGrant,
                format!("role `{}` already inherits `{}`", role.id, g.pattern),
            )
            .with_source(source)
            .primary(g.span, "this grant adds nothing");
            if let Some(p) = from.or(role.parents.first()) {
                let name = roles.get(p.role.index()).map_or("?", |x| x.id.as_str());
                d = d.secondary(p.span, format!("inherited through `{name}`"));
            }
            d = d.help(
                "remove the grant; the role has this permission on every tier the grant covers",
            );
            diags.push(d);
        }
        for (ei, e) in role.exclusions.iter().enumerate() {
            if e.matches.is_empty()
                || exclusion_used
                    .get(r)
                    .and_then(|v| v.get(ei))
                    .copied()
                    .unwrap_or(true)
            {
                continue;
            }
            let d = Diagnostic::new(
                Code::UselessExclusion,
                format!("role `{}` never inherits `{}`, so excluding it does nothing", role.id, e.pattern),
            )
            .with_source(source)
            .primary(e.span, "nothing to take away")
            .help("an exclusion removes permissions a role inherits; remove this one, or check the `inherits` list");
            diags.push(d);
        }
    }
    for (role, span, perm) in repeated_grants {
        let name = roles.get(role.index()).map_or("?", |r| r.id.as_str());
        let pid = permissions.get(perm.index()).map_or("?", |p| p.id.as_str());
        diags.push(
            Diagnostic::new(
                Code::RedundantGrant,
                format!("role `{name}` grants `{pid}` twice"),
            )
            .with_source(source)
            .primary(*span, "granted again here")
            .help("remove the repeated grant"),
        );
    }
    for (i, p) in permissions.iter().enumerate() {
        if word_bit(&granted_somewhere, i) || p.tiers.is_empty() {
            continue;
        }
        diags.push(
            Diagnostic::new(
                Code::UngrantedPermission,
                format!("no role holds `{}` on any tier", p.id),
            )
            .with_source(source)
            .primary(p.span, "granted to nobody")
            .help("grant it to a role, or remove the permission if the feature is gone"),
        );
    }
}

#[cfg(test)]
mod limit_tests {
    use super::*;

    /// A chain of `n` roles, each granting its own permission.
    fn chain(n: usize) -> crate::Policy {
        let mut text = String::new();
        for i in 0..n {
            text.push_str(&format!("permission p{i}.x \"P\"\n"));
        }
        for i in 0..n {
            let up = if i > 0 {
                format!("inherits r{} ", i - 1)
            } else {
                String::new()
            };
            text.push_str(&format!("role r{i} \"R\" {{ {up}grants p{i}.x }}\n"));
        }
        let (policy, diags) = crate::compile(&SourceFile::new("chain.policy", text));
        assert!(diags.is_empty(), "{diags:?}");
        policy
    }

    fn within(policy: &crate::Policy, limits: Limits) -> Sets {
        compute_within(
            limits,
            policy.tier_count(),
            &policy.permissions,
            &policy.roles,
            &[],
            &policy.order,
            &policy.source,
            &mut Vec::new(),
        )
    }

    #[test]
    fn a_bound_exceeded_gives_no_sets() {
        let policy = chain(2_000);
        let fits = within(&policy, Limits::DEFAULT);
        assert!(fits.too_large.is_none());
        let bytes = fits.sets.stored_bytes();
        // The chain's last role holds all 2,000 permissions: 4 chunks, shared.
        assert!(bytes < 1 << 20, "{bytes} bytes for a 2,000-role chain");
        let small = within(
            &policy,
            Limits {
                bytes: bytes / 2,
                work: MAX_SET_WORK,
            },
        );
        assert_eq!(small.too_large, Some(TooLarge::Bytes));
        assert!(small.slots.is_empty(), "fail closed: no sets");
        let busy = within(
            &policy,
            Limits {
                bytes: MAX_SET_BYTES,
                work: 100,
            },
        );
        assert_eq!(busy.too_large, Some(TooLarge::Work));
    }
}
