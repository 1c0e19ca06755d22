//! Random policies: raw draws ([`PolicyRaw`]) turned into a [`Spec`] and
//! its text by [`build`], and the proptest strategies that draw them.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use proptest::prelude::*;

use crate::spec::{
    edition_name, matches_id, role_name, tier_name, Spec, SpecGrant, SpecPerm, SpecRole,
};

/// Permission ids the generator draws from: two and three segments, so that
/// `*` (one or more segments) is exercised in every position.
pub const PERM_POOL: &[&str] = &[
    "a.view", "a.edit", "a.del", "b.view", "b.edit", "b.del", "c.view", "c.edit", "a.x.view",
    "a.x.edit", "b.x.view", "c.x.del",
];

/// Wildcard patterns the generator draws from (some match nothing).
pub const WILD_POOL: &[&str] = &[
    "*", "a.*", "b.*", "c.*", "*.view", "*.edit", "*.del", "a.*.view", "*.x.*", "a.x.*", "*.*",
    "*.*.*", "d.*",
];

/// A tier gate as drawn, read against the actual tier count (indices are
/// taken modulo it).
#[derive(Debug, Clone, Default)]
pub enum GateRaw {
    /// No `on` clause.
    #[default]
    None,
    /// `on tA, tB`.
    List(Vec<usize>),
    /// Operator (0 `>=`, 1 `>`, 2 `<=`, 3 `<`) and tier.
    Range(u8, usize),
}

/// A pattern as drawn (indices modulo the pool or the declared permissions).
#[derive(Debug, Clone)]
pub enum PatRaw {
    /// An exact, declared permission id.
    Exact(usize),
    /// A wildcard from [`WILD_POOL`].
    Wild(usize),
}

/// A role as drawn.
#[derive(Debug, Clone, Default)]
pub struct RoleRaw {
    /// Its `on` clause.
    pub gate: GateRaw,
    /// Parents, as indices modulo the roles declared before it.
    pub parents: Vec<usize>,
    /// `grants` lines: patterns and the line's `on` clause.
    pub grants: Vec<(Vec<PatRaw>, GateRaw)>,
    /// `excludes` patterns.
    pub excludes: Vec<PatRaw>,
    /// An extra `inherits` edge to this role or a later one (kept only with
    /// mistakes): a cycle when that role inherits from this one.
    pub back_edge: Option<usize>,
    /// An `assignable on` line (kept without mistakes only when the role
    /// has no `on` clause, so it cannot select where the role is absent).
    pub assignable: Option<GateRaw>,
}

/// A policy as drawn.
#[derive(Debug, Clone, Default)]
pub struct PolicyRaw {
    /// Keep the generated mistakes (empty tier ranges, cycles, a role that
    /// grants and excludes the same id); otherwise they are repaired, so the
    /// policy compiles without errors.
    pub mistakes: bool,
    /// Number of tiers (0: none declared).
    pub tiers: usize,
    /// Number of values of a second, unordered dimension `edition` (0:
    /// none declared).
    pub editions: usize,
    /// The edition terms of the `on` clauses, taken in turn by each clause
    /// drawn (indices modulo the editions; an empty list adds no term).
    pub edition_terms: Vec<Vec<usize>>,
    /// Permissions: an index into [`PERM_POOL`] (a repeat is skipped) and
    /// the permission's `on` clause.
    pub perms: Vec<(usize, GateRaw)>,
    /// Roles `r0`, `r1`, … in order.
    pub roles: Vec<RoleRaw>,
    /// Filler permissions declared before each permission, so the
    /// permissions spread over many 512-bit chunks of the compiler's sets;
    /// only a `*` wildcard matches one, and the reference is never asked
    /// about them.
    pub pad: usize,
}

fn pick<T: Copy>(pool: &[T], i: usize) -> Option<T> {
    pool.get(i.checked_rem(pool.len())?).copied()
}

impl Spec {
    /// Resolves a gate and the next edition term to a set of contexts and
    /// their text (`""` for none), from the language definition: a term
    /// selects the contexts whose value of its dimension it names, and the
    /// clause the contexts every term selects.
    fn gate(&mut self, g: &GateRaw, edition_term: &[usize]) -> (BTreeSet<usize>, String) {
        let (tiers, tier_text) = self.tier_term(g);
        let mut terms: Vec<String> = Vec::new();
        terms.extend(tier_text);
        let editions: Option<BTreeSet<usize>> = if self.editions > 0 && !edition_term.is_empty() {
            let es: Vec<usize> = edition_term.iter().map(|e| e % self.editions).collect();
            let names: Vec<String> = es.iter().map(|e| edition_name(*e)).collect();
            terms.push(names.join(", "));
            Some(es.into_iter().collect())
        } else {
            None
        };
        let set: BTreeSet<usize> = (0..self.tier_count())
            .filter(|&c| tiers.as_ref().is_none_or(|t| t.contains(&self.tier_of(c))))
            .filter(|&c| {
                editions
                    .as_ref()
                    .is_none_or(|e| e.contains(&self.edition_of(c)))
            })
            .collect();
        if terms.is_empty() {
            (set, String::new())
        } else {
            (set, format!(" on {}", terms.join(" and ")))
        }
    }

    /// The tiers a gate's tier term selects (`None`: no term) and its text.
    fn tier_term(&mut self, g: &GateRaw) -> (Option<BTreeSet<usize>>, Option<String>) {
        let n = self.tiers;
        if n == 0 {
            return (None, None);
        }
        match g {
            GateRaw::None => (None, None),
            GateRaw::List(list) if !list.is_empty() => {
                let ts: Vec<usize> = list.iter().map(|i| i % n).collect();
                let names: Vec<String> = ts.iter().map(|t| tier_name(*t)).collect();
                (Some(ts.into_iter().collect()), Some(names.join(", ")))
            }
            GateRaw::List(_) => (None, None),
            GateRaw::Range(op, i) => {
                let t = i % n;
                let mut op = op % 4;
                let strict_and_empty = (op == 1 && t + 1 == n) || (op == 3 && t == 0);
                if strict_and_empty && !self.mistakes {
                    op -= 1;
                }
                let (sym, set): (&str, BTreeSet<usize>) = match op {
                    0 => (">=", (t..n).collect()),
                    1 => (">", (t + 1..n).collect()),
                    2 => ("<=", (0..=t).collect()),
                    _ => ("<", (0..t).collect()),
                };
                if set.is_empty() {
                    self.empty_gate = true;
                }
                (Some(set), Some(format!("{sym} {}", tier_name(t))))
            }
        }
    }

    fn pattern(&self, p: &PatRaw) -> Option<String> {
        match p {
            PatRaw::Exact(i) => {
                pick(&self.perms.iter().collect::<Vec<_>>(), *i).map(|p| p.id.clone())
            }
            PatRaw::Wild(i) => pick(WILD_POOL, *i).map(str::to_string),
        }
    }
}

/// The spec and text of a drawn policy.
pub fn build(raw: &PolicyRaw) -> Spec {
    let mut spec = Spec {
        mistakes: raw.mistakes,
        tiers: raw.tiers,
        editions: raw.editions,
        ..Spec::default()
    };
    let mut text = String::new();
    if raw.tiers > 0 {
        let names: Vec<String> = (0..raw.tiers).map(tier_name).collect();
        let _ = writeln!(text, "tiers {}", names.join(" < "));
    }
    if raw.editions > 0 {
        let names: Vec<String> = (0..raw.editions).map(edition_name).collect();
        let _ = writeln!(text, "dimension edition {}", names.join(" | "));
    }
    // Each `on` clause takes the next edition term in turn.
    let mut terms = raw.edition_terms.iter().cycle();
    let mut next_term = move || terms.next().cloned().unwrap_or_default();
    for (i, gate) in &raw.perms {
        let Some(id) = pick(PERM_POOL, *i) else {
            continue;
        };
        if spec.perms.iter().any(|p| p.id == id) {
            continue;
        }
        let (tiers, on) = spec.gate(gate, &next_term());
        for f in 0..raw.pad {
            let _ = writeln!(text, "permission pad{}.f{f} \"pad\"", spec.perms.len());
        }
        let _ = writeln!(text, "permission {id} \"Perm {id}\"{on}");
        spec.perms.push(SpecPerm {
            id: id.to_string(),
            tiers,
        });
    }
    let n_roles = raw.roles.len();
    for (r, rr) in raw.roles.iter().enumerate() {
        let (tiers, on) = spec.gate(&rr.gate, &next_term());
        let mut parents: Vec<usize> = Vec::new();
        if r > 0 {
            for p in &rr.parents {
                let p = p % r;
                if !parents.contains(&p) {
                    parents.push(p);
                }
            }
        }
        if let Some(b) = rr.back_edge.filter(|_| raw.mistakes) {
            parents.push(r + b % (n_roles - r));
        }
        let _ = writeln!(text, "role {} \"Role {r}\"{on} {{", role_name(r));
        if !parents.is_empty() {
            let names: Vec<String> = parents.iter().map(|p| role_name(*p)).collect();
            let _ = writeln!(text, "  inherits {}", names.join(", "));
        }
        let mut grants = Vec::new();
        for (pats, gate) in &rr.grants {
            let patterns: Vec<String> = pats.iter().filter_map(|p| spec.pattern(p)).collect();
            if patterns.is_empty() {
                continue;
            }
            let (gtiers, gon) = spec.gate(gate, &next_term());
            let _ = writeln!(text, "  grants {}{gon}", patterns.join(", "));
            grants.push(SpecGrant {
                patterns,
                tiers: gtiers,
            });
        }
        let mut assignable = None;
        if let Some(gate) = rr.assignable.as_ref() {
            if raw.mistakes || on.is_empty() {
                let (set, clause) = spec.gate(gate, &next_term());
                if !clause.is_empty() {
                    let _ = writeln!(text, "  assignable{clause}");
                    assignable = Some(set);
                }
            }
        }
        let excludes: Vec<String> = rr
            .excludes
            .iter()
            .filter_map(|p| spec.pattern(p))
            .filter(|e| {
                raw.mistakes
                    || !grants.iter().any(|g: &SpecGrant| {
                        g.patterns
                            .iter()
                            .any(|p| !p.contains('*') && matches_id(e, p))
                    })
            })
            .collect();
        if !excludes.is_empty() {
            let _ = writeln!(text, "  excludes {}", excludes.join(", "));
        }
        text.push_str("}\n");
        spec.roles.push(SpecRole {
            tiers,
            parents,
            grants,
            excludes,
            assignable,
        });
    }
    spec.text = text;
    spec
}

fn gate() -> impl Strategy<Value = GateRaw> {
    prop_oneof![
        4 => Just(GateRaw::None),
        2 => prop::collection::vec(any::<usize>(), 1..3).prop_map(GateRaw::List),
        2 => (0u8..4, any::<usize>()).prop_map(|(op, t)| GateRaw::Range(op, t)),
    ]
}

fn pattern() -> impl Strategy<Value = PatRaw> {
    prop_oneof![
        3 => any::<usize>().prop_map(PatRaw::Exact),
        2 => any::<usize>().prop_map(PatRaw::Wild),
    ]
}

fn role() -> impl Strategy<Value = RoleRaw> {
    (
        gate(),
        prop::collection::vec(any::<usize>(), 0..3),
        prop::collection::vec((prop::collection::vec(pattern(), 1..4), gate()), 0..3),
        prop::collection::vec(pattern(), 0..4),
        prop::option::weighted(0.1, any::<usize>()),
        prop::option::weighted(0.25, gate()),
    )
        .prop_map(
            |(gate, parents, grants, excludes, back_edge, assignable)| RoleRaw {
                gate,
                parents,
                grants,
                excludes,
                back_edge,
                assignable,
            },
        )
}

fn raw_policy(
    mistakes: BoxedStrategy<bool>,
    pad: BoxedStrategy<usize>,
) -> impl Strategy<Value = PolicyRaw> {
    (
        mistakes,
        0usize..=4,
        prop_oneof![2 => Just(0usize), 1 => 1usize..=3],
        prop::collection::vec(prop::collection::vec(any::<usize>(), 0..3), 0..6),
        prop::collection::vec((any::<usize>(), gate()), 1..9),
        prop::collection::vec(role(), 1..8),
        pad,
    )
        .prop_map(
            |(mistakes, tiers, editions, edition_terms, perms, roles, pad)| PolicyRaw {
                mistakes,
                tiers,
                editions,
                edition_terms,
                perms,
                roles,
                pad,
            },
        )
}

/// Random policies, 15% of them keeping their mistakes (cycles, empty tier
/// ranges, exact grants a role also excludes): for tests of diagnostics and
/// of failing closed as well as of decisions.
pub fn policy() -> impl Strategy<Value = PolicyRaw> {
    raw_policy(prop::bool::weighted(0.15).boxed(), Just(0).boxed())
}

/// Random policies without mistakes: every one compiles without errors.
pub fn clean_policy() -> impl Strategy<Value = PolicyRaw> {
    raw_policy(Just(false).boxed(), Just(0).boxed())
}

/// [`clean_policy`], half of them with 300 or 700 filler permissions before
/// each permission, so sets span many chunks.
pub fn padded_policy() -> impl Strategy<Value = PolicyRaw> {
    raw_policy(
        Just(false).boxed(),
        prop::sample::select(vec![0usize, 0, 300, 700]).boxed(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pinned case, checking the reference against the language
    /// definition: `r1` inherits `r0` and excludes `a.del`; `r0` is
    /// assignable only on `t0` but still passes `a.*` to `r1` on `t1`.
    #[test]
    fn raw_sets_pass_through_unavailable_roles() {
        let spec = build(&PolicyRaw {
            tiers: 2,
            // `a.view`, `a.del`.
            perms: vec![(0, GateRaw::None), (2, GateRaw::None)],
            roles: vec![
                RoleRaw {
                    gate: GateRaw::List(vec![0]),
                    // `a.*`.
                    grants: vec![(vec![PatRaw::Wild(1)], GateRaw::None)],
                    ..RoleRaw::default()
                },
                RoleRaw {
                    parents: vec![0],
                    // `a.del`.
                    excludes: vec![PatRaw::Exact(1)],
                    ..RoleRaw::default()
                },
            ],
            ..PolicyRaw::default()
        });
        assert_eq!(
            spec.text,
            "tiers t0 < t1\n\
             permission a.view \"Perm a.view\"\n\
             permission a.del \"Perm a.del\"\n\
             role r0 \"Role 0\" on t0 {\n  grants a.*\n}\n\
             role r1 \"Role 1\" {\n  inherits r0\n  excludes a.del\n}\n"
        );
        assert!(spec.allows(1, 1, 0), "r1 holds a.view on t1 through r0");
        assert!(!spec.allows(1, 0, 0), "r0 is not assignable on t1");
        assert!(spec.holds_raw(1, 0, 0), "but it holds a.view there");
        assert!(!spec.holds_raw(0, 1, 1), "r1 excludes a.del");
        assert!(spec.holds_raw(0, 0, 1), "r0 has a.del");
        assert!(!spec.expects_errors());
    }

    /// Two dimensions: contexts are tier-major and an `on` clause is the
    /// conjunction of its terms.
    #[test]
    fn an_edition_term_joins_the_tier_term_with_and() {
        let spec = build(&PolicyRaw {
            tiers: 2,
            editions: 2,
            edition_terms: vec![vec![1], vec![], vec![]],
            // `a.view` on `>= t1 and e1`.
            perms: vec![(0, GateRaw::Range(0, 1))],
            roles: vec![RoleRaw {
                grants: vec![(vec![PatRaw::Wild(0)], GateRaw::None)],
                ..RoleRaw::default()
            }],
            ..PolicyRaw::default()
        });
        assert_eq!(
            spec.text,
            "tiers t0 < t1\n\
             dimension edition e0 | e1\n\
             permission a.view \"Perm a.view\" on >= t1 and e1\n\
             role r0 \"Role 0\" {\n  grants *\n}\n"
        );
        assert_eq!(
            spec.tier_names(),
            [
                Some("t0+e0".to_string()),
                Some("t0+e1".into()),
                Some("t1+e0".into()),
                Some("t1+e1".into())
            ]
        );
        let allowed: Vec<usize> = (0..4).filter(|&c| spec.allows(c, 0, 0)).collect();
        assert_eq!(allowed, [3], "only `t1+e1`");
    }

    #[test]
    fn mistakes_are_kept_only_when_asked() {
        let raw = |mistakes| PolicyRaw {
            mistakes,
            tiers: 2,
            perms: vec![(0, GateRaw::Range(1, 1))],
            roles: vec![RoleRaw {
                grants: vec![(vec![PatRaw::Exact(0)], GateRaw::None)],
                excludes: vec![PatRaw::Exact(0)],
                back_edge: Some(0),
                ..RoleRaw::default()
            }],
            ..PolicyRaw::default()
        };
        let kept = build(&raw(true));
        assert!(kept.empty_gate && kept.has_cycle() && kept.grant_exclude_conflict());
        let repaired = build(&raw(false));
        assert!(!repaired.expects_errors(), "{}", repaired.text);
    }
}
