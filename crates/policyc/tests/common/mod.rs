//! Helpers shared by the end-to-end tests of `policyc test` and
//! `policyc snapshot`: the real binary in a cleared environment, and
//! temporary directories holding copies of the seeds.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `policyc ARGS` in `dir` with an empty environment (plus `NO_COLOR`).
pub fn policyc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_policyc"))
        .env_clear()
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Exit code, stdout and stderr, as one reviewable text.
pub fn transcript(out: &Output) -> String {
    format!(
        "exit: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A file of `policies/`, as text.
pub fn seed(name: &str) -> String {
    std::fs::read_to_string(root().join("policies").join(name)).unwrap()
}

/// A temporary directory holding `files`.
pub fn sandbox(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}
