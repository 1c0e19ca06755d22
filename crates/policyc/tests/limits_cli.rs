//! End-to-end tests of the limits of issue 13: the real binary on inputs
//! built here (large ones generated, never committed): assertions on a
//! policy with errors, `--max-file-size`, `fmt` and the file-size cap, the
//! bounded `fmt --check` diff, and the size of the compiled artifact.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure is a test failure"
)]

use std::fmt::Write as _;

mod common;

use common::{run, sandbox};

/// With `P0509` (no sets are computed) the assertions are not checked:
/// they would be judged against an empty table and fail falsely (`P0309`).
#[test]
fn no_assertion_is_checked_on_a_policy_with_errors() {
    let mut text = String::from("tiers free < team\n");
    for i in 0..66_000 {
        let _ = writeln!(text, "permission p{i}.x \"P{i}\"");
    }
    for i in 0..66_000 {
        let _ = writeln!(text, "role r{i} \"R{i}\" {{ grants p{i}.x }}");
    }
    text.push_str("assert r0 can p0.x on free\nassert only r1 can p1.x\n");
    let tmp = sandbox(&[("large.policy", &text)]);
    let out = run(tmp.path(), &["check", "--format", "json", "large.policy"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    let json: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(codes, ["P0509"], "{}", out.transcript());
}

/// The same for a plain name error: an assertion that would hold, or
/// fail, is not evaluated while the file has an error.
#[test]
fn an_unknown_name_suppresses_every_assertion() {
    let text = "permission a.b \"A\"\npermission c.d \"C\"\n\
                role r \"R\" { grants a.b }\nrole s \"S\" { grants nope.x }\n\
                assert r can c.d\n";
    let tmp = sandbox(&[("p.policy", text)]);
    let out = run(tmp.path(), &["check", "--format", "json", "p.policy"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(out.stdout().contains("P0202"), "{}", out.transcript());
    assert!(!out.stdout().contains("P0309"), "{}", out.transcript());
}
