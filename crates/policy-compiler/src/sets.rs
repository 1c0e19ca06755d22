//! Computing the permission bitsets of every role on every tier, and the
//! lints that fall out of that computation.

use fixedbitset::FixedBitSet;
use policy_syntax::{Code, Diagnostic, SourceFile, Span};

use crate::model::*;

/// The computed sets plus what the lints need.
pub(crate) struct Sets {
    pub sets: Vec<FixedBitSet>,
    pub slots: Vec<u32>,
    pub perm_avail: Vec<FixedBitSet>,
}

impl Sets {
    /// No sets at all: every lookup misses, so every decision is a deny.
    pub fn empty(tier_count: usize, n_perms: usize) -> Self {
        Sets {
            sets: Vec::new(),
            slots: Vec::new(),
            perm_avail: (0..tier_count)
                .map(|_| FixedBitSet::with_capacity(n_perms))
                .collect(),
        }
    }
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
    let n_perms = permissions.len();
    let n_roles = roles.len();
    let all = TierSet::all(tier_count);
    let mut variant = vec![false; n_roles];
    let mut slots = vec![0u32; tier_count * n_roles];
    let mut sets: Vec<FixedBitSet> = Vec::with_capacity(n_roles);
    // Lint state: per role, per grant: redundant on every tier so far; per exclusion: ever used.
    let mut grant_redundant: Vec<Vec<bool>> = roles
        .iter()
        .map(|r| {
            r.grants
                .iter()
                .map(|g| !r.parents.is_empty() && !g.pattern.contains('*') && !g.tiers.is_empty())
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
            let mut set = FixedBitSet::with_capacity(n_perms);
            for p in &role.parents {
                let slot = slots
                    .get(t.index() * n_roles + p.role.index())
                    .copied()
                    .unwrap_or(0);
                if let Some(ps) = sets.get(slot as usize) {
                    set.union_with(ps);
                }
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
                for p in &e.matches {
                    set.set(p.index(), false);
                }
            }
            for (gi, g) in role.grants.iter().enumerate() {
                if is_variant && !g.tiers.contains(t) {
                    continue;
                }
                if let Some(flag) = grant_redundant.get_mut(r).and_then(|v| v.get_mut(gi)) {
                    if *flag && g.matches.first().is_some_and(|p| !set.contains(p.index())) {
                        *flag = false;
                    }
                }
            }
            for g in &role.grants {
                if is_variant && !g.tiers.contains(t) {
                    continue;
                }
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
            // A variant role's set often equals its set on the tier below
            // (a gate opens on one tier only): share it instead of storing a copy.
            let below = t
                .index()
                .checked_sub(1)
                .filter(|_| is_variant)
                .and_then(|b| slots.get(b * n_roles + r).copied())
                .filter(|&i| sets.get(i as usize) == Some(&set));
            let idx = below.unwrap_or(sets.len() as u32);
            if below.is_none() {
                sets.push(set);
            }
            if is_variant {
                if let Some(s) = slots.get_mut(t.index() * n_roles + r) {
                    *s = idx;
                }
            } else {
                for tt in 0..tier_count {
                    if let Some(s) = slots.get_mut(tt * n_roles + r) {
                        *s = idx;
                    }
                }
            }
        }
    }

    let mut perm_avail = Vec::with_capacity(tier_count);
    for t in 0..tier_count as u32 {
        let mut s = FixedBitSet::with_capacity(n_perms);
        for (i, p) in permissions.iter().enumerate() {
            if p.tiers.contains(TierId(t)) {
                s.insert(i);
            }
        }
        perm_avail.push(s);
    }

    let out = Sets {
        sets,
        slots,
        perm_avail,
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
    let raw = |t: usize, r: usize| -> Option<&FixedBitSet> {
        let slot = *sets.slots.get(t * n_roles + r)?;
        sets.sets.get(slot as usize)
    };
    let mut granted_somewhere = FixedBitSet::with_capacity(permissions.len());
    for (r, role) in roles.iter().enumerate() {
        let mut has_any = false;
        for t in 0..tier_count {
            if !role.tiers.contains(TierId(t as u32)) {
                continue;
            }
            let (Some(set), Some(avail)) = (raw(t, r), sets.perm_avail.get(t)) else {
                continue;
            };
            // granted_somewhere |= set ∩ avail, word by word, without a temporary set.
            let words = granted_somewhere
                .as_mut_slice()
                .iter_mut()
                .zip(set.as_slice().iter().zip(avail.as_slice()));
            for (g, (a, b)) in words {
                let eff = a & b;
                has_any |= eff != 0;
                *g |= eff;
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
                    raw(t.index(), p.role.index()).is_some_and(|s| s.contains(perm.index()))
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
        if granted_somewhere.contains(i) || p.tiers.is_empty() {
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
