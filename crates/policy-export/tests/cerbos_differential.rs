//! Differential proof of the Cerbos export (`--features cerbos`, with the
//! `cerbos` binary from `$CERBOS` or PATH): for the seeds, every example
//! policy, the hard shapes and 500 random policies of the shared
//! generator, `cerbos compile` loads the exported policies and runs, beside
//! the export's own suite, a suite this test writes from policyc's
//! decisions: every (role, permission, context) cell under every
//! assignment of the facts for a user holding that role, and every user
//! holding two neighbouring roles; and requests that leave out a fact or a
//! dimension, or give one a value it does not have, which are denied.
//! Cerbos must decide all of them as policyc does, and run exactly as many
//! as there are.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers outside #[test] functions: a failure should fail the test"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{facts, header, policyc_allows, request_parts, Count};
use policy_compiler::{PermId, Policy, RoleId};
use policy_eval::Evaluator;
use policy_export::{cerbos_assignments, cerbos_resource, export, Target};
use proptest::strategy::{Strategy, ValueTree};
use serde_json::{json, Map};

/// The `cerbos` binary: `$CERBOS`, else `cerbos` on PATH.
fn cerbos() -> PathBuf {
    if let Some(path) = std::env::var_os("CERBOS") {
        return PathBuf::from(path);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("cerbos"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "the cerbos differential test needs the cerbos binary: set CERBOS or put it on PATH \
             (npm install @cerbos/cerbos-linux-x64; .ci/run does)"
        )
    })
}

/// Writes `name`'s export, and this test's suite of every cell and
/// two-role request, into `dir`; returns the suite's file name and the
/// number of decisions in it.
fn write_policy(dir: &Path, name: &str, policy: &Policy, what: &str) -> (String, Count) {
    let files = export(policy, Target::Cerbos, &header(name))
        .unwrap_or_else(|d| panic!("{what}: refused: {d:?}"));
    for f in &files {
        std::fs::write(dir.join(&f.path), &f.text).unwrap();
    }
    std::fs::write(dir.join(format!("{name}.source.txt")), what).unwrap();
    let eval = Evaluator::from_policy(policy);
    let n = policy.roles().len();
    let roles: Vec<&str> = policy.roles().iter().map(|r| r.id.as_str()).collect();
    let mut principals = Map::new();
    let mut holders: Vec<(String, Vec<RoleId>)> = Vec::new();
    for (i, r) in roles.iter().enumerate() {
        holders.push((format!("one:{r}"), vec![RoleId(i as u32)]));
    }
    if n > 1 {
        for i in 0..n {
            let j = (i + 1) % n;
            holders.push((
                format!("two:{}+{}", roles[i], roles[j]),
                vec![RoleId(i as u32), RoleId(j as u32)],
            ));
        }
    }
    for (id, held) in &holders {
        let list: Vec<&str> = held.iter().map(|r| roles[r.index()]).collect();
        principals.insert(id.clone(), json!({"id": id, "roles": list}));
    }
    let mut resources = Map::new();
    let mut cells = Vec::new();
    for t in policy.tier_ids() {
        for mask in cerbos_assignments(policy.conditions().len()) {
            let key = cerbos_resource(policy, t, mask);
            let (mut attr, when) = request_parts(policy, t, mask);
            attr.extend(when);
            resources.insert(key.clone(), json!({"kind": name, "id": key, "attr": attr}));
            cells.push((t, mask, key));
        }
    }
    // Malformed requests, denied to everyone: no attributes at all, a
    // dimension's value it does not have, a fact that is not a boolean.
    let mut malformed: Vec<(String, Map<String, serde_json::Value>)> = Vec::new();
    if let Some(t) = policy.tier_ids().next() {
        let (on, when) = request_parts(policy, t, 0);
        if !on.is_empty() || !when.is_empty() {
            malformed.push(("malformed: nothing".into(), Map::new()));
        }
        for d in on.keys() {
            let mut attr = on.clone();
            attr.insert(d.clone(), json!("no-such-value"));
            attr.extend(when.clone());
            malformed.push((format!("malformed: {d}"), attr));
        }
        for c in when.keys() {
            let mut attr = on.clone();
            attr.extend(when.clone());
            attr.insert(c.clone(), json!("yes"));
            malformed.push((format!("malformed: {c}"), attr));
        }
    }
    let malformed_keys: Vec<String> = malformed.iter().map(|(k, _)| k.clone()).collect();
    for (key, attr) in malformed {
        resources.insert(key.clone(), json!({"kind": name, "id": key, "attr": attr}));
    }
    let actions: Vec<&str> = policy.permissions().iter().map(|p| p.id.as_str()).collect();
    let mut expected = Vec::new();
    let mut count = Count {
        policies: 1,
        ..Count::default()
    };
    for (id, held) in &holders {
        for (t, mask, key) in &cells {
            let f = facts(policy, *mask);
            let mut allowed = Map::new();
            for (pi, p) in actions.iter().enumerate() {
                if policyc_allows(&eval, *t, held, PermId(pi as u32), f) {
                    allowed.insert((*p).to_string(), json!("EFFECT_ALLOW"));
                }
                if held.len() == 1 {
                    count.cells += 1;
                } else {
                    count.pairs += 1;
                }
            }
            if !allowed.is_empty() {
                expected.push(json!({"principal": id, "resource": key, "actions": allowed}));
            }
        }
        count.malformed += malformed_keys.len() * actions.len();
    }
    if expected.is_empty() {
        // Cerbos wants some expectation: the first cell, denied.
        if let (Some((id, _)), Some((_, _, key)), Some(p)) =
            (holders.first(), cells.first(), actions.first())
        {
            expected
                .push(json!({"principal": id, "resource": key, "actions": {*p: "EFFECT_DENY"}}));
        }
    }
    let suite_file = format!("{name}_cells_test.json");
    if !holders.is_empty() && !actions.is_empty() {
        let suite = json!({
            "name": format!("{name}: policyc's decisions"),
            "principals": principals,
            "resources": resources,
            "tests": [{
                "name": "every cell and two-role request",
                "input": {
                    "principals": holders.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
                    "resources": cells
                        .iter()
                        .map(|(_, _, k)| k.as_str())
                        .chain(malformed_keys.iter().map(String::as_str))
                        .collect::<Vec<_>>(),
                    "actions": actions,
                },
                "expected": expected,
            }],
        });
        std::fs::write(dir.join(&suite_file), suite.to_string()).unwrap();
    }
    (suite_file, count)
}

/// Runs `cerbos compile` on `dir`, which must pass, and checks that each
/// suite of `suites` ran the number of decisions given.
fn run_cerbos(dir: &Path, suites: &[(String, Count)]) {
    let out = Command::new(cerbos())
        .args(["compile", "--color=never", "-o", "tree"])
        .arg(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "cerbos compile {} failed:\n{stdout}\n{stderr}",
        dir.display()
    );
    for (file, count) in suites {
        let expect = count.cells + count.pairs + count.malformed;
        if expect == 0 {
            continue;
        }
        let ran = stdout
            .lines()
            .find(|l| l.contains(&format!("({file})")))
            .unwrap_or_else(|| panic!("no result for {file}:\n{stdout}"));
        assert!(
            ran.ends_with(&format!("[{expect} OK]")),
            "{file}: expected {expect} decisions, all OK: {ran}"
        );
    }
}

fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "policyc-cerbos-{label}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Exports and checks `policies` in one directory, one `cerbos` run.
fn compare_all(label: &str, policies: &[(String, Policy)]) -> Count {
    let dir = temp_dir(label);
    let mut suites = Vec::new();
    let mut total = Count::default();
    for (i, (what, policy)) in policies.iter().enumerate() {
        let (file, count) = write_policy(&dir, &format!("p{i}"), policy, what);
        total.add(count);
        suites.push((file, count));
    }
    run_cerbos(&dir, &suites);
    let _ = std::fs::remove_dir_all(&dir);
    total
}

#[test]
fn cerbos_decides_every_cell_of_the_seeds_and_examples_as_policyc() {
    let shipped = common::shipped_policies();
    assert!(shipped.len() >= 8);
    let total = compare_all("shipped", &shipped);
    eprintln!(
        "seeds and examples: {} policies, {} cells, {} two-role requests, {} malformed requests, 0 mismatches",
        total.policies, total.cells, total.pairs, total.malformed
    );
}

/// Small policies with what the encoding must get right: exclusions, a
/// diamond around one, a role that exists in fewer contexts than one it
/// inherits, grant gates, conditions, offered contexts, exclusions under
/// conditions.
#[test]
fn cerbos_decides_the_hard_shapes_as_policyc() {
    let mut shapes = common::shapes();
    shapes.extend(common::conditional_shapes());
    let total = compare_all("shapes", &shapes);
    assert!(total.cells > 0 && total.pairs > 0, "{total:?}");
}

/// 500 random policies, exclusions under conditions included (none is
/// refused), in one `cerbos` run.
#[test]
fn cerbos_decides_every_cell_of_random_policies_as_policyc() {
    let mut runner = proptest::test_runner::TestRunner::default();
    let strategy = policy_testkit::clean_policy();
    let mut policies = Vec::new();
    let mut conditional = 0;
    while policies.len() < 500 {
        let raw = strategy.new_tree(&mut runner).unwrap().current();
        let (text, policy) = common::generated(&raw);
        let refused = policy_export::refusals(&policy, Target::Cerbos);
        assert!(refused.is_empty(), "{text}\n{refused:?}");
        conditional += usize::from(
            policy
                .roles()
                .iter()
                .any(|r| r.exclusions.iter().any(|e| !e.when.is_empty())),
        );
        policies.push((text, policy));
    }
    let total = compare_all("random", &policies);
    eprintln!(
        "random: {} policies ({conditional} with exclusions under conditions), {} cells, {} two-role requests, {} malformed requests, 0 mismatches",
        total.policies, total.cells, total.pairs, total.malformed
    );
    assert_eq!(total.policies, 500);
}
