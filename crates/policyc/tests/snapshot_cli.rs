//! End-to-end tests of `policyc snapshot`: the committed seed snapshots are
//! up to date (this is how CI guards them), a real change fails `--check`
//! with a readable diff, and `--update` rewrites the file.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers: a failed lookup is a test failure"
)]

mod common;

use common::{policyc, root, sandbox, seed, transcript};

#[test]
fn committed_seed_snapshots_are_up_to_date() {
    for name in ["humanloop", "vellum"] {
        let policy = format!("policies/{name}.policy");
        let out = policyc(&root(), &["snapshot", &policy, "--check"]);
        assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
        // Printing gives exactly the committed bytes.
        let out = policyc(&root(), &["snapshot", &policy]);
        assert_eq!(out.status.code(), Some(0));
        let committed = seed(&format!("{name}.snapshot.yaml")).replace("\r\n", "\n");
        assert_eq!(String::from_utf8_lossy(&out.stdout), committed);
    }
}

#[test]
fn snapshot_is_stable_under_a_harmless_refactor() {
    // Reordered roles, a split grant line and new comments: same effective
    // permissions, same snapshot.
    let text = seed("humanloop.policy");
    let admin_start = text.find("/// The highest level").unwrap();
    let admin_end = text[admin_start..].find("}\n").unwrap() + admin_start + 2;
    let admin = &text[admin_start..admin_end];
    let mut refactored = String::from("// a comment\n");
    refactored.push_str(&text[..admin_start].replace(
        "grants api_keys.manage, deployments.manage, environments.manage",
        "grants api_keys.manage\n  grants environments.manage, deployments.manage",
    ));
    refactored.push_str(&text[admin_end..]);
    refactored.push_str(admin);
    assert_ne!(refactored, text);
    let dir = sandbox(&[("humanloop.policy", &refactored)]);
    std::fs::copy(
        root().join("policies/humanloop.snapshot.yaml"),
        dir.path().join("humanloop.snapshot.yaml"),
    )
    .unwrap();
    let out = policyc(dir.path(), &["snapshot", "humanloop.policy", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
}

#[test]
fn a_removed_grant_fails_check_with_a_diff() {
    let text = seed("humanloop.policy")
        .replace(
            "grants api_keys.manage, deployments.manage, environments.manage",
            "grants api_keys.manage, environments.manage",
        )
        .lines()
        .filter(|l| !l.starts_with("assert "))
        .map(|l| format!("{l}\n"))
        .collect::<String>();
    let dir = sandbox(&[
        ("humanloop.policy", &text),
        ("humanloop.snapshot.yaml", &seed("humanloop.snapshot.yaml")),
    ]);
    let out = policyc(dir.path(), &["snapshot", "humanloop.policy", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(transcript(&out));

    // --update accepts the change atomically; then --check passes.
    let out = policyc(dir.path(), &["snapshot", "humanloop.policy", "--update"]);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    let updated = std::fs::read_to_string(dir.path().join("humanloop.snapshot.yaml")).unwrap();
    assert!(!updated.contains("deployments.manage: granted"));
    let out = policyc(dir.path(), &["snapshot", "humanloop.policy", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
}

#[test]
fn explicit_paths_and_missing_snapshots() {
    let dir = sandbox(&[("vellum.policy", &seed("vellum.policy"))]);
    let out = policyc(
        dir.path(),
        &["snapshot", "vellum.policy", "--check", "out.yaml"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--update out.yaml"));
    let out = policyc(
        dir.path(),
        &["snapshot", "vellum.policy", "--update", "out.yaml"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.yaml")).unwrap(),
        seed("vellum.snapshot.yaml").replace("\r\n", "\n")
    );
    let out = policyc(
        dir.path(),
        &["snapshot", "vellum.policy", "--check", "out.yaml"],
    );
    assert_eq!(out.status.code(), Some(0));
    // CRLF checkouts still match.
    let crlf = seed("vellum.snapshot.yaml").replace('\n', "\r\n");
    std::fs::write(dir.path().join("out.yaml"), crlf).unwrap();
    let out = policyc(
        dir.path(),
        &["snapshot", "vellum.policy", "--check", "out.yaml"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    // --check and --update together are a usage error.
    let out = policyc(
        dir.path(),
        &["snapshot", "vellum.policy", "--check", "--update"],
    );
    assert_eq!(out.status.code(), Some(2));
}

/// The command between the last pair of backticks of a help line.
fn suggested_command(stderr: &str) -> String {
    let line = stderr
        .lines()
        .rfind(|l| l.contains("`policyc snapshot "))
        .unwrap_or_else(|| panic!("no suggested command in:\n{stderr}"));
    let start = line.find("`policyc").unwrap() + 1;
    let end = line[start..].find('`').unwrap() + start;
    line[start..end].to_string()
}

#[test]
fn the_suggested_update_command_runs_as_printed() {
    // A policy in a subdirectory, a snapshot under another name, a space in
    // a path: the help names both real paths, quoted, and running it
    // verbatim (through a shell) makes `--check` pass.
    let dir = sandbox(&[("team a/vellum.policy", &seed("vellum.policy"))]);
    let check = [
        "snapshot",
        "team a/vellum.policy",
        "--check",
        "snaps/v.yaml",
    ];
    for expected_code in [2, 1] {
        let out = policyc(dir.path(), &check);
        assert_eq!(
            out.status.code(),
            Some(expected_code),
            "{}",
            transcript(&out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let command = suggested_command(&stderr);
        assert_eq!(
            command,
            "policyc snapshot 'team a/vellum.policy' --update snaps/v.yaml"
        );
        let script = command.replacen("policyc", "\"$POLICYC\"", 1);
        std::fs::create_dir_all(dir.path().join("snaps")).unwrap();
        let run = std::process::Command::new("sh")
            .args(["-c", &script])
            .env("POLICYC", common::binary())
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(0), "{script}: {run:?}");
        let out = policyc(dir.path(), &check);
        assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
        // Make it stale for the second round (a mismatch, exit 1).
        std::fs::write(dir.path().join("snaps/v.yaml"), "stale: true\n").unwrap();
    }
}

/// A default snapshot that links outside the policy's directory is refused
/// (P0523, exit 2) before it is read or written: `--check` prints none of
/// it and `--update` does not write through the link. A path named on the
/// command line, and a link inside the directory, are followed.
#[cfg(unix)]
#[test]
fn a_default_snapshot_linking_outside_is_refused() {
    let policy = "permission a.b \"A\"\nrole r \"R\" { grants a.b }\n";
    let tmp = sandbox(&[
        ("secret.snapshot.yaml", "SECRET-CONTENT\n"),
        ("dir/p.policy", policy),
    ]);
    let dir = tmp.path().join("dir");
    std::os::unix::fs::symlink("../secret.snapshot.yaml", dir.join("p.snapshot.yaml")).unwrap();
    for args in [
        &["snapshot", "p.policy", "--check"][..],
        &["snapshot", "p.policy", "--update"],
    ] {
        let out = policyc(&dir, args);
        let all = transcript(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {all}");
        assert!(
            all.contains("P0523") && all.contains("links outside"),
            "{all}"
        );
        assert!(!all.contains("SECRET"), "{all}");
    }
    let secret = std::fs::read_to_string(tmp.path().join("secret.snapshot.yaml")).unwrap();
    assert_eq!(secret, "SECRET-CONTENT\n");
    // Named on the command line: the user's choice, followed.
    let out = policyc(
        &dir,
        &["snapshot", "p.policy", "--check", "../secret.snapshot.yaml"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", transcript(&out));
    // A link inside the directory is fine.
    std::fs::remove_file(dir.join("p.snapshot.yaml")).unwrap();
    let out = policyc(
        &dir,
        &["snapshot", "p.policy", "--update", "real.snapshot.yaml"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    std::os::unix::fs::symlink("real.snapshot.yaml", dir.join("p.snapshot.yaml")).unwrap();
    let out = policyc(&dir, &["snapshot", "p.policy", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
}
