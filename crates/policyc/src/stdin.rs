//! Reading a policy from standard input (`policyc check -`, `policyc fmt -`),
//! with the same limits as files: at most [`files::max_file_bytes`], UTF-8,
//! no NUL bytes. The one reader of a policy on stdin.

use std::io::Read;

use policy_syntax::{Code, Diagnostic, SourceFile};

use crate::files::{self, LoadError};

/// The name diagnostics show for stdin without `--stdin-filename`.
pub const DEFAULT_NAME: &str = "<stdin>";

/// Reads all of stdin as a policy named `name`, for `command` (named in the
/// help when stdin cannot be read, e.g. `policyc fmt -`).
pub fn load(name: &str, command: &str) -> Result<SourceFile, LoadError> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(files::max_file_bytes().saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| {
            LoadError::Unreadable(
                Diagnostic::new(
                    Code::Io,
                    format!("cannot read stdin: {}", e.to_string().to_lowercase()),
                )
                .help(format!("pipe a policy into `{command}`")),
            )
        })?;
    from_bytes(name, bytes)
}

/// Checks what was read and makes it a source.
fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<SourceFile, LoadError> {
    if bytes.len() as u64 > files::max_file_bytes() {
        return Err(LoadError::Content(files::too_large(&format!(
            "`{name}` (stdin)"
        ))));
    }
    if bytes.contains(&0) {
        return Err(LoadError::Content(
            Diagnostic::new(
                Code::NulByte,
                format!("`{name}` (stdin) contains a NUL byte; it is not a text file"),
            )
            .help("policy files are UTF-8 text"),
        ));
    }
    String::from_utf8(bytes)
        .map(|text| SourceFile::new(name, text))
        .map_err(|_| {
            LoadError::Content(
                Diagnostic::new(
                    Code::NotUtf8,
                    format!("`{name}` (stdin) is not valid UTF-8"),
                )
                .help("send UTF-8 text"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_checked_like_files() {
        let ok = from_bytes("a.policy", b"tiers free\n".to_vec());
        assert!(matches!(ok, Ok(s) if s.name() == "a.policy"));
        let nul = from_bytes("a.policy", b"ti\0ers".to_vec());
        assert!(matches!(nul, Err(LoadError::Content(d)) if d.code() == Code::NulByte));
        let bad = from_bytes("a.policy", vec![0xff, 0xfe]);
        assert!(matches!(bad, Err(LoadError::Content(d)) if d.code() == Code::NotUtf8));
    }
}
