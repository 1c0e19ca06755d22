//! End-to-end tests of `policyc matrix`, `policyc compile` and
//! `policyc explain`: the real binary, a cleared environment, a temporary
//! working directory, and insta snapshots of exit code, stdout and stderr.
#![expect(
    clippy::unwrap_used,
    reason = "test code: clippy.toml allows these in #[test] functions but not in the helpers of an integration test; a failed lookup is a test failure"
)]

use std::path::{Path, PathBuf};
use std::process::Output;

use tempfile::TempDir;

mod common;

/// A policy with a misspelt parent role (`P0201`, did you mean `member`?).
const BROKEN: &str = r#"tiers free < team
permission billing.manage "Manage billing"
permission files.manage "Create and manage Files"
role member "Member" { grants files.manage }
role admin "Admin" {
  inherits membr
  grants billing.manage
}
"#;

/// A temporary directory holding copies of both seed policies and a broken one.
struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
        for name in ["humanloop.policy", "vellum.policy"] {
            std::fs::copy(root.join(name), dir.path().join(name)).unwrap();
        }
        std::fs::write(dir.path().join("broken.policy"), BROKEN).unwrap();
        Sandbox { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `policyc ARGS` in the sandbox with an empty environment.
    fn run(&self, args: &[&str]) -> Output {
        common::policyc(self.dir.path(), args)
    }

    /// The sorted names of the files in the sandbox.
    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Snapshots exit code, stdout and stderr of `policyc ARGS` under `name`,
    /// and returns the output for further assertions.
    fn snapshot(&self, name: &str, args: &[&str]) -> Output {
        let out = self.run(args);
        let text = format!(
            "command: policyc {}\nexit: {}\n----- stdout -----\n{}\n----- stderr -----\n{}",
            args.join(" "),
            exit_code(&out),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        common::settings(self.dir.path()).bind(|| insta::assert_snapshot!(name, text));
        out
    }
}

fn exit_code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// ------------------------------------------------------------------ matrix

#[test]
fn matrix_of_each_seed_in_each_format_and_tier() {
    let sb = Sandbox::new();
    for format in ["markdown", "json", "csv"] {
        for tier in ["free", "team", "enterprise"] {
            let out = sb.snapshot(
                &format!("matrix_humanloop_{tier}_{format}"),
                &[
                    "matrix",
                    "humanloop.policy",
                    "--tier",
                    tier,
                    "--format",
                    format,
                ],
            );
            assert_eq!(
                exit_code(&out),
                0,
                "humanloop --tier {tier} --format {format}"
            );
            assert!(
                out.stderr.is_empty(),
                "a clean policy prints no diagnostics"
            );
        }
        // Without `--tier`, the highest tier is shown.
        let default = sb.run(&["matrix", "humanloop.policy", "--format", format]);
        let enterprise = sb.run(&[
            "matrix",
            "humanloop.policy",
            "--tier",
            "enterprise",
            "--format",
            format,
        ]);
        assert_eq!(exit_code(&default), 0);
        assert_eq!(default.stdout, enterprise.stdout, "default tier ({format})");

        let out = sb.snapshot(
            &format!("matrix_vellum_{format}"),
            &["matrix", "vellum.policy", "--format", format],
        );
        assert_eq!(exit_code(&out), 0, "vellum --format {format}");
        assert!(
            out.stderr.is_empty(),
            "a clean policy prints no diagnostics"
        );
    }
}

#[test]
fn matrix_json_is_valid_and_csv_is_rectangular() {
    let sb = Sandbox::new();
    let out = sb.run(&["matrix", "vellum.policy", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["tier"], serde_json::Value::Null);
    assert_eq!(
        doc["rows"].as_array().unwrap().len(),
        29,
        "7 admin + 15 editor + 7 view permissions"
    );
    let out = sb.run(&["matrix", "humanloop.policy", "--format", "csv"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let widths: Vec<usize> = text.lines().map(|l| l.split(',').count()).collect();
    assert_eq!(widths.len(), 13, "header + 12 permissions");
    assert!(widths.iter().all(|w| *w == 5), "{widths:?}");
}

#[test]
fn matrix_unknown_tier_is_a_usage_error_with_a_suggestion() {
    let sb = Sandbox::new();
    let out = sb.snapshot(
        "matrix_unknown_tier",
        &["matrix", "humanloop.policy", "--tier", "enterprize"],
    );
    assert_eq!(exit_code(&out), 2);
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("did you mean `enterprise`?"));

    let out = sb.snapshot(
        "matrix_unknown_tier_json",
        &[
            "matrix",
            "humanloop.policy",
            "--tier",
            "tem",
            "--format",
            "json",
        ],
    );
    assert_eq!(exit_code(&out), 2);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The one tier lookup's code (issue 22): P0404 is retired.
    assert_eq!(doc["diagnostics"][0]["code"], "P0401");
    assert_eq!(doc["diagnostics"][0]["suggestion"], "team");
}

#[test]
fn matrix_tier_on_a_tierless_policy_is_a_usage_error() {
    let sb = Sandbox::new();
    let out = sb.snapshot(
        "matrix_tier_on_tierless",
        &["matrix", "vellum.policy", "--tier", "free"],
    );
    assert_eq!(exit_code(&out), 2);
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("P0402"));
}

#[test]
fn matrix_of_a_broken_policy_fails_with_diagnostics() {
    let sb = Sandbox::new();
    let out = sb.snapshot("matrix_broken", &["matrix", "broken.policy"]);
    assert_eq!(exit_code(&out), 1);
    assert!(out.stdout.is_empty(), "no table for a broken policy");
    assert!(stderr(&out).contains("P0201"));

    let out = sb.snapshot(
        "matrix_broken_json",
        &["matrix", "broken.policy", "--format", "json"],
    );
    assert_eq!(exit_code(&out), 1);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["diagnostics"][0]["code"], "P0201");
}

// ----------------------------------------------------------------- compile

#[test]
fn compile_json_and_yaml_are_deterministic() {
    let sb = Sandbox::new();
    for (format, ext) in [("json", "json"), ("yaml", "yaml")] {
        for policy in ["humanloop", "vellum"] {
            let file = format!("{policy}.policy");
            let args = ["compile", file.as_str(), "--format", format];
            let first = sb.snapshot(&format!("compile_{policy}_{format}"), &args);
            assert_eq!(exit_code(&first), 0, "compile {file} --format {format}");
            assert!(!first.stdout.is_empty());
            let second = sb.run(&args);
            assert_eq!(
                first.stdout, second.stdout,
                "compile {file} --format {format}: two runs differ"
            );

            let out_name = format!("{policy}.{ext}");
            let written = sb.run(&[
                "compile",
                file.as_str(),
                "--format",
                format,
                "-o",
                out_name.as_str(),
            ]);
            assert_eq!(exit_code(&written), 0, "{}", stderr(&written));
            assert!(written.stdout.is_empty(), "-o writes nothing to stdout");
            let bytes = std::fs::read(sb.path(&out_name)).unwrap();
            assert_eq!(bytes, first.stdout, "-o {out_name} differs from stdout");
        }
    }
    // The YAML and JSON artifacts describe the same thing.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.path("humanloop.json")).unwrap()).unwrap();
    let yaml: serde_json::Value =
        serde_yaml::from_slice(&std::fs::read(sb.path("humanloop.yaml")).unwrap()).unwrap();
    assert_eq!(json, yaml);
    assert_eq!(json["schema_version"], 10);
    assert_eq!(json["content_hash"], yaml["content_hash"]);
    // Nothing but the outputs was left behind (no temporary files).
    assert_eq!(
        sb.listing(),
        [
            "broken.policy",
            "humanloop.json",
            "humanloop.policy",
            "humanloop.yaml",
            "vellum.json",
            "vellum.policy",
            "vellum.yaml",
        ]
    );
}

#[test]
fn compile_into_a_missing_directory_fails_and_leaves_nothing() {
    let sb = Sandbox::new();
    let before = sb.listing();
    let out = sb.snapshot(
        "compile_missing_dir",
        &["compile", "humanloop.policy", "-o", "missing/out.json"],
    );
    assert_eq!(exit_code(&out), 2);
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("cannot write `missing/out.json`"));
    assert!(!sb.path("missing").exists());
    assert_eq!(sb.listing(), before, "a failed compile left files behind");
}

#[test]
fn compile_replaces_an_existing_output_only_on_success() {
    let sb = Sandbox::new();
    let out_path = sb.path("out.json");
    std::fs::write(&out_path, "OLD CONTENT\n").unwrap();
    let before = sb.listing();

    // A policy with errors: exit 1, diagnostics, the old file untouched.
    let out = sb.snapshot(
        "compile_broken",
        &["compile", "broken.policy", "-o", "out.json"],
    );
    assert_eq!(exit_code(&out), 1);
    assert!(stderr(&out).contains("P0201"));
    assert_eq!(std::fs::read_to_string(&out_path).unwrap(), "OLD CONTENT\n");
    assert_eq!(sb.listing(), before);

    // An input that does not exist: exit 2, the old file untouched.
    let out = sb.snapshot(
        "compile_missing_input",
        &["compile", "nope.policy", "-o", "out.json"],
    );
    assert_eq!(exit_code(&out), 2);
    assert_eq!(std::fs::read_to_string(&out_path).unwrap(), "OLD CONTENT\n");
    assert_eq!(sb.listing(), before);

    // A clean policy: the file is replaced by exactly what stdout would show.
    let ok = sb.run(&["compile", "humanloop.policy", "-o", "out.json"]);
    assert_eq!(exit_code(&ok), 0, "{}", stderr(&ok));
    let stdout = sb.run(&["compile", "humanloop.policy"]).stdout;
    assert_eq!(std::fs::read(&out_path).unwrap(), stdout);
    assert_eq!(sb.listing(), before);
}

// ----------------------------------------------------------------- explain

#[test]
fn explain_known_codes_in_any_case() {
    let sb = Sandbox::new();
    let upper = sb.snapshot("explain_p0201", &["explain", "P0201"]);
    assert_eq!(exit_code(&upper), 0);
    assert!(String::from_utf8_lossy(&upper.stdout).contains("P0201"));
    let lower = sb.run(&["explain", "p0201"]);
    assert_eq!(exit_code(&lower), 0);
    assert_eq!(
        lower.stdout, upper.stdout,
        "`p0201` explains the same as `P0201`"
    );
    assert!(lower.stderr.is_empty());
}

#[test]
fn explain_unknown_code_is_a_usage_error_with_a_suggestion() {
    let sb = Sandbox::new();
    let out = sb.snapshot("explain_p9999", &["explain", "P9999"]);
    assert_eq!(exit_code(&out), 2);
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("known codes: P0101"));

    let out = sb.snapshot("explain_p0299", &["explain", "P0299"]);
    assert_eq!(exit_code(&out), 2);
    assert!(stderr(&out).contains("did you mean `P0209`?"));
}
