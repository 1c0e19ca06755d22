//! Differential test: a policy split into a project of many files decides
//! every cell as the policy in one file does, whatever the order of the
//! files.
//!
//! Each declaration (with its doc comment and `expect` lines) goes to a
//! file of its own; a declaration inside a level's section gets that
//! section's `scope` line repeated at the top of its file (a project may
//! reopen a level in another file with the same line). The shipped
//! policies and random ones from `policy-testkit` are split, compiled as a
//! project in file order and in reverse order, and every (context, role,
//! permission) is compared by name with the single file: allowed, and the
//! ways under conditions.

use policy_compiler::{compile, has_errors, Policy};
use policy_syntax::{split_declarations, SourceFile};
use proptest::prelude::*;

/// The files of `source` split at every declaration
/// ([`split_declarations`], which `policy-bench project` uses too).
fn split(source: &SourceFile) -> Vec<SourceFile> {
    split_declarations(source.text(), usize::MAX)
        .into_iter()
        .enumerate()
        .map(|(k, text)| SourceFile::new(format!("part{k:04}.policy"), text))
        .collect()
}

/// A context's name with its values in order (the order of the dimensions
/// in a name follows their declaration, which the order of files sets).
fn context(name: &str) -> String {
    let mut values: Vec<&str> = name.split('+').collect();
    values.sort_unstable();
    values.join("+")
}

/// A cell by name: context, role, permission, allowed, ways.
type Cell = (String, String, String, bool, Vec<Vec<String>>);

/// Every cell by name.
fn cells(p: &Policy) -> Vec<Cell> {
    let mut out = Vec::new();
    for t in p.tier_ids() {
        for (r, role) in p.roles().iter().enumerate() {
            let r = policy_compiler::RoleId(r as u32);
            for (q, perm) in p.permissions().iter().enumerate() {
                let q = policy_compiler::PermId(q as u32);
                // Conditions are numbered in declaration order: compared
                // by name, each way's and the ways' order set aside.
                let mut ways: Vec<Vec<String>> = p
                    .conditional_ways(t, r, q)
                    .iter()
                    .map(|w| {
                        let mut names = p.condition_names(*w);
                        names.sort();
                        names
                    })
                    .collect();
                ways.sort();
                out.push((
                    context(p.tier_name(t)),
                    role.id.clone(),
                    perm.id.clone(),
                    p.allows(t, r, q),
                    ways,
                ));
            }
        }
    }
    out.sort();
    out
}

/// The project of `source`'s declarations decides as `source`, in either
/// order of its files; its diagnostics are the same codes.
fn same_as_one_file(source: &SourceFile) -> Result<(), TestCaseError> {
    let (one, d1) = compile(source);
    let mut parts = split(source);
    let (project, d2) = compile(&SourceFile::project("p", &parts));
    let codes = |d: &[policy_syntax::Diagnostic]| {
        let mut c: Vec<&str> = d.iter().map(|x| x.code().as_str()).collect();
        c.sort();
        c
    };
    prop_assert_eq!(codes(&d1), codes(&d2), "{}", source.name());
    if has_errors(&d1) {
        return Ok(());
    }
    prop_assert_eq!(cells(&one), cells(&project), "{}", source.name());
    parts.reverse();
    let (reversed, _) = compile(&SourceFile::project("p", &parts));
    prop_assert_eq!(
        cells(&one),
        cells(&reversed),
        "{} (files reversed)",
        source.name()
    );
    Ok(())
}

#[test]
fn every_shipped_policy_split_into_files_decides_the_same() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    let mut seen = 0;
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "policy") {
                let text = std::fs::read_to_string(&path).unwrap();
                let source = SourceFile::new(path.display().to_string(), text);
                same_as_one_file(&source).unwrap();
                seen += 1;
            }
        }
    }
    assert!(seen >= 8, "{seen}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(120))]

    #[test]
    fn a_random_policy_split_into_files_decides_the_same(raw in policy_testkit::clean_policy()) {
        let spec = policy_testkit::build(&raw);
        same_as_one_file(&SourceFile::new("g.policy", spec.text.clone()))?;
    }
}
