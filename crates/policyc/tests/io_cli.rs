//! End-to-end tests of how policyc writes and reads files: writes never
//! damage a user's files (links, modes, owners, read-only files, devices,
//! FIFOs, the input itself, a process killed mid-write), and reads never
//! hang or leak (FIFOs, unreadable directories, a streamed batch, a test
//! file's `policy:` path).
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed lookup is a test failure"
)]

mod common;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use common::{run, sandbox, seed, sh, Cli};

const MESSY: &str = "permission a.b   \"A\"\nrole r \"R\" {grants a.b}\n";
const CLEAN: &str = "permission a.b \"A\"\nrole r \"R\" {\n  grants a.b\n}\n";

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn running_as_root() -> bool {
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe");
    fs::write(&probe, "").unwrap();
    fs::metadata(&probe).unwrap().uid() == 0
}

// ------------------------------------------------------------ symlinks

#[test]
fn fmt_writes_through_a_link_given_directly_and_keeps_the_link() {
    let dir = sandbox(&[("real.policy", MESSY)]);
    std::os::unix::fs::symlink("real.policy", dir.path().join("link.policy")).unwrap();
    let out = run(dir.path(), &["fmt", "link.policy"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let link = fs::symlink_metadata(dir.path().join("link.policy")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    assert_eq!(
        fs::read_to_string(dir.path().join("real.policy")).unwrap(),
        CLEAN
    );
}

#[test]
fn fmt_writes_through_a_link_found_by_discovery() {
    let dir = sandbox(&[("src/real.policy.txt", MESSY)]);
    std::os::unix::fs::symlink("../src/real.policy.txt", {
        fs::create_dir(dir.path().join("p")).unwrap();
        dir.path().join("p/link.policy")
    })
    .unwrap();
    let out = run(dir.path(), &["fmt", "p"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(fs::symlink_metadata(dir.path().join("p/link.policy"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read_to_string(dir.path().join("src/real.policy.txt")).unwrap(),
        CLEAN
    );
}

#[test]
fn compile_output_through_a_link_and_a_dangling_link() {
    let dir = sandbox(&[("p.policy", CLEAN), ("out.json", "old")]);
    std::os::unix::fs::symlink("out.json", dir.path().join("lnk.json")).unwrap();
    std::os::unix::fs::symlink("new.json", dir.path().join("dangling.json")).unwrap();
    for link in ["lnk.json", "dangling.json"] {
        let out = run(dir.path(), &["compile", "p.policy", "-o", link]);
        assert_eq!(out.code, 0, "{}", out.transcript());
        assert!(fs::symlink_metadata(dir.path().join(link))
            .unwrap()
            .file_type()
            .is_symlink());
    }
    for target in ["out.json", "new.json"] {
        let text = fs::read_to_string(dir.path().join(target)).unwrap();
        assert!(text.contains("\"schema_version\""), "{target}: {text}");
    }
}

// ------------------------------------------------------- modes, owners

#[test]
fn new_files_respect_the_umask_and_existing_files_keep_their_mode() {
    let dir = sandbox(&[("p.policy", CLEAN), ("messy.policy", MESSY)]);
    let out = sh(
        dir.path(),
        "umask 022 && policyc compile p.policy -o a.json && umask 077 && policyc compile p.policy -o b.json",
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert_eq!(mode(&dir.path().join("a.json")), 0o644);
    assert_eq!(mode(&dir.path().join("b.json")), 0o600);

    for (file, m) in [("a.json", 0o640), ("messy.policy", 0o664)] {
        fs::set_permissions(dir.path().join(file), fs::Permissions::from_mode(m)).unwrap();
    }
    let out = sh(
        dir.path(),
        "umask 077 && policyc compile p.policy -o a.json && policyc fmt messy.policy",
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert_eq!(mode(&dir.path().join("a.json")), 0o640);
    assert_eq!(mode(&dir.path().join("messy.policy")), 0o664);
    assert_eq!(
        fs::read_to_string(dir.path().join("messy.policy")).unwrap(),
        CLEAN
    );
}

#[test]
fn a_rewritten_file_keeps_its_owner() {
    let dir = sandbox(&[("messy.policy", MESSY), ("p.policy", CLEAN)]);
    let messy = dir.path().join("messy.policy");
    fs::set_permissions(&messy, fs::Permissions::from_mode(0o664)).unwrap();
    let before = fs::metadata(&messy).unwrap();
    let (uid, gid) = if running_as_root() {
        // Someone else's file, as in the report (root would make it root's).
        std::os::unix::fs::chown(&messy, Some(65534), Some(65534)).unwrap();
        (65534, 65534)
    } else {
        (before.uid(), before.gid())
    };
    let out = run(dir.path(), &["fmt", "messy.policy"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let after = fs::metadata(&messy).unwrap();
    assert_eq!((after.uid(), after.gid()), (uid, gid));
    assert_eq!(mode(&messy), 0o664);
    assert_eq!(fs::read_to_string(&messy).unwrap(), CLEAN);
}

#[test]
fn a_read_only_file_is_refused_not_rewritten() {
    let dir = sandbox(&[
        ("messy.policy", MESSY),
        ("p.policy", CLEAN),
        ("out.json", "old"),
    ]);
    for f in ["messy.policy", "out.json"] {
        fs::set_permissions(dir.path().join(f), fs::Permissions::from_mode(0o444)).unwrap();
    }
    let out = run(dir.path(), &["fmt", "messy.policy"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr().contains("P0520"), "{}", out.stderr());
    assert!(out.stderr().contains("`messy.policy`"), "{}", out.stderr());
    assert_eq!(
        fs::read_to_string(dir.path().join("messy.policy")).unwrap(),
        MESSY
    );
    let out = run(dir.path(), &["compile", "p.policy", "-o", "out.json"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr().contains("cannot write `out.json`"),
        "{}",
        out.stderr()
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("out.json")).unwrap(),
        "old"
    );
    assert_eq!(
        listing(dir.path()),
        ["messy.policy", "out.json", "p.policy"]
    );
}

// ------------------------------------------------- non-regular targets

/// Through links in the sandbox, so that a regression replaces the link,
/// never the machine's `/dev/null` or `/dev/stdout`.
#[test]
fn dev_null_and_dev_stdout_are_written_to_not_replaced() {
    let dir = sandbox(&[("p.policy", CLEAN)]);
    std::os::unix::fs::symlink("/dev/null", dir.path().join("null")).unwrap();
    std::os::unix::fs::symlink("/dev/stdout", dir.path().join("so")).unwrap();
    let out = run(dir.path(), &["compile", "p.policy", "-o", "null"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    // stdout a file (as the test harness captures it), then a pipe.
    let out = run(dir.path(), &["compile", "p.policy", "-o", "so"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stdout().contains("\"schema_version\""),
        "{}",
        out.transcript()
    );
    let out = sh(dir.path(), "policyc compile p.policy -o so | cat");
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stdout().contains("\"schema_version\""),
        "{}",
        out.transcript()
    );
    for link in ["null", "so"] {
        assert!(fs::symlink_metadata(dir.path().join(link))
            .unwrap()
            .file_type()
            .is_symlink());
    }
    assert_eq!(listing(dir.path()), ["null", "p.policy", "so"]);
}

#[test]
fn a_fifo_target_is_written_to_not_renamed_over() {
    let dir = sandbox(&[("p.policy", CLEAN)]);
    let out = sh(
        dir.path(),
        "mkfifo out.fifo && { cat out.fifo > got.json & } && policyc compile p.policy -o out.fifo && wait",
    );
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(fs::metadata(dir.path().join("out.fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    let got = fs::read_to_string(dir.path().join("got.json")).unwrap();
    assert!(got.contains("\"schema_version\""), "{got}");
}

// --------------------------------------------------- the input itself

#[test]
fn compile_refuses_to_overwrite_its_input_by_any_name() {
    let dir = sandbox(&[("p.policy", CLEAN)]);
    std::os::unix::fs::symlink("p.policy", dir.path().join("sym.policy")).unwrap();
    fs::hard_link(dir.path().join("p.policy"), dir.path().join("hard.policy")).unwrap();
    for target in ["p.policy", "./p.policy", "sym.policy", "hard.policy"] {
        let out = run(dir.path(), &["compile", "p.policy", "-o", target]);
        assert_eq!(out.code, 2, "{target}: {}", out.transcript());
        assert!(out.stderr().contains("P0522"), "{target}: {}", out.stderr());
        assert_eq!(
            fs::read_to_string(dir.path().join("p.policy")).unwrap(),
            CLEAN
        );
    }
    let out = run(
        dir.path(),
        &["snapshot", "p.policy", "--update", "p.policy"],
    );
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert_eq!(
        fs::read_to_string(dir.path().join("p.policy")).unwrap(),
        CLEAN
    );
    assert_eq!(
        listing(dir.path()),
        ["hard.policy", "p.policy", "sym.policy"]
    );
}

// -------------------------------------------- directories, failures

#[test]
fn writing_over_a_directory_or_into_a_read_only_one_fails_cleanly() {
    let dir = sandbox(&[("p.policy", CLEAN), ("ro/keep", "")]);
    fs::create_dir(dir.path().join("out")).unwrap();
    fs::set_permissions(dir.path().join("ro"), fs::Permissions::from_mode(0o555)).unwrap();
    let out = run(dir.path(), &["compile", "p.policy", "-o", "out"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr()
            .contains("cannot write `out`: it is a directory"),
        "{}",
        out.stderr()
    );
    let out = run(dir.path(), &["compile", "p.policy", "-o", "ro/x.json"]);
    let listed = listing(&dir.path().join("ro"));
    fs::set_permissions(dir.path().join("ro"), fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr().contains("`ro/x.json`"), "{}", out.stderr());
    assert!(out.stderr().contains("read-only"), "{}", out.stderr());
    assert_eq!(listed, ["keep"]);
    assert_eq!(listing(dir.path()), ["out", "p.policy", "ro"]);
    assert!(listing(&dir.path().join("out")).is_empty());
}

#[test]
fn a_process_killed_mid_write_leaves_nothing_behind() {
    // `ulimit -f 1` kills the process (SIGXFSZ) as its write passes 1 KiB:
    // the unnamed temporary file it was writing vanishes with it.
    let dir = sandbox(&[("humanloop.policy", &seed("humanloop.policy"))]);
    let out = sh(
        dir.path(),
        "ulimit -f 1; exec policyc compile humanloop.policy -o out.json",
    );
    assert_ne!(
        out.code,
        0,
        "the write was not interrupted: {}",
        out.transcript()
    );
    assert_eq!(listing(dir.path()), ["humanloop.policy"]);
}

// ------------------------------------------------------------- reads

#[test]
fn check_refuses_a_fifo_instead_of_blocking() {
    let dir = sandbox(&[("ok.policy", CLEAN), ("d/ok.policy", CLEAN)]);
    let made = sh(
        dir.path(),
        "mkfifo fifo.policy && ln -s ../fifo.policy d/link.policy",
    );
    assert_eq!(made.code, 0, "{}", made.transcript());
    for args in [&["check", "fifo.policy"][..], &["check", "d"][..]] {
        let out = Cli::new(dir.path(), args)
            .timeout(Duration::from_secs(20))
            .run();
        assert_eq!(out.code, 2, "{args:?}: {}", out.transcript());
        assert!(out.stderr().contains("P0521"), "{args:?}: {}", out.stderr());
        assert!(
            out.stderr().contains("not a regular file"),
            "{}",
            out.stderr()
        );
    }
    let out = Cli::new(dir.path(), &["check", "d"])
        .timeout(Duration::from_secs(20))
        .run();
    assert!(out.stderr().contains("`d/link.policy`"), "{}", out.stderr());
    assert!(out.stderr().contains("checked 2 files"), "{}", out.stderr());
}

#[test]
fn a_fifo_found_in_a_directory_is_reported_as_one_given() {
    let dir = sandbox(&[("d/ok.policy", CLEAN), ("t/p.policy", CLEAN)]);
    let made = sh(
        dir.path(),
        "mkfifo d/x.policy && mkfifo lone.policy && mkdir only && mkfifo only/y.policy \
         && mkfifo t/p.test.yaml",
    );
    assert_eq!(made.code, 0, "{}", made.transcript());
    let given = Cli::new(dir.path(), &["check", "lone.policy"])
        .timeout(Duration::from_secs(20))
        .run();
    for args in [
        &["check", "d"][..],
        &["check", "only"][..],
        &["check", "."][..],
    ] {
        let out = Cli::new(dir.path(), args)
            .timeout(Duration::from_secs(20))
            .run();
        assert_eq!(out.code, given.code, "{args:?}: {}", out.transcript());
        assert_eq!(out.code, 2, "{args:?}: {}", out.transcript());
        assert!(out.stderr().contains("P0521"), "{args:?}: {}", out.stderr());
        assert!(
            out.stderr().contains("y.policy`: it is not a regular file")
                || out.stderr().contains("x.policy`: it is not a regular file"),
            "{args:?}: {}",
            out.stderr()
        );
    }
    let out = Cli::new(dir.path(), &["check", "d", "--format", "json"])
        .timeout(Duration::from_secs(20))
        .run();
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stdout().contains("P0521"), "{}", out.transcript());
    // A test file that is a FIFO is reported too, not skipped.
    let out = Cli::new(dir.path(), &["test", "t"])
        .timeout(Duration::from_secs(20))
        .run();
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr().contains("P0521"), "{}", out.transcript());
}

#[test]
fn an_unreadable_subdirectory_is_named_and_the_rest_checked() {
    let dir = sandbox(&[
        ("tree/a.policy", CLEAN),
        ("tree/locked/b.policy", CLEAN),
        ("tree/z/c.policy", "role r \"R\" { grants nope }\n"),
    ]);
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(
        dir.path().join("tree/locked"),
        fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    // Root reads everything: run as `nobody` then, as in the report.
    let script = if running_as_root() {
        format!(
            "setpriv --reuid=65534 --regid=65534 --clear-groups {} check tree",
            common::binary()
        )
    } else {
        "policyc check tree".to_string()
    };
    let out = sh(dir.path(), &script);
    fs::set_permissions(
        dir.path().join("tree/locked"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    assert_eq!(out.code, 2, "{}", out.transcript());
    let err = out.stderr();
    assert!(
        err.contains("cannot read `tree/locked`: permission denied"),
        "{err}"
    );
    assert!(!err.contains("cannot read `tree`"), "{err}");
    // The rest was checked: c.policy's unknown permission is reported.
    assert!(err.contains("P0202") || err.contains("nope"), "{err}");
    assert!(err.contains("checked 3 files"), "{err}");
}

#[test]
fn a_batch_on_stdin_is_streamed_past_16_mib_with_a_cap_per_line() {
    let dir = sandbox(&[("humanloop.policy", &seed("humanloop.policy"))]);
    // 20,000 requests padded to 1 KiB each: 20 MiB, past the old total cap.
    let request = r#"{"role":"admin","action":"billing.manage","tier":"free"}"#;
    let line = format!("{request:<1023}\n");
    let count = 20_000;
    let mut input = line.repeat(count);
    // One overlong line in the middle is an error on its own line only.
    input.push_str(&" ".repeat(70 * 1024));
    input.push('\n');
    input.push_str(&line);
    let out = Cli::new(dir.path(), &["query", "humanloop.policy", "--batch", "-"])
        .stdin(input)
        .run();
    let stdout = out.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), count + 2, "{}", out.stderr());
    assert_eq!(out.code, 2);
    let errors: Vec<&&str> = lines.iter().filter(|l| l.contains("\"error\"")).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("\"request\":20001"), "{}", errors[0]);
    assert!(errors[0].contains("longer than 64 KiB"), "{}", errors[0]);
    assert!(lines.last().unwrap().contains("\"request\":20002"));
    assert!(lines.last().unwrap().contains("\"decision\":\"allow\""));
}

#[test]
fn a_test_file_may_only_name_a_policy_inside_its_tree() {
    const SECRET: &str = "TOP-SECRET-LINE do not print";
    const CASES: &str = "cases:\n  - roles: [r]\n    action: a.b\n    expect: allow\n";
    let dir = sandbox(&[
        ("secret.txt", SECRET),
        ("outside.policy", &format!("{SECRET}\n")),
        (
            "tests/a.test.yaml",
            &format!("policy: ../secret.txt\n{CASES}"),
        ),
        (
            "tests/b.test.yaml",
            &format!("policy: ../outside.policy\n{CASES}"),
        ),
        (
            "tests/c.test.yaml",
            &format!("policy: /etc/passwd\n{CASES}"),
        ),
        (
            "tests/d.test.yaml",
            &format!("policy: link.policy\n{CASES}"),
        ),
    ]);
    std::os::unix::fs::symlink("../outside.policy", dir.path().join("tests/link.policy")).unwrap();
    for args in [&["test", "tests"][..], &["test", "tests/a.test.yaml"][..]] {
        refused_unread(&run(dir.path(), args), &["P0523"]);
    }
    let out = run(dir.path(), &["test", "tests"]);
    assert_eq!(out.stderr().matches("P0523").count(), 4, "{}", out.stderr());
    // Inside the tree it was found from, `..` is fine.
    let ok = sandbox(&[
        ("p.policy", CLEAN),
        (
            "sub/p.test.yaml",
            "policy: ../p.policy\ncases:\n  - roles: [r]\n    action: a.b\n    expect: allow\n",
        ),
    ]);
    let out = run(ok.path(), &["test", "."]);
    assert_eq!(out.code, 0, "{}", out.transcript());
}

/// A run refused with exit 2 that shows nothing of the secret file and
/// says each of `says` on stderr.
fn refused_unread(out: &common::Run, says: &[&str]) {
    let all = out.transcript();
    assert_eq!(out.code, 2, "{all}");
    assert!(!all.contains("TOP-SECRET"), "{all}");
    for word in says {
        assert!(out.stderr().contains(word), "no `{word}`: {all}");
    }
}

#[test]
fn a_default_policy_that_links_outside_the_tree_is_not_read() {
    const SECRET: &str = "TOP-SECRET-LINE do not print";
    const CASES: &str = "cases:\n  - roles: [r]\n    action: a.b\n    expect: allow\n";
    let dir = sandbox(&[
        ("secret.policy", &format!("{SECRET}\n")),
        // No `policy:`: the test runs against `y.policy` beside it.
        ("tests/y.test.yaml", CASES),
    ]);
    std::os::unix::fs::symlink("../secret.policy", dir.path().join("tests/y.policy")).unwrap();
    for args in [&["test", "tests"][..], &["test", "tests/y.test.yaml"][..]] {
        refused_unread(&run(dir.path(), args), &["P0523", "y.policy"]);
    }
    // A default policy linked to one inside the tree is fine.
    let ok = sandbox(&[("p/real.policy", CLEAN), ("p/y.test.yaml", CASES)]);
    std::os::unix::fs::symlink("real.policy", ok.path().join("p/y.policy")).unwrap();
    let out = run(ok.path(), &["test", "p"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
}

#[test]
fn a_snapshot_or_its_policy_that_links_outside_the_tree_is_not_read() {
    const SECRET: &str = "TOP-SECRET-LINE do not print\nsecond secret line\n";
    const CASES: &str = "cases:\n  - roles: [r]\n    action: a.b\n    expect: allow\n";
    let outside = sandbox(&[
        ("shadow", SECRET),
        ("secret.policy", SECRET),
        ("secret.snapshot.yaml", SECRET),
    ]);
    let dir = sandbox(&[
        ("p.policy", CLEAN),
        ("p.test.yaml", CASES),
        ("x.policy", CLEAN),
        ("z.snapshot.yaml", "roles: {}\n"),
    ]);
    let link = |target: &Path, name: &str| {
        std::os::unix::fs::symlink(target, dir.path().join(name)).unwrap();
    };
    // The snapshot itself links outside (to any file, named anything).
    link(&outside.path().join("shadow"), "x.snapshot.yaml");
    // The snapshot's policy links outside.
    link(&outside.path().join("secret.policy"), "z.policy");
    // A snapshot linked to a `.snapshot.yaml` outside.
    link(
        &outside.path().join("secret.snapshot.yaml"),
        "w.snapshot.yaml",
    );
    link(&dir.path().join("x.policy"), "w.policy");
    for format in ["human", "json", "junit"] {
        let out = run(
            dir.path(),
            &["test", ".", "--snapshots", "--format", format],
        );
        refused_unread(&out, &[]);
        let all = out.transcript();
        assert!(!all.contains("second secret"), "{all}");
        if format == "human" {
            assert_eq!(out.stderr().matches("P0523").count(), 3, "{all}");
            assert!(out.stdout().contains("ok     p.test.yaml"), "{all}");
        }
    }
}
