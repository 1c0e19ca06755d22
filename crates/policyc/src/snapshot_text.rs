//! The text of effective-permission snapshots, shared by `policyc snapshot`
//! and `policyc test --snapshots`: the canonical rendering, line-ending
//! normalisation, and the reviewable diff.

use std::path::Path;

use policy_compiler::Snapshot;
use policy_syntax::{Code, Diagnostic};

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
