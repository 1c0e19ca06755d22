//! `policyc check [PATH...]`: compile every policy and report every problem.

use std::io::Write;
use std::path::PathBuf;

use policy_compiler::compile;
use policy_syntax::{Diagnostic, Severity};
use serde::Serialize;

use crate::exit::{CmdError, Exit};
use crate::files::{self, LoadError};
use crate::output::{self, OutputFormat};
use crate::render::{self, Format, JsonDiagnostic};

/// `policyc check`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories (searched recursively for `*.policy`). Defaults to `.`.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, default_value = "human", value_parser = output::accepting(&[OutputFormat::Human, OutputFormat::Json]))]
    pub format: OutputFormat,
    /// Exit 1 when there are warnings, not only errors (for CI).
    #[arg(long)]
    pub deny_warnings: bool,
}

/// At most this many diagnostics are rendered per file in human output.
const MAX_RENDERED_PER_FILE: usize = 100;

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

#[derive(Serialize)]
struct JsonReport {
    files: Vec<JsonFile>,
    diagnostics: Vec<JsonDiagnostic>,
    summary: JsonSummary,
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
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
    let files =
        files::discover(&paths, &files::POLICY_FILES).map_err(|d| CmdError::new(d, format))?;
    let color = render::stderr_color();
    let mut unreadable = false;
    let mut report = JsonReport {
        files: Vec::new(),
        diagnostics: Vec::new(),
        summary: JsonSummary {
            files: files.len(),
            errors: 0,
            warnings: 0,
        },
    };
    let mut err = std::io::stderr().lock();
    for path in &files {
        let name = files::display_name(path);
        let diags: Vec<Diagnostic> = match files::load(path) {
            Ok(source) => compile(&source).1,
            Err(e) => {
                unreadable |= matches!(e, LoadError::Unreadable(_));
                vec![e.into_diagnostic()]
            }
        };
        let errors = diags
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .count();
        let warnings = diags.len() - errors;
        report.summary.errors += errors;
        report.summary.warnings += warnings;
        match format {
            Format::Human => {
                for d in diags.iter().take(MAX_RENDERED_PER_FILE) {
                    let _ = write!(err, "{}", render::render_human(d, color));
                }
                if diags.len() > MAX_RENDERED_PER_FILE {
                    let _ = writeln!(
                        err,
                        "… and {} more in `{name}` (use --format json for all of them)\n",
                        diags.len() - MAX_RENDERED_PER_FILE
                    );
                }
            }
            Format::Json => {
                report.diagnostics.extend(
                    diags
                        .iter()
                        .map(|d| JsonDiagnostic::from_diag(d, Some(&name))),
                );
            }
        }
        report.files.push(JsonFile {
            path: name,
            errors,
            warnings,
        });
    }
    let s = &report.summary;
    let exit = if unreadable {
        Exit::Error
    } else if s.errors > 0 || (args.deny_warnings && s.warnings > 0) {
        Exit::Failure
    } else {
        Exit::Ok
    };
    match format {
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
