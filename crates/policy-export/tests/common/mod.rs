//! What the differential tests of every engine share: the policies they
//! run (the seeds and every example), the fact assignments they probe, the
//! request's context and policyc's own decision.
#![allow(
    dead_code,
    reason = "each engine's test, built under its own feature, uses part of it"
)]
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers outside #[test] functions: a failure should fail the test"
)]

use std::path::{Path, PathBuf};

use policy_compiler::{Facts, Outcome, PermId, Policy, RoleId, TierId};
use policy_eval::Evaluator;
use policy_export::Header;

/// The number of cells (requests) compared, for the report.
#[derive(Debug, Default, Clone, Copy)]
pub struct Count {
    /// Policies exported and compared.
    pub policies: usize,
    /// One-role cells (role, permission, context, facts).
    pub cells: usize,
    /// Two-role requests asked as one request.
    pub pairs: usize,
    /// Malformed requests (a fact or a dimension missing or unknown),
    /// which must be denied.
    pub malformed: usize,
}

impl Count {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: Count) {
        self.policies += other.policies;
        self.cells += other.cells;
        self.pairs += other.pairs;
        self.malformed += other.malformed;
    }
}

/// The header the tests export with.
pub fn header(name: &str) -> Header<'_> {
    Header {
        name,
        source: name,
        version: "test",
        content_hash: "test",
    }
}

/// The fact assignments probed: all of them up to 8 conditions, else a
/// fixed 256 (none, all, each alone, each missing, and a spread).
pub fn assignments(k: usize) -> Vec<u64> {
    if k <= 8 {
        return (0..1u64 << k).collect();
    }
    let all = (1u64 << k) - 1;
    let mut out = vec![0, all];
    for i in 0..k {
        out.push(1 << i);
        out.push(all & !(1 << i));
    }
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while out.len() < 256 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push(x & all);
    }
    out
}

/// The facts of assignment `mask` (bit `i`: condition `i` holds).
pub fn facts(policy: &Policy, mask: u64) -> Facts {
    let mut facts = Facts::default();
    for i in 0..policy.conditions().len() {
        facts.set(i, mask & (1 << i) != 0);
    }
    facts
}

/// The context `t` as dimension → value, and the facts of `mask` as
/// condition → holds.
pub fn request_parts(
    policy: &Policy,
    t: TierId,
    mask: u64,
) -> (
    serde_json::Map<String, serde_json::Value>,
    serde_json::Map<String, serde_json::Value>,
) {
    let space = policy.context_space();
    let mut on = serde_json::Map::new();
    for (d, dim) in policy.dimensions().iter().enumerate() {
        let v = space.value_of(t, d).unwrap();
        on.insert(dim.name.clone(), serde_json::json!(dim.values[v].id));
    }
    let mut when = serde_json::Map::new();
    for (i, c) in policy.conditions().iter().enumerate() {
        when.insert(c.id.clone(), serde_json::json!(mask & (1 << i) != 0));
    }
    (on, when)
}

/// policyc's decision for a user holding `roles`, with every fact given.
pub fn policyc_allows(
    eval: &Evaluator,
    t: TierId,
    roles: &[RoleId],
    p: PermId,
    facts: Facts,
) -> bool {
    matches!(eval.outcome(t, roles, p, facts), Outcome::Allow { .. })
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The seeds and every policy under `policies/examples/` (a project as
/// one), compiled, with their paths relative to the repository.
pub fn shipped_policies() -> Vec<(String, Policy)> {
    let mut paths = vec![
        repo().join("policies/humanloop.policy"),
        repo().join("policies/vellum.policy"),
    ];
    let mut examples: Vec<_> = std::fs::read_dir(repo().join("policies/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    examples.sort();
    for dir in examples {
        if dir.join("policyc.toml").is_file() {
            paths.push(dir);
        } else {
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "policy"))
                .collect();
            files.sort();
            paths.extend(files);
        }
    }
    paths
        .into_iter()
        .map(|path| {
            let Ok(source) = policy_files::project::load_policy(&path) else {
                panic!("cannot read {}", path.display());
            };
            let (policy, diags) = policy_compiler::compile(&source);
            assert!(
                !policy_compiler::has_errors(&diags),
                "{}: {diags:?}",
                path.display()
            );
            let name = path
                .strip_prefix(repo())
                .unwrap_or(&path)
                .display()
                .to_string();
            (name, policy)
        })
        .collect()
}

/// The hard shapes: exclusions, a diamond around one, roles that exist in
/// fewer contexts than one they inherit, grant gates, conditions, offered
/// contexts.
pub fn shapes() -> Vec<(String, Policy)> {
    [
        ("exclusions", include_str!("../shapes/exclusions.policy")),
        (
            "availability",
            include_str!("../shapes/availability.policy"),
        ),
        ("offered", include_str!("../shapes/offered.policy")),
        ("conditions", include_str!("../shapes/conditions.policy")),
    ]
    .into_iter()
    .map(|(name, text)| {
        let src = policy_syntax::SourceFile::new(format!("{name}.policy"), text);
        let (policy, diags) = policy_compiler::compile(&src);
        assert!(!policy_compiler::has_errors(&diags), "{diags:?}");
        (name.to_string(), policy)
    })
    .collect()
}

/// Exclusions under conditions, in a diamond, through one parent only, and
/// of a role's own wildcard (which the Cedar export refuses).
pub fn conditional_shapes() -> Vec<(String, Policy)> {
    let name = "conditional_exclusions";
    let src = policy_syntax::SourceFile::new(
        format!("{name}.policy"),
        include_str!("../shapes/conditional_exclusions.policy"),
    );
    let (policy, diags) = policy_compiler::compile(&src);
    assert!(!policy_compiler::has_errors(&diags), "{diags:?}");
    vec![(name.to_string(), policy)]
}

/// Runs `compare` (one engine's comparison of every cell) on the seeds and
/// every example, printing each policy's counts and the total.
pub fn compare_shipped(compare: impl Fn(&Policy, &str) -> Count) {
    let mut total = Count::default();
    for (name, policy) in shipped_policies() {
        let c = compare(&policy, &name);
        eprintln!("{name}: {} cells, {} two-role requests", c.cells, c.pairs);
        total.add(c);
    }
    eprintln!(
        "seeds and examples: {} policies, {} cells, {} two-role requests, 0 mismatches",
        total.policies, total.cells, total.pairs
    );
    assert!(total.policies >= 8, "{total:?}");
}

/// A generated policy's text and its compiled policy (which must compile
/// without errors: the generator's clean policies do).
pub fn generated(raw: &policy_testkit::PolicyRaw) -> (String, Policy) {
    let text = policy_testkit::build(raw).text;
    let (policy, diags) =
        policy_compiler::compile(&policy_syntax::SourceFile::new("gen.policy", text.clone()));
    assert!(!policy_compiler::has_errors(&diags), "{text}\n{diags:?}");
    (text, policy)
}

/// The random policies compared so far, and how many of them have an
/// exclusion under conditions.
static RANDOM: std::sync::Mutex<(Count, usize)> = std::sync::Mutex::new((
    Count {
        policies: 0,
        cells: 0,
        pairs: 0,
        malformed: 0,
    },
    0,
));

/// Counts one random policy compared (`conditional`: it has an exclusion
/// under conditions), printing the totals every 100.
pub fn record_random(c: Count, conditional: bool) {
    let mut seen = RANDOM.lock().unwrap();
    seen.0.add(c);
    seen.1 += usize::from(conditional);
    if seen.0.policies % 100 == 0 {
        eprintln!(
            "random: {} policies ({} with exclusions under conditions), {} cells, {} two-role requests, 0 mismatches",
            seen.0.policies, seen.1, seen.0.cells, seen.0.pairs
        );
    }
}
