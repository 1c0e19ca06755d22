//! End-to-end agreement: on random policies (a third on levels, asked by
//! full ids), the real `policyc` binary answers every cell as the naive
//! reference does through `query --batch` (from source and from the
//! compiled JSON and YAML artifacts), `matrix`,
//! `who-can`, `what-can` and `snapshot`; `policyc test` passes a test file
//! of the reference's answers; and the explanations printed from the
//! artifact equal those from source. (`src/agreement_tests.rs` runs the
//! same paths through their library functions on many more policies.)
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers: a failed lookup is a test failure"
)]

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::{policyc, sandbox, transcript};
use policy_testkit::Spec;
use proptest::prelude::*;
use serde_json::Value;

/// The first value under `key`, searched depth-first, so the test reads
/// the answer whatever envelope the JSON output wraps it in.
fn find<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => m.get(key).or_else(|| m.values().find_map(|x| find(x, key))),
        Value::Array(a) => a.iter().find_map(|x| find(x, key)),
        _ => None,
    }
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let out = policyc(dir, args);
    assert_eq!(out.status.code(), Some(0), "{args:?}\n{}", transcript(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| match x {
            Value::String(s) => s.clone(),
            other => other["id"].as_str().unwrap().to_string(),
        })
        .collect()
}

/// Per request line: `(decision, reasons)` of `query --batch`.
fn batch(dir: &Path, file: &str) -> Vec<(String, Value)> {
    let out = policyc(dir, &["query", file, "--batch", "requests.jsonl"]);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let decision = match find(&v, "decision").and_then(Value::as_str) {
                Some(d @ ("allow" | "deny" | "conditional")) => d.to_string(),
                other => panic!("{other:?} in {l}"),
            };
            (decision, find(&v, "reasons").cloned().unwrap())
        })
        .collect()
}

fn check(g: &Spec) {
    let text = g.text.clone();
    let dir = sandbox(&[("gen.policy", &text)]);
    let d = dir.path();
    for (fmt, out) in [("json", "gen.json"), ("yaml", "gen.yaml")] {
        let o = policyc(d, &["compile", "gen.policy", "--format", fmt, "-o", out]);
        assert_eq!(o.status.code(), Some(0), "{}\n{text}", transcript(&o));
    }
    let tiers = g.tier_names();
    // Every cell and several role sets, in one batch per loaded form.
    let mut requests = String::new();
    let mut expected = Vec::new();
    for (ti, t) in tiers.iter().enumerate() {
        for roles in g.role_sets() {
            for (p, pid) in g.perms.iter().map(|x| x.id.as_str()).enumerate() {
                let names: Vec<String> = roles
                    .iter()
                    .map(|r| format!("\"{}\"", g.role_id(*r)))
                    .collect();
                let tier = t
                    .as_ref()
                    .map_or(String::new(), |t| format!(",\"tier\":\"{t}\""));
                let _ = writeln!(
                    requests,
                    "{{\"roles\":[{}],\"action\":\"{pid}\"{tier}}}",
                    names.join(",")
                );
                expected.push(g.outcome(ti, &roles, p));
            }
        }
    }
    std::fs::write(d.join("requests.jsonl"), requests).unwrap();
    let from_source = batch(d, "gen.policy");
    let from_json = batch(d, "gen.json");
    let from_yaml = batch(d, "gen.yaml");
    for (i, want) in expected.iter().enumerate() {
        assert_eq!(
            from_source[i].0,
            *want,
            "query request {} of\n{text}",
            i + 1
        );
        assert_eq!(
            from_json[i],
            from_source[i],
            "explanation from JSON, request {}",
            i + 1
        );
        assert_eq!(
            from_yaml[i],
            from_source[i],
            "explanation from YAML, request {}",
            i + 1
        );
    }
    let snapshot: serde_yaml::Value =
        serde_yaml::from_slice(&policyc(d, &["snapshot", "gen.policy"]).stdout).unwrap();
    for (ti, t) in tiers.iter().enumerate() {
        let tier_args: Vec<&str> = t.as_deref().map_or(vec![], |t| vec!["--tier", t]);
        let mut args = vec!["matrix", "gen.policy", "--format", "json"];
        args.extend(&tier_args);
        let m = json(d, &args);
        let rows = find(&m, "rows").unwrap().as_array().unwrap().clone();
        // With several dimensions, equal contexts share one entry whose
        // key lists them, joined by `, `.
        let snap_roles = match t {
            Some(t) => snapshot["tiers"]
                .as_mapping()
                .unwrap()
                .iter()
                .find(|(k, _)| k.as_str().unwrap().split(", ").any(|c| c == t))
                .map(|(_, v)| v)
                .unwrap(),
            None => &snapshot["roles"],
        };
        for (p, pid) in g.perms.iter().map(|x| x.id.as_str()).enumerate() {
            let matrix_roles = ids(&rows[p]["roles"]);
            for file in ["gen.policy", "gen.json"] {
                let mut args = vec!["who-can", file, pid, "--format", "json"];
                args.extend(&tier_args);
                let w = json(d, &args);
                let who = ids(find(&w, "roles").unwrap());
                for r in 0..g.roles.len() {
                    let want = g.allows(ti, r, p);
                    let name = g.role_id(r);
                    assert_eq!(
                        who.contains(&name),
                        want,
                        "who-can {file} {pid} {t:?} {name}\n{text}"
                    );
                    assert_eq!(
                        matrix_roles.contains(&name),
                        want,
                        "matrix {pid} {t:?} {name}\n{text}"
                    );
                    // A cell held only under conditions is an entry `when …`.
                    let entry = snap_roles[name.as_str()]
                        .as_mapping()
                        .and_then(|m| m.get(pid))
                        .and_then(serde_yaml::Value::as_str);
                    let in_snap = entry.is_some_and(|e| !e.starts_with("when "));
                    assert_eq!(in_snap, want, "snapshot {pid} {t:?} {name}\n{text}");
                    assert_eq!(
                        entry.is_some_and(|e| e.starts_with("when ")),
                        g.outcome(ti, &[r], p) == "conditional",
                        "snapshot (conditional) {pid} {t:?} {name}\n{text}"
                    );
                }
            }
        }
        for r in 0..g.roles.len() {
            let name = g.role_id(r);
            let mut args = vec!["what-can", "gen.json", &name, "--format", "json"];
            args.extend(&tier_args);
            let w = json(d, &args);
            let what = ids(find(&w, "permissions").unwrap());
            for (p, pid) in g.perms.iter().map(|x| x.id.as_str()).enumerate() {
                let want = g.allows(ti, r, p);
                assert_eq!(
                    what.contains(&pid.to_string()),
                    want,
                    "what-can {name} {pid} {t:?}\n{text}"
                );
            }
        }
    }
    // `policyc test` with the reference's answers for every single-role cell.
    let mut tests = String::from("policy: gen.policy\ncases:\n");
    for (ti, t) in tiers.iter().enumerate() {
        for r in 0..g.roles.len() {
            for (p, pid) in g.perms.iter().map(|x| x.id.as_str()).enumerate() {
                let tier = t.as_ref().map_or(String::new(), |t| format!(", tier: {t}"));
                let expect = g.outcome(ti, &[r], p);
                let _ = writeln!(
                    tests,
                    "  - {{ roles: [{}], action: {pid}{tier}, expect: {expect} }}",
                    g.role_id(r)
                );
            }
        }
    }
    std::fs::write(d.join("gen.test.yaml"), tests).unwrap();
    let o = policyc(d, &["test", "gen.test.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{text}", transcript(&o));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn the_binary_agrees_on_every_cell(raw in policy_testkit::clean_policy()) {
        check(&policy_testkit::build(&raw));
    }
}
