//! UI tests: every `tests/ui/<area>/<name>.policy` is compiled and its
//! rendered diagnostics are compared with `<name>.policy.snap` beside it.
//!
//! The first line of each fixture states the intent, `// expect: P0201`
//! (one or more codes, comma-separated) or `// expect: none`, and the
//! harness checks that the set of codes actually reported is exactly that.
//!
//! A directory holding a `policyc.toml` is a project fixture
//! (`tests/ui/projects/<name>/`): its files are compiled as one policy, as
//! every command reads a project, the manifest's first line states the
//! intent (`# expect: P0204`), and the diagnostics, each pointing into its
//! own file, are compared with `project.snap` beside the manifest.
//! To create or update snapshots run
//! `INSTA_UPDATE=always cargo test -p policyc --test ui`, then read them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: clippy.toml allows these in #[test] functions but not in the helpers of an integration test; a failure is a test failure"
)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Mutex;

use policy_compiler::compile;
use policy_syntax::{Code, Diagnostic, SourceFile};

/// The workspace `tests/ui` directory.
mod common;

fn ui_root() -> std::path::PathBuf {
    common::root().join("tests/ui")
}

/// The codes stated by the `// expect:` first line.
fn expected_codes(text: &str) -> Result<BTreeSet<Code>, String> {
    // Any line break ends the first line, a lone `\r` included (one line model).
    let first = text.split(['\n', '\r']).next().unwrap_or("");
    let first = first.trim_start_matches('\u{feff}').trim_end();
    let Some(list) = first
        .strip_prefix("// expect:")
        .or_else(|| first.strip_prefix("# expect:"))
    else {
        return Err(format!(
            "the first line must be `// expect: CODE, ...` or `// expect: none` (`# expect:` in a manifest), found {first:?}"
        ));
    };
    let list = list.trim();
    if list == "none" {
        return Ok(BTreeSet::new());
    }
    list.split(',')
        .map(|c| {
            Code::parse(c).ok_or_else(|| format!("unknown code {:?} in expect line", c.trim()))
        })
        .collect()
}

/// Renders every diagnostic as `policyc check` does, without colour, 80 columns wide.
fn render(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    if diags.is_empty() {
        out.push_str("(no diagnostics)\n");
    }
    for d in diags {
        out.push_str(&d.render(false, 80));
    }
    // Trailing spaces are invisible in review and fragile in editors.
    let mut trimmed = String::with_capacity(out.len());
    for line in out.lines() {
        let _ = writeln!(trimmed, "{}", line.trim_end());
    }
    trimmed
}

#[test]
fn ui() {
    let root = ui_root().canonicalize().expect("tests/ui exists");
    let mismatches: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut count = 0usize;
    insta::glob!("../../../tests/ui", "**/*.policy", |path| {
        if in_project(path) {
            return;
        }
        count += 1;
        let bytes = std::fs::read(path).expect("fixture is readable");
        let text = String::from_utf8(bytes).expect("fixture is UTF-8");
        let rel = path
            .strip_prefix(&root)
            .expect("fixture is under tests/ui")
            .to_string_lossy()
            .replace('\\', "/");
        let (_, diags) = compile(&SourceFile::new(rel.clone(), text.clone()));
        let actual: BTreeSet<Code> = diags.iter().map(|d| d.code()).collect();
        match expected_codes(&text) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => mismatches.lock().unwrap().push(format!(
                "{rel}: expected {:?}, got {:?}",
                expected.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                actual.iter().map(|c| c.as_str()).collect::<Vec<_>>()
            )),
            Err(e) => mismatches.lock().unwrap().push(format!("{rel}: {e}")),
        }
        let name = path
            .file_name()
            .expect("fixture has a file name")
            .to_string_lossy()
            .into_owned();
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(path.parent().expect("fixture has a directory"));
        settings.remove_snapshot_suffix();
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_input_file(format!("tests/ui/{rel}"));
        settings.bind(|| insta::assert_snapshot!(name, render(&diags)));
    });
    assert!(count > 0, "no UI fixtures found");
    let mismatches = mismatches.into_inner().unwrap();
    assert!(
        mismatches.is_empty(),
        "the `// expect:` line does not match the reported codes:\n{}",
        mismatches.join("\n")
    );
}

/// Whether `path` is a file of a project fixture (a directory above it
/// holds a manifest).
fn in_project(path: &std::path::Path) -> bool {
    path.ancestors()
        .skip(1)
        .any(|dir| dir.join(policy_files::project::MANIFEST).is_file())
}

/// Every project fixture: compiled as one policy from the files its
/// manifest lists (read by the one reader of manifests), each file named
/// as it is below `tests/ui`, and the diagnostics compared with
/// `project.snap`.
#[test]
fn ui_projects() {
    let root = ui_root().canonicalize().expect("tests/ui exists");
    let mut mismatches = Vec::new();
    let mut count = 0usize;
    insta::glob!("../../../tests/ui", "projects/*/policyc.toml", |manifest| {
        count += 1;
        let dir = manifest.parent().expect("a manifest has a directory");
        let rel = |p: &std::path::Path| {
            p.strip_prefix(&root)
                .expect("fixture is under tests/ui")
                .to_string_lossy()
                .replace('\\', "/")
        };
        let (name, files) = policy_files::project::files_of(manifest)
            .unwrap_or_else(|e| panic!("{}", e.into_diagnostic().message()));
        let sources: Vec<SourceFile> = files
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(f).expect("UTF-8 fixture");
                SourceFile::new(rel(f), text)
            })
            .collect();
        assert!(
            sources.len() > 1,
            "{}: a project fixture has several files",
            rel(dir)
        );
        let (_, diags) = compile(&SourceFile::project(name, &sources));
        let actual: BTreeSet<Code> = diags.iter().map(|d| d.code()).collect();
        let manifest_text = std::fs::read_to_string(manifest).expect("UTF-8 manifest");
        match expected_codes(&manifest_text) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => mismatches.push(format!(
                "{}: expected {:?}, got {:?}",
                rel(dir),
                expected.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                actual.iter().map(|c| c.as_str()).collect::<Vec<_>>()
            )),
            Err(e) => mismatches.push(format!("{}: {e}", rel(dir))),
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(dir);
        settings.remove_snapshot_suffix();
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_input_file(format!("tests/ui/{}", rel(manifest)));
        settings.bind(|| insta::assert_snapshot!("project", render(&diags)));
    });
    assert!(count > 0, "no project fixtures found");
    assert!(
        mismatches.is_empty(),
        "the `# expect:` line does not match the reported codes:\n{}",
        mismatches.join("\n")
    );
}

/// Every code the compiler can emit from policy text has at least one UI case.
#[test]
fn every_compiler_code_is_covered() {
    let mut seen = BTreeSet::new();
    let mut stack = vec![ui_root()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "policy") {
                let text = std::fs::read_to_string(&path).expect("UTF-8 fixture");
                seen.extend(expected_codes(&text).unwrap_or_default());
            }
        }
    }
    // P04xx are query errors and P05xx (except P0506) are I/O errors: they
    // never come from policy text and are covered by the CLI tests.
    let required: BTreeSet<Code> = Code::ALL
        .iter()
        .copied()
        .filter(|c| {
            let s = c.as_str();
            s.starts_with("P01") || s.starts_with("P02") || s.starts_with("P03") || s == "P0506"
        })
        .collect();
    let missing: Vec<&str> = required.difference(&seen).map(|c| c.as_str()).collect();
    assert!(missing.is_empty(), "no UI test expects {missing:?}");
}
