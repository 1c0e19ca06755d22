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

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use policy_syntax::{Code, Diagnostic, SourceFile, Span};
use serde::Deserialize;
use toml::Spanned;

use crate::{self as files, LoadError};

pub use crate::MANIFEST;

/// The largest manifest read, in bytes.
const MAX_MANIFEST_BYTES: u64 = 64 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    policy: Option<PolicyTable>,
}

/// The `[policy]` table, each value with its place in the manifest (for
/// the label of a P0512 about it).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyTable {
    name: Option<Spanned<String>>,
    files: Option<Spanned<Vec<Spanned<String>>>>,
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
    LoadError::Content(diagnostic(manifest, message, help))
}

fn diagnostic(manifest: &Path, message: impl std::fmt::Display, help: &str) -> Diagnostic {
    Diagnostic::new(
        Code::BadManifest,
        format!("`{}`: {message}", files::display_name(manifest)),
    )
    .help(help.to_string())
}

/// A P0512 about the manifest whose text is `text`; with `at`, it points
/// there with `label` (a parse error's place, or the value a check
/// refused).
fn bad_at(
    manifest: &Path,
    text: &str,
    at: Option<std::ops::Range<usize>>,
    message: impl std::fmt::Display,
    label: &str,
    help: &str,
) -> LoadError {
    let d = diagnostic(manifest, message, help);
    LoadError::Content(match at {
        Some(at) => d
            .with_source(&SourceFile::new(files::display_name(manifest), text))
            .primary(Span::new(at.start, at.end), label),
        None => d,
    })
}

/// The project of `manifest`: its name and its files, in path order.
pub fn files_of(manifest: &Path) -> Result<(String, Vec<PathBuf>), LoadError> {
    let text = read_manifest(manifest)?;
    const SHAPE: &str =
        "a manifest has one `[policy]` table with `name` (a string) and `files` (a list of paths)";
    let parsed: Manifest = toml::from_str(&text)
        .map_err(|e| bad_at(manifest, &text, e.span(), e.message(), "here", SHAPE))?;
    let table = parsed.policy.unwrap_or_default();
    let root = match manifest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = match table.name {
        Some(n) if !n.get_ref().trim().is_empty() && !n.get_ref().contains(['\n', '\r']) => {
            n.into_inner()
        }
        Some(n) => {
            return Err(bad_at(
                manifest,
                &text,
                Some(n.span()),
                "`name` is empty or spans lines",
                "not a one-line name",
                "name the policy on one line, e.g. `name = \"acme\"`",
            ))
        }
        None => std::fs::canonicalize(&root)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| files::display_name(&root)),
    };
    let listed: Vec<(PathBuf, Option<std::ops::Range<usize>>)> = match table.files {
        Some(list) if list.get_ref().is_empty() => {
            return Err(bad_at(
                manifest,
                &text,
                Some(list.span()),
                "`files` lists no file",
                "an empty list",
                "list the project's files or directories, or drop `files` to take every `.policy` file below the manifest",
            ))
        }
        Some(list) => list
            .into_inner()
            .into_iter()
            .map(|f| (root.join(f.get_ref()), Some(f.span())))
            .collect(),
        None => vec![(root.clone(), None)],
    };
    for (path, at) in &listed {
        if let Err(why) = inside_project(path, &root) {
            let message = format!("`{}` is {why}", files::display_name(path));
            return Err(bad_at(
                manifest,
                &text,
                at.clone(),
                message,
                "not below the manifest",
                "a project's files are below its manifest",
            ));
        }
    }
    let listed: Vec<PathBuf> = listed.into_iter().map(|(path, _)| path).collect();
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

/// A project as its manifest describes it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The manifest, `DIR/policyc.toml`.
    pub manifest: PathBuf,
    /// The policy's name.
    pub name: String,
    /// The project's files, in path order ([`files_of`]).
    pub files: Vec<PathBuf>,
}

impl Project {
    /// Reads the project of `manifest` ([`files_of`]).
    pub fn read(manifest: &Path) -> Result<Project, LoadError> {
        let (name, files) = files_of(manifest)?;
        Ok(Project {
            manifest: manifest.to_path_buf(),
            name,
            files,
        })
    }

    /// The index of `file` among the project's files (links resolved).
    pub fn position(&self, file: &Path) -> Option<usize> {
        let wanted = resolved(file);
        self.files.iter().position(|f| resolved(f) == wanted)
    }
}

fn resolved(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The project a policy file belongs to: the one of the nearest
/// `policyc.toml`, in the file's directory or an ancestor's, whose files
/// include it (what the language server compiles an open file with).
/// `Ok(None)` when no manifest includes it; when one could not be read
/// and none farther up includes the file, that manifest's diagnostic.
pub fn project_of(file: &Path) -> Result<Option<Project>, Diagnostic> {
    Projects::default().project_of(file)
}

/// Manifests read once each, for a command asking [`project_of`] of many
/// files (a pre-commit hook passes every changed file of a project): each
/// manifest is read, and its directory searched, once.
#[derive(Debug, Default)]
pub struct Projects {
    /// By manifest: the project and its files resolved, or why it could
    /// not be read.
    read: HashMap<PathBuf, Result<(Project, HashSet<PathBuf>), Diagnostic>>,
}

impl Projects {
    /// [`project_of`] `file`, reading each manifest at most once.
    pub fn project_of(&mut self, file: &Path) -> Result<Option<Project>, Diagnostic> {
        let wanted = resolved(file);
        let mut unreadable = None;
        for dir in directories_above(file) {
            let manifest = dir.join(MANIFEST);
            if !manifest.is_file() {
                continue;
            }
            let entry = self.read.entry(manifest).or_insert_with_key(|manifest| {
                Project::read(manifest)
                    .map(|p| {
                        let set = p.files.iter().map(|f| resolved(f)).collect();
                        (p, set)
                    })
                    .map_err(LoadError::into_diagnostic)
            });
            match entry {
                Ok((project, set)) if set.contains(&wanted) => return Ok(Some(project.clone())),
                Ok(_) => {}
                Err(e) => {
                    unreadable.get_or_insert(e.clone());
                }
            }
        }
        unreadable.map_or(Ok(None), Err)
    }
}

/// The directories above `file`, nearest first, written relative as the
/// file is (`a/b`, `a`, `.`, then `..`, `../..` … up to the root), so a
/// manifest found keeps a relative name; an absolute path's ancestors.
fn directories_above(file: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    for _ in 0..64 {
        out.push(dir.clone());
        match std::fs::canonicalize(&dir) {
            Ok(real) if real.parent().is_some() => {}
            _ => break,
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
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) -> PathBuf {
        let path = root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A file belongs to the nearest manifest that lists it: one in its
    /// directory or above; a file the manifest leaves out is on its own,
    /// and a broken manifest is reported when no other includes the file.
    #[test]
    fn a_file_belongs_to_the_nearest_manifest_that_lists_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(
            &root,
            "p/policyc.toml",
            "[policy]\nname = \"acme\"\nfiles = [\"a.policy\", \"sub\"]\n",
        );
        let a = write(&root, "p/a.policy", "");
        let b = write(&root, "p/sub/deep/b.policy", "");
        let left_out = write(&root, "p/c.policy", "");
        let alone = write(&root, "elsewhere/d.policy", "");
        let project = project_of(&b).unwrap().unwrap();
        assert_eq!(project.manifest, root.join("p/policyc.toml"));
        assert_eq!(project.name, "acme");
        assert_eq!(project.files, [a.clone(), b.clone()]);
        assert_eq!(project.position(&b), Some(1));
        assert_eq!(project_of(&a).unwrap().unwrap().position(&a), Some(0));
        assert_eq!(project_of(&left_out).unwrap(), None);
        assert_eq!(project_of(&alone).unwrap(), None);
        // An outer project that lists the whole tree takes what the inner leaves out.
        write(&root, "policyc.toml", "");
        let outer = project_of(&left_out).unwrap().unwrap();
        assert_eq!(outer.manifest, root.join("policyc.toml"));
        assert_eq!(outer.files.len(), 4);
        // Manifests read once for many files answer as each read alone.
        let mut shared = Projects::default();
        for f in [&a, &b, &left_out, &alone, &b] {
            assert_eq!(
                shared.project_of(f).ok(),
                project_of(f).ok(),
                "{}",
                f.display()
            );
        }
        assert_eq!(shared.read.len(), 2, "each manifest read once");
        // A broken manifest, and none farther up that lists the file.
        std::fs::remove_file(root.join("policyc.toml")).unwrap();
        write(&root, "p/policyc.toml", "[policy]\nfiles = []\n");
        let err = project_of(&a).unwrap_err();
        assert_eq!(err.code(), Code::BadManifest, "{}", err.message());
    }
}
