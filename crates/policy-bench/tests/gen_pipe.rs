//! `policy-bench gen` is a Unix filter: a reader that stops early
//! (`policy-bench gen … | head`) must not make it panic.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn gen_into_a_closed_pipe_exits_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_policy-bench"))
        .args(["gen", "2000", "20000", "4"])
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe like `head -1` does.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(!first.is_empty());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(stderr.is_empty(), "stderr: {stderr}");
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
}

#[test]
fn gen_writes_the_whole_policy_to_a_reader() {
    let out = Command::new(env!("CARGO_BIN_EXE_policy-bench"))
        .args(["gen", "3", "10", "1"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("role "), "{text}");
}
