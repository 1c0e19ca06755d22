//! Policy projects: a directory whose `policyc.toml` makes its `.policy`
//! files one policy.
//!
//! ```toml
//! [policy]
//! name = "acme"                                   # default: the directory's name
//! files = ["billing.policy", "workspace"]         # default: every `.policy` file below
//! ```
//!
//! The files are read in path order (a listed directory is searched as
//! `policyc check` searches one) and compiled as one source
//! ([`SourceFile::project`]): a declaration of one file is used in
//! another, a name is unique across the project, and the order of the
//! files changes no decision. Every command that reads a policy reads a
//! project given its directory or its manifest ([`load_policy`]).

use std::path::{Path, PathBuf};

use policy_syntax::{Code, Diagnostic, SourceFile};
use serde::Deserialize;

use crate::files::{self, LoadError};

pub use crate::files::MANIFEST;

/// The largest manifest read, in bytes.
const MAX_MANIFEST_BYTES: u64 = 64 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    policy: Option<PolicyTable>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyTable {
    name: Option<String>,
    files: Option<Vec<String>>,
}

/// Reads a policy: a project when `path` is a `policyc.toml` or a
/// directory holding one ([`load`]), else one file
/// ([`files::load`]). What every command that reads a policy to decide with
/// calls.
pub fn load_policy(path: &Path) -> Result<SourceFile, LoadError> {
    match manifest_of(path) {
        Some(manifest) => load(&manifest),
        None => files::load(path),
    }
}

/// What a reload watches for `path`: the manifest and every file of the
/// project (as listed now), or `path` itself for one file.
#[cfg(feature = "serve")]
pub fn watched(path: &Path) -> Vec<PathBuf> {
    match manifest_of(path) {
        Some(manifest) => {
            let mut out = vec![manifest.clone()];
            if let Ok((_, found)) = files_of(&manifest) {
                out.extend(found);
            }
            out
        }
        None => vec![path.to_path_buf()],
    }
}

/// `paths` with each policy file of a project replaced by the project's
/// manifest (once), sorted: a file checked alone would miss what the
/// project's other files declare (a pre-commit hook passes the files
/// changed). A file's project is the nearest directory above it holding
/// a `policyc.toml` whose files include it.
pub fn in_projects(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = paths
        .into_iter()
        .map(|p| project_of_file(&p).unwrap_or(p))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The manifest of the project `file` is part of, if any.
fn project_of_file(file: &Path) -> Option<PathBuf> {
    if file.file_name().is_some_and(|n| n == MANIFEST) || !file.is_file() {
        return None;
    }
    let real = std::fs::canonicalize(file).ok()?;
    // The directories above it, as written (`a/b`, `a`, `.`), then `..`,
    // `../..` … up to the root, so the manifest keeps a relative name.
    let mut dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    for _ in 0..64 {
        let manifest = dir.join(MANIFEST);
        if manifest.is_file() {
            let (_, found) = files_of(&manifest).ok()?;
            let listed = found
                .iter()
                .any(|f| std::fs::canonicalize(f).is_ok_and(|f| f == real));
            return listed.then_some(manifest);
        }
        let at_root = std::fs::canonicalize(&dir).ok()?.parent().is_none();
        if at_root {
            return None;
        }
        dir = match dir.parent() {
            Some(p)
                if !p.as_os_str().is_empty() && !dir.ends_with("..") && dir != Path::new(".") =>
            {
                p.to_path_buf()
            }
            _ if dir == Path::new(".") => PathBuf::from(".."),
            _ => dir.join(".."),
        };
    }
    None
}

/// The manifest `path` stands for: `path` itself when it is a file named
/// `policyc.toml`, or `path/policyc.toml` when `path` is a directory
/// holding one; `None` for anything else (a policy file).
pub fn manifest_of(path: &Path) -> Option<PathBuf> {
    if path.file_name().is_some_and(|n| n == MANIFEST) {
        return Some(path.to_path_buf());
    }
    let inside = path.join(MANIFEST);
    (path.is_dir() && inside.is_file()).then_some(inside)
}

fn bad(manifest: &Path, message: impl std::fmt::Display, help: &str) -> LoadError {
    LoadError::Content(
        Diagnostic::new(
            Code::BadManifest,
            format!("`{}`: {message}", files::display_name(manifest)),
        )
        .help(help.to_string()),
    )
}

/// The project of `manifest`: its name and its files, in path order.
pub fn files_of(manifest: &Path) -> Result<(String, Vec<PathBuf>), LoadError> {
    let text = read_manifest(manifest)?;
    let parsed: Manifest = toml::from_str(&text).map_err(|e| {
        bad(
            manifest,
            e.message(),
            "a manifest has one `[policy]` table with `name` (a string) and `files` (a list of paths)",
        )
    })?;
    let table = parsed.policy.unwrap_or_default();
    let root = match manifest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = match table.name {
        Some(n) if !n.trim().is_empty() && !n.contains(['\n', '\r']) => n,
        Some(_) => {
            return Err(bad(
                manifest,
                "`name` is empty or spans lines",
                "name the policy on one line, e.g. `name = \"acme\"`",
            ))
        }
        None => std::fs::canonicalize(&root)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| files::display_name(&root)),
    };
    let listed: Vec<PathBuf> = match table.files {
        Some(list) if list.is_empty() => {
            return Err(bad(
                manifest,
                "`files` lists no file",
                "list the project's files or directories, or drop `files` to take every `.policy` file below the manifest",
            ))
        }
        Some(list) => list.iter().map(|f| root.join(f)).collect(),
        None => vec![root.clone()],
    };
    for path in &listed {
        if let Err(why) = inside_project(path, &root) {
            return Err(bad(
                manifest,
                format!("`{}` is {why}", files::display_name(path)),
                "a project's files are below its manifest",
            ));
        }
    }
    let found = files::discover(&listed, &files::POLICY_FILES).map_err(LoadError::Unreadable)?;
    Ok((name, found))
}

/// Reads the project of `manifest`: its files, each read as any policy
/// file is ([`files::load`]), as one source named after the project.
pub fn load(manifest: &Path) -> Result<SourceFile, LoadError> {
    let (name, found) = files_of(manifest)?;
    let mut sources = Vec::with_capacity(found.len());
    let mut total = 0u64;
    for path in &found {
        let source = files::load(path)?;
        total = total.saturating_add(source.text().len() as u64);
        if total > files::max_file_bytes() {
            return Err(LoadError::Content(files::too_large(&format!(
                "the project `{}`",
                files::display_name(manifest)
            ))));
        }
        sources.push(source);
    }
    Ok(SourceFile::project(name, &sources))
}

/// Whether `path` (a file or directory) lies below `root`, both resolved.
fn inside_project(path: &Path, root: &Path) -> Result<(), &'static str> {
    let (Ok(real), Ok(root)) = (std::fs::canonicalize(path), std::fs::canonicalize(root)) else {
        // Missing: discovery reports it by name.
        return Ok(());
    };
    if real.starts_with(&root) {
        Ok(())
    } else {
        Err("outside the project's directory")
    }
}

fn read_manifest(manifest: &Path) -> Result<String, LoadError> {
    use std::io::Read;
    let file = std::fs::File::open(manifest)
        .map_err(|e| LoadError::Unreadable(files::io_error(manifest, &e)))?;
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| LoadError::Unreadable(files::io_error(manifest, &e)))?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(bad(
            manifest,
            "the manifest is larger than 64 KiB",
            "a manifest names the policy and its files; keep it short",
        ));
    }
    String::from_utf8(bytes).map_err(|_| {
        bad(
            manifest,
            "the manifest is not UTF-8",
            "save it as UTF-8 text",
        )
    })
}
