//! `policyc export --to cedar|rego|cerbos POLICY [-o DIR] [--check]`: the resolved
//! policy in another engine's own idiom (`policy-export`), printed, written
//! into a directory atomically, or compared with what a directory holds.

use std::io::Write;
use std::path::{Path, PathBuf};

use policy_export::{ExportFile, Header, Target};
use policy_syntax::{Code, Diagnostic};

use crate::exit::{CmdError, Exit};
use crate::files;
use crate::render::{self, Format};

/// An engine to export to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum To {
    /// Cedar: a schema, the policies and the role entities.
    Cedar,
    /// Rego: an OPA bundle (a package with `allow` and `reasons`, and `data.json`).
    Rego,
    /// Cerbos: a resource policy, its derived roles and a test suite of every cell.
    Cerbos,
}

/// `policyc export`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The engine to export to.
    #[arg(long, value_enum, value_name = "ENGINE")]
    pub to: To,
    /// The policy file, or a project (its directory or `policyc.toml`).
    pub file: PathBuf,
    /// Write the files into this directory (created if missing) instead of printing them.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Compare with the files in DIR instead of writing: exit 1 naming each stale file.
    #[arg(long, requires = "output")]
    pub check: bool,
}

/// The base name of the exported files: a project's name, else the file's
/// stem (`humanloop.policy` → `humanloop`), as a plain file name: a
/// character other than a letter, a digit, `_`, `-` or `.` becomes `_` and
/// leading dots are dropped, so that a manifest's `name = "../x"` never
/// writes outside the output directory.
fn base_name(path: &Path) -> String {
    let name = policy_files::project::manifest_of(path)
        .and_then(|manifest| policy_files::project::files_of(&manifest).ok())
        .map(|(name, _)| name)
        .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    file_name_of(&name)
}

/// `name` as one path component ([`base_name`]); `policy` when nothing is
/// left.
fn file_name_of(name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match plain.trim_start_matches('.') {
        "" => "policy".to_string(),
        rest => rest.to_string(),
    }
}

/// Runs the command.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    let (policy, warnings) = crate::load::load_policy(&args.file, Format::Human)?;
    render::emit_diagnostics(&warnings, Format::Human);
    let target = match args.to {
        To::Cedar => Target::Cedar,
        To::Rego => Target::Rego,
        To::Cerbos => Target::Cerbos,
    };
    // The hash `compile` writes, without building the decision table.
    let hash = policy_eval::Artifact::from_policy(&policy).content_hash;
    let name = base_name(&args.file);
    let source = files::display_name(&args.file);
    let header = Header {
        name: &name,
        source: &source,
        version: env!("CARGO_PKG_VERSION"),
        content_hash: &hash,
    };
    let exported =
        policy_export::export(&policy, target, &header).map_err(|diagnostics| CmdError {
            diagnostics,
            format: Format::Human,
            exit: Exit::Failure,
        })?;
    render::emit_diagnostics(
        &policy_export::notes(&policy, target, &header),
        Format::Human,
    );
    let left_out = left_out_of(&exported, target, &name);
    match (&args.output, args.check) {
        (None, _) => {
            let mut out = std::io::stdout().lock();
            for (i, f) in exported.iter().enumerate() {
                let sep = if i == 0 { "" } else { "\n" };
                let _ = write!(out, "{sep}==> {} <==\n{}", f.path, f.text);
            }
            Ok(Exit::Ok)
        }
        (Some(dir), true) => check(dir, &exported, &left_out, &args.file, target),
        (Some(dir), false) => write(dir, &exported, &left_out, &args.file),
    }
}

/// The files an export to `target` named `name` may write that this one
/// does not (`policy_export::paths`): a copy of one in the output
/// directory is from an earlier export, and stale.
fn left_out_of(exported: &[ExportFile], target: Target, name: &str) -> Vec<String> {
    policy_export::paths(target, name)
        .into_iter()
        .filter(|p| exported.iter().all(|f| &f.path != p))
        .collect()
}

/// Whether `path` names something on disk (a file, or a symlink even if
/// dangling).
fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Writes every file into `dir`, each atomically; a file already up to
/// date is left alone, and one an earlier export wrote that this one
/// leaves out is removed.
fn write(
    dir: &Path,
    exported: &[ExportFile],
    left_out: &[String],
    input: &Path,
) -> Result<Exit, CmdError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        let d = Diagnostic::new(
            Code::CannotWrite,
            format!(
                "cannot create the directory `{}`: {e}",
                files::display_name(dir)
            ),
        );
        CmdError::new(d, Format::Human)
    })?;
    let mut err = std::io::stderr().lock();
    for f in exported {
        let path = dir.join(&f.path);
        let name = files::display_name(&path);
        if std::fs::read(&path).is_ok_and(|old| old == f.text.as_bytes()) {
            if !crate::global::quiet() {
                let _ = writeln!(err, "`{name}` is up to date");
            }
            continue;
        }
        files::write_atomic(&path, f.text.as_bytes(), &[input])
            .map_err(|d| CmdError::new(d, Format::Human))?;
        if !crate::global::quiet() {
            let _ = writeln!(err, "wrote `{name}`");
        }
    }
    for f in left_out {
        let path = dir.join(f);
        if !exists(&path) {
            continue;
        }
        let name = files::display_name(&path);
        std::fs::remove_file(&path).map_err(|e| {
            let d = Diagnostic::new(
                Code::CannotWrite,
                format!("cannot remove `{name}`, which the export no longer writes: {e}"),
            )
            .help("remove it yourself, or make the directory writable: a stale file beside the export is read with it");
            CmdError::new(d, Format::Human)
        })?;
        if !crate::global::quiet() {
            let _ = writeln!(err, "removed `{name}` (no longer part of the export)");
        }
    }
    Ok(Exit::Ok)
}

/// Compares every file with its copy in `dir`: exit 0 when all match, 1
/// naming each missing or different file, and each file an earlier export
/// wrote that this one leaves out.
fn check(
    dir: &Path,
    exported: &[ExportFile],
    left_out: &[String],
    input: &Path,
    target: Target,
) -> Result<Exit, CmdError> {
    let stale: Vec<String> = exported
        .iter()
        .map(|f| dir.join(&f.path))
        .zip(exported)
        .filter(|(path, f)| !std::fs::read(path).is_ok_and(|old| old == f.text.as_bytes()))
        .map(|(path, _)| files::display_name(&path))
        .chain(
            left_out
                .iter()
                .map(|f| dir.join(f))
                .filter(|path| exists(path))
                .map(|path| files::display_name(&path)),
        )
        .collect();
    let mut err = std::io::stderr().lock();
    if stale.is_empty() {
        if crate::global::quiet() {
            return Ok(Exit::Ok);
        }
        let _ = writeln!(
            err,
            "`{}` is up to date",
            files::display_name(dir).trim_end_matches('/')
        );
        return Ok(Exit::Ok);
    }
    let to = target.name();
    let _ = writeln!(
        err,
        "error: the export is stale (missing, different, or no longer exported): {}\n  help: run `policyc export --to {to} {} -o {}` and commit the result",
        stale
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", "),
        files::display_name(input),
        files::display_name(dir)
    );
    Ok(Exit::Failure)
}

#[cfg(test)]
mod tests {
    use super::file_name_of;

    #[test]
    fn a_base_name_is_one_plain_path_component() {
        assert_eq!(file_name_of("humanloop"), "humanloop");
        assert_eq!(file_name_of("acme-billing.v2"), "acme-billing.v2");
        assert_eq!(file_name_of("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(file_name_of("/abs"), "_abs");
        assert_eq!(file_name_of(".."), "policy");
        assert_eq!(file_name_of(".hidden"), "hidden");
        assert_eq!(file_name_of("My Policy"), "My_Policy");
        assert_eq!(file_name_of("a\\b\0c"), "a_b_c");
        assert_eq!(file_name_of(""), "policy");
    }
}
