//! One access decision in policyc and in peer engines (Cedar, Rego via
//! regorus, casbin), on the Humanloop seed policy and on a generated
//! policy of 1,000 roles (inheritance depth up to 50) and 5,000 permissions.
//!
//! ```text
//! cargo bench -p policy-bench --features peers --bench decision -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Every peer is given the policy as policyc resolved it: per role and
//! tier, the permissions it may use (Cedar: one `permit` per role and set
//! of tiers with equal permissions; Rego: a data document `grants[tier][role][action]`
//! and a one-line rule; casbin: one `p` line per role, tier and permission).
//! This is the cheapest encoding for them (no inheritance to walk at
//! decision time). Before timing, every engine must give policyc's
//! decision on the whole role × permission × tier grid (seed) or on a
//! fixed sample of it (generated); the benchmark panics otherwise.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark harness: a failed setup should stop the run"
)]

use std::cell::Cell;
use std::collections::BTreeMap;
use std::str::FromStr;

use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request, RestrictedExpression,
};
use criterion::{criterion_group, criterion_main, Criterion};
use policy_bench::{generate, Spec, TierPerms};
use policy_compiler::{PermId, Policy, RoleId, TierId};
use policy_eval::Evaluator;
use policy_syntax::SourceFile;

/// One request, by name and by id.
#[derive(Clone)]
struct Req {
    tier: String,
    role: String,
    perm: String,
    ids: (TierId, RoleId, PermId),
    expect: bool,
}

struct Subject {
    name: &'static str,
    policy: Policy,
    tiered: bool,
}

impl Subject {
    fn req(&self, t: TierId, r: RoleId, p: PermId) -> Req {
        Req {
            tier: self.policy.tier_name(t).to_string(),
            role: self.policy.role(r).unwrap().id.clone(),
            perm: self.policy.permission(p).unwrap().id.clone(),
            ids: (t, r, p),
            expect: self.policy.allows(t, r, p),
        }
    }

    /// The cells to verify: all of them, or a fixed sample when there are many.
    fn grid(&self) -> Vec<Req> {
        let (nt, nr, np) = (
            self.policy.tier_count(),
            self.policy.roles().len(),
            self.policy.permissions().len(),
        );
        let total = nt * nr * np;
        let step = (total / 500).max(1);
        let mut out = Vec::new();
        let mut i = 0;
        while i < total {
            let (t, rest) = (i / (nr * np), i % (nr * np));
            out.push(self.req(
                TierId(t as u32),
                RoleId((rest / np) as u32),
                PermId((rest % np) as u32),
            ));
            // A stride co-prime with the table's dimensions visits every row and column.
            i += step + usize::from(step > 1) * (i % 7);
        }
        // And every permission of the deepest roles, where inheritance matters most.
        for r in nr.saturating_sub(3)..nr {
            for p in 0..np.min(100) {
                out.push(self.req(TierId((nt - 1) as u32), RoleId(r as u32), PermId(p as u32)));
            }
        }
        out
    }

    /// 64 requests, half allowed and half denied, in a fixed shuffled order.
    fn mix(&self, grid: &[Req]) -> Vec<Req> {
        let allows: Vec<&Req> = grid.iter().filter(|r| r.expect).collect();
        let denies: Vec<&Req> = grid.iter().filter(|r| !r.expect).collect();
        assert!(!allows.is_empty() && !denies.is_empty());
        (0..64usize)
            .map(|i| {
                let k = i.wrapping_mul(2_654_435_761) >> 3;
                let pool = if i % 2 == 0 { &allows } else { &denies };
                pool[k % pool.len()].clone()
            })
            .collect()
    }

    /// Per role: tier-set → effective permission ids (tiers with equal sets merged).
    fn flattened(&self) -> Vec<(String, Vec<TierPerms>)> {
        policy_bench::flattened(&self.policy)
    }
}

// ---- Cedar -------------------------------------------------------------

struct Cedar {
    policies: PolicySet,
    entities: Entities,
    authorizer: Authorizer,
}

fn quote(s: &str) -> String {
    format!("\"{s}\"")
}

impl Cedar {
    fn new(s: &Subject) -> Self {
        let text = policy_bench::cedar_policies(&s.policy);
        Cedar {
            policies: text.parse().expect("cedar policies parse"),
            entities: Entities::empty(),
            authorizer: Authorizer::new(),
        }
    }

    fn request(r: &Req) -> Request {
        let principal = EntityUid::from_str(&format!("Role::{}", quote(&r.role))).unwrap();
        let action = EntityUid::from_str(&format!("Action::{}", quote(&r.perm))).unwrap();
        let resource = EntityUid::from_str("Org::\"org\"").unwrap();
        let context = Context::from_pairs([(
            "tier".to_string(),
            RestrictedExpression::new_string(r.tier.clone()),
        )])
        .unwrap();
        Request::new(principal, action, resource, context, None).unwrap()
    }

    fn decide(&self, req: &Request) -> bool {
        self.authorizer
            .is_authorized(req, &self.policies, &self.entities)
            .decision()
            == Decision::Allow
    }
}

// ---- Rego (regorus) ----------------------------------------------------

const REGO: &str = r#"package policyc

import rego.v1

default allow := false

allow if data.grants[input.tier][input.role][input.action]
"#;

fn rego_engine(s: &Subject) -> regorus::Engine {
    let mut grants: BTreeMap<String, BTreeMap<String, BTreeMap<String, bool>>> = BTreeMap::new();
    for (role, sets) in s.flattened() {
        for (tiers, perms) in sets {
            for t in tiers {
                let m = grants
                    .entry(t)
                    .or_default()
                    .entry(role.clone())
                    .or_default();
                for p in &perms {
                    m.insert(p.clone(), true);
                }
            }
        }
    }
    let data = serde_json::json!({ "grants": grants });
    let mut engine = regorus::Engine::new();
    engine
        .add_policy("policyc.rego".to_string(), REGO.to_string())
        .unwrap();
    engine
        .add_data(regorus::Value::from_json_str(&data.to_string()).unwrap())
        .unwrap();
    engine
}

fn rego_input(r: &Req) -> regorus::Value {
    let json = serde_json::json!({ "tier": r.tier, "role": r.role, "action": r.perm });
    regorus::Value::from_json_str(&json.to_string()).unwrap()
}

fn rego_decide(engine: &mut regorus::Engine, input: &regorus::Value) -> bool {
    engine.set_input(input.clone());
    engine.eval_rule("data.policyc.allow".to_string()).unwrap() == regorus::Value::from(true)
}

// ---- casbin ------------------------------------------------------------

const CASBIN_MODEL: &str = "[request_definition]
r = sub, dom, obj

[policy_definition]
p = sub, dom, obj

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.sub == p.sub && r.dom == p.dom && r.obj == p.obj
";

fn casbin_enforcer(s: &Subject) -> Enforcer {
    pollster::block_on(async {
        let model = DefaultModel::from_str(CASBIN_MODEL).await.unwrap();
        let mut e = Enforcer::new(model, MemoryAdapter::default())
            .await
            .unwrap();
        let mut rules = Vec::new();
        for (role, sets) in s.flattened() {
            for (tiers, perms) in sets {
                for t in &tiers {
                    for p in &perms {
                        rules.push(vec![role.clone(), t.clone(), p.clone()]);
                    }
                }
            }
        }
        e.add_policies(rules).await.unwrap();
        e
    })
}

fn casbin_decide(e: &Enforcer, r: &Req) -> bool {
    e.enforce((r.role.as_str(), r.tier.as_str(), r.perm.as_str()))
        .unwrap()
}

// ---- the benchmark -----------------------------------------------------

fn subjects() -> Vec<Subject> {
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../policies/humanloop.policy"
    ))
    .expect("policies/humanloop.policy");
    let gen = generate(&Spec::new(1_000, 5_000, 50));
    [("humanloop", seed), ("generated-1000", gen)]
        .into_iter()
        .map(|(name, text)| {
            let (policy, diags) = policy_compiler::compile(&SourceFile::new(name, text));
            assert!(diags.is_empty(), "{name}: {:?}", diags.first());
            let tiered = !policy.tiers().is_empty();
            Subject {
                name,
                policy,
                tiered,
            }
        })
        .collect()
}

fn cycle<'a, T>(items: &'a [T], i: &Cell<usize>) -> &'a T {
    let k = i.get();
    i.set(k + 1);
    &items[k % items.len()]
}

fn decision(c: &mut Criterion) {
    for s in subjects() {
        let eval = Evaluator::from_policy(&s.policy);
        let cedar = Cedar::new(&s);
        let mut rego = rego_engine(&s);
        let casbin = casbin_enforcer(&s);
        let tiered = s.tiered;
        fn tier(tiered: bool, r: &Req) -> Option<&str> {
            tiered.then_some(r.tier.as_str())
        }

        let grid = s.grid();
        for r in &grid {
            let (t, ro, p) = r.ids;
            let name = format!("{} on {}: {} {}", s.name, r.tier, r.role, r.perm);
            assert_eq!(eval.decide_one(t, ro, p), r.expect, "policyc ids, {name}");
            let by_name = eval.decide_by_name(tier(tiered, r), &[r.role.as_str()], &r.perm);
            assert_eq!(by_name.ok(), Some(r.expect), "policyc by name, {name}");
            assert_eq!(cedar.decide(&Cedar::request(r)), r.expect, "cedar, {name}");
            assert_eq!(
                rego_decide(&mut rego, &rego_input(r)),
                r.expect,
                "rego, {name}"
            );
            assert_eq!(casbin_decide(&casbin, r), r.expect, "casbin, {name}");
        }
        eprintln!(
            "{}: all engines agree with policyc on {} cells ({} allowed)",
            s.name,
            grid.len(),
            grid.iter().filter(|r| r.expect).count()
        );

        let mix = s.mix(&grid);
        let cedar_reqs: Vec<Request> = mix.iter().map(Cedar::request).collect();
        let rego_inputs: Vec<regorus::Value> = mix.iter().map(rego_input).collect();
        let i = Cell::new(0usize);
        let mut g = c.benchmark_group(format!("decision/{}", s.name));
        if s.policy.roles().len() > 100 {
            // Peers take milliseconds per decision here.
            g.sample_size(10);
        }
        g.bench_function("policyc-ids", |b| {
            b.iter(|| {
                let r = cycle(&mix, &i);
                let (t, ro, p) = std::hint::black_box(r.ids);
                eval.decide_one(t, ro, p)
            })
        });
        g.bench_function("policyc-by-name", |b| {
            b.iter(|| {
                let r = std::hint::black_box(cycle(&mix, &i));
                eval.decide_by_name(tier(tiered, r), &[r.role.as_str()], &r.perm)
            })
        });
        g.bench_function("cedar-prebuilt", |b| {
            b.iter(|| cedar.decide(std::hint::black_box(cycle(&cedar_reqs, &i))))
        });
        g.bench_function("cedar-from-strings", |b| {
            b.iter(|| cedar.decide(&Cedar::request(std::hint::black_box(cycle(&mix, &i)))))
        });
        g.bench_function("regorus", |b| {
            b.iter(|| rego_decide(&mut rego, std::hint::black_box(cycle(&rego_inputs, &i))))
        });
        g.bench_function("casbin", |b| {
            b.iter(|| casbin_decide(&casbin, std::hint::black_box(cycle(&mix, &i))))
        });
        g.finish();
    }
}

criterion_group!(benches, decision);
criterion_main!(benches);
