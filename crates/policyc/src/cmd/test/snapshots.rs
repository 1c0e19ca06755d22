//! `policyc test --snapshots`: also compare every committed
//! `NAME.snapshot.yaml` under the paths with the effective permissions of
//! `NAME.policy` beside it, so one command (and one pre-commit hook) runs
//! both safety nets.

use std::path::{Path, PathBuf};

use policy_compiler::{compile, has_errors};
use policy_syntax::{Code, Diagnostic};
use serde::Serialize;

use crate::files::{self, LoadError};
use crate::snapshot_text::{normalize, render, snapshot_diff};

/// The suffix of a committed snapshot.
const SUFFIX: &str = ".snapshot.yaml";

/// The outcome of one snapshot check.
#[derive(Debug, Serialize)]
pub struct SnapshotResult {
    /// The snapshot file, as displayed.
    pub path: String,
    /// The policy it belongs to, as displayed.
    pub policy: String,
    /// Whether it matches the policy.
    pub passed: bool,
    /// The unified diff (`-` committed, `+` now) when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Why it could not be compared (unreadable files, policy errors).
    #[serde(skip)]
    pub diagnostics: Vec<Diagnostic>,
    /// Whether it was refused unread because it or its policy is outside
    /// the tree (P0523): exit 2, as for a test file.
    #[serde(skip)]
    pub refused: bool,
}

/// Every `*.snapshot.yaml` under `paths`, sorted; a directory without any is
/// not an error (it simply has no snapshots).
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostic> {
    let kind = files::Kind {
        projects: false,
        suffix: SUFFIX,
        help: "write one with `policyc snapshot POLICY --update`",
    };
    let mut out = Vec::new();
    for path in paths {
        match files::discover(std::slice::from_ref(path), &kind) {
            Ok(found) => out.extend(found.into_iter().filter(|p| is_snapshot(p))),
            Err(d) if d.code() == Code::NoPolicies => {}
            Err(d) => return Err(d),
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn is_snapshot(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().ends_with(SUFFIX))
}

/// `dir/NAME.snapshot.yaml` → `dir/NAME.policy`.
fn policy_of(snapshot: &Path) -> PathBuf {
    let name = snapshot
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let stem = name.strip_suffix(SUFFIX).unwrap_or(&name);
    snapshot.with_file_name(format!("{stem}.policy"))
}

/// Compares one committed snapshot with its policy; `tree` is the directory
/// it was found in, which both must be inside (after following links), or
/// neither is read.
pub fn check(snapshot: &Path, tree: &Path) -> SnapshotResult {
    let policy_path = policy_of(snapshot);
    let mut result = SnapshotResult {
        path: files::display_name(snapshot),
        policy: files::display_name(&policy_path),
        passed: false,
        diff: None,
        diagnostics: Vec::new(),
        refused: false,
    };
    let confined = files::inside_tree(snapshot, tree, SUFFIX)
        .map_err(|why| format!("snapshot `{}` is not read: {why}", result.path))
        .and_then(|()| {
            files::inside_tree(&policy_path, tree, ".policy").map_err(|why| {
                format!(
                    "`{}` is checked against `{}`, which is not read: {why}",
                    result.path, result.policy
                )
            })
        });
    if let Err(message) = confined {
        result.diagnostics.push(
            Diagnostic::new(Code::PolicyOutsideTree, message).help(format!(
                "a snapshot `NAME{SUFFIX}` and `NAME.policy` beside it must be files inside the tree given to `policyc test`"
            )),
        );
        result.refused = true;
        return result;
    }
    let source = match crate::project::load_policy(&policy_path) {
        Ok(s) => s,
        Err(e) => {
            let d = e.into_diagnostic().help(format!(
                "a snapshot `NAME{SUFFIX}` is checked against `NAME.policy` beside it"
            ));
            result.diagnostics.push(d);
            return result;
        }
    };
    let (policy, diags) = compile(&source);
    if has_errors(&diags) {
        result.diagnostics = diags;
        return result;
    }
    let fresh = match render(&policy_path, &policy) {
        Ok(t) => t,
        Err(d) => {
            result.diagnostics.push(d);
            return result;
        }
    };
    let old = match files::load(snapshot) {
        Ok(s) => normalize(s.text()),
        Err(LoadError::Unreadable(d)) | Err(LoadError::Content(d)) => {
            result.diagnostics.push(d);
            return result;
        }
    };
    if old == fresh {
        result.passed = true;
    } else {
        result.diff = Some(snapshot_diff(&old, &fresh, &result.path));
    }
    result
}
