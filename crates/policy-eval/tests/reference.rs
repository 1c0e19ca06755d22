//! Property test: on random policies (`policy-testkit`, with filler
//! permissions so sets span many chunks, a third on levels with `acts as`
//! links), the evaluator's decisions equal
//! the testkit's naive reference, which walks the inheritance graph on
//! every query — by
//! interned ids and by name, from source and from the compiled artifact
//! round-tripped through JSON and YAML.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failure should fail the test"
)]

use policy_compiler::TierSet;
use policy_eval::{Artifact, Evaluator, ReasonKind, Request, TierId};
use policy_syntax::SourceFile;
use policy_testkit::Spec;
use proptest::prelude::*;

fn check_all(g: &Spec, eval: &Evaluator, what: &str) {
    for (t, tier_name) in g.tier_names().into_iter().enumerate() {
        let tid = match &tier_name {
            Some(n) => eval.tier_id(n).unwrap(),
            None => TierId(0),
        };
        for p in 0..g.perms.len() {
            let pname = g.perms[p].id.as_str();
            let pid = eval.perm_id(pname).unwrap();
            for r in 0..g.roles.len() {
                // Asked by full id (`l1.r3` on a level).
                let rname = g.role_id(r);
                let rid = eval.role_id(&rname).unwrap();
                let expect = g.allows(t, r, p);
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
                let rid2 = eval.role_id(&g.role_id(r2)).unwrap();
                let union = g.allows_any(t, &[r, r2], p);
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
    fn evaluator_matches_naive_reference(raw in policy_testkit::padded_policy()) {
        let g = policy_testkit::build(&raw);
        let text = g.text.clone();
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

/// Version 3 (a tier list per declaration) is refused too, with the same
/// clear diagnostic: this policyc reads version 6 only.
#[test]
fn a_version_3_artifact_is_p0570() {
    let src = SourceFile::new(
        "p.policy",
        "tiers free < team\npermission a.b \"A\"\nrole r \"R\" { grants a.* on team }\n",
    );
    let policy = policy_compiler::compile(&src).0;
    let mut doc = serde_json::to_value(Artifact::from_policy(&policy)).unwrap();
    doc["schema_version"] = serde_json::json!(3);
    doc.as_object_mut().unwrap().remove("tier_sets");
    doc["permissions"][0]["tiers"] = serde_json::json!(["free", "team"]);
    doc["roles"][0]["tiers"] = serde_json::json!(["free", "team"]);
    doc["roles"][0]["grants"][0]["tiers"] = serde_json::json!(["team"]);
    let err = Evaluator::from_artifact_json(&doc.to_string()).unwrap_err();
    assert_eq!(err.code().as_str(), "P0570");
    assert!(
        err.to_string()
            .contains("artifact schema version 3 is not supported (this policyc reads version 10)"),
        "{err}"
    );
}

/// Version 5 (`tiers` in place of `dimensions`) is refused with the same
/// diagnostic.
#[test]
fn a_version_5_artifact_is_p0570() {
    let src = SourceFile::new("p.policy", "tiers free < team\npermission a.b \"A\"\n");
    let policy = policy_compiler::compile(&src).0;
    let mut doc = serde_json::to_value(Artifact::from_policy(&policy)).unwrap();
    doc["schema_version"] = serde_json::json!(5);
    let dims = doc.as_object_mut().unwrap().remove("dimensions").unwrap();
    doc["tiers"] = dims[0]["values"].clone();
    let err = Evaluator::from_artifact_json(&doc.to_string()).unwrap_err();
    assert_eq!(err.code().as_str(), "P0570");
    assert!(
        err.to_string()
            .contains("artifact schema version 5 is not supported (this policyc reads version 10)"),
        "{err}"
    );
}

/// Version 4 (positions as `{start, end, line, column}` objects, parents
/// by name) is refused with the same diagnostic.
#[test]
fn a_version_4_artifact_is_p0570() {
    let src = SourceFile::new(
        "p.policy",
        "permission a.b \"A\"\nrole r \"R\" { grants a.* }\nrole s \"S\" { inherits r }\n",
    );
    let policy = policy_compiler::compile(&src).0;
    let mut doc = serde_json::to_value(Artifact::from_policy(&policy)).unwrap();
    doc["schema_version"] = serde_json::json!(4);
    doc.as_object_mut().unwrap().remove("lines");
    let at = serde_json::json!({"start": 0, "end": 1, "line": 1, "column": 1});
    doc["permissions"][0]["at"] = at.clone();
    doc["roles"][1]["inherits"][0] = serde_json::json!({"role": "r", "at": at});
    let err = Evaluator::from_artifact_json(&doc.to_string()).unwrap_err();
    assert_eq!(err.code().as_str(), "P0570");
    assert!(
        err.to_string()
            .contains("artifact schema version 4 is not supported (this policyc reads version 10)"),
        "{err}"
    );
}

/// Line and column are re-derived from the artifact's line table: at every
/// declared span of a policy with wide characters and every kind of line
/// break, the location from an artifact is the one from source.
#[test]
fn locations_from_an_artifact_are_those_from_source() {
    let text = "// Zugriffsrechte für Ärzte \u{1F600}\r\ntiers frei < team\r\
                permission a.b \"Ä\" on team\npermission a.c \"ç→\"\n\n\
                role r \"Rôle\" { grants a.* on team excludes a.c }\r\n\
                role s \"S\u{1F600}\" { inherits r grants a.c }\n";
    let src = SourceFile::new("p.policy", text);
    let policy = policy_compiler::compile(&src).0;
    let json = serde_json::to_string(&Artifact::from_policy(&policy)).unwrap();
    let loaded = Evaluator::from_artifact_json(&json).unwrap();
    let from = loaded.policy();
    let mut spans = Vec::new();
    spans.extend(policy.tiers().iter().map(|t| t.span));
    for p in policy.permissions() {
        spans.push(p.span);
        spans.extend(p.tier_span);
    }
    for r in policy.roles() {
        spans.push(r.span);
        spans.extend(r.parents.iter().map(|p| p.span));
        for g in &r.grants {
            spans.push(g.span);
            spans.extend(g.tier_span);
        }
        spans.extend(r.exclusions.iter().map(|e| e.span));
    }
    assert!(spans.len() > 10);
    for s in spans {
        let (a, b) = (policy.location(s), from.location(s));
        assert_eq!(a, b, "{s:?}");
        let lc = src.line_col(s.start);
        assert_eq!((a.line, a.column), (lc.line, lc.column));
    }
    // An explanation from the artifact names the same places.
    let source_eval = Evaluator::from_policy(&policy);
    let ids = |p: &policy_compiler::Policy| {
        (
            p.tier_id("team").unwrap(),
            vec![p.role_id("s").unwrap()],
            p.perm_id("a.b").unwrap(),
        )
    };
    let (t, r, p) = ids(&policy);
    let e = source_eval.explain(t, &r, p);
    let (t, r, p) = ids(from);
    let f = loaded.explain(t, &r, p);
    assert_eq!(format!("{e:?}"), format!("{f:?}"));
    assert!(format!("{e:?}").contains("line: 6"), "{e:?}");
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
    let edge = artifact.roles[1].parents[0].clone();
    artifact.roles[0].parents.push(policy_compiler::Parent {
        role: policy_compiler::RoleId(1),
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

/// Each distinct tier list is written once (`tier_sets`), so gated grants
/// over many tiers cost an index each: 64 tiers, 40 roles of 200 gated
/// grants. Version 3 repeated each grant's list of (here 33 to 64) tier
/// names: about 46x the source in compact JSON; now about 18x, nearly all
/// of it the two source spans of each grant (`at` and `on`).
#[test]
fn artifact_lists_each_tier_set_once() {
    let tiers: Vec<String> = (0..64).map(|k| format!("t{k}")).collect();
    let mut text = format!("tiers {}\n", tiers.join(" < "));
    for k in 0..200 {
        text.push_str(&format!("permission p{k}.x \"P\"\n"));
    }
    for i in 0..40 {
        text.push_str(&format!("role g{i} \"G\" {{\n"));
        for line in 0..4 {
            let perms: Vec<String> = (line * 50..line * 50 + 50)
                .map(|k| format!("p{k}.x"))
                .collect();
            let gate = (i * 5 + line) % 32;
            text.push_str(&format!("  grants {} on >= t{gate}\n", perms.join(", ")));
        }
        text.push_str("}\n");
    }
    let policy = policy_compiler::compile(&SourceFile::new("gated.policy", text.as_str())).0;
    let artifact = Artifact::from_policy(&policy);
    assert_eq!(
        artifact.tier_sets.len(),
        32,
        "all 64 tiers (also >= t0), >= t1 .. t31"
    );
    let json = serde_json::to_string(&artifact).unwrap();
    // Version 5 writes a position as `[start, end]`: 8.9 times the source
    // here (version 4, with line and column beside every span, was held
    // to 25 times).
    assert!(
        json.len() < 12 * text.len(),
        "{} bytes of artifact for {} of source",
        json.len(),
        text.len()
    );
    let loaded = Evaluator::from_artifact_json(&json).unwrap();
    assert_eq!(loaded.content_hash(), artifact.content_hash);
    // The hash is that of the compact JSON with `content_hash` and
    // `source` empty (computed without copying the artifact).
    let blank = Artifact {
        content_hash: String::new(),
        source: String::new(),
        ..artifact.clone()
    };
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(serde_json::to_vec(&blank).unwrap());
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(artifact.content_hash, format!("sha256:{hex}"));
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
    refused(
        &|a| a.dimensions[0].values[0].id = "9x".into(),
        "tier id \"9x\"",
    );
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
    refused(
        &|a| a.tier_sets[0].clear(),
        "permission `a.b` names a tier that does not exist, or none",
    );
    // The tier sets (version 4): indices in range, each list of declared
    // tiers named once, no list twice, none unused.
    refused(
        &|a| a.roles[0].grants[0].tiers = TierSet(7),
        "the grant `a.*` of role `r` names tier set 7, but `tier_sets` has 1 entries",
    );
    refused(
        &|a| a.permissions[1].tiers = TierSet(1),
        "permission `a.c` names tier set 1",
    );
    refused(
        &|a| a.roles[0].tiers = TierSet(u64::MAX),
        "role `r` names tier set",
    );
    refused(
        &|a| a.tier_sets[0].push("free".into()),
        "entry 0 names context `free` twice",
    );
    refused(
        &|a| a.tier_sets[0][1] = "gold".into(),
        "entry 0 names unknown context `gold`",
    );
    refused(
        &|a| a.tier_sets.push(vec!["team".into(), "free".into()]),
        "entries 0 and 1 are the same tier list",
    );
    refused(
        &|a| a.tier_sets.push(vec!["team".into()]),
        "`tier_sets` entry 1 is named by no declaration",
    );
    // A reordered list is the same set: loading resolves it, and the
    // artifact it writes back differs.
    refused(
        &|a| a.tier_sets[0].reverse(),
        "does not describe the policy its declarations resolve to",
    );
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
