//! `policyc snapshot FILE [--check [SNAPSHOT] | --update [SNAPSHOT]]`: the
//! effective permissions of a policy as canonical YAML, for review.
//!
//! The snapshot type lives in the compiler (`policy_compiler::Snapshot`);
//! this command only renders it, compares it with a committed file, or
//! rewrites that file atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use policy_syntax::{Code, Diagnostic};

use crate::exit::{CmdError, Exit};
use crate::files::{self, LoadError};
use crate::render::{self, Format};
use crate::snapshot_text::{normalize, render, snapshot_diff, write_to};

/// `policyc snapshot`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file.
    pub file: PathBuf,
    /// Compare with a committed snapshot (default `NAME.snapshot.yaml` beside the policy); exit 1 with a diff when it differs.
    #[arg(long, value_name = "SNAPSHOT", num_args = 0..=1, conflicts_with = "update")]
    pub check: Option<Option<PathBuf>>,
    /// Rewrite the snapshot file atomically (default `NAME.snapshot.yaml` beside the policy).
    #[arg(long, value_name = "SNAPSHOT", num_args = 0..=1)]
    pub update: Option<Option<PathBuf>>,
}

/// The default snapshot path of a policy: `humanloop.policy` →
/// `humanloop.snapshot.yaml`, beside it.
pub fn default_path(policy: &Path) -> PathBuf {
    let stem = policy
        .file_stem()
        .map_or_else(|| "policy".into(), |s| s.to_string_lossy().into_owned());
    policy.with_file_name(format!("{stem}.snapshot.yaml"))
}

/// The default snapshot path of `policy`, refused (P0523) when it links
/// to something outside the policy's directory or to a file that is not a
/// snapshot: a link committed beside a policy must not make `--check` print
/// a file the runner can read, nor `--update` overwrite one. A path given
/// on the command line is the user's own choice and is used as given.
fn confined_default(policy: &Path) -> Result<PathBuf, CmdError> {
    let path = default_path(policy);
    let dir = match policy.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    files::inside_tree(&path, &dir, ".snapshot.yaml")
        .map(|()| path.clone())
        .map_err(|why| {
            let name = files::display_name(&path);
            let d = Diagnostic::new(
                Code::PolicyOutsideTree,
                format!("the default snapshot `{name}` is not used: {why}"),
            )
            .help(
                "replace the link with the snapshot file, or name the snapshot you mean: `--check PATH` or `--update PATH`",
            );
            CmdError::new(d, Format::Human)
        })
}

/// Runs the command.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    let (policy, warnings) = crate::load::load_policy(&args.file, Format::Human)?;
    render::emit_diagnostics(&warnings, Format::Human);
    if args.check.is_none() && args.update.is_none() {
        // Streamed: the output can be far larger than the policy.
        let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        return match write_to(&args.file, &policy, out) {
            // A closed stdout (`| head`) ends the output, as before.
            Ok(()) | Err(Ok(_)) => Ok(Exit::Ok),
            Err(Err(d)) => Err(CmdError::new(d, Format::Human)),
        };
    }
    let text = render(&args.file, &policy).map_err(|d| CmdError::new(d, Format::Human))?;
    let target = |given: &Option<PathBuf>| match given {
        Some(path) => Ok(path.clone()),
        None => confined_default(&args.file),
    };
    if let Some(given) = &args.check {
        return check(&args.file, &target(given)?, &text);
    }
    if let Some(given) = &args.update {
        let path = target(given)?;
        let name = files::display_name(&path);
        let same = std::fs::read_to_string(&path).is_ok_and(|old| normalize(&old) == text);
        let mut err = std::io::stderr().lock();
        if same {
            let _ = writeln!(err, "`{name}` is up to date");
        } else {
            files::write_atomic(&path, text.as_bytes(), &[&args.file])
                .map_err(|d| CmdError::new(d, Format::Human))?;
            let _ = writeln!(err, "updated `{name}`");
        }
    }
    Ok(Exit::Ok)
}

/// The command that rewrites the snapshot at `snapshot` from `policy`, with
/// the paths as the user gave them, quoted for a POSIX shell where needed.
fn update_command(policy: &Path, snapshot: &Path) -> String {
    format!(
        "policyc snapshot {} --update {}",
        shell_word(&files::display_name(policy)),
        shell_word(&files::display_name(snapshot))
    )
}

/// `word` as one POSIX shell word: unchanged when it has only safe
/// characters, otherwise single-quoted.
fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./+=:,@%".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Compares the committed snapshot at `path` with `fresh` (the snapshot of
/// `policy`): exit 0 when they match, 1 with a unified diff when they do
/// not, 2 when it cannot be read.
fn check(policy: &Path, path: &Path, fresh: &str) -> Result<Exit, CmdError> {
    let name = files::display_name(path);
    let update = update_command(policy, path);
    let old = match files::load(path) {
        Ok(source) => normalize(source.text()),
        Err(LoadError::Unreadable(d)) | Err(LoadError::Content(d)) => {
            let d = d.help(format!("create it with `{update}`"));
            return Err(CmdError::new(d, Format::Human));
        }
    };
    if old == fresh {
        let _ = writeln!(std::io::stderr().lock(), "`{name}` is up to date");
        return Ok(Exit::Ok);
    }
    let diff = snapshot_diff(&old, fresh, &name);
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{diff}");
    if !diff.ends_with('\n') {
        let _ = writeln!(out);
    }
    let _ = writeln!(
        std::io::stderr().lock(),
        "error: `{name}` does not match the policy's effective permissions \
         (`-` committed, `+` now)\n  \
         help: review the diff; if the change is intended, run `{update}`"
    );
    Ok(Exit::Failure)
}
