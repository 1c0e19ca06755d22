//! Differential proof of the Cedar export (`--features cedar`): for the
//! seeds, every example policy and 500 random policies of the shared
//! generator, the exported schema validates the exported policies
//! (strict mode), and Cedar's decision on every (role, permission,
//! context) cell, under every assignment of the facts, for a user holding
//! exactly that role, equals policyc's. Users holding two roles are
//! decided as policyc does by one request when the export says so, and by
//! one request per role otherwise.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers outside #[test] functions: a failure should fail the test"
)]

use std::path::Path;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request, Schema, ValidationMode,
    Validator,
};
use policy_compiler::{Facts, Outcome, PermId, Policy, RoleId};
use policy_eval::Evaluator;
use policy_export::{export, plan, ExportFile, Header, Target};
use policy_syntax::SourceFile;
use proptest::prelude::*;

/// The number of cells (requests) compared, for the report.
#[derive(Debug, Default, Clone, Copy)]
struct Count {
    policies: usize,
    cells: usize,
    pairs: usize,
}

fn uid(kind: &str, id: &str) -> EntityUid {
    EntityUid::from_str(&format!("{kind}::{}", serde_json::to_string(id).unwrap())).unwrap()
}

/// The fact assignments probed: all of them up to 8 conditions, else a
/// fixed 256 (none, all, each alone, each missing, and a spread).
fn assignments(k: usize) -> Vec<u64> {
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

fn header(name: &str) -> Header<'_> {
    Header {
        name,
        source: name,
        version: "test",
        content_hash: "test",
    }
}

/// Exports `policy` to Cedar and compares every cell; returns the counts.
fn compare(policy: &Policy, what: &str) -> Count {
    let files: Vec<ExportFile> = export(policy, Target::Cedar, &header("p"))
        .unwrap_or_else(|d| panic!("{what}: refused: {d:?}"));
    let (schema, _) = Schema::from_cedarschema_str(&files[0].text)
        .unwrap_or_else(|e| panic!("{what}: schema: {e:?}\n{}", files[0].text));
    let policies = PolicySet::from_str(&files[1].text)
        .unwrap_or_else(|e| panic!("{what}: policies: {e:?}\n{}", files[1].text));
    let validation = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
    assert!(
        validation.validation_passed(),
        "{what}: strict validation: {:?}\n{}",
        validation.validation_errors().collect::<Vec<_>>(),
        files[1].text
    );
    let roles: Vec<String> = policy.roles().iter().map(|r| r.id.clone()).collect();
    let n = roles.len();
    let pair = |i: usize| (i, (i + 1) % n);
    let mut entities: Vec<serde_json::Value> = serde_json::from_str(&files[2].text).unwrap();
    for r in &roles {
        entities.push(serde_json::json!({
            "uid": {"type": "User", "id": format!("one:{r}")},
            "attrs": {}, "parents": [{"type": "Role", "id": r}],
        }));
    }
    for i in 0..n {
        let (a, b) = pair(i);
        entities.push(serde_json::json!({
            "uid": {"type": "User", "id": format!("two:{i}")},
            "attrs": {},
            "parents": [{"type": "Role", "id": roles[a]}, {"type": "Role", "id": roles[b]}],
        }));
    }
    let entities =
        Entities::from_json_value(serde_json::Value::Array(entities), Some(&schema)).unwrap();
    let several_exact = plan(policy).several_roles_exact();
    let eval = Evaluator::from_policy(policy);
    let authorizer = Authorizer::new();
    let resource = uid("Resource", "r");
    let conditions = policy.conditions();
    let dims: Vec<String> = policy.dimensions().iter().map(|d| d.name.clone()).collect();
    let space = policy.context_space();
    let mut count = Count {
        policies: 1,
        ..Count::default()
    };
    let actions: Vec<EntityUid> = policy
        .permissions()
        .iter()
        .map(|p| uid("Action", &p.id))
        .collect();
    let Some(first_action) = actions.first() else {
        return count;
    };
    for t in policy.tier_ids() {
        for mask in assignments(conditions.len()) {
            let mut json = serde_json::Map::new();
            for (d, name) in dims.iter().enumerate() {
                let v = space.value_of(t, d).unwrap();
                let value = &policy.dimensions()[d].values[v].id;
                json.insert(name.clone(), serde_json::json!(value));
            }
            let mut facts = Facts::default();
            for (i, c) in conditions.iter().enumerate() {
                let holds = mask & (1 << i) != 0;
                facts.set(i, holds);
                json.insert(c.id.clone(), serde_json::json!(holds));
            }
            let context = Context::from_json_value(
                serde_json::Value::Object(json),
                Some((&schema, first_action)),
            )
            .unwrap();
            let ask = |user: &str, action: &EntityUid| {
                let request = Request::new(
                    uid("User", user),
                    action.clone(),
                    resource.clone(),
                    context.clone(),
                    Some(&schema),
                )
                .unwrap();
                authorizer
                    .is_authorized(&request, &policies, &entities)
                    .decision()
                    == Decision::Allow
            };
            let policyc = |roles: &[RoleId], p: PermId| {
                matches!(eval.outcome(t, roles, p, facts), Outcome::Allow { .. })
            };
            for (pi, action) in actions.iter().enumerate() {
                let p = PermId(pi as u32);
                let mut one = Vec::with_capacity(n);
                for (ri, r) in roles.iter().enumerate() {
                    let cedar = ask(&format!("one:{r}"), action);
                    let expect = policyc(&[RoleId(ri as u32)], p);
                    assert_eq!(
                        cedar,
                        expect,
                        "{what}: role {r}, permission {}, context {}, facts {mask:b}\n{}",
                        policy.permissions()[pi].id,
                        policy.tier_name(t),
                        files[1].text
                    );
                    one.push(cedar);
                    count.cells += 1;
                }
                for i in 0..n {
                    let (a, b) = pair(i);
                    let expect = policyc(&[RoleId(a as u32), RoleId(b as u32)], p);
                    // Per role, any one allowing: always policyc's decision.
                    assert_eq!(one[a] || one[b], expect, "{what}: per-role union");
                    if several_exact {
                        let cedar = ask(&format!("two:{i}"), action);
                        assert_eq!(
                            cedar,
                            expect,
                            "{what}: roles {} and {}, permission {}, context {}",
                            roles[a],
                            roles[b],
                            policy.permissions()[pi].id,
                            policy.tier_name(t)
                        );
                        count.pairs += 1;
                    }
                }
            }
        }
    }
    count
}

fn compile_path(path: &Path) -> Policy {
    let Ok(source) = policy_files::project::load_policy(path) else {
        panic!("cannot read {}", path.display());
    };
    let (policy, diags) = policy_compiler::compile(&source);
    assert!(
        !policy_compiler::has_errors(&diags),
        "{}: {diags:?}",
        path.display()
    );
    policy
}

fn repo() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn cedar_decides_every_cell_of_the_seeds_and_examples_as_policyc() {
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
    let mut total = Count::default();
    for path in &paths {
        let c = compare(&compile_path(path), &path.display().to_string());
        eprintln!(
            "{}: {} cells, {} two-role requests",
            path.strip_prefix(repo()).unwrap_or(path).display(),
            c.cells,
            c.pairs
        );
        total.policies += c.policies;
        total.cells += c.cells;
        total.pairs += c.pairs;
    }
    eprintln!(
        "seeds and examples: {} policies, {} cells, {} two-role requests, 0 mismatches",
        total.policies, total.cells, total.pairs
    );
    assert!(total.policies >= 8, "{total:?}");
}

/// Small policies with what the encoding must get right: exclusions, a
/// diamond around one, a role that exists in fewer contexts than one it
/// inherits, grant gates, conditions, offered contexts.
#[test]
fn cedar_decides_the_hard_shapes_as_policyc() {
    let shapes = [
        include_str!("shapes/exclusions.policy"),
        include_str!("shapes/availability.policy"),
        include_str!("shapes/offered.policy"),
        include_str!("shapes/conditions.policy"),
    ];
    for (i, text) in shapes.iter().enumerate() {
        let (policy, diags) = policy_compiler::compile(&SourceFile::new("s.policy", *text));
        assert!(!policy_compiler::has_errors(&diags), "{diags:?}");
        let c = compare(&policy, &format!("shape {i}"));
        assert!(c.cells > 0);
    }
}

static RANDOM: std::sync::Mutex<(Count, usize)> = std::sync::Mutex::new((
    Count {
        policies: 0,
        cells: 0,
        pairs: 0,
    },
    0,
));

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    /// 500 random policies; one with an exclusion under conditions is
    /// refused (P0601), then compared without those conditions.
    #[test]
    fn cedar_decides_every_cell_of_random_policies_as_policyc(mut raw in policy_testkit::clean_policy()) {
        let g = policy_testkit::build(&raw);
        let (policy, diags) = policy_compiler::compile(&SourceFile::new("gen.policy", g.text.clone()));
        prop_assert!(!policy_compiler::has_errors(&diags), "{}\n{diags:?}", g.text);
        let refused = policy_export::refusals(&policy, Target::Cedar);
        let mut seen = RANDOM.lock().unwrap();
        if !refused.is_empty() {
            prop_assert!(refused.iter().all(|d| d.code().as_str() == "P0601"));
            seen.1 += 1;
            for r in &mut raw.roles {
                r.exclude_when.clear();
            }
        }
        let g = policy_testkit::build(&raw);
        let (policy, diags) = policy_compiler::compile(&SourceFile::new("gen.policy", g.text.clone()));
        prop_assert!(!policy_compiler::has_errors(&diags), "{}\n{diags:?}", g.text);
        let c = compare(&policy, &g.text);
        seen.0.policies += c.policies;
        seen.0.cells += c.cells;
        seen.0.pairs += c.pairs;
        if seen.0.policies % 100 == 0 {
            eprintln!(
                "random: {} policies ({} refused first), {} cells, {} two-role requests, 0 mismatches",
                seen.0.policies, seen.1, seen.0.cells, seen.0.pairs
            );
        }
    }
}
