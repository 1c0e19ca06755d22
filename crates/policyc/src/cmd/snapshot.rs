//! `policyc snapshot FILE [--check [SNAPSHOT] | --update [SNAPSHOT]]`: the
//! effective permissions of a policy as canonical YAML, for review.
//!
//! The snapshot type lives in the compiler (`policy_compiler::Snapshot`);
//! this command only renders it, compares it with a committed file, or
//! rewrites that file atomically.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use policy_compiler::Snapshot;
use policy_syntax::{Code, Diagnostic};
use similar::{ChangeTag, TextDiff};

use crate::cli::SnapshotArgs;
use crate::exit::{CmdError, Exit};
use crate::files::{self, LoadError};
use crate::render::{self, Format};

/// The default snapshot path of a policy: `humanloop.policy` →
/// `humanloop.snapshot.yaml`, beside it.
pub fn default_path(policy: &Path) -> PathBuf {
    let stem = policy
        .file_stem()
        .map_or_else(|| "policy".into(), |s| s.to_string_lossy().into_owned());
    policy.with_file_name(format!("{stem}.snapshot.yaml"))
}

/// The canonical text of a policy's snapshot: a header comment, then YAML.
pub fn render(policy_path: &Path, snapshot: &Snapshot) -> Result<String, Diagnostic> {
    let yaml = crate::yaml::to_string(snapshot).map_err(|e| {
        Diagnostic::new(
            Code::BadArtifact,
            format!("cannot serialize the snapshot: {e}"),
        )
    })?;
    let name = policy_path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Ok(format!(
        "# Effective permissions of `{name}`, written by `policyc snapshot`.\n\
         # Do not edit; regenerate with `policyc snapshot path/to/{name} --update`.\n{yaml}"
    ))
}

/// Runs the command.
pub fn run(args: SnapshotArgs) -> Result<Exit, CmdError> {
    let (policy, warnings) = super::load_policy(&args.file, Format::Human)?;
    render::emit_diagnostics(&warnings, Format::Human);
    let text = render(&args.file, &Snapshot::from_policy(&policy))
        .map_err(|d| CmdError::new(d, Format::Human))?;
    let target =
        |given: &Option<PathBuf>| given.clone().unwrap_or_else(|| default_path(&args.file));
    if let Some(given) = &args.check {
        return check(&target(given), &text);
    }
    if let Some(given) = &args.update {
        let path = target(given);
        let name = files::display_name(&path);
        let same = std::fs::read_to_string(&path).is_ok_and(|old| normalize(&old) == text);
        let mut err = std::io::stderr().lock();
        if same {
            let _ = writeln!(err, "`{name}` is up to date");
        } else {
            files::write_atomic(&path, text.as_bytes())
                .map_err(|d| CmdError::new(d, Format::Human))?;
            let _ = writeln!(err, "updated `{name}`");
        }
        return Ok(Exit::Ok);
    }
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(Exit::Ok)
}

/// Committed snapshots may have been checked out with CRLF line endings.
fn normalize(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// Compares the committed snapshot at `path` with `fresh`: exit 0 when they
/// match, 1 with a unified diff when they do not, 2 when it cannot be read.
fn check(path: &Path, fresh: &str) -> Result<Exit, CmdError> {
    let name = files::display_name(path);
    let old = match files::load(path) {
        Ok(source) => normalize(source.text()),
        Err(LoadError::Unreadable(d)) | Err(LoadError::Content(d)) => {
            let d = d.help(format!(
                "create it with `policyc snapshot POLICY --update {name}`"
            ));
            return Err(CmdError::new(d, Format::Human));
        }
    };
    if old == fresh {
        let _ = writeln!(std::io::stderr().lock(), "`{name}` is up to date");
        return Ok(Exit::Ok);
    }
    let diff = unified_diff(&old, fresh, &name);
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{diff}");
    if !diff.ends_with('\n') {
        let _ = writeln!(out);
    }
    let _ = writeln!(
        std::io::stderr().lock(),
        "error: `{name}` does not match the policy's effective permissions \
         (`-` committed, `+` now)\n  \
         help: review the diff; if the change is intended, run `policyc snapshot POLICY --update {name}`"
    );
    Ok(Exit::Failure)
}

/// A unified diff whose hunk headers name the YAML section they are in
/// (`@@ -7,7 +7,6 @@ free › admin`), like git's function context, so a
/// reviewer sees which tier and role each change belongs to.
fn unified_diff(old: &str, new: &str, name: &str) -> String {
    let diff = TextDiff::from_lines(old, new);
    let old_lines: Vec<&str> = old.lines().collect();
    let mut out = format!("--- {name} (committed)\n+++ {name} (policy)\n");
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        let first_change = hunk
            .iter_changes()
            .find(|c| c.tag() != ChangeTag::Equal)
            .and_then(|c| c.old_index().or(c.new_index()))
            .unwrap_or(0);
        let context = section_of(&old_lines, first_change);
        let _ = writeln!(
            out,
            "{}{}",
            hunk.header(),
            if context.is_empty() {
                String::new()
            } else {
                format!(" {context}")
            }
        );
        for change in hunk.iter_changes() {
            let sign = match change.tag() {
                ChangeTag::Equal => ' ',
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
            };
            let value = change.value();
            let _ = write!(out, "{sign}{value}");
            if !value.ends_with('\n') {
                let _ = writeln!(out, "\n\\ No newline at end of file");
            }
        }
    }
    out
}

/// The keys of the YAML mappings enclosing line `index` (outermost first,
/// without the top-level `tiers`/`roles`), joined by ` › `.
fn section_of(lines: &[&str], index: usize) -> String {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut limit = lines.get(index).map_or(usize::MAX, |l| indent(l));
    let mut keys = Vec::new();
    for line in lines.iter().take(index).rev() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let level = indent(line);
        if level < limit {
            if let Some(key) = trimmed.strip_suffix(':') {
                if level > 0 {
                    keys.push(key.to_string());
                }
            }
            limit = level;
        }
        if level == 0 {
            break;
        }
    }
    keys.reverse();
    keys.join(" › ")
}
