//! The server through an in-memory connection: the handshake, diagnostics
//! and quick fixes, hover, navigation, completion, rename, formatting and
//! position encodings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: clippy.toml allows these in #[test] functions but not in the helpers of an integration test; a failure is a test failure"
)]

mod common;

use common::{apply_edits, find, pos, Client};
use serde_json::{json, Value};

const URI: &str = "file:///work/demo.policy";

const DEMO: &str = r#"tiers free < team < enterprise

/// Create and edit files.
permission files.manage "Manage files"
permission billing.manage "Manage billing" on >= team
permission billing.view "View billing"

/// The basic level of access.
role member "Member" {
  grants files.manage
}

role admin "Admin" {
  inherits member
  grants billing.*
}

assert admin can billing.manage on enterprise
"#;

#[test]
fn handshake_negotiates_utf8_when_offered_and_utf16_otherwise() {
    let c = Client::start(&["utf-8", "utf-16"]);
    assert_eq!(c.init["capabilities"]["positionEncoding"], "utf-8");
    assert_eq!(c.init["serverInfo"]["name"], "policyc");
    assert_eq!(c.init["capabilities"]["textDocumentSync"]["change"], 2);
    c.shutdown();
    let c = Client::start(&[]);
    assert_eq!(c.init["capabilities"]["positionEncoding"], "utf-16");
    c.shutdown();
    let c = Client::start(&["utf-32", "utf-16"]);
    assert_eq!(c.init["capabilities"]["positionEncoding"], "utf-16");
    c.shutdown();
}

#[test]
fn typo_gives_p0201_with_a_quick_fix_and_clears_when_fixed() {
    let mut c = Client::start(&[]);
    let text = DEMO.replace("inherits member", "inherits membr");
    let diags = c.open(URI, &text);
    assert_eq!(diags.len(), 1, "{diags:?}");
    let d = &diags[0];
    assert_eq!(d["code"], "P0201");
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "policyc");
    let (line, col) = find(&text, "membr", 0, true);
    assert_eq!(
        d["range"]["start"],
        json!({ "line": line, "character": col })
    );
    assert_eq!(
        d["range"]["end"],
        json!({ "line": line, "character": col + 5 })
    );
    // No documentation base configured: no link (never a made-up address).
    assert!(d.get("codeDescription").is_none(), "{d}");
    assert!(d["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `member`?"));

    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": URI }, "range": d["range"], "context": { "diagnostics": [d] } }),
    );
    let fix = &actions[0];
    assert_eq!(fix["title"], "replace `membr` with `member`");
    assert_eq!(fix["kind"], "quickfix");
    let edits = fix["edit"]["changes"][URI].as_array().unwrap();
    let fixed = apply_edits(&text, edits, true);
    assert_eq!(fixed, DEMO);

    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 2 }, "contentChanges": [{ "text": fixed }] }),
    );
    assert_eq!(c.diagnostics(URI), Vec::<Value>::new());
    c.shutdown();
}

#[test]
fn incremental_changes_apply_in_order() {
    let c = Client::start(&[]);
    assert!(c.open(URI, DEMO).is_empty());
    let (line, col) = find(DEMO, "member\n  grants", 0, true);
    // Delete the `e` of `member` in the declaration, then type it back.
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 2 }, "contentChanges": [
            { "range": { "start": { "line": line, "character": col + 1 }, "end": { "line": line, "character": col + 2 } }, "text": "" }
        ] }),
    );
    let diags = c.diagnostics(URI);
    assert!(diags.iter().any(|d| d["code"] == "P0201"), "{diags:?}");
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 3 }, "contentChanges": [
            { "range": { "start": { "line": line, "character": col + 1 }, "end": { "line": line, "character": col + 1 } }, "text": "e" }
        ] }),
    );
    assert!(c.diagnostics(URI).is_empty());
    c.shutdown();
}

#[test]
fn secondary_labels_become_related_information() {
    let c = Client::start(&[]);
    let text = DEMO.replace("grants billing.*", "grants billing.*, files.manage");
    let diags = c.open(URI, &text);
    let d = diags
        .iter()
        .find(|d| d["code"] == "P0303")
        .expect("redundant grant");
    assert_eq!(d["severity"], 2);
    let related = d["relatedInformation"].as_array().unwrap();
    assert_eq!(related[0]["message"], "inherited through `member`");
    assert_eq!(related[0]["location"]["uri"], URI);
    let (line, col) = find(&text, "member", 1, true);
    assert_eq!(
        related[0]["location"]["range"]["start"],
        json!({ "line": line, "character": col })
    );
    c.shutdown();
}

#[test]
fn quick_fix_removes_a_redundant_grant() {
    let mut c = Client::start(&[]);
    let text = DEMO.replace("grants billing.*", "grants billing.*, files.manage");
    let diags = c.open(URI, &text);
    let d = diags.iter().find(|d| d["code"] == "P0303").unwrap();
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": URI }, "range": d["range"], "context": { "diagnostics": [] } }),
    );
    let fix = &actions[0];
    assert_eq!(fix["title"], "remove redundant grant `files.manage`");
    let fixed = apply_edits(&text, fix["edit"]["changes"][URI].as_array().unwrap(), true);
    assert_eq!(fixed, DEMO);
    // A grant that is the whole statement goes with its line.
    let text = DEMO.replace(
        "  grants billing.*\n",
        "  grants billing.*\n  grants files.manage\n",
    );
    let diags = c.open(URI, &text);
    let d = diags.iter().find(|d| d["code"] == "P0303").unwrap();
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": URI }, "range": d["range"], "context": { "diagnostics": [] } }),
    );
    let fixed = apply_edits(
        &text,
        actions[0]["edit"]["changes"][URI].as_array().unwrap(),
        true,
    );
    assert_eq!(fixed, DEMO);
    c.shutdown();
}

#[test]
fn hover_on_a_role_shows_effective_permissions_per_tier_with_provenance() {
    let mut c = Client::start(&[]);
    c.open(URI, DEMO);
    let (line, col) = find(DEMO, "admin", 0, true);
    let h = c.request("textDocument/hover", pos(URI, line, col + 1));
    let text = h["contents"]["value"].as_str().unwrap();
    assert!(text.starts_with("**Admin** — role `admin`"), "{text}");
    let free = text.find("**free**").unwrap();
    let team = text.find("**team**").unwrap();
    let (on_free, on_team) = (&text[free..team], &text[team..]);
    assert!(on_free.contains("(2 permissions)"), "{on_free}");
    assert!(
        on_free.contains("- `files.manage` — inherited through `member`, granted at line 10"),
        "{on_free}"
    );
    assert!(
        on_free.contains("- `billing.view` — granted at line 15 by `billing.*`"),
        "{on_free}"
    );
    assert!(
        on_team.contains("`billing.manage` — granted at line 15 by `billing.*`"),
        "{on_team}"
    );
    assert_eq!(
        h["range"]["start"],
        json!({ "line": line, "character": col })
    );
    c.shutdown();
}

#[test]
fn hover_on_exclusions_permissions_tiers_and_assertions() {
    let mut c = Client::start(&[]);
    let text = DEMO.replace(
        "assert admin",
        "role auditor \"Auditor\" {\n  inherits admin\n  /// Auditors only read.\n  excludes billing.manage\n}\n\nassert admin",
    );
    assert!(c.open(URI, &text).is_empty());
    let (l, ch) = find(&text, "auditor", 0, true);
    let h = c.request("textDocument/hover", pos(URI, l, ch));
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(
        v.contains("- ~~`billing.manage`~~ — excluded at line 21 — Auditors only read."),
        "{v}"
    );

    let (l, ch) = find(&text, "billing.manage", 0, true);
    let h = c.request("textDocument/hover", pos(URI, l, ch));
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(v.contains("- **free**: does not exist on this tier"), "{v}");
    assert!(v.contains("- **team**: `admin`"), "{v}");

    let (l, ch) = find(&text, "team", 0, true);
    let h = c.request("textDocument/hover", pos(URI, l, ch));
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(v.starts_with("tier `team`: 2 of 3"), "{v}");

    let (l, _) = find(&text, "assert admin", 0, true);
    let h = c.request("textDocument/hover", pos(URI, l, 1));
    assert_eq!(
        h["contents"]["value"],
        "assertion **holds** on every tier it covers"
    );
    let failing = text.replace("assert admin can", "assert auditor can");
    c.open(URI, &failing);
    let h = c.request("textDocument/hover", pos(URI, l, 1));
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(
        v.starts_with("assertion **does not hold**: assertion failed"),
        "{v}"
    );
    c.shutdown();
}

/// Two dimensions and assignability: hovering a value shows its dimension,
/// hovering a role says where it is kept but no longer given.
#[test]
fn hover_on_dimension_values_and_roles_no_longer_assignable() {
    let mut c = Client::start(&[]);
    let text = "dimension edition cloud | server\n\
                dimension plan free < pro < business\n\
                permission a.b \"A\" on cloud and >= pro\n\
                role admin \"Admin\" on >= pro {\n  assignable on pro\n  grants a.b\n}\n";
    assert!(c.open(URI, text).is_empty());
    let (l, ch) = find(text, "pro", 0, true);
    let h = c.request("textDocument/hover", pos(URI, l, ch + 1));
    let v = h["contents"]["value"].as_str().unwrap();
    assert_eq!(
        v,
        "value `pro` of dimension `plan` (ordered, lowest first)\n\nfree < **pro** < business"
    );
    let (l, ch) = find(text, "cloud", 0, true);
    let h = c.request("textDocument/hover", pos(URI, l, ch + 1));
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(
        v.starts_with("value `cloud` of dimension `edition` (unordered)"),
        "{v}"
    );
    let (l, ch) = find(text, "admin", 0, true);
    let h = c.request("textDocument/hover", pos(URI, l, ch + 1));
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(
        v.contains("**cloud+business** (1 permission):\n_role `admin` can no longer be assigned in context `cloud+business`; its holders keep it_"),
        "{v}"
    );
    assert!(!v.contains("assigned in context `cloud+pro`"), "{v}");
    let text = "dimension edition cloud | server\n\
                permission r.v \"View private\" label \"View private or internal\" on server\n\
                role m \"M\" { grants r.v }\n";
    assert!(c.open(URI, text).is_empty());
    let (l, ch) = find(text, "r.v", 0, true);
    let h = c.request("textDocument/hover", pos(URI, l, ch + 1));
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(
        v.starts_with("**View private** — permission `r.v`\n\nLabelled **View private or internal** on `server`\n"),
        "{v}"
    );
    c.shutdown();
}

#[test]
fn hover_on_a_role_lists_its_permissions_level_by_level_and_says_acts_as() {
    let mut c = Client::start(&[]);
    let text = "scope organization \"Organization\"\n\
                permission billing.manage \"Billing\"\n\
                role manager \"Manager\" {\n  grants billing.manage\n  acts as team.admin\n}\n\
                scope team \"Team\" in organization\n\
                permission projects.view \"View\"\n\
                role member \"Member\" {\n  grants projects.view\n}\n\
                role admin \"Admin\" {\n  inherits member\n}\n";
    assert!(c.open(URI, text).is_empty());
    let (l, ch) = find(text, "manager", 0, true);
    let h = c.request("textDocument/hover", pos(URI, l, ch + 1));
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(
        v.ends_with(
            "(2 permissions):\n\
             _on `organization` (Organization)_:\n\
             - `organization.billing.manage` — granted at line 4\n\
             _on `team` (Team)_:\n\
             - `team.projects.view` — acts as `team.admin` → `team.member`, granted at line 10\n"
        ),
        "{v}"
    );
    c.shutdown();
}

#[test]
fn hover_on_a_role_lists_what_it_holds_only_under_conditions() {
    let mut c = Client::start(&[]);
    let text = "/// The user created the item.\ncondition own \"Own\"\n\
                permission items.delete \"D\"\n\
                role guest \"Guest\" {\n  grants items.delete when own\n}\n";
    assert!(c.open(URI, text).is_empty());
    let (l, ch) = find(text, "guest", 0, true);
    let h = c.request("textDocument/hover", pos(URI, l, ch + 1));
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(v.ends_with("- `items.delete` — (only when `own`)\n"), "{v}");
    let (l, ch) = find(text, "own", 0, true);
    let h = c.request("textDocument/hover", pos(URI, l, ch + 1));
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(
        v.starts_with("**Own** — condition `own`\n\nThe user created the item.\n\n"),
        "{v}"
    );
    assert!(
        v.contains("- `guest` grants `items.delete` when `own` (line 5)"),
        "{v}"
    );
    c.shutdown();
}

#[test]
fn definition_references_and_symbols() {
    let mut c = Client::start(&[]);
    c.open(URI, DEMO);
    // From an `inherits` item to the role.
    let (l, ch) = find(DEMO, "member\n  grants billing", 0, true);
    let defs = c.request("textDocument/definition", pos(URI, l, ch + 2));
    let (dl, dc) = find(DEMO, "member \"Member\"", 0, true);
    assert_eq!(
        defs,
        json!([{ "uri": URI, "range": {
        "start": { "line": dl, "character": dc }, "end": { "line": dl, "character": dc + 6 } } }])
    );
    // From a wildcard to every permission it matches.
    let (l, ch) = find(DEMO, "billing.*", 0, true);
    let defs = c.request("textDocument/definition", pos(URI, l, ch));
    assert_eq!(defs.as_array().unwrap().len(), 2);
    // References of billing.manage: declaration, the wildcard, the assertion.
    let (l, ch) = find(DEMO, "billing.manage", 0, true);
    let refs = c.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": URI }, "position": { "line": l, "character": ch }, "context": { "includeDeclaration": true } }),
    );
    let lines: Vec<u64> = refs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [4, 14, 17]);
    // References of a tier include `on` clauses in permissions and assertions.
    let (l, ch) = find(DEMO, "enterprise", 0, true);
    let refs = c.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": URI }, "position": { "line": l, "character": ch }, "context": { "includeDeclaration": false } }),
    );
    assert_eq!(refs.as_array().unwrap().len(), 1);

    let syms = c.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": URI } }),
    );
    let names: Vec<&str> = syms
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "free",
            "team",
            "enterprise",
            "files.manage",
            "billing.manage",
            "billing.view",
            "member",
            "admin",
            "assert admin can billing.manage on enterprise"
        ]
    );
    c.shutdown();
}

#[test]
fn rename_edits_every_use_and_refuses_collisions() {
    let mut c = Client::start(&[]);
    c.open(URI, DEMO);
    let (l, ch) = find(DEMO, "member", 1, true);
    let edit = c.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": URI }, "position": { "line": l, "character": ch }, "newName": "reader" }),
    );
    let renamed = apply_edits(DEMO, edit["changes"][URI].as_array().unwrap(), true);
    assert_eq!(
        renamed,
        DEMO.replace("role member", "role reader")
            .replace("inherits member", "inherits reader")
    );

    let refused = c.response(
        "textDocument/rename",
        json!({ "textDocument": { "uri": URI }, "position": { "line": l, "character": ch }, "newName": "admin" }),
    );
    let e = refused.response_result.unwrap_err();
    assert_eq!(e.message, "a role named `admin` is already declared");
    let refused = c.response(
        "textDocument/rename",
        json!({ "textDocument": { "uri": URI }, "position": { "line": l, "character": ch }, "newName": "on" }),
    );
    assert_eq!(
        refused.response_result.unwrap_err().message,
        "`on` is not a valid role name"
    );
    // The keywords added to the grammar after the server's old list.
    for kw in ["every", "includes", "expect"] {
        let refused = c.response(
            "textDocument/rename",
            json!({ "textDocument": { "uri": URI }, "position": { "line": l, "character": ch }, "newName": kw }),
        );
        assert_eq!(
            refused.response_result.unwrap_err().message,
            format!("`{kw}` is not a valid role name")
        );
    }
    // Renaming a permission out of a wildcard's reach would change the policy.
    let (l, ch) = find(DEMO, "billing.view", 0, true);
    let refused = c.response(
        "textDocument/rename",
        json!({ "textDocument": { "uri": URI }, "position": { "line": l, "character": ch }, "newName": "invoices.view" }),
    );
    assert_eq!(
        refused.response_result.unwrap_err().message,
        "renaming `billing.view` to `invoices.view` would change what `billing.*` matches"
    );
    c.shutdown();
}

fn labels(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn completion_in_context() {
    let mut c = Client::start(&[]);
    let text = DEMO.replace("  inherits member\n", "  inherits \n");
    c.open(URI, &text);
    let (l, ch) = find(&text, "inherits ", 0, true);
    let items = c.request("textDocument/completion", pos(URI, l, ch + 9));
    // Inside role `admin`: every role but `admin` itself.
    assert_eq!(labels(&items), ["member"]);
    assert_eq!(items[0]["detail"], "Member");
    let (l, ch) = find(&text, "grants billing", 0, true);
    let items = c.request("textDocument/completion", pos(URI, l, ch + 7));
    let got = labels(&items);
    assert!(
        got.contains(&"billing.manage".to_string()) && got.contains(&"billing.*".to_string()),
        "{got:?}"
    );
    let (l, ch) = find(&text, "on >= team", 0, true);
    let items = c.request("textDocument/completion", pos(URI, l, ch + 6));
    assert_eq!(labels(&items), ["free", "team", "enterprise"]);
    // The typed prefix is what the item replaces.
    assert_eq!(items[0]["textEdit"]["range"]["start"]["character"], ch + 6);
    assert_eq!(items[0]["textEdit"]["range"]["end"]["character"], ch + 6);
    c.shutdown();
}

#[test]
fn formatting_returns_the_fmt_text() {
    let mut c = Client::start(&[]);
    let messy = DEMO.replace(
        "  grants files.manage",
        "grants   files.manage   // all files",
    );
    c.open(URI, &messy);
    let edits = c.request("textDocument/formatting", json!({ "textDocument": { "uri": URI }, "options": { "tabSize": 2, "insertSpaces": true } }));
    let formatted = apply_edits(&messy, edits.as_array().unwrap(), true);
    let expected = policy_syntax::format(&policy_syntax::SourceFile::new(
        "demo.policy",
        messy.as_str(),
    ))
    .unwrap();
    assert_eq!(formatted, expected);
    assert!(formatted.contains("  grants files.manage // all files\n"));
    // Already formatted: no edits. Broken: null.
    c.open(URI, &expected);
    let edits = c.request("textDocument/formatting", json!({ "textDocument": { "uri": URI }, "options": { "tabSize": 2, "insertSpaces": true } }));
    assert_eq!(edits, json!([]));
    c.open(URI, "role {");
    let edits = c.request("textDocument/formatting", json!({ "textDocument": { "uri": URI }, "options": { "tabSize": 2, "insertSpaces": true } }));
    assert_eq!(edits, Value::Null);
    c.shutdown();
}

#[test]
fn positions_after_non_ascii_labels_in_both_encodings() {
    // `😀` is 2 UTF-16 units and 4 bytes; `é` is 1 unit and 2 bytes.
    let text =
        "permission files.manage \"Gérer 😀\"\nrole member \"Membré 😀\" { grants files.manage }\n";
    for (offer, utf16) in [(&[][..], true), (&["utf-8"][..], false)] {
        let mut c = Client::start(offer);
        assert!(c.open(URI, text).is_empty());
        let (l, ch) = find(text, "files.manage }", 0, utf16);
        let defs = c.request("textDocument/definition", pos(URI, l, ch + 1));
        let (dl, dc) = find(text, "files.manage", 0, utf16);
        assert_eq!(
            defs[0]["range"]["start"],
            json!({ "line": dl, "character": dc })
        );
        let h = c.request("textDocument/hover", pos(URI, l, ch));
        assert_eq!(h["range"]["start"], json!({ "line": l, "character": ch }));
        assert_eq!(
            h["range"]["end"],
            json!({ "line": l, "character": ch + 12 })
        );
        assert!(h["contents"]["value"]
            .as_str()
            .unwrap()
            .starts_with("**Gérer 😀** — permission"));
        c.shutdown();
    }
}

#[test]
fn unknown_methods_and_bad_params_are_errors_not_crashes() {
    let mut c = Client::start(&[]);
    let r = c.response("textDocument/semanticTokens/full", json!({}));
    assert_eq!(r.response_result.unwrap_err().code, -32601);
    let r = c.response("textDocument/hover", json!({ "nonsense": true }));
    assert_eq!(r.response_result.unwrap_err().code, -32602);
    let r = c.response("textDocument/hover", pos("file:///not/open.policy", 0, 0));
    assert_eq!(r.response_result.unwrap_err().code, -32602);
    // Positions far out of range clamp.
    c.open(URI, DEMO);
    let r = c.response("textDocument/hover", pos(URI, 9999, 9999));
    assert!(r.response_result.is_ok());
    c.shutdown();
}

#[test]
fn codes_link_to_their_page_under_the_configured_docs_url() {
    let options = policy_lsp::Options {
        docs_url: Some("https://git.internal/policyc/blob/main/".to_string()),
        ..policy_lsp::Options::default()
    };
    let c = Client::start_with(&[], options);
    let diags = c.open(URI, &DEMO.replace("inherits member", "inherits membr"));
    assert_eq!(
        diags[0]["codeDescription"]["href"],
        "https://git.internal/policyc/blob/main/docs/errors/P0201.md"
    );
    c.shutdown();
}

/// A rename in a policy renames the name in the `*.test.yaml` files on disk
/// that test it: beside it (by default name), below it and, through the
/// workspace folder, in a sibling directory (by `policy:`). Test files of
/// another policy, and other kinds of name, are left alone.
#[test]
fn rename_reaches_the_test_files_of_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("policies/demo.policy", DEMO);
    write("policies/other.policy", DEMO);
    let beside = "cases:\n  - roles: [member, admin]\n    action: files.manage\n    tier: free\n    expect: allow\n";
    write("policies/demo.test.yaml", beside);
    write(
        "tests/demo.test.yaml",
        "policy: ../policies/demo.policy\nwho-can:\n  - action: files.manage\n    tier: free\n    roles:\n      - member\n      - admin\nwhat-can:\n  - role: member # the basic role\n    tier: free\n    permissions: [files.manage]\n",
    );
    write("policies/other.test.yaml", beside);
    let uri = format!("file://{}/policies/demo.policy", root.display());
    let mut c = Client::start_in(&format!("file://{}", root.display()));
    c.open(&uri, DEMO);
    let (l, ch) = find(DEMO, "member", 1, true);
    let edit = c.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": uri }, "position": { "line": l, "character": ch }, "newName": "reader" }),
    );
    let changes = edit["changes"].as_object().unwrap();
    let mut files: Vec<&String> = changes.keys().collect();
    files.sort();
    let base = format!("file://{}", root.display());
    assert_eq!(
        files,
        [
            &format!("{base}/policies/demo.policy"),
            &format!("{base}/policies/demo.test.yaml"),
            &format!("{base}/tests/demo.test.yaml"),
        ],
        "{edit}"
    );
    let renamed = |rel: &str| {
        let text = std::fs::read_to_string(root.join(rel)).unwrap();
        let edits = changes[&format!("{base}/{rel}")].as_array().unwrap();
        apply_edits(&text, edits, true)
    };
    assert_eq!(
        renamed("policies/demo.test.yaml"),
        beside.replace("member", "reader")
    );
    assert_eq!(
        renamed("tests/demo.test.yaml"),
        std::fs::read_to_string(root.join("tests/demo.test.yaml"))
            .unwrap()
            .replace("- member", "- reader")
            .replace("role: member", "role: reader")
    );
    // Without a workspace folder, the policy's own directory is searched.
    let mut c2 = Client::start(&[]);
    c2.open(&uri, DEMO);
    let edit = c2.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": uri }, "position": { "line": l, "character": ch }, "newName": "reader" }),
    );
    assert_eq!(edit["changes"].as_object().unwrap().len(), 2, "{edit}");
    c.shutdown();
    c2.shutdown();
}
