//! Property test: the compiler's precomputed bitsets against a naive
//! reference implementation.
//!
//! Random policies are generated as *text* (0–4 tiers, permissions with
//! optional tier gates, roles with `on` clauses, an inheritance DAG with an
//! occasional cycle, grants of exact ids and wildcards with tier gates,
//! exclusions), compiled, and every `(tier, role, permission)` decision is
//! compared with a reference written here from the language definition alone:
//!
//! ```text
//! raw(t, r)  = (⋃ raw(t, parent) − excluded(r))
//!              ∪ exact grants of r active on t
//!              ∪ (wildcard grants of r active on t − excluded(r))
//! allowed    = role available on t ∧ permission available on t ∧ p ∈ raw(t, r)
//! ```
//!
//! The reference walks the inheritance graph recursively for every query and
//! has its own pattern matcher; it shares no code with the compiler.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: clippy.toml allows these in #[test] functions but not in the helpers of an integration test; a failed lookup is a test failure"
)]

use std::collections::BTreeSet;

use policy_compiler::{compile, has_errors, PermId, Policy, RoleId, Step, TierId};
use policy_syntax::{Code, SourceFile};
use proptest::prelude::*;
use proptest::sample::Index;

// ------------------------------------------------------------------ model

/// Permission ids the generator draws from: two and three segments, so that
/// `*` (one or more segments) is exercised in every position.
const PERM_POOL: &[&str] = &[
    "a.view", "a.edit", "a.del", "b.view", "b.edit", "b.del", "c.view", "c.edit", "a.x.view",
    "a.x.edit", "b.x.view", "c.x.del",
];

/// Wildcard patterns the generator draws from (some match nothing).
const WILD_POOL: &[&str] = &[
    "*", "a.*", "b.*", "c.*", "*.view", "*.edit", "*.del", "a.*.view", "*.x.*", "a.x.*", "*.*",
    "*.*.*", "d.*",
];

/// A tier gate as generated: interpreted against the actual tier count.
#[derive(Debug, Clone)]
enum GateRaw {
    None,
    List(Vec<Index>),
    /// Operator (0 `>=`, 1 `>`, 2 `<=`, 3 `<`) and tier.
    Range(u8, Index),
}

#[derive(Debug, Clone)]
enum PatRaw {
    /// An exact, declared permission id.
    Exact(Index),
    /// A wildcard from [`WILD_POOL`].
    Wild(Index),
}

#[derive(Debug, Clone)]
struct RoleRaw {
    gate: GateRaw,
    parents: Vec<Index>,
    grants: Vec<(Vec<PatRaw>, GateRaw)>,
    excludes: Vec<PatRaw>,
    /// An extra `inherits` edge to this role or a later one: a cycle when
    /// that role (transitively) inherits from this one.
    back_edge: Option<Index>,
}

#[derive(Debug, Clone)]
struct PolicyRaw {
    /// Keep the generated mistakes (empty tier ranges, cycles, a role that
    /// grants and excludes the same id); otherwise they are repaired so that
    /// most cases compile cleanly and reach the comparison.
    mistakes: bool,
    tiers: usize,
    perms: Vec<(Index, GateRaw)>,
    roles: Vec<RoleRaw>,
}

/// The resolved specification the reference works on.
#[derive(Debug)]
struct Spec {
    /// Whether to keep mistakes (see [`PolicyRaw::mistakes`]).
    mistakes: bool,
    /// Number of declared tiers (0 = one implicit tier).
    tiers: usize,
    perms: Vec<SpecPerm>,
    roles: Vec<SpecRole>,
    /// Some tier gate selects no tier (an error, `P0305`).
    empty_gate: bool,
}

#[derive(Debug)]
struct SpecPerm {
    id: String,
    tiers: BTreeSet<usize>,
}

#[derive(Debug)]
struct SpecGrant {
    patterns: Vec<String>,
    tiers: BTreeSet<usize>,
}

#[derive(Debug)]
struct SpecRole {
    tiers: BTreeSet<usize>,
    parents: Vec<usize>,
    grants: Vec<SpecGrant>,
    excludes: Vec<String>,
}

fn tier_name(t: usize) -> String {
    format!("t{t}")
}

fn role_name(r: usize) -> String {
    format!("r{r}")
}

impl Spec {
    fn tier_count(&self) -> usize {
        self.tiers.max(1)
    }

    fn all_tiers(&self) -> BTreeSet<usize> {
        (0..self.tier_count()).collect()
    }

    /// Resolves a gate to a tier set and its source text (`""` for none).
    fn gate(&mut self, g: &GateRaw) -> (BTreeSet<usize>, String) {
        let n = self.tiers;
        if n == 0 {
            return (self.all_tiers(), String::new());
        }
        match g {
            GateRaw::None => (self.all_tiers(), String::new()),
            GateRaw::List(list) => {
                let ts: Vec<usize> = list.iter().map(|i| i.index(n)).collect();
                let text = ts.iter().map(|t| tier_name(*t)).collect::<Vec<_>>();
                (ts.into_iter().collect(), format!(" on {}", text.join(", ")))
            }
            GateRaw::Range(op, i) => {
                let t = i.index(n);
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
                (set, format!(" on {sym} {}", tier_name(t)))
            }
        }
    }

    fn pattern(&self, p: &PatRaw) -> Option<String> {
        match p {
            PatRaw::Exact(i) => {
                if self.perms.is_empty() {
                    None
                } else {
                    Some(self.perms[i.index(self.perms.len())].id.clone())
                }
            }
            PatRaw::Wild(i) => Some(WILD_POOL[i.index(WILD_POOL.len())].to_string()),
        }
    }

    /// Builds the spec and the policy text from the generated raw values.
    fn build(raw: &PolicyRaw) -> (Spec, String) {
        let mut spec = Spec {
            mistakes: raw.mistakes,
            tiers: raw.tiers,
            perms: Vec::new(),
            roles: Vec::new(),
            empty_gate: false,
        };
        let mut text = String::new();
        if raw.tiers > 0 {
            let names: Vec<String> = (0..raw.tiers).map(tier_name).collect();
            text.push_str(&format!("tiers {}\n", names.join(" < ")));
        }
        for (i, gate) in &raw.perms {
            let id = PERM_POOL[i.index(PERM_POOL.len())];
            if spec.perms.iter().any(|p| p.id == id) {
                continue;
            }
            let (tiers, on) = spec.gate(gate);
            text.push_str(&format!("permission {id} \"Perm {id}\"{on}\n"));
            spec.perms.push(SpecPerm {
                id: id.to_string(),
                tiers,
            });
        }
        let n_roles = raw.roles.len();
        for (r, rr) in raw.roles.iter().enumerate() {
            let (tiers, on) = spec.gate(&rr.gate);
            let mut parents: Vec<usize> = Vec::new();
            if r > 0 {
                for p in &rr.parents {
                    let p = p.index(r);
                    if !parents.contains(&p) {
                        parents.push(p);
                    }
                }
            }
            if let Some(b) = rr.back_edge.as_ref().filter(|_| raw.mistakes) {
                parents.push(r + b.index(n_roles - r));
            }
            text.push_str(&format!("role {} \"Role {r}\"{on} {{\n", role_name(r)));
            if !parents.is_empty() {
                let names: Vec<String> = parents.iter().map(|p| role_name(*p)).collect();
                text.push_str(&format!("  inherits {}\n", names.join(", ")));
            }
            let mut grants = Vec::new();
            for (pats, gate) in &rr.grants {
                let patterns: Vec<String> = pats.iter().filter_map(|p| spec.pattern(p)).collect();
                if patterns.is_empty() {
                    continue;
                }
                let (gtiers, gon) = spec.gate(gate);
                text.push_str(&format!("  grants {}{gon}\n", patterns.join(", ")));
                grants.push(SpecGrant {
                    patterns,
                    tiers: gtiers,
                });
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
                text.push_str(&format!("  excludes {}\n", excludes.join(", ")));
            }
            text.push_str("}\n");
            spec.roles.push(SpecRole {
                tiers,
                parents,
                grants,
                excludes,
            });
        }
        (spec, text)
    }
}

// -------------------------------------------------------------- reference

/// `*` matches one or more whole segments; anything else matches itself.
fn ref_matches(pattern: &[&str], id: &[&str]) -> bool {
    match (pattern.split_first(), id.split_first()) {
        (None, None) => true,
        (None, Some(_)) | (Some(_), None) => false,
        (Some((&"*", prest)), Some(_)) => (1..=id.len()).any(|k| ref_matches(prest, &id[k..])),
        (Some((seg, prest)), Some((head, irest))) => seg == head && ref_matches(prest, irest),
    }
}

fn matches_id(pattern: &str, id: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let i: Vec<&str> = id.split('.').collect();
    ref_matches(&p, &i)
}

impl Spec {
    fn excluded(&self, r: usize, p: usize) -> bool {
        let id = &self.perms[p].id;
        self.roles[r].excludes.iter().any(|e| matches_id(e, id))
    }

    /// A grant of `r` active on `t` matches `p`; a wildcard grant does not
    /// cover what the role itself excludes.
    fn granted_here(&self, t: usize, r: usize, p: usize) -> bool {
        let id = &self.perms[p].id;
        self.roles[r].grants.iter().any(|g| {
            g.tiers.contains(&t)
                && g.patterns
                    .iter()
                    .any(|pat| matches_id(pat, id) && (!pat.contains('*') || !self.excluded(r, p)))
        })
    }

    /// `p ∈ raw(t, r)`, by walking the inheritance graph (a DAG) recursively.
    fn holds_raw(&self, t: usize, r: usize, p: usize) -> bool {
        self.granted_here(t, r, p)
            || (!self.excluded(r, p)
                && self.roles[r]
                    .parents
                    .iter()
                    .any(|&parent| self.holds_raw(t, parent, p)))
    }

    fn allows(&self, t: usize, r: usize, p: usize) -> bool {
        self.roles[r].tiers.contains(&t)
            && self.perms[p].tiers.contains(&t)
            && self.holds_raw(t, r, p)
    }

    /// Whether the inheritance graph has a cycle (including a self-edge).
    fn has_cycle(&self) -> bool {
        fn visit(spec: &Spec, r: usize, state: &mut [u8]) -> bool {
            match state[r] {
                1 => return true,
                2 => return false,
                _ => {}
            }
            state[r] = 1;
            let cyclic = spec.roles[r].parents.iter().any(|&p| visit(spec, p, state));
            state[r] = 2;
            cyclic
        }
        let mut state = vec![0u8; self.roles.len()];
        (0..self.roles.len()).any(|r| visit(self, r, &mut state))
    }

    /// A role excludes an id it grants exactly (`P0307`).
    fn grant_exclude_conflict(&self) -> bool {
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
}

// ------------------------------------------------------------------ check

struct Ids {
    tiers: Vec<TierId>,
    roles: Vec<RoleId>,
    perms: Vec<PermId>,
}

fn ids(spec: &Spec, policy: &Policy) -> Ids {
    let tiers = if spec.tiers == 0 {
        assert!(policy.tiers().is_empty());
        vec![TierId(0)]
    } else {
        (0..spec.tiers)
            .map(|t| policy.tier_id(&tier_name(t)).unwrap())
            .collect()
    };
    assert_eq!(policy.tier_count(), tiers.len());
    let roles = (0..spec.roles.len())
        .map(|r| policy.role_id(&role_name(r)).unwrap())
        .collect();
    let perms = spec
        .perms
        .iter()
        .map(|p| policy.perm_id(&p.id).unwrap())
        .collect();
    Ids {
        tiers,
        roles,
        perms,
    }
}

/// Checks that `steps` is a valid derivation of permission `p` for role `r`
/// on tier `t`: a chain of real `inherits` edges from `r`, through roles that
/// hold `p` and do not exclude it, ending in a grant of `r`'s last ancestor
/// that is active on `t` and matches `p`.
fn check_derivation(
    spec: &Spec,
    policy: &Policy,
    ids: &Ids,
    (t, r, p): (usize, usize, usize),
    steps: &[Step],
) -> Result<(), TestCaseError> {
    let role_of = |id: RoleId| ids.roles.iter().position(|x| *x == id).unwrap();
    let what = format!(
        "derivation of {} for {} on tier {t}",
        spec.perms[p].id,
        role_name(r)
    );
    let (last, chain) = steps
        .split_last()
        .ok_or_else(|| TestCaseError::fail(format!("{what}: empty")))?;
    let mut cur = r;
    for step in chain {
        let Step::Inherited { role, parent, span } = step else {
            return Err(TestCaseError::fail(format!(
                "{what}: grant before the end: {steps:?}"
            )));
        };
        let (role, parent) = (role_of(*role), role_of(*parent));
        prop_assert_eq!(role, cur, "{}: the chain is broken: {:?}", what, steps);
        prop_assert!(
            spec.roles[role].parents.contains(&parent),
            "{}: {} does not inherit {}",
            what,
            role_name(role),
            role_name(parent)
        );
        let parent_name = role_name(parent);
        prop_assert_eq!(policy.source().slice(*span), parent_name.as_str());
        prop_assert!(
            !spec.excluded(role, p),
            "{}: {} excludes it",
            what,
            role_name(role)
        );
        prop_assert!(
            spec.holds_raw(t, parent, p),
            "{}: {} does not hold it",
            what,
            role_name(parent)
        );
        cur = parent;
    }
    let Step::Granted {
        role,
        pattern,
        span,
        ..
    } = last
    else {
        return Err(TestCaseError::fail(format!(
            "{what}: does not end in a grant: {steps:?}"
        )));
    };
    prop_assert_eq!(
        role_of(*role),
        cur,
        "{}: the grant is not the chain's end",
        what
    );
    prop_assert_eq!(policy.source().slice(*span), pattern.as_str());
    prop_assert!(
        matches_id(pattern, &spec.perms[p].id),
        "{}: `{}` does not match",
        what,
        pattern
    );
    let active = spec.roles[cur]
        .grants
        .iter()
        .any(|g| g.tiers.contains(&t) && g.patterns.contains(pattern));
    prop_assert!(
        active,
        "{}: no grant `{}` of {} is active on the tier",
        what,
        pattern,
        role_name(cur)
    );
    Ok(())
}

fn check(raw: &PolicyRaw) -> Result<(), TestCaseError> {
    let (spec, text) = Spec::build(raw);
    let source = SourceFile::new("random.policy", text.clone());
    let (policy, diags) = compile(&source);
    let codes: Vec<Code> = diags.iter().map(|d| d.code()).collect();

    // Errors arise exactly from the generator's deliberate mistakes.
    let cycle = spec.has_cycle();
    prop_assert_eq!(
        codes.contains(&Code::InheritanceCycle),
        cycle,
        "cycle detection\n{}\n{:?}",
        text,
        codes
    );
    let expect_errors = cycle || spec.empty_gate || spec.grant_exclude_conflict();
    prop_assert_eq!(
        has_errors(&diags),
        expect_errors,
        "errors\n{}\n{:?}",
        text,
        codes
    );
    let ids = ids(&spec, &policy);
    if expect_errors {
        // Fail closed, never panic: every query still answers.
        for &t in &ids.tiers {
            for &r in &ids.roles {
                let _ = policy.effective(t, r);
                for &p in &ids.perms {
                    let _ = (policy.allows(t, r, p), policy.derivation(t, r, p));
                }
            }
        }
        return Ok(());
    }

    for (ti, &t) in ids.tiers.iter().enumerate() {
        for (ri, &r) in ids.roles.iter().enumerate() {
            let mut expected_effective = Vec::new();
            for (pi, &p) in ids.perms.iter().enumerate() {
                let cell = format!(
                    "tier {}, role {}, permission {}\n{}",
                    tier_name(ti),
                    role_name(ri),
                    spec.perms[pi].id,
                    text
                );
                let raw_ref = spec.holds_raw(ti, ri, pi);
                let allow_ref = spec.allows(ti, ri, pi);
                prop_assert_eq!(policy.holds_raw(t, r, p), raw_ref, "holds_raw: {}", cell);
                prop_assert_eq!(policy.allows(t, r, p), allow_ref, "allows: {}", cell);
                if allow_ref {
                    expected_effective.push(p);
                }
                match policy.derivation(t, r, p) {
                    Some(steps) => {
                        prop_assert!(raw_ref, "derivation without the permission: {}", cell);
                        check_derivation(&spec, &policy, &ids, (ti, ri, pi), &steps)?;
                    }
                    None => prop_assert!(!raw_ref, "no derivation: {}", cell),
                }
            }
            prop_assert_eq!(
                policy.effective(t, r),
                expected_effective,
                "effective: tier {}, role {}\n{}",
                tier_name(ti),
                role_name(ri),
                text
            );
        }
        for (pi, &p) in ids.perms.iter().enumerate() {
            let expected: Vec<RoleId> = ids
                .roles
                .iter()
                .enumerate()
                .filter(|(ri, _)| spec.allows(ti, *ri, pi))
                .map(|(_, r)| *r)
                .collect();
            prop_assert_eq!(
                policy.nearest_miss(t, &[], p).other_roles,
                expected,
                "who_can (the nearest miss's roles): tier {}, permission {}\n{}",
                tier_name(ti),
                spec.perms[pi].id,
                text
            );
        }
    }
    Ok(())
}

// -------------------------------------------------------------- strategies

fn gate() -> impl Strategy<Value = GateRaw> {
    prop_oneof![
        4 => Just(GateRaw::None),
        2 => prop::collection::vec(any::<Index>(), 1..3).prop_map(GateRaw::List),
        2 => (0u8..4, any::<Index>()).prop_map(|(op, t)| GateRaw::Range(op, t)),
    ]
}

fn pattern() -> impl Strategy<Value = PatRaw> {
    prop_oneof![
        3 => any::<Index>().prop_map(PatRaw::Exact),
        2 => any::<Index>().prop_map(PatRaw::Wild),
    ]
}

fn role() -> impl Strategy<Value = RoleRaw> {
    (
        gate(),
        prop::collection::vec(any::<Index>(), 0..3),
        prop::collection::vec((prop::collection::vec(pattern(), 1..4), gate()), 0..3),
        prop::collection::vec(pattern(), 0..4),
        prop::option::weighted(0.1, any::<Index>()),
    )
        .prop_map(|(gate, parents, grants, excludes, back_edge)| RoleRaw {
            gate,
            parents,
            grants,
            excludes,
            back_edge,
        })
}

fn policy() -> impl Strategy<Value = PolicyRaw> {
    (
        prop::bool::weighted(0.15),
        0usize..=4,
        prop::collection::vec((any::<Index>(), gate()), 1..9),
        prop::collection::vec(role(), 1..8),
    )
        .prop_map(|(mistakes, tiers, perms, roles)| PolicyRaw {
            mistakes,
            tiers,
            perms,
            roles,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn compiler_agrees_with_the_naive_reference(raw in policy()) {
        check(&raw)?;
    }
}

// ------------------------------------------------------- reference sanity

#[test]
fn reference_matcher_follows_the_language() {
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
        assert_eq!(
            policy_compiler::pattern_matches(pattern, id),
            expect,
            "compiler: {pattern} vs {id}"
        );
    }
}

/// An `Index` that selects `n` out of `len`.
fn at(n: usize, len: usize) -> Index {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    loop {
        let i = any::<Index>().new_tree(&mut runner).unwrap().current();
        if i.index(len) == n {
            return i;
        }
    }
}

/// A pinned case, to check the reference itself against the language
/// definition: `r1` inherits `r0` and excludes `a.del`; `r0` is assignable
/// only on `t0` but still passes `a.*` to `r1` on `t1`.
#[test]
fn reference_passes_raw_sets_through_unavailable_roles() {
    let raw = PolicyRaw {
        mistakes: false,
        tiers: 2,
        // `a.view`, `a.del`.
        perms: vec![
            (at(0, PERM_POOL.len()), GateRaw::None),
            (at(2, PERM_POOL.len()), GateRaw::None),
        ],
        roles: vec![
            RoleRaw {
                gate: GateRaw::List(vec![at(0, 2)]),
                parents: vec![],
                // `a.*`.
                grants: vec![(vec![PatRaw::Wild(at(1, WILD_POOL.len()))], GateRaw::None)],
                excludes: vec![],
                back_edge: None,
            },
            RoleRaw {
                gate: GateRaw::None,
                parents: vec![at(0, 1)],
                grants: vec![],
                // `a.del`.
                excludes: vec![PatRaw::Exact(at(1, 2))],
                back_edge: None,
            },
        ],
    };
    let (spec, text) = Spec::build(&raw);
    assert_eq!(
        text,
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
    check(&raw).unwrap();
}
