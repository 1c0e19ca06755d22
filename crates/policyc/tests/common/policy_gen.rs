//! Random policies for the agreement tests (`src/agreement_tests.rs` and
//! `tests/agreement_cli.rs`): inheritance DAGs, exclusions, wildcards and
//! tier-gated roles, grants and permissions, kept as structure so that a
//! naive reference can decide every cell without parsing.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers shared by two test crates: not every one uses every item; a failure should fail the test"
)]

use std::collections::BTreeSet;

use proptest::prelude::*;

const PERM_POOL: &[&str] = &["a.x", "a.y", "a.b.x", "b.x", "b.y", "c.z", "c.z.x"];
const WILDCARDS: &[&str] = &["a.*", "*.x", "b.*", "*", "a.*.x", "c.*"];

/// A generated policy, kept as structure so the reference need not parse.
#[derive(Debug, Clone)]
pub struct Gen {
    pub tiers: usize,
    pub perms: Vec<(&'static str, Option<Vec<usize>>)>,
    pub roles: Vec<GenRole>,
}

#[derive(Debug, Clone)]
pub struct GenRole {
    pub tiers: Option<Vec<usize>>,
    pub parents: Vec<usize>,
    pub grants: Vec<(String, Option<Vec<usize>>)>,
    pub excludes: Vec<String>,
}

/// A `*` segment matches one or more whole segments (written independently
/// of the compiler's matcher, on purpose).
fn matches(pattern: &[&str], id: &[&str]) -> bool {
    match (pattern.split_first(), id.is_empty()) {
        (None, empty) => empty,
        (Some((&"*", rest)), _) => (1..=id.len()).any(|k| matches(rest, &id[k..])),
        (Some((seg, rest)), false) => id[0] == *seg && matches(rest, &id[1..]),
        (Some(_), true) => false,
    }
}

fn pattern_perms(g: &Gen, pattern: &str) -> Vec<usize> {
    let pat: Vec<&str> = pattern.split('.').collect();
    g.perms
        .iter()
        .enumerate()
        .filter(|(_, (id, _))| matches(&pat, &id.split('.').collect::<Vec<_>>()))
        .map(|(i, _)| i)
        .collect()
}

fn on(list: &Option<Vec<usize>>, t: usize) -> bool {
    list.as_ref().is_none_or(|l| l.contains(&t))
}

/// The naive reference: recompute the raw set from scratch on every query.
fn raw(g: &Gen, t: usize, r: usize) -> BTreeSet<usize> {
    let role = &g.roles[r];
    let mut set: BTreeSet<usize> = role.parents.iter().flat_map(|&p| raw(g, t, p)).collect();
    for e in &role.excludes {
        for p in pattern_perms(g, e) {
            set.remove(&p);
        }
    }
    let excluded: BTreeSet<usize> = role
        .excludes
        .iter()
        .flat_map(|e| pattern_perms(g, e))
        .collect();
    for (pat, tiers) in &role.grants {
        if on(tiers, t) {
            // An exclusion wins over the role's own wildcard grants.
            let wild = pat.contains('*');
            set.extend(
                pattern_perms(g, pat)
                    .into_iter()
                    .filter(|p| !wild || !excluded.contains(p)),
            );
        }
    }
    set
}

pub fn reference(g: &Gen, t: usize, r: usize, p: usize) -> bool {
    on(&g.roles[r].tiers, t) && on(&g.perms[p].1, t) && raw(g, t, r).contains(&p)
}

fn tier_clause(list: &Option<Vec<usize>>) -> String {
    match list {
        None => String::new(),
        Some(l) => format!(
            " on {}",
            l.iter()
                .map(|t| format!("t{t}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub fn render(g: &Gen) -> String {
    let mut s = String::new();
    if g.tiers > 0 {
        let names: Vec<String> = (0..g.tiers).map(|t| format!("t{t}")).collect();
        s.push_str(&format!("tiers {}\n", names.join(" < ")));
    }
    for (id, tiers) in &g.perms {
        s.push_str(&format!("permission {id} \"{id}\"{}\n", tier_clause(tiers)));
    }
    for (i, r) in g.roles.iter().enumerate() {
        s.push_str(&format!("role r{i} \"R{i}\"{} {{\n", tier_clause(&r.tiers)));
        if !r.parents.is_empty() {
            let ps: Vec<String> = r.parents.iter().map(|p| format!("r{p}")).collect();
            s.push_str(&format!("  inherits {}\n", ps.join(", ")));
        }
        for (pat, tiers) in &r.grants {
            s.push_str(&format!("  grants {pat}{}\n", tier_clause(tiers)));
        }
        if !r.excludes.is_empty() {
            s.push_str(&format!("  excludes {}\n", r.excludes.join(", ")));
        }
        s.push_str("}\n");
    }
    s
}

/// A non-empty subset of `0..n` from a bitmask, or `None` (no `on` clause).
fn subset(n: usize, mask: u8, present: bool) -> Option<Vec<usize>> {
    if n == 0 || !present {
        return None;
    }
    let l: Vec<usize> = (0..n).filter(|t| mask & (1 << t) != 0).collect();
    if l.is_empty() {
        Some(vec![usize::from(mask) % n])
    } else {
        Some(l)
    }
}

type RawRole = (
    (bool, u8),
    Vec<usize>,
    Vec<(usize, bool, bool, u8)>,
    Vec<(usize, bool)>,
);

pub fn arb_gen() -> impl Strategy<Value = Gen> {
    (
        0usize..=3,
        1u8..=127,
        prop::collection::vec((any::<bool>(), any::<u8>()), PERM_POOL.len()),
        prop::collection::vec(
            (
                (any::<bool>(), any::<u8>()),
                prop::collection::vec(0usize..8, 0..3),
                prop::collection::vec(
                    (0usize..16, any::<bool>(), any::<bool>(), any::<u8>()),
                    0..4,
                ),
                prop::collection::vec((0usize..16, any::<bool>()), 0..3),
            ),
            1..7,
        ),
    )
        .prop_map(
            |(tiers, perm_mask, perm_tiers, raw_roles): (_, _, _, Vec<RawRole>)| {
                let perms: Vec<(&'static str, Option<Vec<usize>>)> = PERM_POOL
                    .iter()
                    .zip(&perm_tiers)
                    .enumerate()
                    .filter(|(i, _)| perm_mask & (1 << i) != 0)
                    .map(|(_, (id, (p, m)))| (*id, subset(tiers, *m, *p)))
                    .collect();
                let roles = raw_roles
                    .iter()
                    .enumerate()
                    .map(|(i, ((has_on, on_mask), parents, grants, excludes))| {
                        let mut ps: Vec<usize> = parents
                            .iter()
                            .filter(|_| i > 0)
                            .map(|p| p % i.max(1))
                            .collect();
                        ps.sort_unstable();
                        ps.dedup();
                        let pick = |k: usize, wild: bool| {
                            if wild {
                                WILDCARDS[k % WILDCARDS.len()].to_string()
                            } else {
                                perms[k % perms.len()].0.to_string()
                            }
                        };
                        let grants: Vec<(String, Option<Vec<usize>>)> = grants
                            .iter()
                            .map(|(k, wild, gated, m)| (pick(*k, *wild), subset(tiers, *m, *gated)))
                            .collect();
                        let exact_grants: BTreeSet<&str> = grants
                            .iter()
                            .filter(|(p, _)| !p.contains('*'))
                            .map(|(p, _)| p.as_str())
                            .collect();
                        let excludes: Vec<String> = excludes
                            .iter()
                            .map(|(k, wild)| pick(*k, *wild))
                            // An exclusion matching an exact grant of the
                            // same role is a contradiction (P0307).
                            .filter(|p| {
                                !exact_grants
                                    .iter()
                                    .any(|g| policy_compiler::pattern_matches(p, g))
                            })
                            .collect();
                        GenRole {
                            tiers: subset(tiers, *on_mask, *has_on),
                            parents: ps,
                            grants,
                            excludes,
                        }
                    })
                    .collect();
                Gen {
                    tiers,
                    perms,
                    roles,
                }
            },
        )
}

/// The reference decision for a user holding all of `roles`.
pub fn reference_any(g: &Gen, t: usize, roles: &[usize], p: usize) -> bool {
    roles.iter().any(|&r| reference(g, t, r, p))
}

/// The tier names of `g`: `None` once for a tierless policy.
pub fn tier_names(g: &Gen) -> Vec<Option<String>> {
    if g.tiers == 0 {
        vec![None]
    } else {
        (0..g.tiers).map(|t| Some(format!("t{t}"))).collect()
    }
}

/// Role subsets asked about: every single role, and a few pairs and triples.
pub fn role_sets(g: &Gen) -> Vec<Vec<usize>> {
    let n = g.roles.len();
    let mut out: Vec<Vec<usize>> = (0..n).map(|r| vec![r]).collect();
    for r in 0..n {
        if n > 1 {
            out.push(vec![r, (r + 1) % n]);
        }
        if n > 2 {
            out.push(vec![r, (r + 2) % n, (r + 1) % n]);
        }
    }
    out
}
