//! Policy projects: a directory whose `policyc.toml` makes its `.policy`
//! files one policy. The manifest is read by the shared reader
//! ([`policy_files::project`], which the language server uses too); every
//! command that reads a policy reads a project given its directory or its
//! manifest ([`load_policy`]).

pub use policy_files::project::{files_of, load_policy, manifest_of, MANIFEST};

#[cfg(feature = "serve")]
pub use policy_files::project::watched;

use std::path::PathBuf;

/// `paths` with each policy file of a project replaced by the project's
/// manifest (once), sorted: a file checked alone would miss what the
/// project's other files declare (a pre-commit hook passes the files
/// changed). A file's project is [`policy_files::project::project_of`]'s (each
/// manifest read once);
/// a file whose manifest cannot be read is checked as it is, and the
/// manifest's problem shows when the project is checked.
pub fn in_projects(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut projects = policy_files::project::Projects::default();
    let mut out: Vec<PathBuf> = paths
        .into_iter()
        .map(|p| {
            let is_policy = p.extension().is_some_and(|e| e == "policy") && p.is_file();
            match is_policy.then(|| projects.project_of(&p)) {
                Some(Ok(Some(project))) => project.manifest,
                _ => p,
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
