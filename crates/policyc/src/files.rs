//! Reading policy files defensively and discovering them (the shared
//! reader, [`policy_files`], which the language server uses too), and
//! writing them safely (see [`write`]).

use std::path::{Path, PathBuf};

use policy_syntax::Diagnostic;

mod write;

pub use policy_files::{
    discover, display_name, human_size, load, max_file_bytes, set_max_file_bytes, too_large, Kind,
    LoadError, POLICY_FILES,
};

/// Parses a `--max-file-size` value: a number of bytes, optionally with a
/// unit: `K`/`KiB`, `M`/`MiB`, `G`/`GiB` (powers of 1024) or `kB`, `MB`,
/// `GB` (powers of 1000); `B` is accepted too. `0` is refused.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '_')
        .unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .replace('_', "")
        .parse()
        .map_err(|_| format!("`{text}` is not a size: write bytes, e.g. `64MiB` or `20000000`"))?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KiB" | "k" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "kB" | "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`: use B, KiB, MiB, GiB, kB, MB or GB"
            ))
        }
    };
    match n.checked_mul(factor) {
        Some(0) => Err("the size must be at least 1 byte".to_string()),
        Some(v) => Ok(v),
        None => Err(format!("`{text}` is too large")),
    }
}

/// The policies of a tree, for `policyc check`: each `.policy` file, and
/// each project (a directory with a `policyc.toml`) as one input, its
/// manifest ([`crate::project`]).
pub const POLICIES: Kind = Kind {
    suffix: ".policy",
    help: "pass a policy file, a policy project or a directory that contains one",
    projects: true,
};

/// [`discover`] over `paths`, or over `.` when none were given (what
/// every command that takes `[PATH...]` does).
pub fn discover_or_cwd(paths: Vec<PathBuf>, kind: &Kind) -> Result<Vec<PathBuf>, Diagnostic> {
    if paths.is_empty() {
        discover(&[PathBuf::from(".")], kind)
    } else {
        discover(&paths, kind)
    }
}

/// Checks that `path` names a file ending in `suffix` inside the directory
/// `tree`, both resolved (links followed, `..` removed) before they are
/// compared; the reason when it does not. Nothing of the file is read. Every
/// file a test run reads because a file in the tree says so (a test file's
/// policy, named or beside it, a snapshot and its policy) passes here first
/// ([P0523](../../../docs/errors/P0523.md)).
pub fn inside_tree(path: &Path, tree: &Path, suffix: &str) -> Result<(), String> {
    let ends = |p: &Path| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with(suffix))
    };
    if !ends(path) {
        return Err(format!("not a `{suffix}` file"));
    }
    let (Ok(real), Ok(root)) = (std::fs::canonicalize(path), std::fs::canonicalize(tree)) else {
        // Missing: the load that follows says so, showing nothing.
        return Ok(());
    };
    if !real.starts_with(&root) {
        let links = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        let how = if links { "it links outside" } else { "outside" };
        return Err(format!("{how} `{}`", display_name(tree)));
    }
    if !ends(&real) {
        return Err(format!("it links to a file that is not a `{suffix}` file"));
    }
    Ok(())
}

/// The directory tree `file` was discovered from: the first of `given`
/// that is a directory holding it, else the file's own directory.
pub fn discovery_root(file: &Path, given: &[PathBuf]) -> PathBuf {
    given
        .iter()
        .find(|g| g.is_dir() && file.starts_with(g))
        .cloned()
        .unwrap_or_else(|| match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        })
}

/// Writes `bytes` to `path` safely (see [`write`]); `inputs` are the files
/// the command read, which it must not overwrite.
pub fn write_atomic(path: &Path, bytes: &[u8], inputs: &[&Path]) -> Result<(), Diagnostic> {
    write::write_file(path, bytes, inputs)
}
