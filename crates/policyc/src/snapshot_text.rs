//! The text of effective-permission snapshots, shared by `policyc snapshot`
//! and `policyc test --snapshots`: the canonical rendering, line-ending
//! normalisation, and the reviewable diff.

use std::path::Path;

use std::io::Write;

use policy_compiler::{Policy, Snapshot};
use policy_syntax::{Code, Diagnostic};

/// The canonical text of a policy's snapshot: a header comment, then YAML.
pub fn render(policy_path: &Path, policy: &Policy) -> Result<String, Diagnostic> {
    let mut out = Vec::new();
    write(policy_path, policy, &mut out)?;
    String::from_utf8(out).map_err(|e| cannot_serialize(&e))
}

/// Writes the canonical text of a policy's snapshot ([`render`]) to `out`
/// as it is computed, so that memory does not grow with the output. A
/// write error of `out` is returned as it is (`Err(Ok(e))`), any other
/// failure as a diagnostic.
pub fn write_to(
    policy_path: &Path,
    policy: &Policy,
    out: impl Write,
) -> Result<(), Result<std::io::Error, Diagnostic>> {
    let mut out = Recording {
        inner: out,
        error: None,
    };
    match write(policy_path, policy, &mut out) {
        Ok(()) => out.inner.flush().map_err(Ok),
        Err(d) => Err(out.error.take().ok_or(d)),
    }
}

/// Remembers the first write error of `inner`, which serde_yaml reports
/// only as text.
struct Recording<W> {
    inner: W,
    error: Option<std::io::Error>,
}

impl<W: Write> Write for Recording<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| {
            if self.error.is_none() {
                self.error = Some(std::io::Error::new(e.kind(), e.to_string()));
            }
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn cannot_serialize(e: &dyn std::fmt::Display) -> Diagnostic {
    Diagnostic::new(
        Code::BadArtifact,
        format!("cannot serialize the snapshot: {e}"),
    )
}

fn write(policy_path: &Path, policy: &Policy, mut out: impl Write) -> Result<(), Diagnostic> {
    let name = policy_path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    write!(
        out,
        "# Effective permissions of `{name}`, written by `policyc snapshot`.\n\
         # Do not edit; regenerate with `policyc snapshot path/to/{name} --update`.\n"
    )
    .map_err(|e| cannot_serialize(&e))?;
    crate::yaml::to_writer(out, &Snapshot::view(policy)).map_err(|e| cannot_serialize(&e))
}

/// Committed snapshots may have been checked out with CRLF line endings.
pub fn normalize(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// The diff of a committed snapshot (`old`) and the policy's (`new`), from
/// the one bounded diff ([`crate::udiff`]), whose hunk headers name the
/// YAML section they are in (`@@ -7,7 +7,6 @@ free › admin`), like git's
/// function context, so a reviewer sees which tier and role each change
/// belongs to.
pub fn snapshot_diff(old: &str, new: &str, name: &str) -> String {
    crate::udiff::unified_diff(
        old,
        new,
        &format!("{name} (committed)"),
        &format!("{name} (policy)"),
        Some(&section_of),
    )
}

/// The keys of the YAML mappings enclosing line `index` (outermost first,
/// without the top-level `tiers`/`roles`), joined by ` › `; when the line
/// is itself a tier or role entry (`    viewer: not available`), its key too.
fn section_of(lines: &[&str], index: usize) -> String {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut limit = lines.get(index).map_or(usize::MAX, |l| indent(l));
    let mut keys = Vec::new();
    if let Some(line) = lines.get(index) {
        let level = indent(line);
        // Tier and role entries are at depth 2 and 4 under `tiers:`, role
        // entries at depth 2 under `roles:`; deeper lines are permissions.
        let top = lines
            .iter()
            .take(index)
            .rev()
            .find(|l| !l.trim().is_empty() && !l.starts_with(' ') && !l.starts_with('#'));
        let deepest = if top.is_some_and(|t| t.trim() == "tiers:") {
            4
        } else {
            2
        };
        if (1..=deepest).contains(&level) {
            if let Some((key, _)) = line.trim().split_once(':') {
                keys.push(key.to_string());
            }
        }
    }
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
