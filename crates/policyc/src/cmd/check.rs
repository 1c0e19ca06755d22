//! `policyc check [PATH...]`: compile every policy and report every problem.
//!
//! `-` reads one policy from stdin (named by `--stdin-filename`). Human and
//! JSON output stream file by file; SARIF and GitHub commands are written
//! by [`crate::report`] once every file is checked.

use std::io::Write;
use std::path::{Path, PathBuf};

use policy_compiler::compile_with_expected;
use policy_syntax::{Code, Diagnostic, Severity, SourceFile};
use serde::Serialize;

use crate::exit::{CmdError, Exit};
use crate::files::{self, LoadError};
use crate::output::plural;
use crate::output::{self, OutputFormat};
use crate::render::{self, JsonDiagnostic, JsonLocation};
use crate::report::{self, Checked};

/// `policyc check`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories (searched recursively for `*.policy`); `-` reads a policy from stdin. Defaults to `.`.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, default_value = "human", value_parser = output::accepting(&[OutputFormat::Human, OutputFormat::Json, OutputFormat::Sarif, OutputFormat::Github]))]
    pub format: OutputFormat,
    /// The file name diagnostics show for the policy read from stdin (`-`).
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<String>,
    /// Exit 1 when there are warnings, not only errors (for CI).
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Serialize)]
struct JsonFile {
    path: String,
    errors: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct JsonSummary {
    files: usize,
    errors: usize,
    warnings: usize,
}

/// A warning an `expect` line expected, with the line's reason.
#[derive(Serialize)]
struct JsonExpected {
    reason: String,
    /// Where the `expect` line is.
    expectation: Option<JsonLocation>,
    diagnostic: JsonDiagnostic,
}

#[derive(Serialize)]
struct JsonReport {
    files: Vec<JsonFile>,
    diagnostics: Vec<JsonDiagnostic>,
    /// Warnings expected by `expect` lines: not counted, not in `diagnostics`.
    expected: Vec<JsonExpected>,
    summary: JsonSummary,
}

/// Compiles one loaded input.
fn check_source(name: String, loaded: Result<SourceFile, LoadError>) -> Checked {
    match loaded {
        Ok(source) => {
            let (_, diagnostics, expected) = compile_with_expected(&source);
            Checked {
                files: source.parts().len().max(1),
                name,
                diagnostics,
                expected,
                unreadable: false,
            }
        }
        Err(e) => Checked {
            files: usize::from(!name.is_empty()),
            name,
            unreadable: matches!(e, LoadError::Unreadable(_)),
            diagnostics: vec![e.into_diagnostic()],
            expected: Vec::new(),
        },
    }
}

/// Where the results go as files are checked: human reports are written
/// as each file is checked; the JSON report and the CI formats (SARIF,
/// GitHub) are written once every file is.
enum Sink {
    Human { color: bool },
    Json(JsonReport),
    Ci(OutputFormat, Vec<Checked>),
}

/// What every format counts the same way.
#[derive(Default)]
struct Tally {
    files: usize,
    errors: usize,
    warnings: usize,
    unreadable: bool,
}

impl Sink {
    fn new(format: OutputFormat) -> Sink {
        match format {
            OutputFormat::Json => Sink::Json(JsonReport {
                files: Vec::new(),
                diagnostics: Vec::new(),
                expected: Vec::new(),
                summary: JsonSummary {
                    files: 0,
                    errors: 0,
                    warnings: 0,
                },
            }),
            OutputFormat::Sarif | OutputFormat::Github => Sink::Ci(format, Vec::new()),
            _ => Sink::Human {
                color: render::stderr_color(),
            },
        }
    }

    /// Takes one checked input (its counts already in the tally).
    fn add(&mut self, checked: Checked, errors: usize, warnings: usize) {
        match self {
            Sink::Human { color } => {
                render::write_human(&mut std::io::stderr().lock(), &checked.diagnostics, *color);
            }
            Sink::Json(report) => {
                let name = &checked.name;
                report.diagnostics.extend(
                    checked
                        .diagnostics
                        .iter()
                        .map(|d| JsonDiagnostic::from_diag(d, Some(name))),
                );
                report
                    .expected
                    .extend(checked.expected.iter().map(|e| JsonExpected {
                        reason: e.reason.clone(),
                        expectation: e.diagnostic.source_file().map(|s| {
                            let lc = s.line_col(e.span.start);
                            JsonLocation {
                                file: s.file_name_at(e.span.start).to_string(),
                                line: lc.line,
                                column: lc.column,
                                start: e.span.start,
                                end: e.span.end,
                            }
                        }),
                        diagnostic: JsonDiagnostic::from_diag(&e.diagnostic, Some(name)),
                    }));
                report.files.push(JsonFile {
                    path: checked.name,
                    errors,
                    warnings,
                });
            }
            Sink::Ci(_, all) => all.push(checked),
        }
    }

    /// Writes what is left: the JSON report, the SARIF log or GitHub
    /// commands, and (human and GitHub) the summary line on stderr.
    fn finish(self, tally: &Tally, exit: Exit, deny_warnings: bool) {
        let summary = |tally: &Tally| {
            if crate::global::quiet() && exit == Exit::Ok {
                return;
            }
            let verdict = if exit == Exit::Ok { "ok" } else { "failed" };
            let denied = if deny_warnings && tally.warnings > 0 && tally.errors == 0 {
                " (warnings denied)"
            } else {
                ""
            };
            // One write: stderr is unbuffered.
            let line = format!(
                "{verdict}: checked {}: {}, {}{denied}\n",
                plural(tally.files, "file"),
                plural(tally.errors, "error"),
                plural(tally.warnings, "warning")
            );
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        };
        match self {
            Sink::Human { .. } => summary(tally),
            Sink::Json(mut report) => {
                report.summary = JsonSummary {
                    files: tally.files,
                    errors: tally.errors,
                    warnings: tally.warnings,
                };
                output::print_json(&report);
            }
            Sink::Ci(OutputFormat::Sarif, all) => {
                output::print_text(&report::sarif::render(&all, crate::global::docs_url()));
            }
            Sink::Ci(_, all) => {
                output::print_text(&report::github::render(&all));
                summary(tally);
            }
        }
    }
}

/// The files under `paths`. A path that cannot be searched is fatal for
/// the human and JSON formats (exit 2 with its diagnostic); the CI formats
/// report it inside their document, so it stays well-formed, and search
/// each path on its own, so one that cannot be read hides no other.
fn discover_inputs(
    paths: &[PathBuf],
    format: OutputFormat,
) -> Result<(Vec<PathBuf>, Vec<Checked>), CmdError> {
    if paths.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let d = match files::discover(paths, &files::POLICIES) {
        Ok(found) => return Ok((crate::project::in_projects(found), Vec::new())),
        Err(d) => d,
    };
    if !matches!(format, OutputFormat::Sarif | OutputFormat::Github) {
        return Err(CmdError::new(d, format.diagnostics()));
    }
    let (mut found, mut failed) = (Vec::new(), Vec::new());
    for path in paths {
        match files::discover(std::slice::from_ref(path), &files::POLICIES) {
            Ok(f) => found.extend(f),
            Err(d) => failed.push(Checked {
                files: 1,
                name: files::display_name(path),
                diagnostics: vec![d],
                expected: Vec::new(),
                unreadable: true,
            }),
        }
    }
    Ok((crate::project::in_projects(found), failed))
}

/// Runs the command: one path for every format. Inputs are discovered,
/// compiled one at a time, counted once, and handed to the format's sink.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    let format = args.format.diagnostics();
    let dash = Path::new("-");
    let read_stdin = args.paths.iter().any(|p| p == dash);
    if args.stdin_filename.is_some() && !read_stdin {
        let d = Diagnostic::new(Code::Io, "`--stdin-filename` names the policy read from `-`")
            .help("add `-` to the paths, e.g. `git show HEAD:a.policy | policyc check - --stdin-filename a.policy`");
        return Err(CmdError::new(d, format));
    }
    let paths: Vec<PathBuf> = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.iter().filter(|p| *p != dash).cloned().collect()
    };
    let stdin_name = args
        .stdin_filename
        .clone()
        .unwrap_or_else(|| crate::stdin::DEFAULT_NAME.to_string());
    let stdin_input = read_stdin.then(|| {
        let loaded = crate::stdin::load(&stdin_name, "policyc check -");
        check_source(stdin_name.clone(), loaded)
    });
    let (found, failed) = discover_inputs(&paths, args.format)?;
    let inputs = stdin_input.into_iter().chain(failed).chain(
        found
            .iter()
            .map(|p| check_source(files::display_name(p), crate::project::load_policy(p))),
    );
    let mut sink = Sink::new(args.format);
    let mut tally = Tally::default();
    for checked in inputs {
        let errors = checked
            .diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .count();
        let warnings = checked.diagnostics.len() - errors;
        tally.files += checked.files;
        tally.errors += errors;
        tally.warnings += warnings;
        tally.unreadable |= checked.unreadable;
        sink.add(checked, errors, warnings);
    }
    let exit = exit_code(
        tally.unreadable,
        tally.errors,
        tally.warnings,
        args.deny_warnings,
    );
    sink.finish(&tally, exit, args.deny_warnings);
    Ok(exit)
}

/// 2 when an input could not be read, 1 on errors (or denied warnings), else 0.
fn exit_code(unreadable: bool, errors: usize, warnings: usize, deny_warnings: bool) -> Exit {
    if unreadable {
        Exit::Error
    } else if errors > 0 || (deny_warnings && warnings > 0) {
        Exit::Failure
    } else {
        Exit::Ok
    }
}
