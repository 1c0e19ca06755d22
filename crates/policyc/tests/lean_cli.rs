//! A build without the servers (`--no-default-features`, what the
//! pre-commit hooks install): `lsp` and `serve` are still listed and fail
//! with P0561 and the way to get them; everything else works. `.ci/run`
//! runs this file with `cargo test -p policyc --no-default-features`.
#![cfg(not(all(feature = "lsp", feature = "serve")))]

mod common;

use common::{root, run};

#[test]
fn servers_not_in_the_build_are_p0561_with_the_feature_to_add() {
    for command in ["serve", "lsp"] {
        let out = run(
            &root(),
            &[command, "policies/humanloop.policy", "--http", "x"],
        );
        assert_eq!(out.code, 2, "{}", out.transcript());
        let err = out.stderr();
        assert!(
            err.contains(&format!(
                "error[P0561]: `policyc {command}` is not in this build"
            )),
            "{err}"
        );
        assert!(err.contains(&format!("--features {command}")), "{err}");
        assert!(out.stdout().is_empty());
    }
    let help = run(&root(), &["--help"]);
    assert!(help.stdout().contains("serve"), "{}", help.stdout());
}

#[test]
fn the_hook_commands_work_without_the_servers() {
    let out = run(&root(), &["check", "--quiet", "policies/"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
}
