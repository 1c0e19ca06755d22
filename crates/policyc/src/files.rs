//! Reading policy files defensively, discovering them, and writing atomically.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use policy_syntax::{Code, Diagnostic, SourceFile};

/// The largest file policyc reads, in bytes.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

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

/// Reads a policy file: at most [`MAX_FILE_BYTES`], valid UTF-8, no NUL bytes.
pub fn load(path: &Path) -> Result<SourceFile, LoadError> {
    let name = display_name(path);
    let meta = std::fs::metadata(path).map_err(|e| LoadError::Unreadable(io_error(path, &e)))?;
    if meta.is_dir() {
        return Err(LoadError::Unreadable(
            Diagnostic::new(Code::Io, format!("cannot read `{name}`: it is a directory")).help(
                "pass the directory to `policyc check`, which searches it for `.policy` files",
            ),
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| LoadError::Unreadable(io_error(path, &e)))?;
    // One read for the common case: size the buffer from the metadata (capped,
    // since the file may grow, or lie, between the stat and the read).
    let expected = meta.len().min(MAX_FILE_BYTES + 1) as usize;
    let mut bytes = Vec::with_capacity(expected + 1);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| LoadError::Unreadable(io_error(path, &e)))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::Content(
            Diagnostic::new(
                Code::FileTooLarge,
                format!(
                    "`{name}` is larger than {} MiB",
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
            )
            .help("split the policy into several files"),
        ));
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
};

/// What [`discover`] looks for.
pub struct Kind {
    /// The file-name suffix, e.g. `.policy`.
    pub suffix: &'static str,
    /// The help shown when a directory holds none.
    pub help: &'static str,
}

/// Expands files and directories into the files of `kind`, sorted by path.
/// A directory is searched recursively (hidden directories, `target` and
/// symbolic links to directories are skipped). A path that does not exist,
/// or a directory with no such files, is an error (exit 2).
pub fn discover(paths: &[PathBuf], kind: &Kind) -> Result<Vec<PathBuf>, Diagnostic> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
        if meta.is_dir() {
            let before = out.len();
            walk(path, kind.suffix, &mut out, 0).map_err(|e| io_error(path, &e))?;
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
    Ok(out)
}

fn walk(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>, depth: usize) -> std::io::Result<()> {
    if depth > 64 {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let ty = entry.file_type()?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if ty.is_dir() {
            if !name.starts_with('.') && name != "target" {
                walk(&path, suffix, out, depth + 1)?;
            }
        } else if name.ends_with(suffix) && (ty.is_file() || ty.is_symlink()) {
            out.push(path);
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, flushed, then renamed over the target. On any error the
/// target is left as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Diagnostic> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let fail = |e: std::io::Error| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "the directory does not exist".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            kind => kind.to_string().to_lowercase(),
        };
        Diagnostic::new(
            Code::Io,
            format!("cannot write `{}`: {why}", display_name(path)),
        )
        .help("check that the directory exists and is writable")
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
