//! `policyc fmt [PATH...]`: canonical formatting, in place or as a check.
//!
//! The formatting rules live in `policy_syntax::format`; this command does
//! the I/O. Files are rewritten atomically, and only when they change; a
//! file with syntax errors is reported and left untouched.

use std::io::Write;
use std::path::{Path, PathBuf};

use policy_syntax::{Code, Diagnostic, SourceFile};

use crate::exit::{CmdError, Exit};
use crate::files::{self, LoadError};
use crate::output::plural;
use crate::render::{self, Format};

/// `policyc fmt`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories (searched recursively for `*.policy`); `-` formats stdin to stdout. Defaults to `.`.
    pub paths: Vec<PathBuf>,
    /// Change nothing: print a diff of what would change and exit 1 if anything would.
    #[arg(long)]
    pub check: bool,
    /// Read a policy from stdin and write it formatted to stdout (same as `-`).
    #[arg(long)]
    pub stdin: bool,
}

/// `P0524`: the formatted text of `name` would be larger than the limit
/// (`stdin`: it was read from stdin, and nothing is written to stdout).
fn grows_too_large(name: &str, bytes: usize, stdin: bool) -> Diagnostic {
    Diagnostic::new(
        Code::FormattedTooLarge,
        format!(
            "formatting `{name}` would make it {}, more than the {} policyc reads",
            files::human_size(bytes as u64),
            files::human_size(files::max_file_bytes())
        ),
    )
    .help(if stdin {
        "split the policy into several files, or raise the limit with `--max-file-size`; nothing was written to stdout"
    } else {
        "split the policy into several files, or raise the limit with `--max-file-size`; the file was left unchanged"
    })
}

fn usage(message: &str, help: &str) -> CmdError {
    CmdError::new(
        Diagnostic::new(Code::Usage, message).help(help),
        Format::Human,
    )
}

/// Runs the command.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    let dash = Path::new("-");
    if args.stdin || args.paths.iter().any(|p| p == dash) {
        if args.paths.iter().any(|p| p != dash) {
            return Err(usage(
                "`policyc fmt` cannot format stdin and files in one run",
                "run `policyc fmt -` (or `--stdin`) with no other paths",
            ));
        }
        return run_stdin(args.check);
    }
    let files = files::discover_or_cwd(args.paths, &files::POLICY_FILES)
        .map_err(|d| CmdError::new(d, Format::Human))?;
    let color = render::stderr_color();
    let mut err = std::io::stderr().lock();
    let mut out = std::io::stdout().lock();
    let (mut unchanged, mut changed, mut failed, mut unreadable) = (0, 0, 0, false);
    for path in &files {
        let source = match files::load(path) {
            Ok(s) => s,
            Err(e) => {
                unreadable |= matches!(e, LoadError::Unreadable(_));
                failed += 1;
                let _ = write!(err, "{}", render::render_human(&e.into_diagnostic(), color));
                continue;
            }
        };
        let formatted = match policy_syntax::format(&source) {
            Ok(f) => f,
            Err(diags) => {
                failed += 1;
                for d in &diags {
                    let _ = write!(err, "{}", render::render_human(d, color));
                }
                let _ = writeln!(
                    err,
                    "`{}` has syntax errors; it was not formatted",
                    source.name()
                );
                continue;
            }
        };
        if formatted == source.text() {
            unchanged += 1;
            continue;
        }
        if formatted.len() as u64 > files::max_file_bytes() {
            // Writing it would leave a file that every command refuses
            // (`P0504`): refuse here, and leave the file as it is.
            failed += 1;
            let _ = write!(
                err,
                "{}",
                render::render_human(
                    &grows_too_large(source.name(), formatted.len(), false),
                    color
                )
            );
            continue;
        }
        if args.check {
            changed += 1;
            let _ = write!(out, "{}", formatted_diff(&source, &formatted));
        } else if let Err(d) = files::write_atomic(path, formatted.as_bytes(), &[]) {
            unreadable = true;
            failed += 1;
            let _ = write!(err, "{}", render::render_human(&d, color));
        } else {
            changed += 1;
        }
    }
    let _ = out.flush();
    let summary = if args.check {
        format!(
            "{} would be reformatted, {} already formatted",
            plural(changed, "file"),
            plural(unchanged, "file")
        )
    } else {
        format!(
            "{} reformatted, {} left unchanged",
            plural(changed, "file"),
            plural(unchanged, "file")
        )
    };
    let failures = if failed > 0 {
        format!(", {} could not be formatted", plural(failed, "file"))
    } else {
        String::new()
    };
    if !(crate::global::quiet() && failed == 0) {
        let _ = writeln!(err, "{summary}{failures}");
    }
    Ok(if unreadable {
        Exit::Error
    } else if failed > 0 || (args.check && changed > 0) {
        Exit::Failure
    } else {
        Exit::Ok
    })
}

fn run_stdin(check: bool) -> Result<Exit, CmdError> {
    // The shared reader (limits, NUL bytes, UTF-8) that `check -` uses: a
    // stream that cannot be read is exit 2, content that is not a policy 1.
    let source = crate::stdin::load(crate::stdin::DEFAULT_NAME, "policyc fmt -").map_err(|e| {
        let exit = match e {
            LoadError::Unreadable(_) => Exit::Error,
            LoadError::Content(_) => Exit::Failure,
        };
        CmdError {
            diagnostics: vec![e.into_diagnostic()],
            format: Format::Human,
            exit,
        }
    })?;
    let formatted = policy_syntax::format(&source).map_err(|diags| CmdError {
        diagnostics: diags,
        format: Format::Human,
        exit: Exit::Failure,
    })?;
    if !check && formatted.len() as u64 > files::max_file_bytes() {
        // What `check` would then refuse (`P0504`): refuse here, as for a file.
        return Err(CmdError {
            diagnostics: vec![grows_too_large(source.name(), formatted.len(), true)],
            format: Format::Human,
            exit: Exit::Failure,
        });
    }
    let mut out = std::io::stdout().lock();
    if check {
        if formatted == source.text() {
            return Ok(Exit::Ok);
        }
        let _ = write!(out, "{}", formatted_diff(&source, &formatted));
        return Ok(Exit::Failure);
    }
    let _ = out.write_all(formatted.as_bytes());
    Ok(Exit::Ok)
}

/// The diff `--check` prints: the file as it is, then formatted.
fn formatted_diff(source: &SourceFile, formatted: &str) -> String {
    crate::udiff::unified_diff(
        source.text(),
        formatted,
        source.name(),
        &format!("{} (formatted)", source.name()),
        None,
    )
}
