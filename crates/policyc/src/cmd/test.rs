//! `policyc test [PATH...]`: run `*.test.yaml` files against their policies.
//!
//! The file format is documented in docs/cli.md ("Test files"); parsing and
//! name resolution live in [`schema`], evaluation in [`eval`]. Output is a
//! block per failed test (expected, actual, and the derivation or deny
//! reason), a line per file, and the closing line `N passed, N failed`.

pub(crate) mod eval;
mod junit;
mod locate;
pub(crate) mod schema;
pub(crate) mod snapshots;

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use policy_compiler::{compile, has_errors};
use policy_syntax::{Code, Diagnostic, SourceFile};
use serde::Serialize;

use crate::exit::{CmdError, Exit};
use crate::files::{self, LoadError};
use crate::output::{self, OutputFormat};
use crate::render::{self, Format, JsonDiagnostic};
use junit::Junit;

use eval::{Position, TestResult};

/// `policyc test`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Test files or directories (searched recursively for `*.test.yaml`). Defaults to `.`.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, default_value = "human", value_parser = output::accepting(&[OutputFormat::Human, OutputFormat::Json, OutputFormat::Junit]))]
    pub format: OutputFormat,
    /// Also check every `NAME.snapshot.yaml` under the paths against `NAME.policy` beside it.
    #[arg(long)]
    pub snapshots: bool,
}

/// At most this many failed tests per file get a line and column.
const MAX_LOCATED: usize = 100;

/// The suffix that marks a test file.
const SUFFIX: &str = ".test.yaml";

#[derive(Serialize)]
struct JsonFile {
    path: String,
    policy: Option<String>,
    /// Whether the file could be run at all.
    ran: bool,
    passed: usize,
    failed: usize,
    results: Vec<TestResult>,
}

#[derive(Serialize)]
struct JsonSummary {
    files: usize,
    passed: usize,
    failed: usize,
    errors: usize,
}

#[derive(Serialize)]
struct JsonReport {
    files: Vec<JsonFile>,
    diagnostics: Vec<JsonDiagnostic>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshots: Option<Vec<snapshots::SnapshotResult>>,
    summary: JsonSummary,
}

/// Why a file did not run, and how that affects the exit code.
struct NotRun {
    diagnostics: Vec<Diagnostic>,
    exit: Exit,
}

impl NotRun {
    fn error(d: Diagnostic) -> Self {
        NotRun {
            diagnostics: vec![d],
            exit: Exit::Error,
        }
    }
}

/// Runs the command.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    let format = args.format.diagnostics();
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };
    let test_files = files::discover(&paths, &TEST_FILES).map_err(|d| CmdError::new(d, format))?;
    let snapshot_files = if args.snapshots {
        snapshots::discover(&paths).map_err(|d| CmdError::new(d, format))?
    } else {
        Vec::new()
    };
    let mut junit = (args.format == OutputFormat::Junit).then(Junit::new);
    let quiet = crate::global::quiet();
    let mut report = JsonReport {
        files: Vec::new(),
        diagnostics: Vec::new(),
        snapshots: None,
        summary: JsonSummary {
            files: test_files.len(),
            passed: 0,
            failed: 0,
            errors: 0,
        },
    };
    let mut exit = Exit::Ok;
    let mut text = String::new();
    let color = render::stderr_color();
    for path in &test_files {
        let name = files::display_name(path);
        match run_file(path, &files::discovery_root(path, &paths)) {
            Ok((policy_name, mut results, source)) => {
                // Each location costs one parse of the file: bound the work.
                for r in results.iter_mut().filter(|r| !r.passed).take(MAX_LOCATED) {
                    let section = match r.kind {
                        "decision" => "cases",
                        "assignment" => "assignments",
                        other => other,
                    };
                    r.location = schema::locate_entry(source.text(), section, r.index).map(|s| {
                        let lc = source.line_col(s.start);
                        Position {
                            line: lc.line,
                            column: lc.column,
                        }
                    });
                }
                let failed = results.iter().filter(|r| !r.passed).count();
                let passed = results.len() - failed;
                report.summary.passed += passed;
                report.summary.failed += failed;
                if failed > 0 && exit == Exit::Ok {
                    exit = Exit::Failure;
                }
                if let Some(j) = junit.as_mut() {
                    j.file(&name, &results, |r| {
                        let mut block = String::new();
                        write_failure(&mut block, &name, r);
                        block
                    });
                } else if format == Format::Human {
                    for r in results.iter().filter(|r| !r.passed) {
                        write_failure(&mut text, &name, r);
                    }
                    let _ = if failed == 0 && quiet {
                        Ok(())
                    } else if failed == 0 {
                        writeln!(text, "ok     {name} ({})", tests(results.len()))
                    } else {
                        writeln!(
                            text,
                            "FAILED {name} ({failed} of {} failed)",
                            tests(results.len())
                        )
                    };
                }
                report.files.push(JsonFile {
                    path: name,
                    policy: Some(policy_name),
                    ran: true,
                    passed,
                    failed,
                    results,
                });
            }
            Err(not_run) => {
                report.summary.errors += 1;
                exit = match (exit, not_run.exit) {
                    (Exit::Error, _) | (_, Exit::Error) => Exit::Error,
                    _ => Exit::Failure,
                };
                if let Some(j) = junit.as_mut() {
                    j.not_run(&name, &not_run.diagnostics);
                }
                match format {
                    Format::Human => {
                        let _ = writeln!(text, "ERROR  {name} (not run, see the errors above)");
                        let mut err = std::io::stderr().lock();
                        for d in &not_run.diagnostics {
                            let _ = write!(err, "{}", render::render_human(d, color));
                        }
                    }
                    Format::Json => report.diagnostics.extend(
                        not_run
                            .diagnostics
                            .iter()
                            .map(|d| JsonDiagnostic::from_diag(d, Some(&name))),
                    ),
                }
                report.files.push(JsonFile {
                    path: name,
                    policy: None,
                    ran: false,
                    passed: 0,
                    failed: 0,
                    results: Vec::new(),
                });
            }
        }
    }
    if args.snapshots {
        let results: Vec<_> = snapshot_files
            .iter()
            .map(|p| snapshots::check(p, &files::discovery_root(p, &paths)))
            .collect();
        for r in &results {
            if r.passed {
                report.summary.passed += 1;
            } else {
                report.summary.failed += 1;
                exit = match exit {
                    Exit::Error => Exit::Error,
                    _ if r.refused => Exit::Error,
                    _ => Exit::Failure,
                };
            }
            if junit.is_some() {
                continue;
            }
            match format {
                Format::Human => write_snapshot(&mut text, r, quiet, color),
                Format::Json => report.diagnostics.extend(
                    r.diagnostics
                        .iter()
                        .map(|d| JsonDiagnostic::from_diag(d, Some(&r.path))),
                ),
            }
        }
        if let Some(j) = junit.as_mut() {
            j.snapshots(&results);
        }
        report.snapshots = Some(results);
    }
    if let Some(j) = &junit {
        output::print_text(&j.render());
        return Ok(exit);
    }
    match format {
        Format::Human => {
            let s = &report.summary;
            if s.errors > 0 {
                let files = if s.errors == 1 { "file" } else { "files" };
                let _ = writeln!(text, "error: {} test {files} could not be run", s.errors);
            }
            if !(quiet && exit == Exit::Ok) {
                let _ = writeln!(text, "{} passed, {} failed", s.passed, s.failed);
            }
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
        Format::Json => output::print_json(&report),
    }
    Ok(exit)
}

fn tests(n: usize) -> String {
    if n == 1 {
        "1 test".to_string()
    } else {
        format!("{n} tests")
    }
}

/// Loads, parses and resolves one test file and its policy, then runs it.
fn run_file(path: &Path, tree: &Path) -> Result<(String, Vec<TestResult>, SourceFile), NotRun> {
    let source = files::load(path).map_err(|e| match e {
        LoadError::Unreadable(d) => NotRun::error(d),
        LoadError::Content(d) => NotRun::error(d),
    })?;
    let parsed = schema::parse(&source).map_err(NotRun::error)?;
    let policy_path = match parsed.policy() {
        Some(p) => path.with_file_name("").join(p),
        None => default_policy(path),
    };
    // Named or by default, the policy must be in the tree: a link beside the
    // test file is no way out of it.
    // A project (its directory or manifest) is checked by its manifest.
    let (checked, suffix) = match crate::project::manifest_of(&policy_path) {
        Some(manifest) => (manifest, crate::project::MANIFEST),
        None => (policy_path.clone(), ".policy"),
    };
    files::inside_tree(&checked, tree, suffix).map_err(|why| {
        let test = files::display_name(path);
        let (message, help) = match parsed.policy() {
            Some(p) => (
                format!("`{test}` names `{p}` as its policy: {why}"),
                "`policy:` must name a `.policy` file or a policy project inside the tree the test file was found in",
            ),
            None => (
                format!(
                    "`{test}` runs against `{}` beside it: {why}",
                    policy_path
                        .file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
                ),
                "the policy beside a test file must be a file inside the tree the test file was found in, not a link out of it",
            ),
        };
        NotRun::error(Diagnostic::new(Code::PolicyOutsideTree, message).help(help))
    })?;
    let policy_source = crate::project::load_policy(&policy_path).map_err(|e| {
        let d = e.into_diagnostic();
        let help = match parsed.policy() {
            Some(_) => "check the `policy:` path; it is relative to the test file".to_string(),
            None => format!(
                "put `{}` beside the test file, or name the policy with `policy: PATH`",
                policy_path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            ),
        };
        NotRun::error(d.help(help))
    })?;
    let (policy, diags) = compile(&policy_source);
    if has_errors(&diags) {
        return Err(NotRun {
            diagnostics: diags,
            exit: Exit::Failure,
        });
    }
    let file = schema::resolve(&source, parsed, &policy).map_err(|diagnostics| NotRun {
        diagnostics,
        exit: Exit::Error,
    })?;
    let results = eval::run(&policy_eval::Evaluator::from_owned_policy(policy), &file);
    debug_assert_eq!(results.len(), file.len());
    Ok((files::display_name(&policy_path), results, source))
}

/// `dir/name.test.yaml` → `dir/name.policy`.
fn default_policy(test: &Path) -> PathBuf {
    let name = test
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let stem = name.strip_suffix(SUFFIX).unwrap_or(&name);
    test.with_file_name(format!("{stem}.policy"))
}

/// The test files: `*.test.yaml`.
const TEST_FILES: files::Kind = files::Kind {
    projects: false,
    suffix: SUFFIX,
    help: "write a test file beside the policy, e.g. `humanloop.test.yaml` for `humanloop.policy`",
};

/// The human lines of one snapshot check (diagnostics go to stderr).
fn write_snapshot(out: &mut String, r: &snapshots::SnapshotResult, quiet: bool, color: bool) {
    if r.passed {
        if !quiet {
            let _ = writeln!(out, "ok     {} (snapshot)", r.path);
        }
        return;
    }
    if let Some(diff) = &r.diff {
        let _ = writeln!(
            out,
            "FAIL {}: does not match the effective permissions of `{}` (`-` committed, `+` now)",
            r.path, r.policy
        );
        out.push_str(diff);
        if !diff.ends_with('\n') {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "  help: if the change is intended, run `policyc snapshot {} --update`\n",
            r.policy
        );
        let _ = writeln!(out, "FAILED {} (snapshot differs)", r.path);
    } else {
        let mut err = std::io::stderr().lock();
        for d in &r.diagnostics {
            let _ = write!(err, "{}", render::render_human(d, color));
        }
        let _ = writeln!(
            out,
            "FAILED {} (snapshot not checked, see the errors above)",
            r.path
        );
    }
}

/// The human block of one failed test (also the JUnit failure text).
pub(crate) fn write_failure(out: &mut String, file: &str, r: &TestResult) {
    let at = r
        .location
        .map_or_else(String::new, |p| format!(":{}:{}", p.line, p.column));
    let _ = writeln!(out, "FAIL {file}{at}: {}", r.name);
    if let Some(d) = &r.decision {
        let verdict = |v: &eval::Verdict| match v.reason {
            Some(reason) => format!("{} ({reason})", v.decision),
            None => v.decision.to_string(),
        };
        let _ = writeln!(out, "  expected: {}", verdict(&d.expected));
        let _ = writeln!(out, "  actual:   {}", verdict(&d.actual));
        for (i, line) in d.explanation.iter().enumerate() {
            let head = if i == 0 {
                "  because:  "
            } else {
                "            "
            };
            let _ = writeln!(out, "{head}{line}");
        }
    }
    if let Some(a) = &r.assignment {
        let word = |b: bool| if b { "assignable" } else { "not assignable" };
        let _ = writeln!(out, "  expected: {}", word(a.expected));
        let _ = writeln!(out, "  actual:   {}", word(a.actual));
        let _ = writeln!(out, "  because:  {}", a.why);
    }
    if let Some(s) = &r.set {
        let list = |v: &[String]| {
            if v.is_empty() {
                "(none)".to_string()
            } else {
                v.join(", ")
            }
        };
        let _ = writeln!(out, "  expected: {}", list(&s.expected));
        let _ = writeln!(out, "  actual:   {}", list(&s.actual));
        for (head, entries) in [("missing", &s.missing), ("extra", &s.extra)] {
            for e in entries {
                let _ = writeln!(out, "  {:<10}{}", format!("{head}:"), e.name);
                for line in &e.why {
                    let _ = writeln!(out, "              because: {line}");
                }
            }
        }
    }
    out.push('\n');
}
