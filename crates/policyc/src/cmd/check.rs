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
use crate::render::{self, Format, JsonDiagnostic, JsonLocation};
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
                name,
                diagnostics,
                expected,
                unreadable: false,
            }
        }
        Err(e) => Checked {
            name,
            unreadable: matches!(e, LoadError::Unreadable(_)),
            diagnostics: vec![e.into_diagnostic()],
            expected: Vec::new(),
        },
    }
}

/// Runs the command.
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
    if matches!(args.format, OutputFormat::Sarif | OutputFormat::Github) {
        // A path that cannot be searched is reported inside the document,
        // so the output stays well-formed; each path is searched on its
        // own, so one that cannot be read does not hide the others.
        let mut checked: Vec<Checked> = stdin_input.into_iter().collect();
        let mut found = Vec::new();
        for path in &paths {
            match files::discover(std::slice::from_ref(path), &files::POLICY_FILES) {
                Ok(f) => found.extend(f),
                Err(d) => checked.push(Checked {
                    name: files::display_name(path),
                    diagnostics: vec![d],
                    expected: Vec::new(),
                    unreadable: true,
                }),
            }
        }
        found.sort();
        found.dedup();
        checked.extend(
            found
                .iter()
                .map(|p| check_source(files::display_name(p), files::load(p))),
        );
        return Ok(print_report(args.format, &checked, args.deny_warnings));
    }
    let files = if paths.is_empty() {
        Vec::new()
    } else {
        files::discover(&paths, &files::POLICY_FILES).map_err(|d| CmdError::new(d, format))?
    };
    let inputs = stdin_input.into_iter().chain(
        files
            .iter()
            .map(|p| check_source(files::display_name(p), files::load(p))),
    );
    let color = render::stderr_color();
    let mut unreadable = false;
    let mut report = JsonReport {
        files: Vec::new(),
        diagnostics: Vec::new(),
        expected: Vec::new(),
        summary: JsonSummary {
            files: files.len() + usize::from(read_stdin),
            errors: 0,
            warnings: 0,
        },
    };
    let mut err = std::io::stderr().lock();
    for checked in inputs {
        let Checked {
            name,
            diagnostics: diags,
            expected,
            unreadable: this_unreadable,
        } = checked;
        unreadable |= this_unreadable;
        let errors = diags
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .count();
        let warnings = diags.len() - errors;
        report.summary.errors += errors;
        report.summary.warnings += warnings;
        match format {
            Format::Human => {
                render::write_human(&mut err, &diags, color);
            }
            Format::Json => {
                report.diagnostics.extend(
                    diags
                        .iter()
                        .map(|d| JsonDiagnostic::from_diag(d, Some(&name))),
                );
                report
                    .expected
                    .extend(expected.iter().map(|e| JsonExpected {
                        reason: e.reason.clone(),
                        expectation: e.diagnostic.source_file().map(|s| {
                            let lc = s.line_col(e.span.start);
                            JsonLocation {
                                file: s.name().to_string(),
                                line: lc.line,
                                column: lc.column,
                                start: e.span.start,
                                end: e.span.end,
                            }
                        }),
                        diagnostic: JsonDiagnostic::from_diag(&e.diagnostic, Some(&name)),
                    }));
            }
        }
        report.files.push(JsonFile {
            path: name,
            errors,
            warnings,
        });
    }
    let s = &report.summary;
    let exit = exit_code(unreadable, s.errors, s.warnings, args.deny_warnings);
    match format {
        Format::Human if crate::global::quiet() && exit == Exit::Ok => {}
        Format::Human => {
            let verdict = match exit {
                Exit::Ok => "ok",
                _ => "failed",
            };
            let denied = if args.deny_warnings && s.warnings > 0 && s.errors == 0 {
                " (warnings denied)"
            } else {
                ""
            };
            // One write: stderr is unbuffered.
            let line = format!(
                "{verdict}: checked {}: {}, {}{denied}\n",
                plural(s.files, "file"),
                plural(s.errors, "error"),
                plural(s.warnings, "warning")
            );
            let _ = err.write_all(line.as_bytes());
        }
        Format::Json => output::print_json(&report),
    }
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

/// Prints a SARIF log or GitHub commands on stdout (and, for GitHub, the
/// usual summary line on stderr unless `--quiet`); gives the exit code.
fn print_report(format: OutputFormat, checked: &[Checked], deny_warnings: bool) -> Exit {
    let all = checked.iter().flat_map(|c| c.diagnostics.iter());
    let errors = all
        .clone()
        .filter(|d| d.severity() == Severity::Error)
        .count();
    let warnings = all.count() - errors;
    let unreadable = checked.iter().any(|c| c.unreadable);
    let exit = exit_code(unreadable, errors, warnings, deny_warnings);
    if format == OutputFormat::Sarif {
        output::print_text(&report::sarif::render(checked, crate::global::docs_url()));
        return exit;
    }
    output::print_text(&report::github::render(checked));
    if !(crate::global::quiet() && exit == Exit::Ok) {
        let verdict = if exit == Exit::Ok { "ok" } else { "failed" };
        let files = checked.iter().filter(|c| !c.name.is_empty()).count();
        let line = format!(
            "{verdict}: checked {}: {}, {}\n",
            plural(files, "file"),
            plural(errors, "error"),
            plural(warnings, "warning")
        );
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
    exit
}
