//! Property test: on random policies, the evaluator's decisions equal a
//! naive reference that walks the inheritance graph on every query — by
//! interned ids and by name, from source and from the compiled artifact
//! round-tripped through JSON and YAML.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failure should fail the test"
)]

use std::collections::BTreeSet;

use policy_eval::{Artifact, Evaluator, ReasonKind, Request, TierId};
use policy_syntax::SourceFile;
use proptest::prelude::*;

const PERM_POOL: &[&str] = &["a.x", "a.y", "a.b.x", "b.x", "b.y", "c.z", "c.z.x"];
const WILDCARDS: &[&str] = &["a.*", "*.x", "b.*", "*", "a.*.x", "c.*"];

/// A generated policy, kept as structure so the reference need not parse.
#[derive(Debug, Clone)]
struct Gen {
    tiers: usize,
    /// Filler permissions declared before each pool permission, so the
    /// pool's ids spread over many 512-bit chunks of the stored sets (only
    /// the `*` wildcard matches a filler; the reference never asks about them).
    pad: usize,
    perms: Vec<(&'static str, Option<Vec<usize>>)>,
    roles: Vec<GenRole>,
}

#[derive(Debug, Clone)]
struct GenRole {
    tiers: Option<Vec<usize>>,
    parents: Vec<usize>,
    grants: Vec<(String, Option<Vec<usize>>)>,
    excludes: Vec<String>,
}

/// A `*` segment matches one or more whole segments (written independently
/// of the compiler's matcher, on purpose).
fn matches(pattern: &[&str], id: &[&str]) -> bool {
    match (pattern.split_first(), id.is_empty()) {
        (None, empty) => empty,
        (Some((&"*", rest)), _) => (1..=id.len()).any(|k| matches(rest, &id[k..])),
        (Some((seg, rest)), false) => id[0] == *seg && matches(rest, &id[1..]),
        (Some(_), true) => false,
    }
}

fn pattern_perms(g: &Gen, pattern: &str) -> Vec<usize> {
    let pat: Vec<&str> = pattern.split('.').collect();
    g.perms
        .iter()
        .enumerate()
        .filter(|(_, (id, _))| matches(&pat, &id.split('.').collect::<Vec<_>>()))
        .map(|(i, _)| i)
        .collect()
}

fn on(list: &Option<Vec<usize>>, t: usize) -> bool {
    list.as_ref().is_none_or(|l| l.contains(&t))
}

/// The naive reference: recompute the raw set from scratch on every query.
fn raw(g: &Gen, t: usize, r: usize) -> BTreeSet<usize> {
    let role = &g.roles[r];
    let mut set: BTreeSet<usize> = role.parents.iter().flat_map(|&p| raw(g, t, p)).collect();
    for e in &role.excludes {
        for p in pattern_perms(g, e) {
            set.remove(&p);
        }
    }
    let excluded: BTreeSet<usize> = role
        .excludes
        .iter()
        .flat_map(|e| pattern_perms(g, e))
        .collect();
    for (pat, tiers) in &role.grants {
        if on(tiers, t) {
            // An exclusion wins over the role's own wildcard grants.
            let wild = pat.contains('*');
            set.extend(
                pattern_perms(g, pat)
                    .into_iter()
                    .filter(|p| !wild || !excluded.contains(p)),
            );
        }
    }
    set
}

fn reference(g: &Gen, t: usize, r: usize, p: usize) -> bool {
    on(&g.roles[r].tiers, t) && on(&g.perms[p].1, t) && raw(g, t, r).contains(&p)
}

fn tier_clause(list: &Option<Vec<usize>>) -> String {
    match list {
        None => String::new(),
        Some(l) => format!(
            " on {}",
            l.iter()
                .map(|t| format!("t{t}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn render(g: &Gen) -> String {
    let mut s = String::new();
    if g.tiers > 0 {
        let names: Vec<String> = (0..g.tiers).map(|t| format!("t{t}")).collect();
        s.push_str(&format!("tiers {}\n", names.join(" < ")));
    }
    for (k, (id, tiers)) in g.perms.iter().enumerate() {
        for i in 0..g.pad {
            s.push_str(&format!("permission pad{k}.f{i} \"pad\"\n"));
        }
        s.push_str(&format!("permission {id} \"{id}\"{}\n", tier_clause(tiers)));
    }
    for (i, r) in g.roles.iter().enumerate() {
        s.push_str(&format!("role r{i} \"R{i}\"{} {{\n", tier_clause(&r.tiers)));
        if !r.parents.is_empty() {
            let ps: Vec<String> = r.parents.iter().map(|p| format!("r{p}")).collect();
            s.push_str(&format!("  inherits {}\n", ps.join(", ")));
        }
        for (pat, tiers) in &r.grants {
            s.push_str(&format!("  grants {pat}{}\n", tier_clause(tiers)));
        }
        if !r.excludes.is_empty() {
            s.push_str(&format!("  excludes {}\n", r.excludes.join(", ")));
        }
        s.push_str("}\n");
    }
    s
}

/// A non-empty subset of `0..n` from a bitmask, or `None` (no `on` clause).
fn subset(n: usize, mask: u8, present: bool) -> Option<Vec<usize>> {
    if n == 0 || !present {
        return None;
    }
    let l: Vec<usize> = (0..n).filter(|t| mask & (1 << t) != 0).collect();
    if l.is_empty() {
        Some(vec![usize::from(mask) % n])
    } else {
        Some(l)
    }
}

type RawRole = (
    (bool, u8),
    Vec<usize>,
    Vec<(usize, bool, bool, u8)>,
    Vec<(usize, bool)>,
);

fn arb_gen() -> impl Strategy<Value = Gen> {
    (
        0usize..=3,
        1u8..=127,
        prop::collection::vec((any::<bool>(), any::<u8>()), PERM_POOL.len()),
        prop::collection::vec(
            (
                (any::<bool>(), any::<u8>()),
                prop::collection::vec(0usize..8, 0..3),
                prop::collection::vec(
                    (0usize..16, any::<bool>(), any::<bool>(), any::<u8>()),
                    0..4,
                ),
                prop::collection::vec((0usize..16, any::<bool>()), 0..3),
            ),
            1..7,
        ),
        prop::sample::select(vec![0usize, 0, 300, 700]),
    )
        .prop_map(
            |(tiers, perm_mask, perm_tiers, raw_roles, pad): (_, _, _, Vec<RawRole>, _)| {
                let perms: Vec<(&'static str, Option<Vec<usize>>)> = PERM_POOL
                    .iter()
                    .zip(&perm_tiers)
                    .enumerate()
                    .filter(|(i, _)| perm_mask & (1 << i) != 0)
                    .map(|(_, (id, (p, m)))| (*id, subset(tiers, *m, *p)))
                    .collect();
                let roles = raw_roles
                    .iter()
                    .enumerate()
                    .map(|(i, ((has_on, on_mask), parents, grants, excludes))| {
                        let mut ps: Vec<usize> = parents
                            .iter()
                            .filter(|_| i > 0)
                            .map(|p| p % i.max(1))
                            .collect();
                        ps.sort_unstable();
                        ps.dedup();
                        let pick = |k: usize, wild: bool| {
                            if wild {
                                WILDCARDS[k % WILDCARDS.len()].to_string()
                            } else {
                                perms[k % perms.len()].0.to_string()
                            }
                        };
                        let grants: Vec<(String, Option<Vec<usize>>)> = grants
                            .iter()
                            .map(|(k, wild, gated, m)| (pick(*k, *wild), subset(tiers, *m, *gated)))
                            .collect();
                        let exact_grants: BTreeSet<&str> = grants
                            .iter()
                            .filter(|(p, _)| !p.contains('*'))
                            .map(|(p, _)| p.as_str())
                            .collect();
                        let excludes: Vec<String> = excludes
                            .iter()
                            .map(|(k, wild)| pick(*k, *wild))
                            .filter(|e| {
                                let pat: Vec<&str> = e.split('.').collect();
                                !exact_grants
                                    .iter()
                                    .any(|x| matches(&pat, &x.split('.').collect::<Vec<_>>()))
                            })
                            .collect();
                        GenRole {
                            tiers: subset(tiers, *on_mask, *has_on),
                            parents: ps,
                            grants,
                            excludes,
                        }
                    })
                    .collect();
                Gen {
                    tiers,
                    pad,
                    perms,
                    roles,
                }
            },
        )
}

fn check_all(g: &Gen, eval: &Evaluator, what: &str) {
    let n_tiers = g.tiers.max(1);
    for t in 0..n_tiers {
        let tier_name = (g.tiers > 0).then(|| format!("t{t}"));
        let tid = match &tier_name {
            Some(n) => eval.tier_id(n).unwrap(),
            None => TierId(0),
        };
        for p in 0..g.perms.len() {
            let pname = g.perms[p].0;
            let pid = eval.perm_id(pname).unwrap();
            for r in 0..g.roles.len() {
                let rname = format!("r{r}");
                let rid = eval.role_id(&rname).unwrap();
                let expect = reference(g, t, r, p);
                let ctx = format!("{what}: tier {tier_name:?} role {rname} perm {pname}");
                assert_eq!(eval.decide(tid, &[rid], pid), expect, "by id, {ctx}");
                assert_eq!(
                    eval.decide_by_name(tier_name.as_deref(), &[&rname], pname),
                    Ok(expect),
                    "by name, {ctx}"
                );
                let verdict = eval
                    .authorize(&Request {
                        roles: vec![rname.clone()],
                        action: pname.to_string(),
                        tier: tier_name.clone(),
                    })
                    .unwrap();
                assert_eq!(verdict.allowed(), expect, "authorized, {ctx}");
                let d = verdict.explain();
                assert_eq!(d.allowed, expect, "explained, {ctx}");
                assert!(!d.reasons.is_empty(), "no reason, {ctx}");
                if expect {
                    assert_eq!(d.reasons.last().unwrap().kind, ReasonKind::Granted, "{ctx}");
                } else {
                    assert!(d.reasons[0].kind != ReasonKind::Granted, "{ctx}");
                }
                // Union with the next role.
                let r2 = (r + 1) % g.roles.len();
                let rid2 = eval.role_id(&format!("r{r2}")).unwrap();
                let union = expect || reference(g, t, r2, p);
                assert_eq!(eval.decide(tid, &[rid, rid2], pid), union, "union, {ctx}");
                assert_eq!(eval.explain(tid, &[rid, rid2], pid).allowed, union, "{ctx}");
            }
            // Fail closed on unknown names.
            assert!(eval
                .decide_by_name(tier_name.as_deref(), &["nobody"], pname)
                .is_err());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn evaluator_matches_naive_reference(g in arb_gen()) {
        let text = render(&g);
        let src = SourceFile::new("gen.policy", text.clone());
        let (policy, diags) = policy_compiler::compile(&src);
        prop_assert!(!policy_compiler::has_errors(&diags), "{text}\n{diags:?}");
        let from_source = Evaluator::from_policy(&policy);
        check_all(&g, &from_source, "source");
        check_all(&g, &from_source.clone().without_dense_table(), "source, interned sets only");

        let artifact = Artifact::from_policy(&policy);
        let json = serde_json::to_string(&artifact).unwrap();
        let from_json = Evaluator::from_artifact_json(&json).unwrap();
        check_all(&g, &from_json, "json artifact");
        let yaml = serde_yaml::to_string(&artifact).unwrap();
        let from_yaml =
            Evaluator::from_artifact(&serde_yaml::from_str::<Artifact>(&yaml).unwrap()).unwrap();
        check_all(&g, &from_yaml, "yaml artifact");
    }
}

#[test]
fn artifact_version_mismatch_is_p0570() {
    let src = SourceFile::new(
        "p.policy",
        "permission a.b \"A\"\nrole r \"R\" { grants a.b }\n",
    );
    let policy = policy_compiler::compile(&src).0;
    let mut artifact = Artifact::from_policy(&policy);
    artifact.schema_version = 99;
    let json = serde_json::to_string(&artifact).unwrap();
    let err = Evaluator::from_artifact_json(&json).unwrap_err();
    assert_eq!(err.code().as_str(), "P0570");
    assert!(err.to_string().contains("schema version 99"), "{err}");
    artifact.schema_version = 1;
    let json = serde_json::to_string(&artifact).unwrap();
    let err = Evaluator::from_artifact_json(&json).unwrap_err();
    assert_eq!(err.code().as_str(), "P0570");
    assert!(
        err.to_string()
            .contains("schema version 1 is not supported"),
        "{err}"
    );
    let err = Evaluator::from_artifact_json("{\"tiers\": []}").unwrap_err();
    assert_eq!(err.code().as_str(), "P0507");
}

#[test]
fn tampered_artifact_is_rejected() {
    let src = SourceFile::new(
        "p.policy",
        "permission a.b \"A\"\npermission a.c \"C\"\nrole r \"R\" { grants a.b }\n",
    );
    let policy = policy_compiler::compile(&src).0;
    let mut artifact = Artifact::from_policy(&policy);
    artifact.roles[0].grants[0].pattern = "a.*".to_string();
    let json = serde_json::to_string(&artifact).unwrap();
    let err = Evaluator::from_artifact_json(&json).unwrap_err();
    assert_eq!(err.code().as_str(), "P0507");
    assert!(err.to_string().contains("content_hash"), "{err}");
}

/// A version-2 artifact (expanded grants and an `effective` table) is an
/// old version, not a broken one: `P0570`, with the help to recompile.
#[test]
fn a_version_2_artifact_is_p0570_with_a_help_to_recompile() {
    let src = SourceFile::new(
        "p.policy",
        "permission a.b \"A\"\nrole r \"R\" { grants a.* }\n",
    );
    let policy = policy_compiler::compile(&src).0;
    let mut doc = serde_json::to_value(Artifact::from_policy(&policy)).unwrap();
    doc["schema_version"] = serde_json::json!(2);
    doc["roles"][0]["grants"][0]["permissions"] = serde_json::json!(["a.b"]);
    doc["effective"] =
        serde_json::json!([{"tier": null, "roles": [{"role": "r", "permissions": ["a.b"]}]}]);
    let err = Evaluator::from_artifact_json(&doc.to_string()).unwrap_err();
    assert_eq!(err.code().as_str(), "P0570");
    assert!(err.to_string().contains("schema version 2"), "{err}");
    assert!(
        err.help().unwrap().contains("recompile"),
        "{:?}",
        err.help()
    );
}

#[test]
fn tier_rules_and_suggestions() {
    let src = SourceFile::new(
        "p.policy",
        "tiers free < team\npermission a.b \"A\"\nrole admin \"Admin\" { grants a.b }\n",
    );
    let eval = Evaluator::from_policy(&policy_compiler::compile(&src).0);
    let err = eval.decide_by_name(None, &["admin"], "a.b").unwrap_err();
    assert_eq!(err.code().as_str(), "P0402");
    let err = eval
        .decide_by_name(Some("teem"), &["admin"], "a.b")
        .unwrap_err();
    assert_eq!(err.code().as_str(), "P0401");
    assert_eq!(err.suggestion(), Some("team"));
    let err = eval
        .decide_by_name(Some("team"), &["admn"], "a.b")
        .unwrap_err();
    assert_eq!(err.suggestion(), Some("admin"));
    let err = eval.decide_by_name(Some("team"), &[], "a.b").unwrap_err();
    assert_eq!(err.code().as_str(), "P0401");
    // Out-of-range ids deny.
    let admin = eval.role_id("admin").unwrap();
    let ab = eval.perm_id("a.b").unwrap();
    assert!(eval.decide(TierId(1), &[admin], ab));
    assert!(!eval.decide(TierId(2), &[admin], ab));
    assert!(!eval.decide(TierId(1), &[policy_eval::RoleId(7)], ab));
    assert!(!eval.decide(TierId(1), &[admin], policy_eval::PermId(64)));
    assert!(!eval.decide(TierId(1), &[], ab));

    let tierless = SourceFile::new(
        "q.policy",
        "permission a.b \"A\"\nrole r \"R\" { grants a.b }\n",
    );
    let eval = Evaluator::from_policy(&policy_compiler::compile(&tierless).0);
    let err = eval
        .decide_by_name(Some("free"), &["r"], "a.b")
        .unwrap_err();
    assert_eq!(err.code().as_str(), "P0402");
    assert_eq!(eval.decide_by_name(None, &["r"], "a.b"), Ok(true));
}

/// An artifact stores patterns, not their expansions, so a hand edit can
/// only change what the policy states. A literal grant of a permission the
/// artifact does not declare (hash recomputed, so only the contradiction
/// can give it away) is refused; a wildcard is expanded against the
/// declared permissions on load.
#[test]
fn artifact_whose_grant_names_an_undeclared_permission_is_refused() {
    let src = SourceFile::new(
        "p.policy",
        "permission billing.manage \"Billing\"\npermission files.manage \"Files\"\n\
         role admin \"Admin\" { grants billing.manage }\nrole member \"Member\" { grants files.manage }\n",
    );
    let policy = policy_compiler::compile(&src).0;
    let mut artifact = Artifact::from_policy(&policy);
    let member = &mut artifact.roles[1];
    assert_eq!(member.grants[0].pattern, "files.manage");
    member.grants[0].pattern = "files.delete".to_string();
    artifact.content_hash = artifact.computed_hash();
    let json = serde_json::to_string(&artifact).unwrap();
    let err = Evaluator::from_artifact_json(&json).unwrap_err();
    assert_eq!(err.code().as_str(), "P0507");
    assert!(
        err.to_string().contains(
            "the grant `files.delete` of role `member` names a permission that is not declared"
        ),
        "{err}"
    );

    // A re-hashed edit to a wildcard is a different, consistent policy.
    let mut artifact = Artifact::from_policy(&policy);
    artifact.roles[1].grants[0].pattern = "*.manage".to_string();
    artifact.content_hash = artifact.computed_hash();
    let eval = Evaluator::from_artifact(&artifact).unwrap();
    assert_eq!(
        eval.decide_by_name(None, &["member"], "billing.manage"),
        Ok(true)
    );

    // A stale hash is refused before anything else.
    let mut artifact = Artifact::from_policy(&policy);
    artifact.roles[1].label = "Edited".to_string();
    let err = Evaluator::from_artifact(&artifact).unwrap_err();
    assert!(err.to_string().contains("content_hash"), "{err}");
}

#[test]
fn artifact_with_an_inheritance_cycle_is_refused() {
    let src = SourceFile::new(
        "p.policy",
        "permission a.b \"A\"\nrole r \"R\" { grants a.b }\nrole s \"S\" { inherits r }\n",
    );
    let policy = policy_compiler::compile(&src).0;
    let mut artifact = Artifact::from_policy(&policy);
    let edge = artifact.roles[1].inherits[0].clone();
    artifact.roles[0]
        .inherits
        .push(policy_eval::ArtifactParent {
            role: "s".to_string(),
            ..edge
        });
    artifact.content_hash = artifact.computed_hash();
    let err = Evaluator::from_artifact(&artifact).unwrap_err();
    assert_eq!(err.code().as_str(), "P0507");
    assert!(err.to_string().contains("cycle"), "{err}");
}

#[test]
fn content_hash_is_the_same_from_source_json_and_yaml() {
    let src = SourceFile::new(
        "p.policy",
        "tiers free < team\npermission a.b \"A\" on team\nrole r \"R\" { grants a.* on team }\n",
    );
    let policy = policy_compiler::compile(&src).0;
    let from_source = Evaluator::from_policy(&policy);
    let artifact = Artifact::from_policy(&policy);
    let hash = from_source.content_hash().to_string();
    assert!(
        hash.starts_with("sha256:") && hash.len() == 7 + 64,
        "{hash}"
    );
    assert_eq!(artifact.content_hash, hash);
    let json = serde_json::to_string_pretty(&artifact).unwrap();
    assert_eq!(
        Evaluator::from_artifact_json(&json).unwrap().content_hash(),
        hash
    );
    let yaml = serde_yaml::to_string(&artifact).unwrap();
    let from_yaml = Evaluator::from_artifact(&serde_yaml::from_str(&yaml).unwrap()).unwrap();
    assert_eq!(from_yaml.content_hash(), hash);
    // A different policy has a different hash.
    let other = SourceFile::new(
        "p.policy",
        "permission a.b \"A\"\nrole r \"R\" { grants a.b }\n",
    );
    assert_ne!(
        Evaluator::from_policy(&policy_compiler::compile(&other).0).content_hash(),
        hash
    );
}

/// What the grammar refuses in source is refused in an artifact too, even
/// with the hash recomputed: ids that are keywords or not names, labels
/// with line breaks or NUL, control characters in `source`, empty tier
/// lists, and an exact grant of a permission the role excludes (P0307).
#[test]
fn artifact_holds_only_what_a_policy_can_write() {
    let src = SourceFile::new(
        "p.policy",
        "tiers free < team\npermission a.b \"A\"\npermission a.c \"C\"\n\
         role r \"R\" { grants a.* excludes a.c }\n",
    );
    let policy = policy_compiler::compile(&src).0;
    let refused = |edit: &dyn Fn(&mut Artifact), expect: &str| {
        let mut artifact = Artifact::from_policy(&policy);
        edit(&mut artifact);
        artifact.content_hash = artifact.computed_hash();
        let err = Evaluator::from_artifact(&artifact).unwrap_err();
        assert_eq!(err.code().as_str(), "P0507", "{err}");
        assert!(err.to_string().contains(expect), "{expect}: {err}");
    };
    refused(&|a| a.roles[0].id = "role".into(), "role id \"role\"");
    refused(&|a| a.roles[0].id = "a b".into(), "role id \"a b\"");
    refused(&|a| a.tiers[0].id = "9x".into(), "tier id \"9x\"");
    refused(&|a| a.permissions[0].id = "a..b".into(), "permission id");
    refused(&|a| a.roles[0].label = "R\nX".into(), "line break");
    refused(&|a| a.permissions[0].label = "A\rB".into(), "line break");
    // A NUL is refused when a file is read, not in text compiled through
    // the library, whose artifact must load back (found by the fuzzer).
    let mut nul = Artifact::from_policy(&policy);
    nul.permissions[0].label = "A\0".into();
    nul.content_hash = nul.computed_hash();
    assert!(Evaluator::from_artifact(&nul).is_ok());
    refused(
        &|a| a.source = "p\u{1b}[2J.policy".into(),
        "control character",
    );
    refused(
        &|a| a.roles[0].grants[0].pattern = "a.*.*x".into(),
        "pattern",
    );
    refused(&|a| a.roles[0].tiers.clear(), "empty tier list");
    refused(
        &|a| a.roles[0].grants[0].pattern = "a.c".into(),
        "P0307 in source",
    );

    // The hash is a function of the content alone: another path, the same hash.
    let mut moved = Artifact::from_policy(&policy);
    moved.source = "/srv/policies/p.policy".into();
    assert_eq!(
        moved.computed_hash(),
        Artifact::from_policy(&policy).content_hash
    );
    assert!(Evaluator::from_artifact(&moved).is_ok());
}
