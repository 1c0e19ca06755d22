//! The real products under `policies/examples/`, through the real binary:
//! each policy names its sources and the date they were read, compiles
//! with no warning (`check --deny-warnings`), and its test file — every
//! cell of the published table — passes.
#![expect(
    clippy::unwrap_used,
    reason = "test code: a missing example is a test failure"
)]

mod common;

use std::path::PathBuf;

use common::{root, run};

/// Every example policy, with its test file.
fn examples() -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let dir = root().join("policies/examples");
    let mut products: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    products.sort();
    for product in products {
        let name = product.file_name().unwrap().to_string_lossy().to_string();
        // One file, or a policy project (its directory).
        let file = product.join(format!("{name}.policy"));
        let policy = if product.join("policyc.toml").is_file() {
            product.clone()
        } else {
            file
        };
        let tests = product.join(format!("{name}.test.yaml"));
        assert!(
            policy.exists(),
            "{} has no {name}.policy nor policyc.toml",
            product.display()
        );
        assert!(
            tests.is_file(),
            "{} has no {name}.test.yaml",
            product.display()
        );
        out.push((policy, tests));
    }
    assert!(out.len() >= 2, "at least two real products");
    out
}

#[test]
fn every_example_names_its_source_compiles_cleanly_and_passes_its_table() {
    for (policy, tests) in examples() {
        // The header of the file, or of one of the project's files.
        let files: Vec<PathBuf> = if policy.is_dir() {
            let mut f: Vec<PathBuf> = std::fs::read_dir(&policy)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "policy"))
                .collect();
            f.sort();
            f
        } else {
            vec![policy.clone()]
        };
        let header: String = files
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(f).unwrap();
                text.lines()
                    .take_while(|l| l.starts_with("//"))
                    .collect::<String>()
            })
            .find(|h| h.contains("https://"))
            .unwrap_or_default();
        assert!(
            header.contains("https://"),
            "{}: no source URL",
            policy.display()
        );
        assert!(
            header.contains("Read 20"),
            "{}: no date read",
            policy.display()
        );
        let dir = tests.parent().unwrap();
        let out = run(dir, &["check", "--deny-warnings", policy.to_str().unwrap()]);
        assert_eq!(out.code, 0, "{}", out.transcript());
        let out = run(dir, &["test", tests.to_str().unwrap()]);
        assert_eq!(out.code, 0, "{}", out.transcript());
        assert!(out.stdout().contains(" 0 failed"), "{}", out.transcript());
        let out = run(dir, &["fmt", "--check", policy.to_str().unwrap()]);
        assert_eq!(out.code, 0, "{}", out.transcript());
    }
}
