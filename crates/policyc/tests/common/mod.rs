//! The one run-the-binary helper of every end-to-end test: the real
//! `policyc` in a cleared environment (plus `NO_COLOR`, and `PATH` for the
//! `git` that `diff --git` runs), with an optional stdin, a time limit, and
//! insta settings that filter the temporary directory (`[TMP]`) and the
//! version (`[VERSION]`); plus temporary directories holding files.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "each test binary uses part of this module; a failure here is a test failure"
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long one run may take before the test fails (a hang is a bug).
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `policyc` binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_policyc")
}

/// A finished run: exit code, output, and how long it took.
#[derive(Debug)]
pub struct Run {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// The raw stdout.
    pub stdout_bytes: Vec<u8>,
    /// The raw stderr.
    pub stderr_bytes: Vec<u8>,
    /// Wall time.
    pub elapsed: Duration,
    /// The exit status.
    pub status: ExitStatus,
}

impl Run {
    /// Stdout as text (lossy).
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout_bytes).into_owned()
    }

    /// Stderr as text (lossy).
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr_bytes).into_owned()
    }

    /// Exit code, stdout and stderr, as one reviewable text.
    pub fn transcript(&self) -> String {
        format!(
            "exit: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            self.code,
            self.stdout(),
            self.stderr()
        )
    }

    /// The run as a [`std::process::Output`].
    pub fn output(&self) -> Output {
        Output {
            status: self.status,
            stdout: self.stdout_bytes.clone(),
            stderr: self.stderr_bytes.clone(),
        }
    }
}

/// A command line to run: `policyc ARGS` in `dir`.
pub struct Cli {
    program: PathBuf,
    timeout: Duration,
    dir: PathBuf,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    env: Vec<(String, String)>,
}

impl Cli {
    /// `policyc ARGS` in `dir`, stdin empty.
    pub fn new(dir: &Path, args: &[&str]) -> Self {
        Cli {
            program: PathBuf::from(binary()),
            timeout: TIMEOUT,
            dir: dir.to_path_buf(),
            args: args.iter().map(|a| (*a).to_string()).collect(),
            stdin: None,
            env: Vec::new(),
        }
    }

    /// `sh -c SCRIPT` in `dir`, with the `policyc` under test first on
    /// `PATH` (and in `$POLICYC`): for pipes, `ulimit`, `umask` and the
    /// console examples of the docs.
    pub fn shell(dir: &Path, script: &str) -> Self {
        let bin_dir = Path::new(binary()).parent().unwrap().to_path_buf();
        let mut path = std::ffi::OsString::from(bin_dir);
        if let Some(rest) = std::env::var_os("PATH") {
            path.push(":");
            path.push(rest);
        }
        Cli {
            program: PathBuf::from("sh"),
            timeout: TIMEOUT,
            dir: dir.to_path_buf(),
            args: vec!["-c".to_string(), script.to_string()],
            stdin: None,
            env: vec![
                ("PATH".to_string(), path.to_string_lossy().into_owned()),
                ("POLICYC".to_string(), binary().to_string()),
            ],
        }
    }

    /// Fails the test when the run takes longer than `limit`.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = limit;
        self
    }

    /// Feeds `bytes` on stdin.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Sets one more environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Runs it to the end (failing the test after [`TIMEOUT`]).
    pub fn run(self) -> Run {
        let out_dir = tempfile::tempdir().unwrap();
        let out_path = out_dir.path().join("stdout");
        let err_path = out_dir.path().join("stderr");
        let mut cmd = Command::new(&self.program);
        cmd.env_clear()
            .env("NO_COLOR", "1")
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .current_dir(&self.dir)
            .args(&self.args)
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let start = Instant::now();
        let mut child = cmd.spawn().unwrap();
        let feeder = match (self.stdin, child.stdin.take()) {
            (Some(bytes), Some(mut pipe)) => Some(std::thread::spawn(move || {
                // The child may stop reading early (an error): not ours to judge.
                let _ = pipe.write_all(&bytes);
            })),
            _ => None,
        };
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} {:?} did not finish within {:?}",
                    self.program.display(),
                    self.args,
                    self.timeout
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let elapsed = start.elapsed();
        if let Some(f) = feeder {
            let _ = f.join();
        }
        Run {
            code: status.code().unwrap_or(-1),
            stdout_bytes: std::fs::read(&out_path).unwrap(),
            stderr_bytes: std::fs::read(&err_path).unwrap(),
            elapsed,
            status,
        }
    }
}

/// Runs `sh -c SCRIPT` in `dir` (see [`Cli::shell`]).
pub fn sh(dir: &Path, script: &str) -> Run {
    Cli::shell(dir, script).run()
}

/// Runs `policyc ARGS` in `dir` (empty stdin).
pub fn run(dir: &Path, args: &[&str]) -> Run {
    Cli::new(dir, args).run()
}

/// Runs `policyc ARGS` in `dir` with `stdin`.
pub fn run_with_stdin(dir: &Path, args: &[&str], stdin: &str) -> Run {
    Cli::new(dir, args).stdin(stdin).run()
}

/// Runs `policyc ARGS` in `dir` and gives its [`Output`].
pub fn policyc(dir: &Path, args: &[&str]) -> Output {
    run(dir, args).output()
}

/// Exit code, stdout and stderr of an [`Output`], as one reviewable text.
pub fn transcript(out: &Output) -> String {
    format!(
        "exit: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `s` with the regex metacharacters escaped.
pub fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Insta settings for output produced in `tmp`: the directory (as given and
/// canonical) becomes `[TMP]`, the crate version `[VERSION]`.
pub fn settings(tmp: &Path) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_omit_expression(true);
    let mut dirs = vec![tmp.to_path_buf()];
    if let Ok(c) = tmp.canonicalize() {
        dirs.push(c);
    }
    // Longest first, so a canonical path that extends the given one wins.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.as_os_str().len()));
    for p in dirs {
        s.add_filter(&regex_escape(&p.to_string_lossy()), "[TMP]");
    }
    s.add_filter(&regex_escape(env!("CARGO_PKG_VERSION")), "[VERSION]");
    s
}

/// A file of `policies/`, as text.
pub fn seed(name: &str) -> String {
    std::fs::read_to_string(root().join("policies").join(name)).unwrap()
}

/// A test fixture of `crates/policyc/tests/fixtures/`, as text.
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// A temporary directory holding `files` (parent directories created).
pub fn sandbox(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// Runs `git ARGS` in `dir` with a throwaway identity, the branch `main`
/// and no system configuration; fails the test when git fails.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@localhost",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A git repository in `dir` with everything in it committed once.
pub fn git_commit_all(dir: &Path) {
    git(dir, &["init", "-q"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "one"]);
}
