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

mod common;

use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request, Schema, ValidationMode,
    Validator,
};
use common::{assignments, facts, header, policyc_allows, request_parts, Count};
use policy_compiler::{PermId, Policy, RoleId};
use policy_eval::Evaluator;
use policy_export::{export, plan, ExportFile, Target};
use proptest::prelude::*;

fn uid(kind: &str, id: &str) -> EntityUid {
    EntityUid::from_str(&format!("{kind}::{}", serde_json::to_string(id).unwrap())).unwrap()
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
        for mask in assignments(policy.conditions().len()) {
            let (mut json, when) = request_parts(policy, t, mask);
            json.extend(when);
            let facts = facts(policy, mask);
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
            let policyc = |roles: &[RoleId], p: PermId| policyc_allows(&eval, t, roles, p, facts);
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

#[test]
fn cedar_decides_every_cell_of_the_seeds_and_examples_as_policyc() {
    common::compare_shipped(compare);
}

/// Small policies with what the encoding must get right: exclusions, a
/// diamond around one, a role that exists in fewer contexts than one it
/// inherits, grant gates, conditions, offered contexts.
#[test]
fn cedar_decides_the_hard_shapes_as_policyc() {
    for (name, policy) in common::shapes()
        .into_iter()
        .chain(common::conditional_shapes())
    {
        assert!(compare(&policy, &name).cells > 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    /// 500 random policies, exclusions under conditions included (none
    /// is refused).
    #[test]
    fn cedar_decides_every_cell_of_random_policies_as_policyc(raw in policy_testkit::clean_policy()) {
        let (text, policy) = common::generated(&raw);
        let refused = policy_export::refusals(&policy, Target::Cedar);
        prop_assert!(refused.is_empty(), "{text}\n{refused:?}");
        let conditional = policy
            .roles()
            .iter()
            .any(|r| r.exclusions.iter().any(|e| !e.when.is_empty()));
        common::record_random(compare(&policy, &text), conditional);
    }
}
