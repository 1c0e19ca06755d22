//! The exported text itself, without the engines: the Humanloop seed's
//! Cedar, Rego and Cerbos exports (reviewed snapshots), determinism, the headers,
//! and the refusals (P0601).

use policy_export::{export, paths, refusals, Header, Target};
use policy_syntax::SourceFile;

const HEADER: Header<'static> = Header {
    name: "humanloop",
    source: "policies/humanloop.policy",
    version: "0.1.0",
    content_hash: "HASH",
};

fn compile(name: &str, text: &str) -> policy_compiler::Policy {
    let (policy, diags) = policy_compiler::compile(&SourceFile::new(name, text));
    assert!(!policy_compiler::has_errors(&diags), "{diags:?}");
    policy
}

/// The shape with exclusions under conditions, and its header.
fn conditional_exclusions() -> (policy_compiler::Policy, Header<'static>) {
    let policy = compile(
        "conditional_exclusions.policy",
        include_str!("shapes/conditional_exclusions.policy"),
    );
    let header = Header {
        name: "conditional_exclusions",
        source: "conditional_exclusions.policy",
        ..HEADER
    };
    (policy, header)
}

fn humanloop() -> policy_compiler::Policy {
    compile(
        "policies/humanloop.policy",
        include_str!("../../../policies/humanloop.policy"),
    )
}

#[test]
fn humanloop_exports_to_cedar_as_reviewed() {
    let files = export(&humanloop(), Target::Cedar, &HEADER).unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        names,
        [
            "humanloop.cedarschema",
            "humanloop.cedar",
            "humanloop.entities.json"
        ]
    );
    insta::assert_snapshot!("humanloop_cedarschema", files[0].text);
    insta::assert_snapshot!("humanloop_cedar", files[1].text);
    insta::assert_snapshot!("humanloop_entities", files[2].text);
}

#[test]
fn humanloop_exports_to_rego_as_reviewed() {
    let files = export(&humanloop(), Target::Rego, &HEADER).unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(names, ["humanloop.rego", "data.json"]);
    insta::assert_snapshot!("humanloop_rego", files[0].text);
    insta::assert_snapshot!("humanloop_data_json", files[1].text);
}

#[test]
fn humanloop_exports_to_cerbos_as_reviewed() {
    let files = export(&humanloop(), Target::Cerbos, &HEADER).unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        names,
        [
            "humanloop.yaml",
            "humanloop_roles.yaml",
            "humanloop_test.yaml"
        ]
    );
    insta::assert_snapshot!("humanloop_cerbos_resource", files[0].text);
    insta::assert_snapshot!("humanloop_cerbos_roles", files[1].text);
    insta::assert_snapshot!("humanloop_cerbos_test", files[2].text);
}

/// Exclusions under conditions: one rule per set of roles, under the
/// facts that give it (reviewed).
#[test]
fn conditional_exclusions_export_to_cerbos_as_reviewed() {
    let (policy, header) = conditional_exclusions();
    let files = export(&policy, Target::Cerbos, &header).unwrap();
    insta::assert_snapshot!("conditional_exclusions_cerbos_resource", files[0].text);
    insta::assert_snapshot!("conditional_exclusions_cerbos_roles", files[1].text);
}

/// `paths` lists every file an export writes, each once: a writer removes
/// the listed files an export left out, so a file missing from the list
/// would be left stale, and one listed twice would be removed.
#[test]
fn paths_lists_every_file_an_export_writes() {
    let one_role = compile(
        "solo.policy",
        "permission a.b \"A\"\nrole solo \"Solo\" {}\n",
    );
    let (conditional, _) = conditional_exclusions();
    for target in [Target::Cedar, Target::Rego, Target::Cerbos] {
        let listed = paths(target, HEADER.name);
        let mut distinct = listed.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), listed.len(), "{listed:?}");
        for policy in [&humanloop(), &one_role, &conditional] {
            for f in export(policy, target, &HEADER).unwrap() {
                assert!(listed.contains(&f.path), "{} not in {listed:?}", f.path);
            }
        }
    }
    // The Cerbos files an export can leave out: the derived roles when no
    // line grants anything.
    let written: Vec<String> = export(&one_role, Target::Cerbos, &HEADER)
        .unwrap()
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(written, ["humanloop.yaml", "humanloop_test.yaml"]);
    assert!(paths(Target::Cerbos, "humanloop").contains(&"humanloop_roles.yaml".to_string()));
}

#[test]
fn the_export_is_deterministic() {
    for target in [Target::Cedar, Target::Rego, Target::Cerbos] {
        let a = export(&humanloop(), target, &HEADER).unwrap();
        let b = export(&humanloop(), target, &HEADER).unwrap();
        assert_eq!(a, b);
    }
}

#[test]
fn every_file_names_the_version_and_the_content_hash() {
    let lines = |target: &str| {
        [
            format!("Generated by `policyc export --to {target}` from policies/humanloop.policy; do not edit."),
            "policyc 0.1.0, policy content hash HASH".to_string(),
        ]
    };
    for (target, name, comment) in [
        (Target::Cedar, "cedar", "// "),
        (Target::Rego, "rego", "# "),
        (Target::Cerbos, "cerbos", "# "),
    ] {
        for f in export(&humanloop(), target, &HEADER).unwrap() {
            if f.path == "humanloop.entities.json" {
                continue;
            }
            if f.path == "data.json" {
                // JSON has no comments: the header is the data's `export`.
                let data: serde_json::Value = serde_json::from_str(&f.text).unwrap();
                assert_eq!(data["humanloop"]["export"], serde_json::json!(lines(name)));
                continue;
            }
            let head: Vec<String> = f.text.lines().take(2).map(str::to_string).collect();
            let want: Vec<String> = lines(name)
                .iter()
                .map(|l| format!("{comment}{l}"))
                .collect();
            assert_eq!(head, want, "{}", f.path);
        }
    }
}

/// Exclusions under conditions, in Cedar: one permit per set of roles,
/// under the facts that give it (reviewed).
#[test]
fn conditional_exclusions_export_to_cedar_as_reviewed() {
    let (policy, header) = conditional_exclusions();
    assert!(refusals(&policy, Target::Cedar).is_empty());
    let files = export(&policy, Target::Cedar, &header).unwrap();
    insta::assert_snapshot!("conditional_exclusions_cedar", files[1].text);
}

#[test]
fn a_condition_named_like_a_dimension_is_refused_with_p0601() {
    let policy = compile(
        "c.policy",
        "tiers free < team\ncondition tier \"T\"\npermission a.b \"A\"\nrole r \"R\" { grants a.b when tier }\n",
    );
    for target in [Target::Cedar, Target::Cerbos] {
        let refused = refusals(&policy, target);
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert!(refused[0].message().contains("condition `tier`"));
    }
}

/// Past the limit of conditions on the exclusions below one role, the
/// Cedar and Cerbos exports refuse, naming the role.
#[test]
fn too_many_conditions_on_exclusions_below_a_role_are_refused() {
    let n = policy_export::MAX_EXCLUSION_CONDITIONS + 1;
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!("condition c{i} \"C{i}\"\n"));
    }
    text.push_str(
        "permission a.b \"A\"\nrole r \"R\" { grants a.b }\nrole s \"S\" {\n  inherits r\n",
    );
    for i in 0..n {
        text.push_str(&format!("  excludes a.b when c{i}\n"));
    }
    text.push_str("}\n");
    let policy = compile("many.policy", &text);
    for target in [Target::Cedar, Target::Cerbos] {
        let refused = refusals(&policy, target);
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(refused[0].code().as_str(), "P0601");
        assert!(refused[0].message().contains(&format!(
            "cannot export to {}: the exclusions below role `r` name 9 conditions",
            target.name()
        )));
        assert!(export(&policy, target, &HEADER).is_err());
    }
    assert!(refusals(&policy, Target::Rego).is_empty());
}
