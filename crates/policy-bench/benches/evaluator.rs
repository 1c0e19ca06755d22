//! policyc alone: one decision by id and by name, and building the
//! evaluator, on the Humanloop seed policy and on generated policies of
//! 1,000 roles / 5,000 permissions (with one dimension, and with two:
//! `generated-1000-editions`, 9 contexts named `enterprise+dedicated` …, and on three levels: `generated-1000-levels`,
//! organization ▸ team ▸ project with `acts as`, named by full ids such as
//! `team.r112` and `project.res512.view`, and with conditions:
//! `generated-1000-conditions`, where some grants hold only `when` some
//! of eight conditions hold) and 10,000 roles / 50,000 permissions
//! (inheritance depth up to 50; the second for building only, to show it
//! is linear). The same request mix as the `decision` bench, without the
//! peer engines, so it builds in a minute. `bare-bitset-by-name` is the
//! floor the by-name path is held to: a dense precomputed
//! `tier × role × permission` bitset behind three foldhash maps of the
//! names, with no error handling.
//!
//! On the conditions subject, `conditional/*` decides 64 cells held only
//! under conditions, each with facts stating its conditions (half of
//! them all holding: allowed; half with one failing: denied):
//! `outcome-ids-facts` is `Evaluator::outcome` with ids and facts
//! resolved once, against `policyc-ids`, the unconditional `decide` by
//! ids of the same cells (the target: at most 2×); `outcome-by-name-facts`
//! resolves the names and the facts (`Evaluator::facts`) every time,
//! against `policyc-by-name`, `decide_by_name` of the same cells. On a
//! subject with conditions, `outcome-ids` is `Evaluator::outcome` (no fact
//! stated) on the usual mix, beside `policyc-ids`: what conditions cost a
//! request the table decides.
//!
//! ```text
//! cargo bench -p policy-bench --features bench --bench evaluator -- --warm-up-time 1 --measurement-time 3
//! ```
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark harness: a failed setup should stop the run"
)]

use std::cell::Cell;
use std::collections::HashMap;

use criterion::{criterion_group, criterion_main, Criterion};
use policy_bench::{generate, Spec};
use policy_compiler::{Facts, Outcome, PermId, Policy, RoleId, TierId};
use policy_eval::Evaluator;
use policy_syntax::SourceFile;

#[derive(Clone)]
struct Req {
    tier: String,
    role: String,
    perm: String,
    ids: (TierId, RoleId, PermId),
}

fn subjects() -> Vec<(&'static str, Policy)> {
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../policies/humanloop.policy"
    ))
    .expect("policies/humanloop.policy");
    let gen = generate(&Spec::new(1_000, 5_000, 50));
    let gen2d = generate(&Spec::new(1_000, 5_000, 50).with_editions());
    let gen_levels = generate(&Spec::new(1_000, 5_000, 50).with_levels());
    let gen_conditions = generate(&Spec::new(1_000, 5_000, 50).with_conditions());
    let gen10k = generate(&Spec::new(10_000, 50_000, 50));
    [
        ("humanloop", seed),
        ("generated-1000", gen),
        ("generated-1000-editions", gen2d),
        ("generated-1000-levels", gen_levels),
        ("generated-1000-conditions", gen_conditions),
        ("generated-10000", gen10k),
    ]
    .into_iter()
    .map(|(name, text)| {
        let (policy, diags) = policy_compiler::compile(&SourceFile::new(name, text));
        assert!(diags.is_empty(), "{name}: {:?}", diags.first());
        (name, policy)
    })
    .collect()
}

/// 64 requests, half allowed and half denied, in a fixed order, drawn
/// from 200 roles × 200 permissions on the last tier: the first ones, or
/// in a policy with levels every `n / 200`-th, so that the mix has roles
/// and permissions of every level and decisions across levels (an
/// organization role on a team's permission through `acts as`).
fn mix(policy: &Policy) -> Vec<Req> {
    let (mut allows, mut denies) = (Vec::new(), Vec::new());
    let nt = policy.tier_count();
    let (nr, np) = (policy.roles().len(), policy.permissions().len());
    let (role_step, perm_step) = if policy.scopes().is_empty() {
        (1, 1)
    } else {
        ((nr / 200).max(1), (np / 200).max(1))
    };
    for r in (0..nr).step_by(role_step).take(200) {
        for p in (0..np).step_by(perm_step).take(200) {
            let ids = (TierId((nt - 1) as u32), RoleId(r as u32), PermId(p as u32));
            let req = Req {
                tier: policy.tier_name(ids.0).to_string(),
                role: policy.roles()[r].id.clone(),
                perm: policy.permissions()[p].id.clone(),
                ids,
            };
            if policy.allows(ids.0, ids.1, ids.2) {
                allows.push(req);
            } else {
                denies.push(req);
            }
        }
    }
    assert!(!allows.is_empty() && !denies.is_empty());
    let mut out = Vec::new();
    for i in 0..64usize {
        let k = i.wrapping_mul(2_654_435_761) >> 3;
        let pool = if i % 2 == 0 { &allows } else { &denies };
        out.push(pool[k % pool.len()].clone());
    }
    if !policy.scopes().is_empty() {
        // Full ids of every level, and allowed decisions across levels.
        for level in policy.scopes() {
            let prefix = format!("{}.", level.id);
            assert!(out.iter().any(|r| r.role.starts_with(&prefix)), "{prefix}");
            assert!(out.iter().any(|r| r.perm.starts_with(&prefix)), "{prefix}");
        }
        let level = |id: &str| id.split('.').next().unwrap_or("").to_string();
        assert!(out
            .iter()
            .any(|r| policy.allows(r.ids.0, r.ids.1, r.ids.2) && level(&r.role) != level(&r.perm)));
    }
    out
}

/// A bare precomputed bitset looked up by name: the floor of the by-name
/// path. The names are the policy's full ids, as `decide_by_name` takes
/// them (`team.r112`, `project.res512.view` in a policy with levels).
struct Bare {
    tiers: HashMap<Box<str>, usize, foldhash::fast::RandomState>,
    roles: HashMap<Box<str>, usize, foldhash::fast::RandomState>,
    perms: HashMap<Box<str>, usize, foldhash::fast::RandomState>,
    n_roles: usize,
    words: usize,
    bits: Vec<u64>,
}

impl Bare {
    fn new(policy: &Policy) -> Self {
        let map = |names: Vec<&str>| {
            names
                .into_iter()
                .enumerate()
                .map(|(i, n)| (n.into(), i))
                .collect()
        };
        let (nt, nr, np) = (
            policy.tier_count(),
            policy.roles().len(),
            policy.permissions().len(),
        );
        let words = np.div_ceil(64);
        let mut bits = vec![0u64; nt * nr * words];
        for t in policy.tier_ids() {
            for r in 0..nr {
                for p in policy.effective(t, RoleId(r as u32)) {
                    bits[(t.index() * nr + r) * words + p.index() / 64] |= 1 << (p.index() % 64);
                }
            }
        }
        Bare {
            tiers: map(policy.tier_ids().map(|t| policy.tier_name(t)).collect()),
            roles: map(policy.roles().iter().map(|r| r.id.as_str()).collect()),
            perms: map(policy.permissions().iter().map(|p| p.id.as_str()).collect()),
            n_roles: nr,
            words,
            bits,
        }
    }

    #[inline]
    fn decide(&self, tier: &str, role: &str, perm: &str) -> Option<bool> {
        let (t, r, p) = (
            self.tiers.get(tier)?,
            self.roles.get(role)?,
            self.perms.get(perm)?,
        );
        let w = self
            .bits
            .get((t * self.n_roles + r) * self.words + p / 64)?;
        Some(w >> (p % 64) & 1 != 0)
    }
}

/// A request on a cell held only under conditions, with facts.
struct CondReq {
    req: Req,
    /// The facts, by condition name, as a request states them.
    given: Vec<(String, bool)>,
    /// The same, resolved.
    facts: Facts,
    /// Whether the facts meet the cell's conditions.
    allowed: bool,
}

/// 64 cells of the last tier held only under conditions, spread over
/// every such cell of the policy (row by row), alternately with facts
/// that meet their conditions (every one of the cell's first way holds)
/// and facts that do not (the same, the last one failing).
fn conditional_mix(policy: &Policy, eval: &Evaluator) -> Vec<CondReq> {
    let t = TierId((policy.tier_count() - 1) as u32);
    let mut cells = Vec::new();
    for r in 0..policy.roles().len() {
        for p in 0..policy.permissions().len() {
            let (ro, pe) = (RoleId(r as u32), PermId(p as u32));
            if let Some(w) = policy.conditional_ways(t, ro, pe).first() {
                cells.push((ro, pe, *w));
            }
        }
    }
    assert!(cells.len() >= 64, "{} conditional cells", cells.len());
    (0..64usize)
        .map(|i| {
            let k = i.wrapping_mul(2_654_435_761) >> 3;
            let (ro, pe, way) = cells[k % cells.len()];
            let allowed = i % 2 == 0;
            let names = policy.condition_names(way);
            let last = names.len() - 1;
            let given: Vec<(String, bool)> = names
                .iter()
                .enumerate()
                .map(|(j, n)| (n.to_string(), allowed || j != last))
                .collect();
            let facts = eval.facts(&given).unwrap();
            CondReq {
                req: Req {
                    tier: policy.tier_name(t).to_string(),
                    role: policy.roles()[ro.index()].id.clone(),
                    perm: policy.permissions()[pe.index()].id.clone(),
                    ids: (t, ro, pe),
                },
                given,
                facts,
                allowed,
            }
        })
        .collect()
}

/// The outcome of `r` by name: tier, role, permission and facts resolved
/// from their names, then weighed.
fn outcome_by_name(eval: &Evaluator, r: &CondReq) -> Option<Outcome> {
    let t = eval.tier_id(&r.req.tier)?;
    let ro = eval.role_id(&r.req.role)?;
    let p = eval.perm_id(&r.req.perm)?;
    let facts = eval.facts(&r.given).ok()?;
    Some(eval.outcome(t, &[ro], p, facts))
}

/// `conditional/*` on a policy with conditional grants (see the top).
fn conditional(c: &mut Criterion, name: &str, policy: &Policy, eval: &Evaluator) {
    let reqs = conditional_mix(policy, eval);
    for r in &reqs {
        let (t, ro, p) = r.req.ids;
        let expected = if r.allowed {
            Outcome::Allow {
                when: policy.conditional_ways(t, ro, p)[0],
            }
        } else {
            Outcome::Deny
        };
        assert_eq!(eval.outcome(t, &[ro], p, r.facts), expected);
        assert_eq!(outcome_by_name(eval, r), Some(expected));
        assert!(!eval.decide(t, &[ro], p));
        assert_eq!(
            eval.decide_by_name(Some(&r.req.tier), &[r.req.role.as_str()], &r.req.perm),
            Ok(false)
        );
    }
    let i = Cell::new(0usize);
    let mut g = c.benchmark_group(format!("evaluator/{name}/conditional"));
    g.bench_function("policyc-ids", |b| {
        b.iter(|| {
            let r = cycle(&reqs, &i);
            let (t, ro, p) = std::hint::black_box(r.req.ids);
            eval.decide(t, &[ro], p)
        })
    });
    g.bench_function("outcome-ids-facts", |b| {
        b.iter(|| {
            let r = cycle(&reqs, &i);
            let ((t, ro, p), facts) = std::hint::black_box((r.req.ids, r.facts));
            eval.outcome(t, &[ro], p, facts)
        })
    });
    g.bench_function("policyc-by-name", |b| {
        b.iter(|| {
            let r = std::hint::black_box(cycle(&reqs, &i));
            eval.decide_by_name(Some(&r.req.tier), &[r.req.role.as_str()], &r.req.perm)
        })
    });
    g.bench_function("outcome-by-name-facts", |b| {
        b.iter(|| outcome_by_name(eval, std::hint::black_box(cycle(&reqs, &i))))
    });
    g.finish();
}

fn cycle<'a, T>(items: &'a [T], i: &Cell<usize>) -> &'a T {
    let k = i.get();
    i.set(k + 1);
    &items[k % items.len()]
}

fn evaluator(c: &mut Criterion) {
    for (name, policy) in subjects() {
        let eval = Evaluator::from_policy(&policy);
        if policy.roles().len() > 1_000 {
            let mut g = c.benchmark_group(format!("evaluator/{name}"));
            g.sample_size(10);
            g.bench_function("from_policy", |b| {
                b.iter(|| Evaluator::from_policy(std::hint::black_box(&policy)))
            });
            g.finish();
            continue;
        }
        let bare = Bare::new(&policy);
        let tiered = !policy.tiers().is_empty();
        let reqs = mix(&policy);
        for r in &reqs {
            let (t, ro, p) = r.ids;
            let tier = tiered.then_some(r.tier.as_str());
            assert_eq!(
                eval.decide_by_name(tier, &[r.role.as_str()], &r.perm),
                Ok(eval.decide_one(t, ro, p))
            );
            assert_eq!(eval.decide_one(t, ro, p), policy.allows(t, ro, p));
            let allowed = eval.decide_one(t, ro, p);
            assert_eq!(
                eval.outcome(t, &[ro], p, Facts::default()),
                policy.outcome(allowed, t, &[ro], p, Facts::default())
            );
            assert_eq!(
                bare.decide(&r.tier, &r.role, &r.perm),
                Some(policy.allows(t, ro, p))
            );
        }
        let i = Cell::new(0usize);
        let mut g = c.benchmark_group(format!("evaluator/{name}"));
        g.bench_function("policyc-ids", |b| {
            b.iter(|| {
                let r = cycle(&reqs, &i);
                let (t, ro, p) = std::hint::black_box(r.ids);
                eval.decide_one(t, ro, p)
            })
        });
        g.bench_function("policyc-by-name", |b| {
            b.iter(|| {
                let r = std::hint::black_box(cycle(&reqs, &i));
                let tier = tiered.then_some(r.tier.as_str());
                eval.decide_by_name(tier, &[r.role.as_str()], &r.perm)
            })
        });
        if policy.has_conditional() {
            // The same cells as `policyc-ids`, through `outcome` (no fact
            // stated): what a request pays for conditions on the cells
            // the table decides.
            g.bench_function("outcome-ids", |b| {
                b.iter(|| {
                    let r = cycle(&reqs, &i);
                    let (t, ro, p) = std::hint::black_box(r.ids);
                    eval.outcome(t, &[ro], p, Facts::default())
                })
            });
        }
        g.bench_function("bare-bitset-by-name", |b| {
            b.iter(|| {
                let r = std::hint::black_box(cycle(&reqs, &i));
                bare.decide(&r.tier, &r.role, &r.perm)
            })
        });
        if policy.roles().len() > 100 {
            g.sample_size(10);
        }
        g.bench_function("from_policy", |b| {
            b.iter(|| Evaluator::from_policy(std::hint::black_box(&policy)))
        });
        g.finish();
        if policy.has_conditional() {
            conditional(c, name, &policy, &eval);
        }
    }
}

criterion_group!(benches, evaluator);
criterion_main!(benches);
