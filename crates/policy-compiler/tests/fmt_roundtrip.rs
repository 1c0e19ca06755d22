//! `policy_syntax::format` is idempotent and preserves meaning: for every
//! fixture in the repository and for random policies, the formatted text
//! compiles to the same roles, permissions, labels and decisions, with the
//! same diagnostic codes.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers: a failed lookup is a test failure"
)]

use std::path::{Path, PathBuf};

use policy_compiler::{compile, diff_policies, Policy};
use policy_syntax::{format, parse, SourceFile};
use proptest::prelude::*;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn policies_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            policies_under(&p, out);
        } else if p.extension().is_some_and(|e| e == "policy") {
            out.push(p);
        }
    }
}

/// Everything observable about a compiled policy, in a comparable form.
fn meaning(p: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    out.push(format!(
        "tiers {:?}",
        p.tiers().iter().map(|t| &t.id).collect::<Vec<_>>()
    ));
    for perm in p.permissions() {
        out.push(format!(
            "perm {} {:?} {:?} {:?}",
            perm.id, perm.label, perm.description, perm.tiers
        ));
    }
    for role in p.roles() {
        out.push(format!(
            "role {} {:?} {:?} {:?}",
            role.id, role.label, role.description, role.tiers
        ));
    }
    for t in p.tier_ids() {
        for (ri, role) in p.roles().iter().enumerate() {
            let r = policy_compiler::RoleId(ri as u32);
            let allowed: Vec<&str> = p
                .effective(t, r)
                .into_iter()
                .filter_map(|x| p.permission(x).map(|x| x.id.as_str()))
                .collect();
            out.push(format!("allows {t:?} {} {allowed:?}", role.id));
        }
    }
    out
}

fn codes(diags: &[policy_syntax::Diagnostic]) -> Vec<&'static str> {
    let mut c: Vec<_> = diags.iter().map(|d| d.code().as_str()).collect();
    c.sort_unstable();
    c
}

/// Checks the formatter's contract on one text; returns the formatted text.
fn check_roundtrip(name: &str, text: &str) -> Option<String> {
    let source = SourceFile::new(name, text);
    let parse_errors = !parse(&source).1.is_empty();
    let formatted = match format(&source) {
        Ok(f) => f,
        Err(diags) => {
            assert!(
                parse_errors,
                "{name}: format failed without syntax errors: {diags:?}"
            );
            return None;
        }
    };
    assert!(!parse_errors, "{name}: formatted despite syntax errors");
    let again = format(&SourceFile::new(name, formatted.clone())).unwrap();
    assert_eq!(again, formatted, "{name}: not idempotent");
    let (before, d1) = compile(&source);
    let (after, d2) = compile(&SourceFile::new(name, formatted.clone()));
    assert_eq!(
        meaning(&before),
        meaning(&after),
        "{name}: meaning changed\n{text}\n---\n{formatted}"
    );
    assert_eq!(
        codes(&d1),
        codes(&d2),
        "{name}: diagnostics changed\n{text}\n---\n{formatted}"
    );
    if !policy_compiler::has_errors(&d1) {
        assert!(
            diff_policies(&before, &after).is_empty(),
            "{name}: diff not empty"
        );
    }
    // Comments survive: every comment line of the input is in the output.
    for line in text.lines() {
        if let Some(i) = line.find("//") {
            let comment = line[i..].trim_end();
            if !line[..i].contains('"') {
                assert!(
                    formatted.contains(comment),
                    "{name}: lost comment {comment:?}"
                );
            }
        }
    }
    Some(formatted)
}

#[test]
fn every_fixture_formats_idempotently_and_keeps_its_meaning() {
    let root = workspace();
    let mut files = Vec::new();
    policies_under(&root.join("policies"), &mut files);
    policies_under(&root.join("tests"), &mut files);
    assert!(
        files.len() >= 3,
        "fixtures not found under {}",
        root.display()
    );
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        check_roundtrip(&path.display().to_string(), &text);
    }
}

#[test]
fn shipped_policies_are_fmt_clean_and_survive_mangling() {
    let root = workspace();
    for name in ["humanloop.policy", "vellum.policy"] {
        let committed = std::fs::read_to_string(root.join("policies").join(name)).unwrap();
        let formatted = check_roundtrip(name, &committed).unwrap();
        assert_eq!(formatted, committed, "{name} is not fmt-clean");
        // Indentation stripped, trailing spaces and tabs added, CRLF nowhere.
        let mangled: String = committed
            .lines()
            .enumerate()
            .map(|(i, l)| {
                format!(
                    "{}{}\n",
                    l.trim_start(),
                    if i % 2 == 0 { "   " } else { " \t" }
                )
            })
            .collect();
        assert_ne!(mangled, committed);
        let again = check_roundtrip(name, &mangled).unwrap();
        assert_eq!(
            again, committed,
            "{name}: mangled copy does not format back"
        );
    }
}

/// Builds a random policy from a stream of choices.
struct Gen<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Gen<'_> {
    fn pick(&mut self, n: usize) -> usize {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b as usize % n.max(1)
    }

    fn tier_clause(&mut self, tiers: usize) -> Vec<String> {
        let t = |i: usize| format!("t{}", i % tiers.max(1));
        match self.pick(5) {
            0 if tiers > 0 => vec!["on".into(), ">=".into(), t(self.pick(3))],
            1 if tiers > 0 => vec!["on".into(), "<".into(), t(self.pick(3) + 1)],
            2 if tiers > 1 => vec!["on".into(), t(0), ",".into(), t(self.pick(3))],
            _ => vec![],
        }
    }

    fn patterns(&mut self) -> Vec<String> {
        const POOL: &[&str] = &[
            "a.read",
            "a.write",
            "b.read",
            "b.admin.set",
            "c",
            "a.*",
            "*.read",
            "*",
        ];
        let mut out = Vec::new();
        for i in 0..=self.pick(3) {
            if i > 0 {
                out.push(",".to_string());
            }
            out.push(POOL[self.pick(POOL.len())].to_string());
        }
        out
    }

    /// Declarations, each a list of tokens.
    fn policy(&mut self) -> Vec<Vec<String>> {
        let tiers = self.pick(4);
        let mut decls = Vec::new();
        if tiers > 0 {
            let mut d = vec!["tiers".to_string(), "t0".to_string()];
            for i in 1..tiers {
                d.extend(["<".to_string(), format!("t{i}")]);
            }
            decls.push(d);
        }
        for (i, id) in ["a.read", "a.write", "b.read", "b.admin.set", "c"]
            .iter()
            .enumerate()
        {
            if self.pick(5) == 0 {
                continue;
            }
            let mut d = vec![
                "permission".to_string(),
                id.to_string(),
                format!("\"P \\\"{i}\\\" x\""),
            ];
            d.extend(self.tier_clause(tiers));
            decls.push(d);
        }
        let roles = 1 + self.pick(4);
        for r in 0..roles {
            let mut d = vec!["role".to_string(), format!("r{r}"), format!("\"Role {r}\"")];
            d.extend(self.tier_clause(tiers));
            d.push("{".into());
            for _ in 0..self.pick(4) {
                match self.pick(3) {
                    0 if r > 0 => {
                        d.extend(["inherits".to_string(), format!("r{}", self.pick(r))]);
                    }
                    1 => {
                        d.push("excludes".into());
                        d.extend(self.patterns());
                    }
                    _ => {
                        d.push("grants".into());
                        d.extend(self.patterns());
                        d.extend(self.tier_clause(tiers));
                    }
                }
            }
            d.push("}".into());
            decls.push(d);
        }
        for _ in 0..self.pick(3) {
            let role = format!("r{}", self.pick(roles));
            let mut d = vec!["assert".to_string()];
            match self.pick(4) {
                0 => d.extend(["only".into(), role, "can".into()]),
                1 => d.extend([
                    "no".into(),
                    "role".into(),
                    "below".into(),
                    role,
                    "can".into(),
                ]),
                2 => d.extend([role, "cannot".into()]),
                _ => d.extend([role, "can".into()]),
            }
            let p = self.patterns();
            d.push(p[0].clone());
            d.extend(self.tier_clause(tiers));
            decls.push(d);
        }
        decls
    }

    /// Lays tokens out with random whitespace, comments and doc comments.
    fn layout(&mut self, decls: &[Vec<String>]) -> String {
        const SEPS: &[&str] = &[" ", "  ", "\t", "\n", "\r\n", "\n\n\n", " \n    ", "\n  \t"];
        let mut out = String::new();
        let mut n = 0;
        for d in decls {
            if self.pick(3) == 0 {
                out.push_str(&format!("/// doc {n}\n"));
                n += 1;
            }
            for tok in d {
                out.push_str(tok);
                match self.pick(8) {
                    0 => {
                        out.push_str(&format!(" // note {n} {{ , }}\n"));
                        n += 1;
                    }
                    1 => {
                        out.push_str(&format!("\n// own line {n}\n"));
                        n += 1;
                    }
                    _ => out.push_str(SEPS[self.pick(SEPS.len())]),
                }
            }
            out.push_str(SEPS[self.pick(SEPS.len())]);
        }
        out
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn random_policies_format_idempotently_and_keep_their_meaning(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut g = Gen { bytes: &bytes, at: 0 };
        let decls = g.policy();
        let text = g.layout(&decls);
        let formatted = check_roundtrip("random.policy", &text);
        prop_assert!(formatted.is_some(), "random policy failed to parse:\n{text}");
    }
}
