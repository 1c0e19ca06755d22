//! The `*.test.yaml` files that test a policy, and where a name is used in
//! them, so that a rename in the policy renames it in its tests too.
//!
//! A test file tests the policy its `policy:` line names (relative to the
//! test file; a project by its directory or its `policyc.toml`), or
//! `NAME.policy` beside `NAME.test.yaml` when it has none (the rule
//! `policyc test` follows). Names are found by the keys that hold
//! them: `role` and `roles` hold roles, `action` and `permissions` hold
//! permissions, `tier` holds a tier, each as a scalar, a flow list
//! (`[a, b]`) or a block list (`- a` lines below the key).

use std::path::{Path, PathBuf};

use crate::analysis::NameKind;

/// At most this many directory entries are looked at when searching for
/// test files, and no test file larger than this is read.
const MAX_ENTRIES: usize = 20_000;
const MAX_TEST_FILE: u64 = 4 << 20;
const MAX_DEPTH: usize = 8;

/// The local path of a `file:` URI, percent-decoded.
pub fn path_of(uri: &lsp_types::Uri) -> Option<PathBuf> {
    if !uri
        .scheme()
        .is_some_and(|s| s.as_str().eq_ignore_ascii_case("file"))
    {
        return None;
    }
    policy_syntax::decode_uri_path(uri.path().as_str()).map(PathBuf::from)
}

/// The `file:` URI of an absolute path (`None` for a relative one or one
/// that is not UTF-8).
pub fn uri_of(path: &Path) -> Option<lsp_types::Uri> {
    let text = path.to_str().filter(|t| t.starts_with('/'))?;
    policy_syntax::file_uri(text).parse().ok()
}

/// The policy a test file's text names (`policy:` at the top level),
/// unquoted; `None` when it names none.
fn named_policy(text: &str) -> Option<&str> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix("policy:")?;
        let value = value.split(" #").next().unwrap_or(value).trim();
        Some(value.trim_matches(|c| c == '"' || c == '\''))
    })
}

fn walk(dir: &Path, depth: usize, seen: &mut usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        *seen += 1;
        if *seen > MAX_ENTRIES {
            return;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            let skipped =
                name.starts_with('.') || matches!(name.as_str(), "target" | "node_modules");
            if !skipped && depth < MAX_DEPTH {
                walk(&path, depth + 1, seen, out);
            }
        } else if meta.is_file() && name.ends_with(".test.yaml") {
            out.push(path);
        }
    }
}

/// The test files under `roots` (or, with none that holds a policy, the
/// policies' own directories) that test one of `policies` (policy files,
/// or a project's `policyc.toml`), each with its text (read once, to see
/// which policy it names).
pub fn testing(policies: &[PathBuf], roots: &[PathBuf]) -> Vec<(PathBuf, String)> {
    let targets: Vec<PathBuf> = policies
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    if targets.is_empty() {
        return Vec::new();
    }
    let mut search: Vec<PathBuf> = roots
        .iter()
        .filter_map(|r| std::fs::canonicalize(r).ok())
        .filter(|r| targets.iter().any(|t| t.starts_with(r)))
        .collect();
    if search.is_empty() {
        search.extend(
            targets
                .iter()
                .filter_map(|t| t.parent())
                .map(Path::to_path_buf),
        );
        search.sort();
        search.dedup();
    }
    // A directory inside another searched one is searched with it.
    let all = search.clone();
    search.retain(|d| !all.iter().any(|o| o != d && d.starts_with(o)));
    let mut found = Vec::new();
    let mut seen = 0;
    for root in &search {
        walk(root, 0, &mut seen, &mut found);
    }
    found.sort();
    found.dedup();
    found
        .into_iter()
        .filter_map(|test| {
            if std::fs::metadata(&test).ok()?.len() > MAX_TEST_FILE {
                return None;
            }
            let text = std::fs::read_to_string(&test).ok()?;
            let dir = test.parent().unwrap_or(Path::new("."));
            let named = match named_policy(&text) {
                Some(p) => dir.join(p),
                None => {
                    let name = test
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    dir.join(format!("{}.policy", name.trim_end_matches(".test.yaml")))
                }
            };
            // A project is named by its directory or its manifest.
            let manifest = named.join(policy_files::MANIFEST);
            let tests_it = [named, manifest]
                .iter()
                .filter_map(|p| std::fs::canonicalize(p).ok())
                .any(|p| targets.contains(&p));
            tests_it.then_some((test, text))
        })
        .collect()
}

/// The kind of name a test file's key holds.
fn kind_of_key(key: &str) -> Option<NameKind> {
    match key {
        "role" | "roles" => Some(NameKind::Role),
        "action" | "permissions" => Some(NameKind::Permission),
        "tier" => Some(NameKind::Tier),
        _ => None,
    }
}

/// The byte spans of the words of `value` (at `base` in the text) equal
/// to `name`: scalars, quoted or not, and the items of a flow list.
fn words_equal(value: &str, base: usize, name: &str, out: &mut Vec<(usize, usize)>) {
    let value = value.split(" #").next().unwrap_or(value);
    let is_sep = |c: char| matches!(c, '[' | ']' | ',' | '"' | '\'' | ' ' | '\t');
    let mut start = None;
    for (i, c) in value
        .char_indices()
        .chain(std::iter::once((value.len(), ' ')))
    {
        match (start, is_sep(c)) {
            (None, false) => start = Some(i),
            (Some(s), true) => {
                if value.get(s..i) == Some(name) {
                    out.push((base + s, base + i));
                }
                start = None;
            }
            _ => {}
        }
    }
}

/// Where `name`, a name of `kind`, is used in a test file's text, as byte
/// spans, in order.
pub fn occurrences(text: &str, kind: NameKind, name: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    // The key of the block list being read, with its indentation.
    let mut list: Option<(usize, NameKind)> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start().len();
        let mut rest = body.trim_start();
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        let mut at = start + indent;
        let item = rest.starts_with("- ") || rest == "-";
        if item {
            if let Some((list_indent, list_kind)) = list {
                let value = rest.get(1..).unwrap_or("");
                let key_like = value.trim_start().split_once(':').is_some_and(|(k, _)| {
                    k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                });
                if indent >= list_indent && !key_like {
                    if list_kind == kind {
                        words_equal(value, at + 1, name, &mut out);
                    }
                    continue;
                }
            }
            let skip = rest.len() - rest.get(1..).unwrap_or("").trim_start().len();
            rest = rest.get(skip..).unwrap_or("");
            at += skip;
        }
        list = None;
        let Some((key, value)) = rest.split_once(':') else {
            continue;
        };
        let Some(key_kind) = kind_of_key(key.trim()) else {
            continue;
        };
        let value_at = at + key.len() + 1;
        if value.trim().is_empty() || value.trim_start().starts_with('#') {
            let key_indent = at - start;
            list = Some((key_indent, key_kind));
        } else if key_kind == kind {
            words_equal(value, value_at, name, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str, kind: NameKind, name: &str) -> Vec<String> {
        occurrences(text, kind, name)
            .into_iter()
            .map(|(s, e)| format!("{s}:{}", &text[s..e]))
            .collect()
    }

    #[test]
    fn names_are_found_in_scalars_flow_lists_and_block_lists() {
        let text = "policy: p.policy\n\
                    cases:\n\
                    \x20 - roles: [admin, member]\n\
                    \x20   action: billing.manage\n\
                    \x20   tier: free\n\
                    \x20   expect: allow\n\
                    \x20 - role: \"admin\"\n\
                    \x20   action: admin.x # admin here is a comment\n\
                    \x20   expect: deny\n\
                    who-can:\n\
                    \x20 - action: billing.manage\n\
                    \x20   roles:\n\
                    \x20     - admin\n\
                    \x20     - administrator\n\
                    what-can:\n\
                    \x20 - role: admin\n\
                    \x20   permissions: [billing.manage]\n";
        let admin = spans(text, NameKind::Role, "admin");
        assert_eq!(admin.len(), 4, "{admin:?}");
        assert!(admin.iter().all(|s| s.ends_with(":admin")));
        assert_eq!(spans(text, NameKind::Permission, "billing.manage").len(), 3);
        assert_eq!(spans(text, NameKind::Tier, "free").len(), 1);
        // A role name is not a permission, and part of a word is no match.
        assert!(spans(text, NameKind::Permission, "admin").is_empty());
        assert!(spans(text, NameKind::Role, "admi").is_empty());
    }

    /// A project's tests name it by its directory or its manifest; a test
    /// of one of its files (by default, beside it) tests that file.
    #[test]
    fn a_project_is_tested_by_its_directory_or_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        };
        let manifest = write("p/policyc.toml", "");
        let a = write("p/a.policy", "");
        write("p/by_dir.test.yaml", "policy: .\n");
        write("tests/by_manifest.test.yaml", "policy: ../p/policyc.toml\n");
        write("p/a.test.yaml", "cases: []\n");
        write("p/other.test.yaml", "policy: other.policy\n");
        write("p/other.policy", "");
        let found = |policies: &[PathBuf]| -> Vec<String> {
            testing(policies, std::slice::from_ref(&root))
                .into_iter()
                .map(|(p, _)| p.strip_prefix(&root).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(
            found(std::slice::from_ref(&manifest)),
            ["p/by_dir.test.yaml", "tests/by_manifest.test.yaml"]
        );
        assert_eq!(
            found(&[manifest, a.clone()]),
            [
                "p/a.test.yaml",
                "p/by_dir.test.yaml",
                "tests/by_manifest.test.yaml"
            ]
        );
        assert_eq!(found(&[a]), ["p/a.test.yaml"]);
    }

    #[test]
    fn file_uris_round_trip_with_escapes() {
        let path = Path::new("/work/a dir/ü.policy");
        let uri = uri_of(path).unwrap();
        assert_eq!(uri.as_str(), "file:///work/a%20dir/%C3%BC.policy");
        assert_eq!(path_of(&uri).unwrap(), path);
    }
}
