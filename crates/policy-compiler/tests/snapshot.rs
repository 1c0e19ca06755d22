//! The effective-permission snapshots of the seed policies, reviewed as
//! insta `.snap` files.
//!
//! This is also the recipe for a Rust project that embeds policyc: compile
//! the policy, take `Snapshot::from_policy`, and `assert_yaml_snapshot!` it.
//! Any change to who may do what then shows up as a `.snap` diff in review.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers: a failed lookup is a test failure"
)]

use std::path::Path;

use policy_compiler::{compile, has_errors, Snapshot};
use policy_syntax::SourceFile;

fn snapshot_of(file: &str) -> Snapshot {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../policies")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let (policy, diags) = compile(&SourceFile::new(file, text));
    assert!(!has_errors(&diags), "{file} does not compile: {diags:?}");
    Snapshot::from_policy(&policy)
}

#[test]
fn humanloop() {
    insta::assert_yaml_snapshot!(snapshot_of("humanloop.policy"));
}

#[test]
fn vellum() {
    insta::assert_yaml_snapshot!(snapshot_of("vellum.policy"));
}

#[test]
fn source_lists_every_granting_ancestor() {
    let src = SourceFile::new(
        "t.policy",
        r#"
        permission a.x "X"
        permission a.y "Y"
        role left "Left" { grants a.x }
        role right "Right" { grants a.x }
        role both "Both" { inherits right, left grants a.y }
        role narrow "Narrow" { inherits both excludes a.x }
        "#,
    );
    let (policy, diags) = compile(&src);
    assert!(!has_errors(&diags), "{diags:?}");
    let snap = Snapshot::from_policy(&policy);
    assert_eq!(snap.tiers.len(), 1);
    let roles = &snap.tiers[0].roles;
    let both = roles["both"].as_ref().unwrap();
    assert_eq!(both["a.x"].to_string(), "inherited from left, right");
    assert_eq!(both["a.y"].to_string(), "granted");
    let narrow = roles["narrow"].as_ref().unwrap();
    assert!(!narrow.contains_key("a.x"));
    assert_eq!(narrow["a.y"].to_string(), "inherited from both");
    let yaml = serde_yaml::to_string(&snap).unwrap();
    assert!(yaml.starts_with("schema_version: 1\nroles:\n"), "{yaml}");
}
