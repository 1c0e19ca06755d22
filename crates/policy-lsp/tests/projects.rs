//! The server on a policy project (a directory with a `policyc.toml`):
//! an open file is compiled with the project's other files, diagnostics go
//! to the file they are about, and definition, references, rename and
//! hover reach across files.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure is a test failure"
)]

mod common;

use std::path::{Path, PathBuf};

use common::{apply_edits, find, pos, Client};
use serde_json::{json, Value};

const A: &str = r#"tiers free < team

/// Create and edit files.
permission files.manage "Manage files"
permission billing.manage "Manage billing" on team

/// The basic level of access.
role member "Member" {
  grants files.manage
}
"#;

const B: &str = r#"role admin "Admin" {
  inherits member
  grants billing.*
}
"#;

const C: &str = "assert admin can billing.manage on team\nassert member cannot billing.manage\n";

/// A project of three files in a temporary directory, with a test file
/// of the project and one of another policy beside it.
struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap().join("acme");
        let p = Project { _dir: dir, root };
        p.write(
            "policyc.toml",
            "[policy]\nname = \"acme\"\nfiles = [\"a.policy\", \"b.policy\", \"more\"]\n",
        );
        p.write("a.policy", A);
        p.write("b.policy", B);
        p.write("more/c.policy", C);
        // Not listed: on its own.
        p.write("scratch.policy", "role member \"M\" {}\n");
        p.write(
            "acme.test.yaml",
            "policy: .\ncases:\n  - roles: [member]\n    action: files.manage\n    tier: free\n    expect: allow\n",
        );
        p.write(
            "scratch.test.yaml",
            "cases:\n  - roles: [member]\n    action: files.manage\n    tier: free\n    expect: deny\n",
        );
        p
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn uri(&self, rel: &str) -> String {
        uri(&self.path(rel))
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn codes(diags: &[Value]) -> Vec<&str> {
    diags.iter().map(|d| d["code"].as_str().unwrap()).collect()
}

fn change(c: &Client, uri: &str, version: i32, text: &str) {
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
    );
}

fn symbols(uri: &str) -> Value {
    json!({ "textDocument": { "uri": uri } })
}

/// Each diagnostic goes to the file of its primary span, the open file's
/// text is the one compiled, a file that is not open gets its diagnostics
/// too (read from disk), a file whose diagnostics are gone is cleared,
/// and closing the project's last open file clears the others.
#[test]
fn diagnostics_go_to_the_file_they_are_about() {
    let p = Project::new();
    let (a, b, c_uri) = (p.uri("a.policy"), p.uri("b.policy"), p.uri("more/c.policy"));
    let mut c = Client::start(&[]);
    // Alone, `b.policy` would not know `member`: in the project it does.
    assert_eq!(c.open(&b, B), Vec::<Value>::new());

    // A typo in the open file: reported there, in its own lines.
    let typo = B.replace("inherits member", "inherits membr");
    change(&c, &b, 2, &typo);
    let (published, _) = c.published_before("textDocument/documentSymbol", symbols(&b));
    assert_eq!(published.len(), 1, "{published:?}");
    let (uri, diags) = &published[0];
    assert_eq!(uri, &b);
    assert_eq!(codes(diags), ["P0201"], "{diags:?}");
    let (line, col) = find(&typo, "membr", 0, true);
    assert_eq!(
        diags[0]["range"]["start"],
        json!({ "line": line, "character": col })
    );
    assert!(diags[0]["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `member`?"));

    // Renaming `admin` in the open file breaks the assertion of a file
    // that is not open: its diagnostic goes to that file.
    let renamed = B.replace("role admin", "role administrator");
    change(&c, &b, 3, &renamed);
    let (published, _) = c.published_before("textDocument/documentSymbol", symbols(&b));
    let uris: Vec<&str> = published.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(uris, [b.as_str(), c_uri.as_str()], "{published:?}");
    assert!(published[0].1.is_empty());
    let in_c = &published[1].1;
    assert_eq!(codes(in_c), ["P0201"], "{in_c:?}");
    assert_eq!(
        in_c[0]["range"]["start"],
        json!({ "line": 0, "character": 7 }),
        "`admin` in `more/c.policy`, counted in that file"
    );
    assert!(
        !uris.contains(&a.as_str()),
        "`a.policy` has nothing, and had nothing"
    );

    // Fixed: the other file is cleared.
    change(&c, &b, 4, B);
    let (published, _) = c.published_before("textDocument/documentSymbol", symbols(&b));
    assert_eq!(
        published,
        [(b.clone(), vec![]), (c_uri.clone(), vec![])],
        "{published:?}"
    );

    // Broken again, then the last open file is closed: the project is
    // forgotten and what it published is cleared.
    change(&c, &b, 5, &renamed);
    let (published, _) = c.published_before("textDocument/documentSymbol", symbols(&b));
    assert_eq!(published.len(), 2, "{published:?}");
    c.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": b } }),
    );
    assert_eq!(c.diagnostics(&c_uri), Vec::<Value>::new());
    c.shutdown();
}

/// A file of the directory that the manifest does not list is compiled on
/// its own, as before projects.
#[test]
fn a_file_the_manifest_does_not_list_is_on_its_own() {
    let p = Project::new();
    let mut c = Client::start(&[]);
    let scratch = p.uri("scratch.policy");
    let text = "role admin \"A\" {\n  inherits member\n}\n";
    let diags = c.open(&scratch, text);
    assert_eq!(codes(&diags), ["P0201"], "{diags:?}");
    let (published, _) = c.published_before("textDocument/documentSymbol", symbols(&scratch));
    assert!(published.is_empty(), "{published:?}");
    assert!(
        c.server_requests.borrow().is_empty(),
        "no watcher registration for a client that cannot take one"
    );
    c.shutdown();
}

/// Definition and references of a name used in one file lead to the files
/// that declare and use it; document symbols stay the document's own.
#[test]
fn definition_and_references_reach_other_files() {
    let p = Project::new();
    let mut c = Client::start(&["utf-8"]);
    let (a, b, c_uri) = (p.uri("a.policy"), p.uri("b.policy"), p.uri("more/c.policy"));
    c.open(&b, B);
    let (l, ch) = find(B, "member", 0, false);
    let defs = c.request("textDocument/definition", pos(&b, l, ch + 2));
    let (dl, dc) = find(A, "member", 0, false);
    assert_eq!(
        defs,
        json!([{ "uri": a, "range": {
            "start": { "line": dl, "character": dc },
            "end": { "line": dl, "character": dc + 6 } } }])
    );
    let mut params = pos(&b, l, ch + 2);
    params["context"] = json!({ "includeDeclaration": true });
    let refs = c.request("textDocument/references", params);
    let mut found: Vec<(String, u64)> = refs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["uri"].as_str().unwrap().to_string(),
                r["range"]["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [(a.clone(), 7), (b.clone(), 1), (c_uri.clone(), 1)],
        "{refs}"
    );
    let syms = c.request("textDocument/documentSymbol", symbols(&b));
    let names: Vec<&str> = syms
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin"]);
    c.shutdown();
}

/// A rename changes the name in every file of the project (the open
/// one's edits are on its text, the others' on the files on disk) and in
/// the test file of the project; another policy's test file is left alone.
#[test]
fn rename_changes_every_file_of_the_project_and_its_tests() {
    let p = Project::new();
    let mut c = Client::start_in(&uri(&p.root));
    let b = p.uri("b.policy");
    c.open(&b, B);
    let (l, ch) = find(B, "member", 0, true);
    let edit = c.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": b }, "position": { "line": l, "character": ch }, "newName": "reader" }),
    );
    let changes = edit["changes"].as_object().unwrap();
    let mut files: Vec<&str> = changes.keys().map(String::as_str).collect();
    files.sort_unstable();
    let want = ["a.policy", "acme.test.yaml", "b.policy", "more/c.policy"].map(|r| p.uri(r));
    assert_eq!(
        files,
        want.iter().map(String::as_str).collect::<Vec<_>>(),
        "{edit}"
    );
    let renamed = |rel: &str| {
        let text = std::fs::read_to_string(p.path(rel)).unwrap();
        apply_edits(&text, changes[&p.uri(rel)].as_array().unwrap(), true)
    };
    assert_eq!(renamed("a.policy"), A.replace("role member", "role reader"));
    assert_eq!(
        renamed("b.policy"),
        B.replace("inherits member", "inherits reader")
    );
    assert_eq!(renamed("more/c.policy"), C.replace("member", "reader"));
    assert_eq!(
        renamed("acme.test.yaml"),
        std::fs::read_to_string(p.path("acme.test.yaml"))
            .unwrap()
            .replace("[member]", "[reader]")
    );
    // A name declared in another file, renamed from a file that uses it.
    let collide = c.response(
        "textDocument/rename",
        json!({ "textDocument": { "uri": b }, "position": { "line": l, "character": ch }, "newName": "admin" }),
    );
    assert!(
        collide.response_result.is_err(),
        "`admin` is declared in b.policy"
    );
    c.shutdown();
}

/// Hover on a role declared in another file shows what it holds, with the
/// lines of the grants in their own files.
#[test]
fn hover_resolves_a_role_whichever_file_declares_it() {
    let p = Project::new();
    let mut c = Client::start(&[]);
    let c_uri = p.uri("more/c.policy");
    c.open(&c_uri, C);
    let (l, ch) = find(C, "admin", 0, true);
    let hover = c.request("textDocument/hover", pos(&c_uri, l, ch + 1));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.starts_with("**Admin** — role `admin`"), "{text}");
    assert!(
        text.contains(
            "- `files.manage` — inherited through `member`, granted at line 9 of `a.policy`"
        ),
        "{text}"
    );
    assert!(
        text.contains("- `billing.manage` — granted at line 3 of `b.policy` by `billing.*`"),
        "{text}"
    );
    // From the file that declares the grant, its line needs no file name.
    let b = p.uri("b.policy");
    c.open(&b, B);
    let (l, ch) = find(B, "admin", 0, true);
    let hover = c.request("textDocument/hover", pos(&b, l, ch + 1));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("- `billing.manage` — granted at line 3 by `billing.*`"),
        "{text}"
    );
    c.shutdown();
}

/// The manifest is read again at each compile: a file it stops listing is
/// compiled on its own from the next edit, and a manifest that cannot be
/// read is reported on the file (P0512), which is then on its own.
#[test]
fn the_manifest_is_read_again_at_each_compile() {
    let p = Project::new();
    let mut c = Client::start(&[]);
    let b = p.uri("b.policy");
    assert!(c.open(&b, B).is_empty());
    p.write(
        "policyc.toml",
        "[policy]\nfiles = [\"a.policy\", \"more\"]\n",
    );
    change(&c, &b, 2, B);
    let (published, _) = c.published_before("textDocument/documentSymbol", symbols(&b));
    assert_eq!(published.len(), 1, "{published:?}");
    let alone = codes(&published[0].1);
    assert!(
        alone.contains(&"P0201"),
        "alone, `member` is unknown: {alone:?}"
    );

    p.write("policyc.toml", "[policy]\nfiles = []\n");
    let a = p.uri("a.policy");
    let diags = c.open(&a, A);
    // On its own, with what the file says alone (a lint) and the manifest's problem.
    assert_eq!(codes(&diags), ["P0304", "P0512"], "{diags:?}");
    let message = diags[1]["message"].as_str().unwrap();
    assert!(
        message.contains("policyc.toml`: `files` lists no file"),
        "{message}"
    );
    // Its place is in the manifest: named in the message, not put on the
    // document's bytes at the same offset.
    assert!(message.contains("policyc.toml:2:9)"), "{message}");
    assert_eq!(diags[1]["range"]["start"]["line"], 0, "{diags:?}");
    assert_eq!(diags[1]["range"]["end"]["line"], 0, "{diags:?}");
    c.shutdown();
}

fn files_changed(c: &Client, changes: &[(&str, u32)]) {
    let changes: Vec<Value> = changes
        .iter()
        .map(|(uri, kind)| json!({ "uri": uri, "type": kind }))
        .collect();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": changes }),
    );
}

/// A client that lets the server watch files is asked to report policy
/// files and manifests; a file of the project that no editor has open
/// changing on disk gives new diagnostics without an edit.
#[test]
fn a_change_on_disk_to_a_file_not_open_is_compiled_at_once() {
    let p = Project::new();
    let root = uri(&p.root);
    let mut c = Client::start_watching(&root);
    let b = p.uri("b.policy");
    assert_eq!(c.open(&b, B), Vec::<Value>::new());
    let requests = c.server_requests.borrow().clone();
    let registration = requests
        .iter()
        .find(|r| r.method == "client/registerCapability")
        .expect("the server registers its file watchers");
    let globs: Vec<&str> = registration.params["registrations"][0]["registerOptions"]["watchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["globPattern"].as_str().unwrap())
        .collect();
    assert_eq!(globs, ["**/*.policy", "**/policyc.toml"]);
    assert_eq!(
        registration.params["registrations"][0]["method"],
        "workspace/didChangeWatchedFiles"
    );

    // `a.policy` (not open) loses `member`: `b.policy` is told at once.
    p.write("a.policy", &A.replace("role member", "role associate"));
    files_changed(&c, &[(&p.uri("a.policy"), 2)]);
    let (published, _) = c.published_before("textDocument/documentSymbol", symbols(&b));
    let in_b: Vec<&Vec<Value>> = published
        .iter()
        .filter(|(u, _)| u == &b)
        .map(|(_, d)| d)
        .collect();
    assert_eq!(in_b.len(), 1, "{published:?}");
    assert!(codes(in_b[0]).contains(&"P0201"), "{published:?}");

    // Put back, reported as deleted and created: cleared.
    p.write("a.policy", A);
    files_changed(&c, &[(&p.uri("a.policy"), 3), (&p.uri("a.policy"), 1)]);
    let (published, _) = c.published_before("textDocument/documentSymbol", symbols(&b));
    assert!(
        published.iter().any(|(u, d)| u == &b && d.is_empty()),
        "{published:?}"
    );
    c.shutdown();
}

/// A manifest that appears beside an open file makes it part of the
/// project at once; deleted, the file is on its own again (without a
/// manifest problem).
#[test]
fn a_manifest_created_or_deleted_on_disk_moves_an_open_file_in_or_out() {
    let p = Project::new();
    let root = uri(&p.root);
    // A second directory, not a project yet.
    p.write("team/roles.policy", B);
    p.write("team/base.policy", A);
    let roles = p.uri("team/roles.policy");
    let mut c = Client::start_watching(&root);
    // `team/` is below the project's manifest but not listed: on its own,
    // `member` is unknown.
    let diags = c.open(&roles, B);
    assert_eq!(codes(&diags), ["P0201", "P0207"], "{diags:?}");

    p.write("team/policyc.toml", "[policy]\nname = \"team\"\n");
    files_changed(&c, &[(&p.uri("team/policyc.toml"), 1)]);
    let (published, _) = c.published_before("textDocument/documentSymbol", symbols(&roles));
    assert!(
        published.iter().any(|(u, d)| u == &roles && d.is_empty()),
        "joined `team`, which declares `member`: {published:?}"
    );

    std::fs::remove_file(p.path("team/policyc.toml")).unwrap();
    files_changed(&c, &[(&p.uri("team/policyc.toml"), 3)]);
    let (published, _) = c.published_before("textDocument/documentSymbol", symbols(&roles));
    let last = published
        .iter()
        .rev()
        .find(|(u, _)| u == &roles)
        .map(|(_, d)| d.clone())
        .expect("the open file is published again");
    assert_eq!(
        codes(&last),
        ["P0201", "P0207"],
        "on its own again: {published:?}"
    );
    c.shutdown();
}
