//! Invariants of `docs/ARCHITECTURE.md` about the shape of the code, checked
//! on the sources of every workspace crate:
//!
//! - no module over 600 lines;
//! - no cycle between the top-level modules of a crate (an edge is a
//!   `crate::m` path outside the file's `#[cfg(test)]` part);
//! - no recursive rule in the grammar, so a parse's depth is bounded;
//! - none of the crates the lean build is kept from in `Cargo.lock`;
//! - the pre-commit hooks install the lean build in Cargo's `hooks` profile.
//!
//! What does not hold yet is listed in `KNOWN_*` below, each entry to be
//! removed when it is fixed; the test fails when a new violation appears
//! and when a listed one no longer exists, so the lists only shrink.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure is a test failure"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

/// Files over the limit today (crate-relative), to be split.
const KNOWN_LONG: &[&str] = &[];

/// Module cycles today, as the sorted modules of each strongly connected
/// component, to be broken.
const KNOWN_CYCLES: &[&str] = &[];

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let path = e.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// Every workspace crate with its `src` files.
fn crates() -> Vec<(String, PathBuf, Vec<PathBuf>)> {
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(crates_dir()).unwrap().flatten().collect();
    dirs.sort_by_key(|e| e.path());
    for d in dirs {
        let src = d.path().join("src");
        if !src.is_dir() {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        out.push((d.file_name().to_string_lossy().into_owned(), src, files));
    }
    out
}

/// The top-level module a file belongs to (`None` for the crate root).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel
        .components()
        .next()?
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    let name = first.trim_end_matches(".rs").to_string();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

/// The top-level modules `text` names through `crate::`, before its tests.
fn uses(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // `crate::{a, b::c, self}`
                let inner = group.split('}').next().unwrap_or("");
                for item in inner.split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        out.insert(name);
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        }
    }
    out
}

/// The cycles of a graph: its strongly connected components with more
/// than one node, and each node with an edge to itself.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let nodes: Vec<&String> = edges.keys().collect();
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for m in edges.get(&n).into_iter().flatten() {
                if seen.insert(m.clone()) {
                    stack.push(m.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut out: BTreeSet<Vec<String>> = BTreeSet::new();
    for n in &nodes {
        let mut scc: Vec<String> = nodes
            .iter()
            .filter(|m| reaches[*n].contains(**m) && reaches[*m].contains(*n))
            .map(|m| (*m).clone())
            .collect();
        if scc.len() > 1 || edges.get(*n).is_some_and(|e| e.contains(*n)) {
            scc.sort();
            out.insert(scc);
        }
    }
    out.into_iter().collect()
}

#[test]
fn no_module_is_over_600_lines() {
    let mut long = BTreeSet::new();
    for (name, src, files) in crates() {
        for f in files {
            let lines = std::fs::read_to_string(&f).unwrap().lines().count();
            if lines > MAX_LINES {
                let rel = f.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
                long.insert(format!("{name}/src/{rel}"));
            }
        }
    }
    let known: BTreeSet<String> = KNOWN_LONG.iter().map(|s| s.to_string()).collect();
    let new: Vec<_> = long.difference(&known).collect();
    let fixed: Vec<_> = known.difference(&long).collect();
    assert!(new.is_empty(), "over {MAX_LINES} lines: {new:?}");
    assert!(
        fixed.is_empty(),
        "no longer over {MAX_LINES} lines, remove from KNOWN_LONG: {fixed:?}"
    );
}

#[test]
fn no_crate_has_a_cycle_between_its_modules() {
    let mut found = BTreeSet::new();
    for (name, src, files) in crates() {
        let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(&src, f)).collect();
        let mut edges: BTreeMap<String, BTreeSet<String>> = modules
            .iter()
            .map(|m| (m.clone(), BTreeSet::new()))
            .collect();
        for f in &files {
            let Some(from) = module_of(&src, f) else {
                continue;
            };
            let text = std::fs::read_to_string(f).unwrap();
            for to in uses(&text) {
                if to != from && modules.contains(&to) {
                    edges.entry(from.clone()).or_default().insert(to);
                }
            }
        }
        for scc in cycles(&edges) {
            found.insert(format!("{name}: {}", scc.join(", ")));
        }
    }
    let known: BTreeSet<String> = KNOWN_CYCLES.iter().map(|s| s.to_string()).collect();
    let new: Vec<_> = found.difference(&known).collect();
    let fixed: Vec<_> = known.difference(&found).collect();
    assert!(new.is_empty(), "module cycles: {new:?}");
    assert!(
        fixed.is_empty(),
        "no longer cycles, remove from KNOWN_CYCLES: {fixed:?}"
    );
}

#[test]
fn the_use_reader_sees_paths_and_groups() {
    let text = "use crate::model::Policy;\nuse crate::{explain, sets::Store};\n\
                fn f() { crate::pattern::x(); }\n// crate::ignored\n\
                #[cfg(test)]\nmod tests { use crate::late; }\n";
    let got: Vec<String> = uses(text).into_iter().collect();
    assert_eq!(got, ["explain", "model", "pattern", "sets"]);
    let mut edges = BTreeMap::new();
    edges.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    edges.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    edges.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(cycles(&edges), vec![vec!["a".to_string(), "b".to_string()]]);
}

/// A `Policy` is built in one place (`assemble::build`), for source and
/// artifacts alike: its struct literal appears once in the compiler.
#[test]
fn a_policy_has_one_constructor() {
    let (_, _, files) = crates()
        .into_iter()
        .find(|(name, _, _)| name == "policy-compiler")
        .unwrap();
    let mut literals = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.trim();
            let literal = code.ends_with("Policy {")
                && !code.starts_with("pub struct")
                && !code.starts_with("struct")
                && !code.starts_with("impl")
                && !code.contains("fn ")
                && !code.starts_with("//");
            if literal {
                literals.push(format!("{}:{}", f.display(), i + 1));
            }
        }
    }
    assert_eq!(literals.len(), 1, "`Policy {{ … }}` built in: {literals:?}");
}

/// The compiled artifact is the compiler's declarations serialized: each
/// declaration kind is described once, by the serde derives in the
/// compiler's `decl.rs`, and the artifact module declares no types of its
/// own beyond its header and the hash's plumbing.
#[test]
fn the_artifact_describes_each_declaration_once() {
    let file = |krate: &str, rel: &str| {
        std::fs::read_to_string(crates_dir().join(krate).join("src").join(rel)).unwrap()
    };
    let structs = |text: &str| -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter_map(|l| l.strip_prefix("pub struct ").or(l.strip_prefix("struct ")))
            .map(|l| {
                l.split(|c: char| !c.is_alphanumeric() && c != '_')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let mut artifact = structs(&file("policy-eval", "artifact.rs"));
    artifact.extend(structs(&file("policy-eval", "artifact/load.rs")));
    assert_eq!(
        artifact,
        ["Artifact", "Blank", "Hashing", "VersionOnly"],
        "policy-eval's artifact module declares types of its own"
    );
    let decl = file("policy-compiler", "decl.rs");
    for kind in ["Tier", "Permission", "Grant", "Exclusion", "Parent", "Role"] {
        let at = decl
            .find(&format!("pub struct {kind} {{"))
            .unwrap_or_else(|| panic!("decl.rs declares {kind}"));
        let derive = decl[..at].rfind("#[derive(").unwrap();
        assert!(
            decl[derive..at].contains("Serialize, Deserialize"),
            "{kind} is serialized by its own derive"
        );
    }
}

/// The workspace crates each crate may depend on (normal dependencies):
/// the chain points one way, syntax ▸ compiler ▸ evaluator ▸ server and
/// CLI, the file reader (`policy-files`) sits on the syntax alone, under
/// the CLI and the language server, and the test kit depends on none of them.
const ALLOWED_DEPENDENCIES: &[(&str, &[&str])] = &[
    ("policy-syntax", &[]),
    ("policy-files", &["policy-syntax"]),
    ("policy-compiler", &["policy-syntax"]),
    ("policy-eval", &["policy-syntax", "policy-compiler"]),
    // policyc's own decisions are the Cerbos suite's expectations.
    (
        "policy-export",
        &["policy-syntax", "policy-compiler", "policy-eval"],
    ),
    (
        "policy-lsp",
        &[
            "policy-syntax",
            "policy-compiler",
            "policy-eval",
            "policy-files",
        ],
    ),
    (
        "policy-server",
        &["policy-syntax", "policy-compiler", "policy-eval"],
    ),
    (
        "policyc",
        &[
            "policy-syntax",
            "policy-compiler",
            "policy-eval",
            "policy-files",
            "policy-export",
            "policy-lsp",
            "policy-server",
        ],
    ),
    (
        "policy-bench",
        &[
            "policy-syntax",
            "policy-compiler",
            "policy-eval",
            "policy-lsp",
        ],
    ),
    ("policy-testkit", &[]),
];

/// The workspace crates named in the `[dependencies]` table of a manifest.
fn workspace_dependencies(manifest: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && line.starts_with("policy-") {
            let name: String = line
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            out.insert(name);
        }
    }
    out
}

#[test]
fn dependencies_point_one_way() {
    let mut seen = 0;
    for (name, _, _) in crates() {
        let manifest =
            std::fs::read_to_string(crates_dir().join(&name).join("Cargo.toml")).unwrap();
        let allowed = ALLOWED_DEPENDENCIES
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("`{name}` is not in ALLOWED_DEPENDENCIES"))
            .1;
        for dep in workspace_dependencies(&manifest) {
            assert!(
                allowed.contains(&dep.as_str()),
                "`{name}` depends on `{dep}`, against the one-way chain"
            );
        }
        seen += 1;
    }
    assert!(seen >= 8, "only {seen} crates found");
}

/// The language crates (syntax, compiler, evaluator) do no I/O: no file
/// system, no standard streams, no environment. Only the CLI, the server
/// and the language server touch the outside world.
#[test]
fn only_the_outer_crates_do_io() {
    const FORBIDDEN: &[&str] = &[
        "std::fs",
        "std::io::stdin",
        "std::io::stdout",
        "std::io::stderr",
        "std::env",
        "println!",
        "eprintln!",
        "print!(",
        "eprint!(",
        "dbg!(",
    ];
    for (name, src, files) in crates() {
        if !matches!(
            name.as_str(),
            "policy-syntax" | "policy-compiler" | "policy-eval" | "policy-export"
        ) {
            continue;
        }
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("#[cfg(test)]") {
                    break;
                }
                if code.starts_with("//") {
                    continue;
                }
                for word in FORBIDDEN {
                    assert!(
                        !code.contains(word),
                        "{name}/src/{}:{}: `{word}` in a crate that does no I/O",
                        f.strip_prefix(&src).unwrap().display(),
                        i + 1
                    );
                }
            }
        }
    }
}

/// Every test `docs/ARCHITECTURE.md` names as the guard of an invariant
/// exists, so the list cannot name a test that was renamed or removed.
#[test]
fn every_guard_named_in_the_architecture_exists() {
    let root = crates_dir().join("..");
    let doc = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap();
    let start = doc.find("## Invariants").expect("an Invariants section");
    let end = doc[start..].find("\n## ").map_or(doc.len(), |e| start + e);
    let section = &doc[start..end];
    let mut sources = String::new();
    let mut test_files = BTreeSet::new();
    for (_, _, files) in crates() {
        for f in files {
            sources.push_str(&std::fs::read_to_string(f).unwrap());
        }
    }
    for dir in std::fs::read_dir(crates_dir()).unwrap().flatten() {
        let tests = dir.path().join("tests");
        if tests.is_dir() {
            let mut files = Vec::new();
            rust_files(&tests, &mut files);
            for f in files {
                if let Some(stem) = f.file_stem() {
                    test_files.insert(stem.to_string_lossy().into_owned());
                }
                sources.push_str(&std::fs::read_to_string(f).unwrap());
            }
        }
    }
    let mut named = 0;
    for (i, part) in section.split('`').enumerate() {
        let is_test_name = i % 2 == 1
            && part.contains('_')
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if is_test_name {
            assert!(
                sources.contains(&format!("fn {part}(")) || test_files.contains(part),
                "docs/ARCHITECTURE.md names `{part}` as a guard, but no test (or test file) has that name"
            );
            named += 1;
        }
    }
    assert!(named >= 20, "only {named} guards named");
}

/// Each rule of a pest grammar and the rules its expression names.
fn grammar_references(grammar: &str) -> BTreeMap<String, BTreeSet<String>> {
    use pest_meta::ast::Expr;
    use pest_meta::parser::{consume_rules, parse, Rule};
    let rules = consume_rules(parse(Rule::grammar_rules, grammar).unwrap()).unwrap();
    let names: BTreeSet<String> = rules.iter().map(|r| r.name.clone()).collect();
    rules
        .into_iter()
        .map(|rule| {
            let used = rule
                .expr
                .iter_top_down()
                .filter_map(|e| match e {
                    Expr::Ident(name) if names.contains(&name) => Some(name),
                    _ => None,
                })
                .collect();
            (rule.name, used)
        })
        .collect()
}

/// No rule of the grammar reaches itself, so the depth of a parse is
/// bounded by the grammar whatever the input: repetitions are loops in
/// pest's generated code, only a rule that reaches itself nests calls.
/// That is why pest is pinned below the releases that probe the remaining
/// stack on every rule call (the workspace `Cargo.toml`). `WHITESPACE`,
/// which pest inserts between the tokens of every rule that is not
/// atomic, is in the graph like any rule.
#[test]
fn the_grammar_has_no_recursive_rule() {
    let grammar = std::fs::read_to_string(crates_dir().join("../grammar/policy.pest")).unwrap();
    let graph = grammar_references(&grammar);
    assert!(graph.contains_key("file") && graph.contains_key("WHITESPACE"));
    assert_eq!(cycles(&graph), Vec::<Vec<String>>::new());
}

/// The check finds recursion, direct and through other rules (so the test
/// above can fail).
#[test]
fn a_recursive_rule_is_found() {
    let direct = grammar_references("a = { \"x\" ~ a? }\nb = { a }");
    assert_eq!(cycles(&direct), vec![vec!["a".to_string()]]);
    let through = grammar_references(
        "term = { \"(\" ~ clause ~ \")\" | \"x\" }\nclause = { term ~ (\"and\" ~ term)* }\nfile = { clause }",
    );
    assert_eq!(
        cycles(&through),
        vec![vec!["clause".to_string(), "term".to_string()]]
    );
}

/// Crates the lean build (`check`, `fmt`, `test`, the pre-commit hooks) is
/// kept from, each with why; `cargo update` would bring them back.
const KEPT_OUT_OF_THE_LOCK_FILE: &[(&str, &str)] = &[
    (
        "pest_stack_guard",
        "pest is pinned below 2.9.3: a stack probe per rule call, which a grammar without recursion does not need",
    ),
    (
        "icu_segmenter",
        "miette's textwrap is held at 0.16.2: from 0.16.3 it line-breaks with ICU, 23 more crates",
    ),
];

#[test]
fn the_lock_file_keeps_out_what_the_lean_build_does_not_need() {
    let root = crates_dir().join("..");
    for lock in ["Cargo.lock", "fuzz/Cargo.lock"] {
        let text = std::fs::read_to_string(root.join(lock)).unwrap();
        for (name, why) in KEPT_OUT_OF_THE_LOCK_FILE {
            assert!(
                !text.contains(&format!("name = \"{name}\"\n")),
                "{lock} has `{name}` again ({why}); see the workspace Cargo.toml"
            );
        }
    }
}

/// The pre-commit hooks' first install is a cold build on every machine that
/// installs them: maturin builds the lean CLI (no servers), locked, in the
/// `hooks` profile, which trades LTO, `opt-level = 3` and unwinding for half
/// the build time (docs/performance.md). Dropping any of it makes it slow
/// again.
#[test]
fn the_hooks_install_the_lean_build_in_the_hooks_profile() {
    let root = crates_dir().join("..");
    let read = |file: &str| -> toml::Table {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        text.parse().unwrap()
    };
    let pyproject = read("pyproject.toml");
    let maturin = &pyproject["tool"]["maturin"];
    assert_eq!(maturin["profile"].as_str(), Some("hooks"), "pyproject.toml");
    assert_eq!(maturin["no-default-features"].as_bool(), Some(true));
    assert_eq!(maturin["locked"].as_bool(), Some(true));
    let cargo = read("Cargo.toml");
    let hooks = &cargo["profile"]["hooks"];
    assert_eq!(hooks["inherits"].as_str(), Some("release"), "Cargo.toml");
    assert_eq!(hooks["lto"].as_bool(), Some(false));
    assert_eq!(hooks["opt-level"].as_integer(), Some(1));
    assert_eq!(hooks["panic"].as_str(), Some("abort"));
}
