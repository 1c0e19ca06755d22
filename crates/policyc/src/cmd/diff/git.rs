//! Reading a version of a policy from git: one file (`git show`), or a
//! policy project, whose manifest and `.policy` files are read from the
//! revision's tree into a temporary directory and loaded as a project
//! there, each file named `REV:PATH` as `git show` names it.

use std::path::{Component, Path};
use std::process::Command;

use policy_syntax::{Code, SourceFile};

use crate::exit::CmdError;
use crate::files;
use crate::render::Format;

/// `REV:PATH`: a policy project when PATH is its manifest or a directory
/// holding one at REV, else one file.
pub(super) fn policy(rev: &str, path: &str, format: Format) -> Result<SourceFile, CmdError> {
    let trimmed = path.trim_end_matches('/');
    let dir = match trimmed.strip_suffix(crate::project::MANIFEST) {
        Some(d) => d.trim_end_matches('/').to_string(),
        None => trimmed.to_string(),
    };
    let manifest = if dir.is_empty() {
        crate::project::MANIFEST.to_string()
    } else {
        format!("{dir}/{}", crate::project::MANIFEST)
    };
    if !rev.starts_with('-') && git_has(&format!("{rev}:{manifest}")) {
        project(rev, &dir, format)
    } else {
        git_show(rev, path, format)
    }
}

/// The project in `dir` (a tree of the revision, `""` for its root).
fn project(rev: &str, dir: &str, format: Format) -> Result<SourceFile, CmdError> {
    let tree = format!("{rev}:{dir}");
    let output = Command::new("git")
        .args(["ls-tree", "-r", "-z", "--name-only"])
        .arg(&tree)
        .output()
        .map_err(|e| {
            super::error(
                Code::GitRead,
                format!("cannot run `git`: {}", e.to_string().to_lowercase()),
                "install git, or compare two directories instead",
                format,
            )
        })?;
    if !output.status.success() {
        return Err(super::error(
            Code::GitRead,
            format!("cannot list `{tree}` in git"),
            "check that the revision exists and that the project is in it",
            format,
        ));
    }
    let tmp = tempfile::tempdir().map_err(|e| {
        super::error(
            Code::GitRead,
            format!("cannot make a temporary directory: {e}"),
            "check the temporary directory (TMPDIR)",
            format,
        )
    })?;
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut total = 0u64;
    for name in output.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        let wanted = name.ends_with(".policy") || name == crate::project::MANIFEST;
        // A tree entry is a relative path of plain components.
        let plain = Path::new(&name)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
        if !wanted || !plain {
            continue;
        }
        let source = git_show(rev, &format!("{prefix}{name}"), format)?;
        total = total.saturating_add(source.text().len() as u64);
        if total > files::max_file_bytes() {
            return Err(super::error(
                Code::GitRead,
                format!("the project `{tree}` is larger than the file size limit"),
                "raise the limit with `--max-file-size`",
                format,
            ));
        }
        let at = tmp.path().join(&name);
        let written = at
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&at, source.text()));
        if let Err(e) = written {
            return Err(super::error(
                Code::GitRead,
                format!("cannot copy `{tree}` to a temporary directory: {e}"),
                "check the temporary directory (TMPDIR)",
                format,
            ));
        }
    }
    let manifest = tmp.path().join(crate::project::MANIFEST);
    let (_, found) = crate::project::files_of(&manifest)
        .map_err(|e| CmdError::new(e.into_diagnostic(), format))?;
    let mut sources = Vec::with_capacity(found.len());
    for path in found {
        let text = files::load(&path)
            .map_err(|e| CmdError::new(e.into_diagnostic(), format))?
            .text()
            .to_string();
        let rel = path.strip_prefix(tmp.path()).map_or_else(
            |_| path.to_string_lossy().into_owned(),
            |p| p.to_string_lossy().replace('\\', "/"),
        );
        sources.push(SourceFile::new(format!("{rev}:{prefix}{rel}"), text));
    }
    // Named as the revision's tree, as a file is named `REV:PATH`.
    Ok(SourceFile::project(tree, &sources))
}

/// Whether `rev` names a commit (quietly: a bad revision is reported by
/// the `git show` that follows).
pub(super) fn git_is_commit(rev: &str) -> bool {
    !rev.starts_with('-')
        && Command::new("git")
            .args(["rev-parse", "--verify", "--quiet"])
            .arg(format!("{rev}^{{commit}}"))
            .output()
            .is_ok_and(|o| o.status.success())
}

/// Whether `REV:PATH` exists in git.
pub(super) fn git_has(spec: &str) -> bool {
    Command::new("git")
        .args(["cat-file", "-e"])
        .arg(spec)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Reads `REV:PATH` with `git show`.
fn git_show(rev: &str, path: &str, format: Format) -> Result<SourceFile, CmdError> {
    let spec = format!("{rev}:{path}");
    if rev.starts_with('-') {
        return Err(super::error(
            Code::Usage,
            format!("`{rev}` is not a git revision"),
            "a revision cannot start with `-`",
            format,
        ));
    }
    let output = Command::new("git")
        .arg("show")
        .arg(&spec)
        .output()
        .map_err(|e| {
            super::error(
                Code::GitRead,
                format!("cannot run `git`: {}", e.to_string().to_lowercase()),
                "install git, or compare two files instead",
                format,
            )
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let why = stderr.lines().next().unwrap_or("").trim();
        return Err(super::error(
            Code::GitRead,
            format!("cannot read `{spec}` from git: {why}"),
            "check that the revision exists and that the path is in it; in `REV:PATH` the path \
             is relative to the repository root (`REV:./PATH` to the current directory)",
            format,
        ));
    }
    let bytes = output.stdout;
    if bytes.len() as u64 > files::max_file_bytes() || bytes.contains(&0) {
        return Err(super::error(
            Code::GitRead,
            format!("`{spec}` is not a policy file (too large or binary)"),
            "check the path",
            format,
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        super::error(
            Code::NotUtf8,
            format!("`{spec}` is not valid UTF-8"),
            "policy files are UTF-8 text",
            format,
        )
    })?;
    Ok(SourceFile::new(spec, text))
}
