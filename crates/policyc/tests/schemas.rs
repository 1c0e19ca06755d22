//! The JSON Schemas in docs/schemas/ describe what policyc reads and writes:
//! every shipped `*.test.yaml` validates against the test-file schema (and
//! points at it from its header), a fresh `policyc compile` artifact of every
//! shipped policy, in JSON and in YAML, validates against the artifact
//! schema, and broken documents do not validate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: clippy.toml allows these in #[test] functions but not in the helpers of an integration test; a failure is a test failure"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn validator(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("docs/schemas").join(name)).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft202012::meta::validate(&schema).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// The shipped files under `policies/` (the real products' directories
/// included) whose names end with `suffix`, sorted.
fn shipped(suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root().join("policies")];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn shipped_test_files_validate_and_name_the_schema() {
    let v = validator("policy-test.schema.json");
    let files = shipped(".test.yaml");
    assert!(!files.is_empty());
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let depth = f.strip_prefix(root()).unwrap().components().count() - 1;
        let header = format!(
            "# yaml-language-server: $schema={}docs/schemas/policy-test.schema.json",
            "../".repeat(depth)
        );
        assert_eq!(
            text.lines().next(),
            Some(header.as_str()),
            "{} lacks the schema header",
            f.display()
        );
        let doc: Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(errors(&v, &doc), Vec::<String>::new(), "{}", f.display());
    }
}

#[test]
fn broken_test_files_do_not_validate() {
    let v = validator("policy-test.schema.json");
    let ok = json!({ "policy": "a.policy", "cases": [{ "roles": ["admin"], "action": "billing.manage", "tier": "free", "expect": "allow" }] });
    assert!(v.is_valid(&ok));
    // A role of a level is named by its full id.
    let ok = json!({ "cases": [{ "role": "team.admin", "action": "team.projects.remove", "expect": "allow" }] });
    assert!(v.is_valid(&ok));
    for bad in [
        json!({ "polciy": "a.policy" }),
        json!({ "cases": [{ "roles": ["admin"], "action": "billing.manage", "expect": "maybe" }] }),
        json!({ "cases": [{ "action": "billing.manage", "expect": "allow" }] }),
        json!({ "cases": [{ "role": "a", "roles": ["a"], "action": "b", "expect": "allow" }] }),
        json!({ "cases": [{ "roles": "a", "action": "b", "expect": "allow", "reason": "because" }] }),
        json!({ "who-can": [{ "action": "b" }] }),
        json!({ "what-can": [{ "role": "a", "permissions": ["not an id"] }] }),
        json!({ "what-can": [{ "role": "a.b.c", "permissions": [] }] }),
    ] {
        assert!(!v.is_valid(&bad), "{bad} validated");
    }
}

fn compile(policy: &Path, format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_policyc"))
        .env_clear()
        .current_dir(root())
        .args(["compile", "--format", format])
        .arg(policy)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn fresh_artifacts_validate_in_json_and_yaml() {
    let v = validator("compiled-policy.schema.json");
    // Each file, but a project's files as the project (its manifest).
    let projects: Vec<PathBuf> = shipped("policyc.toml");
    let mut policies: Vec<PathBuf> = shipped(".policy")
        .into_iter()
        .filter(|p| !projects.iter().any(|m| p.starts_with(m.parent().unwrap())))
        .collect();
    assert!(!projects.is_empty());
    policies.extend(projects);
    policies.push(root().join("tests/fixtures/humanloop-refactored.policy"));
    // Two dimensions, unordered values, `and`, and `assignable on`.
    policies.push(root().join("tests/ui/dimensions/every_form_passes.policy"));
    policies.push(root().join("tests/ui/assignable/every_form_passes.policy"));
    policies.push(root().join("tests/ui/labels/every_form_passes.policy"));
    for p in policies {
        let from_json: Value = serde_json::from_str(&compile(&p, "json")).unwrap();
        assert_eq!(
            errors(&v, &from_json),
            Vec::<String>::new(),
            "{}",
            p.display()
        );
        let from_yaml: Value = serde_yaml::from_str(&compile(&p, "yaml")).unwrap();
        assert_eq!(
            errors(&v, &from_yaml),
            Vec::<String>::new(),
            "{}",
            p.display()
        );
        assert_eq!(from_json, from_yaml);
    }
}

#[test]
fn a_tierless_artifact_validates_and_a_broken_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.policy");
    std::fs::write(
        &p,
        "/// Reads.\npermission a.read \"Read\"\nrole r \"R\" { grants a.* }\n",
    )
    .unwrap();
    let v = validator("compiled-policy.schema.json");
    let doc: Value = serde_json::from_str(&compile(&p, "json")).unwrap();
    assert_eq!(errors(&v, &doc), Vec::<String>::new());
    assert_eq!(doc["schema_version"], json!(10));
    assert_eq!(
        doc["tier_sets"],
        json!([[""]]),
        "the implicit context, named `\"\"`"
    );
    assert_eq!(doc["roles"][0]["grants"][0]["tier_set"], json!(0));
    assert!(doc.get("effective").is_none());
    assert!(doc["roles"][0]["grants"][0].get("permissions").is_none());
    let mut bad = doc.clone();
    bad["schema_version"] = json!(2);
    assert!(!v.is_valid(&bad));
    let mut bad = doc.clone();
    bad["roles"][0]["grants"][0]["permissions"] = json!(["a.read"]);
    assert!(!v.is_valid(&bad));
    // Version 3's tier list per declaration is not version 5's index.
    let mut bad = doc.clone();
    bad["roles"][0]["grants"][0]["tier_set"] = json!([]);
    assert!(!v.is_valid(&bad));
    let mut bad = doc.clone();
    bad["roles"][0]["grants"][0]["tier_set"] = json!(-1);
    assert!(!v.is_valid(&bad));
    let mut bad = doc.clone();
    bad["tier_sets"] = json!([["a", "a"]]);
    assert!(!v.is_valid(&bad));
    // Version 4's position object is not version 5's `[start, end]`.
    assert_eq!(doc["roles"][0]["grants"][0]["at"], json!([56, 59]));
    let mut bad = doc.clone();
    bad["roles"][0]["grants"][0]["at"] = json!({"start": 56, "end": 59, "line": 3, "column": 20});
    assert!(!v.is_valid(&bad));
    let mut bad = doc.clone();
    bad["roles"][0]["grants"][0]["at"] = json!([56]);
    assert!(!v.is_valid(&bad));
    // One table of the source's lines, and nothing else, gives lines and
    // columns.
    assert_eq!(
        doc["lines"],
        json!({"line_lengths": [11, 25, 26], "wide_chars": []})
    );
    let mut bad = doc.clone();
    bad["lines"]["line_lengths"] = json!([0]);
    assert!(!v.is_valid(&bad));
    let mut bad = doc.clone();
    bad["lines"]["wide_chars"] = json!([[3, 4]]);
    assert!(!v.is_valid(&bad));
    let mut bad = doc.clone();
    bad.as_object_mut().unwrap().remove("lines");
    assert!(!v.is_valid(&bad));
    let mut bad = doc;
    bad["roles"][0]["extra"] = json!(true);
    assert!(!v.is_valid(&bad));
}

/// Version 7: `offered` contexts, and the empty set of `assignable nowhere`
/// (with the implicit context named `""` beside it) validate.
#[test]
fn offered_contexts_and_assignable_nowhere_validate() {
    let dir = tempfile::tempdir().unwrap();
    let v = validator("compiled-policy.schema.json");
    let p = dir.path().join("o.policy");
    std::fs::write(
        &p,
        "dimension edition cloud | community\ndimension plan free < pro\n\
         offered on cloud\noffered on community and free\n\
         permission a.read \"Read\"\nrole r \"R\" { grants a.* }\n",
    )
    .unwrap();
    let doc: Value = serde_json::from_str(&compile(&p, "json")).unwrap();
    assert_eq!(errors(&v, &doc), Vec::<String>::new());
    assert_eq!(
        doc["offered"],
        json!(["cloud+free", "cloud+pro", "community+free"])
    );
    let mut bad = doc.clone();
    bad["offered"] = json!([]);
    assert!(!v.is_valid(&bad), "an empty `offered` list");
    let p = dir.path().join("n.policy");
    std::fs::write(
        &p,
        "permission a.read \"Read\"\nrole r \"R\" { grants a.*\n assignable nowhere }\n",
    )
    .unwrap();
    let doc: Value = serde_json::from_str(&compile(&p, "json")).unwrap();
    assert_eq!(errors(&v, &doc), Vec::<String>::new());
    assert_eq!(doc["tier_sets"], json!([[""], []]));
}

/// A policy with levels: the levels, each declaration's level, qualified
/// ids and `acts as` edges validate; a level index of the wrong type or an
/// unqualified id with a dot in the wrong place does not.
#[test]
fn levels_validate() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.policy");
    std::fs::write(
        &p,
        "scope org \"Org\"\npermission billing.manage \"B\"\n\
         role owner \"Owner\" { grants billing.manage acts as team.admin }\n\
         scope team \"Team\" in org\npermission projects.remove \"R\"\n\
         role admin \"Admin\" { grants projects.remove }\n",
    )
    .unwrap();
    let v = validator("compiled-policy.schema.json");
    let mut doc: Value = serde_json::from_str(&compile(&p, "json")).unwrap();
    assert_eq!(errors(&v, &doc), Vec::<String>::new());
    assert_eq!(doc["scopes"][1]["in"], json!(0));
    assert_eq!(doc["roles"][0]["id"], json!("org.owner"));
    assert_eq!(doc["roles"][0]["inherits"][0]["acts_as"], json!(true));
    assert_eq!(doc["permissions"][1]["scope"], json!(1));
    doc["scopes"][1]["in"] = json!("org");
    assert_eq!(errors(&v, &doc).len(), 1);
    doc["scopes"][1]["in"] = json!(0);
    doc["roles"][0]["id"] = json!("org.owner.x");
    assert_eq!(errors(&v, &doc).len(), 1);
}

#[test]
fn conditions_validate() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.policy");
    std::fs::write(
        &p,
        "condition own \"Own\"\ncondition setting.public \"Public\"\n\
         permission items.delete \"D\"\n\
         role guest \"Guest\" { grants items.delete when own and setting.public }\n",
    )
    .unwrap();
    let v = validator("compiled-policy.schema.json");
    let mut doc: Value = serde_json::from_str(&compile(&p, "json")).unwrap();
    assert_eq!(errors(&v, &doc), Vec::<String>::new());
    assert_eq!(doc["conditions"][1]["id"], json!("setting.public"));
    assert_eq!(doc["roles"][0]["grants"][0]["when"], json!(3));
    doc["roles"][0]["grants"][0]["when"] = json!(0);
    assert_eq!(errors(&v, &doc).len(), 1);
    doc["roles"][0]["grants"][0]["when"] = json!(3);
    doc["conditions"][0]["id"] = json!("not an id");
    assert_eq!(errors(&v, &doc).len(), 1);
}
