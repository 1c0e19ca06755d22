//! The reference semantics over a generated policy's structure.

use std::collections::BTreeSet;

/// A generated policy: its structure and the text it was written as.
///
/// Tiers, roles and permissions are numbered in declaration order; tier `t`
/// is named [`tier_name`]`(t)` and role `r` [`role_name`]`(r)`. A policy
/// without tiers has one implicit tier, number 0.
///
/// A policy may also declare a second, unordered dimension, `dimension
/// edition e0 | e1 | …` ([`Spec::editions`]). Decisions are then made in
/// contexts, one tier and one edition: context `c` is tier `c / editions`
/// and edition `c % editions` (the `tiers` line comes first, so it is the
/// most significant), named `t{t}+e{e}` ([`Spec::tier_names`]); without
/// tiers, the contexts are the editions. Every set of "tiers" below (of a
/// permission, a role, a grant) is then a set of contexts.
///
/// A policy may also have levels ([`Spec::levels`]): `scope l0`, `scope l1
/// in l0`, `scope l2 in l1`, a chain, level `l` named [`level_name`]`(l)`.
/// Every permission and role is then on one level and its full id is
/// qualified by it (`l1.a.view`, `l1.r3`, [`Spec::role_id`]); the patterns
/// stored here are the full patterns (`*.view` written in `l1`'s section is
/// `l1.*.view`), so [`matches_id`] compares them with full ids. A role's
/// [`SpecRole::parents`] are its `inherits` edges (on its own level) and its
/// `acts as` edges (to roles on deeper levels), which the reference walks
/// alike.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    /// Number of declared tiers (0: one implicit tier).
    pub tiers: usize,
    /// Number of declared conditions, `c0`, `c1`, … (0: none).
    pub conditions: usize,
    /// Number of values of the unordered `edition` dimension (0: none).
    pub editions: usize,
    /// Number of levels (`scope` lines; 0: none).
    pub levels: usize,
    /// The permissions the reference is asked about, in declaration order
    /// (filler permissions, see [`crate::padded_policy`], are not listed).
    pub perms: Vec<SpecPerm>,
    /// The roles, in declaration order.
    pub roles: Vec<SpecRole>,
    /// Whether the generator kept its deliberate mistakes (cycles, empty
    /// tier ranges, a role excluding what it grants exactly).
    pub mistakes: bool,
    /// Some tier gate selects no tier (`P0305`).
    pub empty_gate: bool,
    /// Some role names a role of another level the wrong way (`inherits`
    /// across levels, or `acts as` an outer level's role: `P0316`); the
    /// link is not in [`SpecRole::parents`], as the compiler drops it.
    pub level_mismatch: bool,
    /// The policy text.
    pub text: String,
}

/// A permission: its id and the tiers it exists on.
#[derive(Debug, Clone, Default)]
pub struct SpecPerm {
    /// The permission's full id (`l1.a.view` on level 1).
    pub id: String,
    /// The tiers it is available on.
    pub tiers: BTreeSet<usize>,
}

/// One `grants` line: its patterns and the tiers it is active on.
#[derive(Debug, Clone, Default)]
pub struct SpecGrant {
    /// Exact ids and wildcards, in full (qualified by the role's level).
    pub patterns: Vec<String>,
    /// The tiers the line is active on.
    pub tiers: BTreeSet<usize>,
    /// Its `when` conditions, as a bitmask over `c0`, `c1`, … (0: none,
    /// the grant always holds); bit `32 + i` is `not ci`.
    pub when: u64,
}

/// A role.
#[derive(Debug, Clone, Default)]
pub struct SpecRole {
    /// The tiers it can be assigned on.
    pub tiers: BTreeSet<usize>,
    /// Its level (`None` in a policy without levels).
    pub level: Option<usize>,
    /// The roles it inherits from (on its level) or acts as (on deeper
    /// levels): the edges raw sets pass through.
    pub parents: Vec<usize>,
    /// Its `grants` lines.
    pub grants: Vec<SpecGrant>,
    /// Its `excludes` patterns, in full.
    pub excludes: Vec<String>,
    /// The `when` conditions of its `excludes` line, as [`SpecGrant::when`]
    /// (0: it always takes away).
    pub exclude_when: u64,
    /// The contexts its `assignable on` line selects (`None`: no such
    /// line, assignable wherever available).
    pub assignable: Option<BTreeSet<usize>>,
}

/// What a reference decision knows of the conditions.
#[derive(Debug, Clone, Copy)]
enum Under {
    /// Nothing: the table's judgement (a grant under conditions does not
    /// hold, an exclusion under conditions takes away).
    Table,
    /// The conditions of the bitmask hold, the others do not.
    Facts(u64),
}

impl Under {
    /// Whether a `when` (bit `i`: `ci`, bit `32 + i`: `not ci`) is met.
    fn meets(facts: u64, when: u64) -> bool {
        (when & 0xffff_ffff) & !facts == 0 && (when >> 32) & facts == 0
    }

    /// Whether a grant under `when` holds.
    fn grants(self, when: u64) -> bool {
        match self {
            Under::Table => when == 0,
            Under::Facts(f) => Under::meets(f, when),
        }
    }

    /// Whether an exclusion under `when` takes away.
    fn excludes(self, when: u64) -> bool {
        match self {
            Under::Table => true,
            Under::Facts(f) => Under::meets(f, when),
        }
    }
}

/// The name of tier `t`: `t0`, `t1`, …
pub fn tier_name(t: usize) -> String {
    format!("t{t}")
}

/// The name of role `r` as its declaration writes it: `r0`, `r1`, … (its
/// full id, on a level, is [`Spec::role_id`]).
pub fn role_name(r: usize) -> String {
    format!("r{r}")
}

/// The name of level `l`: `l0`, `l1`, …
pub fn level_name(l: usize) -> String {
    format!("l{l}")
}

/// `name` qualified by `level`: a name written in that level's section.
pub(crate) fn qualify(level: Option<usize>, name: &str) -> String {
    match level {
        Some(l) => format!("{}.{name}", level_name(l)),
        None => name.to_string(),
    }
}

/// `*` matches one or more whole segments; anything else matches itself.
fn segments_match(pattern: &[&str], id: &[&str]) -> bool {
    match (pattern.split_first(), id.split_first()) {
        (None, None) => true,
        (None, Some(_)) | (Some(_), None) => false,
        (Some((&"*", rest)), Some(_)) => {
            (1..=id.len()).any(|k| id.get(k..).is_some_and(|tail| segments_match(rest, tail)))
        }
        (Some((seg, rest)), Some((head, tail))) => seg == head && segments_match(rest, tail),
    }
}

/// Whether `pattern` (an id or a wildcard) matches the permission `id`.
pub fn matches_id(pattern: &str, id: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let i: Vec<&str> = id.split('.').collect();
    segments_match(&p, &i)
}

/// The name of edition `e`: `e0`, `e1`, …
pub fn edition_name(e: usize) -> String {
    format!("e{e}")
}

impl Spec {
    /// The number of contexts decisions are asked in (1 for a policy
    /// without dimensions).
    pub fn tier_count(&self) -> usize {
        self.tiers.max(1) * self.editions.max(1)
    }

    /// The tier of context `c` (0 without tiers).
    pub fn tier_of(&self, c: usize) -> usize {
        c / self.editions.max(1)
    }

    /// The edition of context `c` (0 without editions).
    pub fn edition_of(&self, c: usize) -> usize {
        c % self.editions.max(1)
    }

    /// The context names to ask with, in context order: `None` once for a
    /// policy without dimensions; the tier's name; the edition's; or both
    /// joined by `+`.
    pub fn tier_names(&self) -> Vec<Option<String>> {
        (0..self.tier_count())
            .map(|c| match (self.tiers, self.editions) {
                (0, 0) => None,
                (_, 0) => Some(tier_name(c)),
                (0, _) => Some(edition_name(c)),
                _ => Some(format!(
                    "{}+{}",
                    tier_name(self.tier_of(c)),
                    edition_name(self.edition_of(c))
                )),
            })
            .collect()
    }

    /// Role subsets to ask about: every single role, and a few pairs and
    /// triples.
    pub fn role_sets(&self) -> Vec<Vec<usize>> {
        let n = self.roles.len();
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

    fn role(&self, r: usize) -> Option<&SpecRole> {
        self.roles.get(r)
    }

    fn level_of_role(&self, r: usize) -> Option<usize> {
        self.role(r).and_then(|role| role.level)
    }

    /// The full id of role `r`, the name the engine is asked by: `l1.r3`
    /// on a level, else `r3`.
    pub fn role_id(&self, r: usize) -> String {
        qualify(self.level_of_role(r), &role_name(r))
    }

    /// Role `to` as role `from`'s section writes it: its name on `from`'s
    /// own level, its full id on another.
    pub fn role_written_in(&self, from: usize, to: usize) -> String {
        if self.level_of_role(from) == self.level_of_role(to) {
            role_name(to)
        } else {
            self.role_id(to)
        }
    }

    /// The full pattern (or id) that `written` stands for in role `r`'s
    /// section: `l1.*.view` for `*.view` written on level 1.
    pub fn qualified(&self, r: usize, written: &str) -> String {
        qualify(self.level_of_role(r), written)
    }

    /// Whether `parent` is an `acts as` edge of `r` (a role on another
    /// level), not an `inherits` one.
    pub fn acts_as(&self, r: usize, parent: usize) -> bool {
        self.level_of_role(r) != self.level_of_role(parent)
    }

    fn perm_id(&self, p: usize) -> &str {
        self.perms.get(p).map_or("", |x| x.id.as_str())
    }

    /// Whether role `r` excludes permission `p` (always, or under
    /// conditions).
    pub fn excluded(&self, r: usize, p: usize) -> bool {
        let id = self.perm_id(p);
        self.role(r)
            .is_some_and(|role| role.excludes.iter().any(|e| matches_id(e, id)))
    }

    /// Whether role `r`'s exclusion of `p` applies under `under`.
    fn excluded_under(&self, r: usize, p: usize, under: Under) -> bool {
        self.excluded(r, p)
            && self
                .role(r)
                .is_some_and(|role| under.excludes(role.exclude_when))
    }

    /// A grant of `r` active on `t` matches `p`; a wildcard grant does not
    /// cover what the role itself excludes. Conditions are judged as the
    /// table judges them, knowing no fact: a grant under conditions does
    /// not hold, an exclusion under conditions takes away.
    pub fn granted_here(&self, t: usize, r: usize, p: usize) -> bool {
        self.granted(t, r, p, Under::Table)
    }

    /// [`Spec::granted_here`] when the conditions of `facts` (a bitmask)
    /// hold and the others do not: a grant counts when its `when`
    /// conditions all hold (`not ci`: when `ci` does not), an exclusion
    /// under conditions takes away when they hold.
    pub fn granted_here_under(&self, t: usize, r: usize, p: usize, facts: u64) -> bool {
        self.granted(t, r, p, Under::Facts(facts))
    }

    fn granted(&self, t: usize, r: usize, p: usize, under: Under) -> bool {
        let id = self.perm_id(p);
        self.role(r).is_some_and(|role| {
            role.grants.iter().any(|g| {
                g.tiers.contains(&t)
                    && under.grants(g.when)
                    && g.patterns.iter().any(|pat| {
                        matches_id(pat, id)
                            && (!pat.contains('*') || !self.excluded_under(r, p, under))
                    })
            })
        })
    }

    /// `p ∈ raw(t, r)`, walking the inheritance graph (a DAG) recursively.
    /// Raw sets pass through roles that are not assignable on `t`.
    pub fn holds_raw(&self, t: usize, r: usize, p: usize) -> bool {
        self.holds(t, r, p, Under::Table)
    }

    /// [`Spec::holds_raw`] under `facts` (see [`Spec::granted_here_under`]).
    pub fn holds_raw_under(&self, t: usize, r: usize, p: usize, facts: u64) -> bool {
        self.holds(t, r, p, Under::Facts(facts))
    }

    fn holds(&self, t: usize, r: usize, p: usize, under: Under) -> bool {
        self.granted(t, r, p, under)
            || (!self.excluded_under(r, p, under)
                && self.role(r).is_some_and(|role| {
                    role.parents
                        .iter()
                        .any(|&parent| self.holds(t, parent, p, under))
                }))
    }

    /// The outcome for a user holding `roles` with no fact stated:
    /// `"allow"` when the table allows it (no fact known), `"conditional"`
    /// when some assignment of the conditions allows it, else `"deny"`.
    pub fn outcome(&self, t: usize, roles: &[usize], p: usize) -> &'static str {
        let under = |f: u64| roles.iter().any(|&r| self.allows_under(t, r, p, f));
        if roles.iter().any(|&r| self.allows(t, r, p)) {
            "allow"
        } else if (0..1u64 << self.conditions).any(under) {
            "conditional"
        } else {
            "deny"
        }
    }

    /// [`Spec::allows`] under `facts`: the conditions of the bitmask hold,
    /// the others do not.
    pub fn allows_under(&self, t: usize, r: usize, p: usize, facts: u64) -> bool {
        self.role(r).is_some_and(|role| role.tiers.contains(&t))
            && self
                .perms
                .get(p)
                .is_some_and(|perm| perm.tiers.contains(&t))
            && self.holds_raw_under(t, r, p, facts)
    }

    /// The decision: role `r` is assignable on `t`, permission `p` exists
    /// on `t`, and `r` holds it there.
    pub fn allows(&self, t: usize, r: usize, p: usize) -> bool {
        self.role(r).is_some_and(|role| role.tiers.contains(&t))
            && self
                .perms
                .get(p)
                .is_some_and(|perm| perm.tiers.contains(&t))
            && self.holds_raw(t, r, p)
    }

    /// Whether role `r` can be newly assigned in context `t`: it is
    /// available there and its `assignable on` line, if any, selects `t`.
    pub fn assignable(&self, t: usize, r: usize) -> bool {
        self.role(r).is_some_and(|role| {
            role.tiers.contains(&t) && role.assignable.as_ref().is_none_or(|a| a.contains(&t))
        })
    }

    /// Whether some role's `assignable on` selects a context where the
    /// role is not available (`P0313`).
    pub fn assignable_outside_availability(&self) -> bool {
        self.roles.iter().any(|role| {
            role.assignable
                .as_ref()
                .is_some_and(|a| !a.is_subset(&role.tiers))
        })
    }

    /// The decision for a user holding every role of `roles`.
    pub fn allows_any(&self, t: usize, roles: &[usize], p: usize) -> bool {
        roles.iter().any(|&r| self.allows(t, r, p))
    }

    /// Whether the inheritance graph has a cycle (a self-edge included).
    pub fn has_cycle(&self) -> bool {
        fn visit(spec: &Spec, r: usize, state: &mut [u8]) -> bool {
            match state.get(r) {
                Some(1) => return true,
                Some(2) | None => return false,
                _ => {}
            }
            if let Some(s) = state.get_mut(r) {
                *s = 1;
            }
            let cyclic = spec
                .role(r)
                .is_some_and(|role| role.parents.iter().any(|&p| visit(spec, p, state)));
            if let Some(s) = state.get_mut(r) {
                *s = 2;
            }
            cyclic
        }
        let mut state = vec![0u8; self.roles.len()];
        (0..self.roles.len()).any(|r| visit(self, r, &mut state))
    }

    /// Whether a role excludes an id it grants exactly (`P0307`).
    pub fn grant_exclude_conflict(&self) -> bool {
        self.roles.iter().any(|role| {
            role.excludes.iter().any(|e| {
                role.grants.iter().any(|g| {
                    g.patterns
                        .iter()
                        .any(|p| !p.contains('*') && matches_id(e, p))
                })
            })
        })
    }

    /// Whether the generator's mistakes make the policy an error.
    pub fn expects_errors(&self) -> bool {
        self.has_cycle()
            || self.empty_gate
            || self.level_mismatch
            || self.grant_exclude_conflict()
            || self.assignable_outside_availability()
    }

    /// Whether some level has no role (the warning `P0318`).
    pub fn unreached_level(&self) -> bool {
        (0..self.levels).any(|l| !self.roles.iter().any(|r| r.level == Some(l)))
    }

    /// Whether some role acts as a role that holds no permission in any
    /// context (the warning `P0317`). Filler permissions (see
    /// [`crate::padded_policy`]) are not counted.
    pub fn empty_acts_as(&self) -> bool {
        (0..self.roles.len()).any(|r| {
            self.role(r).is_some_and(|role| {
                role.parents.iter().any(|&a| {
                    self.acts_as(r, a)
                        && (0..self.tier_count())
                            .all(|t| (0..self.perms.len()).all(|p| !self.holds_raw(t, a, p)))
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matcher_follows_the_language() {
        for (pattern, id, expect) in [
            ("a.view", "a.view", true),
            ("a.view", "a.edit", false),
            ("a.*", "a.view", true),
            ("a.*", "a.x.view", true),
            ("a.*", "a", false),
            ("*.view", "a.x.view", true),
            ("*.view", "view", false),
            ("a.*.view", "a.view", false),
            ("*", "a.x.view", true),
            ("*.*", "a.view", true),
            ("*.*.*", "a.view", false),
        ] {
            assert_eq!(matches_id(pattern, id), expect, "{pattern} vs {id}");
        }
    }
}
