//! Random policies: raw draws ([`PolicyRaw`]) turned into a [`Spec`] and
//! its text by [`build`], and the proptest strategies that draw them (a
//! third with levels).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use proptest::prelude::*;

use crate::spec::{
    edition_name, level_name, matches_id, qualify, role_name, tier_name, Spec, SpecGrant, SpecPerm,
    SpecRole,
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
    /// Its level, modulo [`PolicyRaw::levels`] (ignored without levels).
    pub level: usize,
    /// Parents, as indices modulo the roles of its level declared before
    /// it.
    pub parents: Vec<usize>,
    /// `acts as` targets, as indices modulo the roles on deeper levels
    /// (none when there are none).
    pub acts: Vec<usize>,
    /// `grants` lines: patterns and the line's `on` clause.
    pub grants: Vec<(Vec<PatRaw>, GateRaw)>,
    /// The `when` conditions of each `grants` line, in turn (indices modulo
    /// [`PolicyRaw::conditions`], a third of them negated, `not ci`, see
    /// [`when_clause`]; an empty list, or none: the grant always holds).
    pub grant_when: Vec<Vec<usize>>,
    /// `excludes` patterns.
    pub excludes: Vec<PatRaw>,
    /// The `when` conditions of the `excludes` line (as
    /// [`RoleRaw::grant_when`]; empty: it always takes away).
    pub exclude_when: Vec<usize>,
    /// An extra `inherits` edge to this role or a later one of its level
    /// (kept only with mistakes): a cycle when that role inherits from
    /// this one.
    pub back_edge: Option<usize>,
    /// A link to a role of another level, as an index modulo those roles,
    /// written the wrong way (kept only with mistakes, `P0316`): `inherits`
    /// a deeper role, `acts as` an outer one.
    pub wrong_level: Option<usize>,
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
    /// Number of levels (0: no `scope` line; else `l0`, `l1` in `l0`, …, a
    /// chain).
    pub levels: usize,
    /// Permissions: an index into [`PERM_POOL`] (a repeat on one level is
    /// skipped) and the permission's `on` clause.
    pub perms: Vec<(usize, GateRaw)>,
    /// The level of each permission of [`PolicyRaw::perms`], modulo the
    /// levels (missing: 0; ignored without levels).
    pub perm_levels: Vec<usize>,
    /// Roles `r0`, `r1`, … in order. With levels, declarations are grouped
    /// by level (a stable sort by level, so the drawn order stays within a
    /// level): role `r{k}` is the `k`-th of that order.
    pub roles: Vec<RoleRaw>,
    /// Filler permissions declared before each permission, so the
    /// permissions spread over many 512-bit chunks of the compiler's sets;
    /// only a `*` wildcard matches one, and the reference is never asked
    /// about them.
    pub pad: usize,
    /// Number of conditions, `c0`, `c1`, … (0: none), which grants' `when`
    /// clauses name ([`RoleRaw::grant_when`]).
    pub conditions: usize,
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
}

/// The state of [`build`]: the spec so far, its text, the edition terms
/// still to take and the levels of the declarations.
struct Builder<'a> {
    raw: &'a PolicyRaw,
    spec: Spec,
    text: String,
    /// The edition terms, taken in turn by each `on` clause.
    terms: std::iter::Cycle<std::slice::Iter<'a, Vec<usize>>>,
    /// Each declared permission's level and id as its section writes it,
    /// parallel to [`Spec::perms`].
    perm_names: Vec<(Option<usize>, String)>,
    /// The level of each role, in declaration order.
    role_levels: Vec<Option<usize>>,
}

impl Builder<'_> {
    /// The next `on` clause: a gate and the next edition term.
    fn gate(&mut self, g: &GateRaw) -> (BTreeSet<usize>, String) {
        let term = self.terms.next().cloned().unwrap_or_default();
        self.spec.gate(g, &term)
    }

    /// A pattern of a role on `level`, as written and in full.
    fn pattern(&self, level: Option<usize>, p: &PatRaw) -> Option<(String, String)> {
        let written = match p {
            PatRaw::Exact(i) => {
                let own: Vec<&str> = self
                    .perm_names
                    .iter()
                    .filter(|(l, _)| *l == level)
                    .map(|(_, id)| id.as_str())
                    .collect();
                pick(&own, *i)?
            }
            PatRaw::Wild(i) => pick(WILD_POOL, *i)?,
        };
        Some((written.to_string(), qualify(level, written)))
    }

    /// The roles in `range` whose level `keep` selects.
    fn roles_where(
        &self,
        range: std::ops::Range<usize>,
        keep: impl Fn(Option<usize>) -> bool,
    ) -> Vec<usize> {
        range
            .filter(|&j| self.role_levels.get(j).is_some_and(|l| keep(*l)))
            .collect()
    }

    /// The full id of role `j`.
    fn role_id(&self, j: usize) -> String {
        qualify(self.role_levels.get(j).copied().flatten(), &role_name(j))
    }

    /// Declares a permission of `level` (a repeat of a full id is skipped).
    fn permission(&mut self, level: Option<usize>, i: usize, gate: &GateRaw) {
        let Some(id) = pick(PERM_POOL, i) else {
            return;
        };
        let full = qualify(level, id);
        if self.spec.perms.iter().any(|p| p.id == full) {
            return;
        }
        let (tiers, on) = self.gate(gate);
        for f in 0..self.raw.pad {
            let _ = writeln!(
                self.text,
                "permission pad{}.f{f} \"pad\"",
                self.spec.perms.len()
            );
        }
        let _ = writeln!(self.text, "permission {id} \"Perm {id}\"{on}");
        self.spec.perms.push(SpecPerm { id: full, tiers });
        self.perm_names.push((level, id.to_string()));
    }

    /// Declares role `r`, which is on `self.role_levels[r]`: its links (on
    /// its level, to deeper ones, and the mistakes kept), grants and
    /// exclusions.
    fn role(&mut self, r: usize, rr: &RoleRaw) {
        let raw = self.raw;
        let n_roles = self.role_levels.len();
        let level = self.role_levels.get(r).copied().flatten();
        let (tiers, on) = self.gate(&rr.gate);
        let mut parents: Vec<usize> = Vec::new();
        let earlier = self.roles_where(0..r, |l| l == level);
        for p in &rr.parents {
            if let Some(p) = pick(&earlier, *p) {
                if !parents.contains(&p) {
                    parents.push(p);
                }
            }
        }
        if let Some(b) = rr.back_edge.filter(|_| raw.mistakes) {
            let later = self.roles_where(r..n_roles, |l| l == level);
            parents.extend(pick(&later, b));
        }
        let deeper = self.roles_where(0..n_roles, |l| l > level);
        let mut acts: Vec<usize> = Vec::new();
        for a in &rr.acts {
            if let Some(a) = pick(&deeper, *a) {
                if !acts.contains(&a) {
                    acts.push(a);
                }
            }
        }
        let mut inherits: Vec<String> = parents.iter().map(|p| role_name(*p)).collect();
        let mut acts_as: Vec<String> = acts.iter().map(|a| self.role_id(*a)).collect();
        let other = self.roles_where(0..n_roles, |l| l != level);
        if let Some(w) = rr
            .wrong_level
            .filter(|_| raw.mistakes)
            .and_then(|w| pick(&other, w))
        {
            self.spec.level_mismatch = true;
            let wrong = self.role_id(w);
            if self.role_levels.get(w).copied().flatten() > level {
                inherits.push(wrong);
            } else {
                acts_as.push(wrong);
            }
        }
        parents.extend(acts);
        let _ = writeln!(self.text, "role {} \"Role {r}\"{on} {{", role_name(r));
        if !inherits.is_empty() {
            let _ = writeln!(self.text, "  inherits {}", inherits.join(", "));
        }
        if !acts_as.is_empty() {
            let _ = writeln!(self.text, "  acts as {}", acts_as.join(", "));
        }
        let mut grants = Vec::new();
        for (pats, gate) in &rr.grants {
            let (written, patterns): (Vec<String>, Vec<String>) =
                pats.iter().filter_map(|p| self.pattern(level, p)).unzip();
            if patterns.is_empty() {
                continue;
            }
            let (gtiers, gon) = self.gate(gate);
            let drawn = rr
                .grant_when
                .get(grants.len())
                .map_or(&[][..], Vec::as_slice);
            let (when, when_text) = when_clause(drawn, raw.conditions);
            let _ = writeln!(self.text, "  grants {}{gon}{when_text}", written.join(", "));
            grants.push(SpecGrant {
                patterns,
                tiers: gtiers,
                when,
            });
        }
        let mut assignable = None;
        if let Some(gate) = rr.assignable.as_ref() {
            if raw.mistakes || on.is_empty() {
                let (set, clause) = self.gate(gate);
                if !clause.is_empty() {
                    let _ = writeln!(self.text, "  assignable{clause}");
                    assignable = Some(set);
                }
            }
        }
        let (written, excludes): (Vec<String>, Vec<String>) = rr
            .excludes
            .iter()
            .filter_map(|p| self.pattern(level, p))
            .filter(|(_, e)| {
                raw.mistakes
                    || !grants.iter().any(|g: &SpecGrant| {
                        g.patterns
                            .iter()
                            .any(|p| !p.contains('*') && matches_id(e, p))
                    })
            })
            .unzip();
        let (exclude_when, when_text) = when_clause(&rr.exclude_when, raw.conditions);
        if !excludes.is_empty() {
            let _ = writeln!(self.text, "  excludes {}{when_text}", written.join(", "));
        }
        self.text.push_str("}\n");
        self.spec.roles.push(SpecRole {
            tiers,
            level,
            parents,
            grants,
            excludes,
            exclude_when,
            assignable,
        });
    }
}

/// The spec and text of a drawn policy. With levels, each level's section
/// is its `scope` line, its permissions and its roles.
pub fn build(raw: &PolicyRaw) -> Spec {
    let mut b = Builder {
        raw,
        spec: Spec {
            mistakes: raw.mistakes,
            tiers: raw.tiers,
            editions: raw.editions,
            levels: raw.levels,
            conditions: raw.conditions,
            ..Spec::default()
        },
        text: String::new(),
        terms: raw.edition_terms.iter().cycle(),
        perm_names: Vec::new(),
        role_levels: Vec::new(),
    };
    if raw.tiers > 0 {
        let names: Vec<String> = (0..raw.tiers).map(tier_name).collect();
        let _ = writeln!(b.text, "tiers {}", names.join(" < "));
    }
    if raw.editions > 0 {
        let names: Vec<String> = (0..raw.editions).map(edition_name).collect();
        let _ = writeln!(b.text, "dimension edition {}", names.join(" | "));
    }
    for c in 0..raw.conditions {
        let _ = writeln!(b.text, "condition c{c} \"Condition {c}\"");
    }
    let level = |drawn: usize| drawn.checked_rem(raw.levels);
    let mut perms: Vec<(Option<usize>, &(usize, GateRaw))> = raw
        .perms
        .iter()
        .enumerate()
        .map(|(i, p)| (level(raw.perm_levels.get(i).copied().unwrap_or(0)), p))
        .collect();
    perms.sort_by_key(|(l, _)| *l);
    let mut roles: Vec<(Option<usize>, &RoleRaw)> =
        raw.roles.iter().map(|r| (level(r.level), r)).collect();
    roles.sort_by_key(|(l, _)| *l);
    b.role_levels = roles.iter().map(|(l, _)| *l).collect();
    let sections: Vec<Option<usize>> = if raw.levels == 0 {
        vec![None]
    } else {
        (0..raw.levels).map(Some).collect()
    };
    for section in sections {
        if let Some(l) = section {
            let _ = write!(b.text, "scope {} \"Level {l}\"", level_name(l));
            if let Some(outer) = l.checked_sub(1) {
                let _ = write!(b.text, " in {}", level_name(outer));
            }
            b.text.push('\n');
        }
        for (_, (i, gate)) in perms.iter().filter(|(l, _)| *l == section) {
            b.permission(section, *i, gate);
        }
        for (r, (_, rr)) in roles.iter().enumerate().filter(|(_, (l, _))| *l == section) {
            b.role(r, rr);
        }
    }
    b.spec.text = b.text;
    b.spec
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
        any::<usize>(),
        prop::collection::vec(any::<usize>(), 0..3),
        prop::collection::vec(any::<usize>(), 0..3),
        prop::collection::vec((prop::collection::vec(pattern(), 1..4), gate()), 0..3),
        prop::collection::vec(pattern(), 0..4),
        prop::option::weighted(0.1, any::<usize>()),
        prop::option::weighted(0.1, any::<usize>()),
        prop::option::weighted(0.25, gate()),
        // Each grant's conditions: none, often.
        prop::collection::vec(prop::collection::vec(any::<usize>(), 0..3), 0..3),
        // The `excludes` line's conditions: none, usually.
        prop_oneof![3 => Just(Vec::new()), 1 => prop::collection::vec(any::<usize>(), 1..3)],
    )
        .prop_map(
            |(
                gate,
                level,
                parents,
                acts,
                grants,
                excludes,
                back_edge,
                wrong_level,
                assignable,
                grant_when,
                exclude_when,
            )| {
                RoleRaw {
                    gate,
                    level,
                    parents,
                    acts,
                    grants,
                    grant_when,
                    excludes,
                    exclude_when,
                    back_edge,
                    wrong_level,
                    assignable,
                }
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
        // A third with levels (one to three).
        prop_oneof![2 => Just(0usize), 1 => 1usize..=3],
        prop::collection::vec((any::<usize>(), gate(), any::<usize>()), 1..9),
        prop::collection::vec(role(), 1..8),
        pad,
        // A third with conditions (one to three).
        prop_oneof![2 => Just(0usize), 1 => 1usize..=3],
    )
        .prop_map(
            |(mistakes, tiers, editions, edition_terms, levels, perms, roles, pad, conditions)| {
                let (perms, perm_levels) = perms.into_iter().map(|(i, g, l)| ((i, g), l)).unzip();
                PolicyRaw {
                    mistakes,
                    tiers,
                    editions,
                    edition_terms,
                    levels,
                    perms,
                    perm_levels,
                    roles,
                    pad,
                    conditions,
                }
            },
        )
}

/// Random policies, 15% of them keeping their mistakes (cycles, empty tier
/// ranges, exact grants a role also excludes, links between levels the
/// wrong way): for tests of diagnostics and
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

mod when;
pub use when::when_clause;

#[cfg(test)]
mod tests;
