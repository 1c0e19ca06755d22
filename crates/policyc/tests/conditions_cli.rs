//! Conditions through the real binary: the three outcomes of `query` and
//! their exit codes, facts with `--when`, the compiled artifact answering
//! the same, `matrix`, `who-can`, and test files with `when:` and
//! `expect: conditional`.
#![expect(
    clippy::unwrap_used,
    reason = "test code: a failed setup is a test failure"
)]

mod common;

use common::run;
use serde_json::Value;

const POLICY: &str = "/// The user created the item.
condition own \"On items they created\"
condition setting.public \"Public channels are allowed\"

permission items.view \"View items\"
permission items.delete \"Delete items\"
permission channels.create \"Create public channels\"

role guest \"Guest\" {
  grants items.view
  grants items.delete when own
}

role member \"Member\" {
  inherits guest
  grants channels.create when setting.public and own
}
";

fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.policy"), POLICY).unwrap();
    dir
}

#[test]
fn three_outcomes_with_their_exit_codes_from_source_and_artifact() {
    let dir = sandbox();
    let d = dir.path();
    let out = run(d, &["compile", "c.policy", "-o", "c.json"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    for file in ["c.policy", "c.json"] {
        let q = |extra: &[&str]| {
            let mut args = vec![
                "query",
                file,
                "--role",
                "member",
                "--action",
                "channels.create",
            ];
            args.extend_from_slice(extra);
            run(d, &args)
        };
        let out = q(&[]);
        assert_eq!(out.code, 3, "{}", out.transcript());
        assert_eq!(
            out.stdout().lines().next().unwrap(),
            "conditional: `member` can use `channels.create` only when `own` and `setting.public`"
        );
        let out = q(&["--when", "own"]);
        assert_eq!(out.code, 3, "{}", out.transcript());
        assert!(
            out.stdout().contains("only when `setting.public`"),
            "{}",
            out.transcript()
        );
        let out = q(&["--when", "own", "--when", "setting.public=true"]);
        assert_eq!(out.code, 0, "{}", out.transcript());
        assert_eq!(
            out.stdout(),
            "allowed: `member` can use `channels.create` (when `own` and `setting.public`)\n"
        );
        let out = q(&["--when", "setting.public=false"]);
        assert_eq!(out.code, 1, "{}", out.transcript());
        // As a `when` clause writes it: the same deny, the same words.
        let negated = q(&["--when", "not setting.public"]);
        assert_eq!(negated.code, 1, "{}", negated.transcript());
        assert_eq!(negated.stdout(), out.stdout());
        let out = q(&["--when", "own=perhaps"]);
        assert_eq!(out.code, 2, "{}", out.transcript());
        let out = q(&["--when", "onw", "--format", "json"]);
        assert_eq!(out.code, 2, "{}", out.transcript());
        let v: Value = serde_json::from_str(&out.stdout()).unwrap();
        assert_eq!(v["diagnostics"][0]["code"], "P0401");
        assert_eq!(v["diagnostics"][0]["suggestion"], "own");
        let out = q(&["--format", "json"]);
        let v: Value = serde_json::from_str(&out.stdout()).unwrap();
        assert_eq!(v["decision"], "conditional");
        assert_eq!(
            v["conditions"],
            serde_json::json!([["own", "setting.public"]])
        );
        assert_eq!(v["reasons"][0]["kind"], "conditional");
    }
}

#[test]
fn matrix_who_can_and_test_files_show_conditional_cells() {
    let dir = sandbox();
    let d = dir.path();
    let out = run(d, &["matrix", "c.policy", "--format", "csv"]);
    assert_eq!(
        out.stdout(),
        "permission,label,guest,member\n\
         items.view,View items,yes,yes\n\
         items.delete,Delete items,if own,if own\n\
         channels.create,Create public channels,no,if own and setting.public\n"
    );
    let out = run(
        d,
        &["who-can", "c.policy", "items.delete", "--format", "json"],
    );
    let v: Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(v["tiers"][0]["roles"], serde_json::json!([]));
    assert_eq!(v["tiers"][0]["conditional"][1]["id"], "member");
    assert_eq!(
        v["tiers"][0]["conditional"][1]["when"],
        serde_json::json!([["own"]])
    );
    std::fs::write(
        d.join("c.test.yaml"),
        "policy: c.policy\ncases:\n\
         - { role: guest, action: items.delete, expect: conditional, reason: conditional }\n\
         - { role: guest, action: items.delete, when: { own: true }, expect: allow }\n\
         - { role: guest, action: items.delete, when: { own: false }, expect: deny }\n\
         - { role: guest, action: items.view, expect: allow, reason: granted }\n",
    )
    .unwrap();
    let out = run(d, &["test", "c.test.yaml"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stdout().contains("4 passed, 0 failed"),
        "{}",
        out.transcript()
    );
    // A conditional cell expected as a plain deny fails, saying why.
    std::fs::write(
        d.join("c.test.yaml"),
        "policy: c.policy\ncases:\n- { role: guest, action: items.delete, expect: deny }\n",
    )
    .unwrap();
    let out = run(d, &["test", "c.test.yaml"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(
        out.stdout().contains("actual:   conditional"),
        "{}",
        out.transcript()
    );
}
