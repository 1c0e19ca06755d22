//! Differential proof of the Rego export (`--features rego`), run by
//! regorus: for the seeds, every example policy and 500 random policies of
//! the shared generator, the exported bundle's `allow` equals policyc's
//! decision on every (role, permission, context) cell under every
//! assignment of the facts, for a user holding exactly that role and for
//! one holding two roles (one request); `reasons` is non-empty exactly when
//! allowed; and a request that leaves a fact out is denied.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers outside #[test] functions: a failure should fail the test"
)]

mod common;

use common::{assignments, facts, header, policyc_allows, request_parts, Count};
use policy_compiler::{PermId, Policy, RoleId};
use policy_eval::Evaluator;
use policy_export::{export, package_root, Target};
use proptest::prelude::*;
use regorus::{Engine, Value};

/// Exports `policy` to Rego, loads the bundle in regorus and compares
/// every cell; returns the counts.
fn compare(policy: &Policy, what: &str) -> Count {
    let files = export(policy, Target::Rego, &header("p")).unwrap();
    let mut engine = Engine::new();
    engine
        .add_policy(files[0].path.clone(), files[0].text.clone())
        .unwrap_or_else(|e| panic!("{what}: module: {e}\n{}", files[0].text));
    engine
        .add_data(Value::from_json_str(&files[1].text).unwrap())
        .unwrap();
    let root = package_root("p");
    // Every action asked in one evaluation: the exported `allow` and
    // `reasons` rules, evaluated for each action (`with input.action`).
    let probe = format!(
        "package probe\nimport rego.v1\n\n\
         allowed contains a if {{\n  some a in object.keys(data.{root}.permissions)\n  data.{root}.authz.allow with input.action as a\n}}\n\n\
         explained contains a if {{\n  some a in object.keys(data.{root}.permissions)\n  count(data.{root}.authz.reasons) > 0 with input.action as a\n}}\n"
    );
    engine.add_policy("probe.rego".into(), probe).unwrap();
    let eval = Evaluator::from_policy(policy);
    let roles: Vec<String> = policy.roles().iter().map(|r| r.id.clone()).collect();
    let n = roles.len();
    let mut count = Count {
        policies: 1,
        ..Count::default()
    };
    // The actions allowed, and those with a reason, for a user holding `held`.
    let ask =
        |engine: &mut Engine, held: &[&str], on: &serde_json::Value, when: &serde_json::Value| {
            let input = serde_json::json!({"roles": held, "action": "", "on": on, "when": when});
            engine.set_input(Value::from_json_str(&input.to_string()).unwrap());
            let names = |v: Value| -> std::collections::BTreeSet<String> {
                match v {
                    Value::Set(s) => s
                        .iter()
                        .map(|a| a.as_string().unwrap().to_string())
                        .collect(),
                    _ => std::collections::BTreeSet::new(),
                }
            };
            let allowed = names(engine.eval_rule("data.probe.allowed".into()).unwrap());
            let explained = names(engine.eval_rule("data.probe.explained".into()).unwrap());
            (allowed, explained)
        };
    for t in policy.tier_ids() {
        for mask in assignments(policy.conditions().len()) {
            let (on, when) = request_parts(policy, t, mask);
            let (on, when) = (
                serde_json::Value::Object(on),
                serde_json::Value::Object(when),
            );
            let facts = facts(policy, mask);
            for (ri, r) in roles.iter().enumerate() {
                let (allowed, explained) = ask(&mut engine, &[r], &on, &when);
                assert_eq!(
                    allowed, explained,
                    "{what}: reasons exactly when allowed, role {r}"
                );
                let r2 = (ri + 1) % n;
                let (both, _) = ask(&mut engine, &[r, &roles[r2]], &on, &when);
                for (pi, perm) in policy.permissions().iter().enumerate() {
                    let p = PermId(pi as u32);
                    let expect = policyc_allows(&eval, t, &[RoleId(ri as u32)], p, facts);
                    assert_eq!(
                        allowed.contains(&perm.id),
                        expect,
                        "{what}: role {r}, permission {}, context {}, facts {mask:b}",
                        perm.id,
                        policy.tier_name(t)
                    );
                    count.cells += 1;
                    let expect =
                        policyc_allows(&eval, t, &[RoleId(ri as u32), RoleId(r2 as u32)], p, facts);
                    assert_eq!(
                        both.contains(&perm.id),
                        expect,
                        "{what}: roles {r} and {}, {}",
                        roles[r2],
                        perm.id
                    );
                    count.pairs += 1;
                }
            }
        }
    }
    // A request that leaves a fact out is denied, whatever it asks.
    if let (Some(c), Some(r)) = (policy.conditions().first(), roles.first()) {
        let t = policy.tier_ids().next().unwrap();
        let (on, mut when) = request_parts(policy, t, u64::MAX);
        when.remove(&c.id);
        let (allowed, _) = ask(
            &mut engine,
            &[r],
            &serde_json::Value::Object(on),
            &serde_json::Value::Object(when),
        );
        assert!(
            allowed.is_empty(),
            "{what}: allowed without the fact {}",
            c.id
        );
    }
    count
}

#[test]
fn rego_decides_every_cell_of_the_seeds_and_examples_as_policyc() {
    common::compare_shipped(compare);
}

#[test]
fn rego_decides_the_hard_shapes_as_policyc() {
    for (name, policy) in common::shapes()
        .into_iter()
        .chain(common::conditional_shapes())
    {
        assert!(compare(&policy, &name).cells > 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    /// 500 random policies, exclusions under conditions included.
    #[test]
    fn rego_decides_every_cell_of_random_policies_as_policyc(raw in policy_testkit::clean_policy()) {
        let (text, policy) = common::generated(&raw);
        let conditional = policy
            .roles()
            .iter()
            .any(|r| r.exclusions.iter().any(|e| !e.when.is_empty()));
        common::record_random(compare(&policy, &text), conditional);
    }
}
