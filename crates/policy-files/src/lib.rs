//! Reading policy files and policy projects from disk: the one reader of
//! the `policyc` CLI and of its language server.
//!
//! A policy file is read defensively ([`load`]: a size limit, UTF-8, no NUL
//! byte, no blocking on a FIFO), directories are searched for policy files
//! in one order ([`discover`]), and a project's manifest (`policyc.toml`)
//! is read into its name and files ([`project`]). The language crates do
//! no I/O; this crate, the CLI, the decision server and the language
//! server do.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use policy_syntax::{Code, Diagnostic, SourceFile};

pub mod project;

/// The largest file policyc reads by default, in bytes (16 MiB). The
/// global `--max-file-size` raises or lowers it for one run, the language
/// server's document limit included.
pub use policy_syntax::DEFAULT_MAX_FILE_BYTES;

static MAX_FILE_BYTES: AtomicU64 = AtomicU64::new(DEFAULT_MAX_FILE_BYTES);

/// Sets the largest file policyc reads or writes in this run
/// (`--max-file-size`; called once, by `main`).
pub fn set_max_file_bytes(limit: u64) {
    MAX_FILE_BYTES.store(limit, Ordering::Relaxed);
}

/// The largest file policyc reads (or `fmt` writes) in this run, in bytes:
/// every reader of policy text (files, stdin, git revisions, artifacts)
/// takes its limit from here.
pub fn max_file_bytes() -> u64 {
    MAX_FILE_BYTES.load(Ordering::Relaxed)
}

/// A size for people: `16 MiB`, `512 KiB`, `1.5 MiB` or `1000 bytes`.
pub fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    const KIB: u64 = 1 << 10;
    if bytes >= MIB {
        if bytes % MIB == 0 {
            format!("{} MiB", bytes / MIB)
        } else {
            format!("{:.1} MiB", bytes as f64 / MIB as f64)
        }
    } else if bytes >= KIB && bytes % KIB == 0 {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// The `P0504` diagnostic: `what` (a quoted name, "stdin", …) is larger
/// than the limit of this run.
pub fn too_large(what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::FileTooLarge,
        format!("{what} is larger than {}", human_size(max_file_bytes())),
    )
    .help("split the policy into several files, or raise the limit with `--max-file-size`")
}

/// Why a file could not be loaded.
pub enum LoadError {
    /// It could not be read at all (missing, a directory, permissions): exit 2.
    Unreadable(Diagnostic),
    /// It was read but is not usable text: a diagnostic like any other, exit 1.
    Content(Diagnostic),
}

impl LoadError {
    /// The diagnostic either way.
    pub fn into_diagnostic(self) -> Diagnostic {
        match self {
            LoadError::Unreadable(d) | LoadError::Content(d) => d,
        }
    }
}

/// The name a path is shown under: as given, with `/` separators.
pub fn display_name(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// The `P0501` diagnostic for a path that cannot be read.
pub fn io_error(path: &Path, err: &std::io::Error) -> Diagnostic {
    let why = match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => err.to_string().to_lowercase(),
    };
    Diagnostic::new(
        Code::Io,
        format!("cannot read `{}`: {why}", display_name(path)),
    )
    .help("check the path and that the file is readable")
}

/// The `P0521` diagnostic for a FIFO, device or socket where a file was expected.
fn not_regular(path: &Path) -> Diagnostic {
    Diagnostic::new(
        Code::NotRegularFile,
        format!(
            "cannot read `{}`: it is not a regular file (a FIFO, device or socket)",
            display_name(path)
        ),
    )
    .help("policyc reads regular files only; copy the content into a file")
}

/// Opens without blocking: opening a FIFO would otherwise wait for a writer.
#[cfg(unix)]
fn open_for_reading(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
}

#[cfg(not(unix))]
fn open_for_reading(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// Reads a policy file: at most [`max_file_bytes`], valid UTF-8, no NUL bytes.
pub fn load(path: &Path) -> Result<SourceFile, LoadError> {
    let name = display_name(path);
    let meta = std::fs::metadata(path).map_err(|e| LoadError::Unreadable(io_error(path, &e)))?;
    if meta.is_dir() {
        // A directory found by discovery that could not be listed.
        if let Err(e) = std::fs::read_dir(path) {
            return Err(LoadError::Unreadable(io_error(path, &e)));
        }
        return Err(LoadError::Unreadable(
            Diagnostic::new(Code::Io, format!("cannot read `{name}`: it is a directory")).help(
                "pass the directory to `policyc check`, which searches it for `.policy` files",
            ),
        ));
    }
    if !meta.is_file() {
        return Err(LoadError::Unreadable(not_regular(path)));
    }
    let file = open_for_reading(path).map_err(|e| LoadError::Unreadable(io_error(path, &e)))?;
    // It may have been swapped for a FIFO or device since the `stat`.
    let meta = file
        .metadata()
        .map_err(|e| LoadError::Unreadable(io_error(path, &e)))?;
    if !meta.is_file() {
        return Err(LoadError::Unreadable(not_regular(path)));
    }
    // One read for the common case: size the buffer from the metadata (capped,
    // since the file may grow, or lie, between the stat and the read).
    let limit = max_file_bytes();
    let expected = meta.len().min(limit.saturating_add(1)) as usize;
    let mut bytes = Vec::with_capacity(expected.saturating_add(1));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| LoadError::Unreadable(io_error(path, &e)))?;
    if bytes.len() as u64 > limit {
        return Err(LoadError::Content(too_large(&format!("`{name}`"))));
    }
    if let Some(pos) = bytes.iter().position(|b| *b == 0) {
        let line = bytes
            .get(..pos)
            .map_or(0, |b| b.iter().filter(|c| **c == b'\n').count())
            + 1;
        return Err(LoadError::Content(
            Diagnostic::new(
                Code::NulByte,
                format!(
                    "`{name}` contains a NUL byte (line {line}, byte {pos}); it is not a text file"
                ),
            )
            .help("policy files are UTF-8 text; check that this is the file you meant"),
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(e) => {
            let pos = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let line = bytes
                .get(..pos)
                .map_or(0, |b| b.iter().filter(|c| **c == b'\n').count())
                + 1;
            Err(LoadError::Content(
                Diagnostic::new(
                    Code::NotUtf8,
                    format!("`{name}` is not valid UTF-8 (line {line}, byte {pos})"),
                )
                .help("save the file as UTF-8"),
            ))
        }
    }
}

/// The policy sources: `*.policy`.
pub const POLICY_FILES: Kind = Kind {
    suffix: ".policy",
    help: "pass a policy file or a directory that contains one",
    projects: false,
};

/// The file name of a policy project's manifest ([`project`]).
pub const MANIFEST: &str = "policyc.toml";

/// What [`discover`] looks for.
pub struct Kind {
    /// The file-name suffix, e.g. `.policy`.
    pub suffix: &'static str,
    /// The help shown when a directory holds none.
    pub help: &'static str,
    /// Whether a directory with a `policyc.toml` is one input (its
    /// manifest), not searched.
    pub projects: bool,
}

/// Expands files and directories into the files of `kind`, sorted by path,
/// each file once (`a.policy` and `./a.policy` are one file). A directory is
/// searched recursively (hidden directories, `target` and symbolic links to
/// directories are skipped); a subdirectory that cannot be listed is kept in
/// the list, so that [`load`] reports it by name while the rest is checked;
/// so is a FIFO, device or socket with the suffix, which [`load`] refuses.
/// A path that does not exist, or a directory with no such files, is an
/// error (exit 2).
pub fn discover(paths: &[PathBuf], kind: &Kind) -> Result<Vec<PathBuf>, Diagnostic> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
        if meta.is_dir() {
            let before = out.len();
            walk(path, kind, &mut out, 0).map_err(|e| io_error(path, &e))?;
            if out.len() == before {
                return Err(Diagnostic::new(
                    Code::NoPolicies,
                    format!(
                        "no `*{}` files found under `{}`",
                        kind.suffix,
                        display_name(path)
                    ),
                )
                .help(kind.help));
            }
        } else {
            out.push(path.clone());
        }
    }
    out.sort();
    out.dedup();
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    Ok(out)
}

fn walk(dir: &Path, kind: &Kind, out: &mut Vec<PathBuf>, depth: usize) -> std::io::Result<()> {
    if depth > 64 {
        return Ok(());
    }
    let suffix = kind.suffix;
    if kind.projects {
        let manifest = dir.join(MANIFEST);
        if manifest.is_file() {
            out.push(manifest);
            return Ok(());
        }
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let ty = entry.file_type()?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if ty.is_dir() {
            if !name.starts_with('.')
                && name != "target"
                && walk(&path, kind, out, depth + 1).is_err()
            {
                // Unreadable: [`load`] names it; the rest is still searched.
                out.push(path);
            }
        } else if name.ends_with(suffix) {
            // Files and links, and FIFOs, devices and sockets too: [`load`]
            // refuses those (P0521) without opening them, as when given.
            out.push(path);
        }
    }
    Ok(())
}
