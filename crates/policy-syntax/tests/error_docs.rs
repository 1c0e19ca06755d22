//! The error index (`docs/errors/*.md`) matches the code registry exactly.
//!
//! Every [`Code`] has a page, every page belongs to a code, and every page
//! has the shape `policyc explain` promises: a `# P0201: title` line, a
//! `Severity:` line, and the sections *What it means*, *Example* and
//! *How to fix*, with no `TODO` left in it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use policy_syntax::Code;

/// The sections every page has, in this order.
const SECTIONS: &[&str] = &["## What it means", "## Example", "## How to fix"];

fn docs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/errors")
}

/// What a code's page must agree with.
struct Expect<'a> {
    code: &'a str,
    title: &'a str,
    severity: &'a str,
}

impl<'a> Expect<'a> {
    fn of(code: Code) -> Self {
        Expect {
            code: code.as_str(),
            title: code.title(),
            severity: code.severity().as_str(),
        }
    }
}

/// The problems with one page's text, as messages naming the page.
fn page_problems(expect: &Expect<'_>, text: &str) -> Vec<String> {
    let code = expect.code;
    let mut problems = Vec::new();
    let mut lines = text.lines();
    let title = lines.next().unwrap_or("");
    if !title.starts_with(&format!("# {code}:")) {
        problems.push(format!(
            "{code}.md: the first line must start with `# {code}:`, found {title:?}"
        ));
    } else if title != format!("# {code}: {}", expect.title) {
        problems.push(format!(
            "{code}.md: the title line must be `# {code}: {}` (the title in code.rs), found {title:?}",
            expect.title
        ));
    }
    let severity = format!("Severity: {}.", expect.severity);
    if !text.lines().any(|l| l == severity) {
        problems.push(format!("{code}.md: lacks the line `{severity}`"));
    }
    let mut last = None;
    for section in SECTIONS {
        match text.lines().position(|l| l.trim_end() == *section) {
            None => problems.push(format!("{code}.md: lacks the section `{section}`")),
            Some(at) => {
                if last.is_some_and(|prev| at < prev) {
                    problems.push(format!("{code}.md: `{section}` is out of order"));
                }
                last = Some(at);
            }
        }
    }
    for (section, body) in section_bodies(text) {
        if body.trim().is_empty() {
            problems.push(format!("{code}.md: the section `{section}` is empty"));
        }
    }
    if let Some((_, example)) = section_bodies(text)
        .into_iter()
        .find(|(s, _)| *s == "## Example")
    {
        if !example.contains(code) {
            problems.push(format!(
                "{code}.md: the example does not show the diagnostic (it never mentions {code})"
            ));
        }
    }
    if text.contains("TODO") {
        problems.push(format!("{code}.md: still contains TODO"));
    }
    problems
}

/// Each `## ` section heading with the text up to the next one.
fn section_bodies(text: &str) -> Vec<(&str, String)> {
    let mut out: Vec<(&str, String)> = Vec::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
        }
        if !in_fence && line.starts_with("## ") {
            out.push((line.trim_end(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// The problems with the whole index: `files` are the `.md` file stems in
/// the directory, `pages` gives the text of a code's page.
fn index_problems(
    codes: &[Expect<'_>],
    files: &BTreeSet<String>,
    page: impl Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let known: BTreeSet<String> = codes.iter().map(|e| e.code.to_string()).collect();
    for missing in known.difference(files) {
        problems.push(format!("{missing}: no page docs/errors/{missing}.md"));
    }
    for extra in files.difference(&known) {
        problems.push(format!(
            "docs/errors/{extra}.md: no such code in Code::ALL (remove the page or add the code)"
        ));
    }
    for expect in codes {
        if let Some(text) = page(expect.code) {
            problems.extend(page_problems(expect, &text));
        }
    }
    problems
}

#[test]
fn every_code_has_a_complete_page_and_every_page_a_code() {
    let dir = docs_dir();
    let mut files = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            files.insert(stem);
        }
    }
    let codes: Vec<Expect<'_>> = Code::ALL.iter().map(|c| Expect::of(*c)).collect();
    let problems = index_problems(&codes, &files, |code| {
        std::fs::read_to_string(dir.join(format!("{code}.md"))).ok()
    });
    assert!(
        problems.is_empty(),
        "docs/errors does not match Code::ALL:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn explain_prints_the_page_of_the_same_code() {
    for code in Code::ALL {
        let path = docs_dir().join(format!("{}.md", code.as_str()));
        let on_disk = std::fs::read_to_string(&path).unwrap();
        assert_eq!(code.explanation(), on_disk, "{code}");
    }
}

// The checks above must be able to fail: each kind of mistake is caught.

const GOOD: &str = "# P0201: unknown role\n\nSeverity: error.\n\n## What it means\n\nA name.\n\n\
## Example\n\n```console\nP0201\n```\n\n## How to fix\n\nFix it.\n";

fn problems_of(text: &str) -> Vec<String> {
    page_problems(&Expect::of(Code::UnknownRole), text)
}

#[test]
fn a_good_page_passes() {
    assert_eq!(problems_of(GOOD), Vec::<String>::new());
}

#[test]
fn a_wrong_title_line_is_caught() {
    let p = problems_of(&GOOD.replace("# P0201:", "# P0202:"));
    assert!(
        p.iter().any(|m| m.contains("must start with `# P0201:`")),
        "{p:?}"
    );
    let p = problems_of(&GOOD.replace("unknown role", "unknown thing"));
    assert!(
        p.iter().any(|m| m.contains("the title in code.rs")),
        "{p:?}"
    );
}

#[test]
fn a_wrong_severity_is_caught() {
    let p = problems_of(&GOOD.replace("Severity: error.", "Severity: warning."));
    assert!(p.iter().any(|m| m.contains("Severity: error.")), "{p:?}");
}

#[test]
fn each_missing_section_is_caught() {
    for section in SECTIONS {
        let p = problems_of(&GOOD.replace(section, "## Something else"));
        assert!(
            p.iter()
                .any(|m| m.contains(&format!("lacks the section `{section}`"))),
            "{section}: {p:?}"
        );
    }
}

#[test]
fn sections_out_of_order_or_empty_are_caught() {
    let swapped = GOOD
        .replace("## What it means", "@@")
        .replace("## How to fix", "## What it means")
        .replace("@@", "## How to fix");
    let p = problems_of(&swapped);
    assert!(p.iter().any(|m| m.contains("out of order")), "{p:?}");
    let p = problems_of(&GOOD.replace("Fix it.\n", ""));
    assert!(p.iter().any(|m| m.contains("is empty")), "{p:?}");
}

#[test]
fn an_example_without_the_code_is_caught() {
    let p = problems_of(&GOOD.replace("```console\nP0201\n```", "Nothing."));
    assert!(
        p.iter().any(|m| m.contains("never mentions P0201")),
        "{p:?}"
    );
}

#[test]
fn a_todo_is_caught() {
    let p = problems_of(&GOOD.replace("Fix it.", "TODO"));
    assert!(p.iter().any(|m| m.contains("TODO")), "{p:?}");
}

#[test]
fn missing_and_extra_pages_are_caught() {
    let codes = [Expect::of(Code::UnknownRole), Expect::of(Code::Syntax)];
    let files: BTreeSet<String> = ["P0201", "P9999"].iter().map(|s| s.to_string()).collect();
    let p = index_problems(&codes, &files, |c| (c == "P0201").then(|| GOOD.to_string()));
    assert!(p.iter().any(|m| m.starts_with("P0101: no page")), "{p:?}");
    assert!(
        p.iter().any(|m| m.contains("P9999.md: no such code")),
        "{p:?}"
    );
}

#[test]
fn doc_url_names_the_page_of_the_code_under_the_base() {
    for base in [
        "https://git.internal/policyc/blob/main",
        "https://git.internal/policyc/blob/main/",
    ] {
        assert_eq!(
            Code::UnknownRole.doc_url(base),
            "https://git.internal/policyc/blob/main/docs/errors/P0201.md"
        );
    }
    // Every URL names a page that exists.
    for code in Code::ALL {
        let url = code.doc_url("file:///clone");
        let rel = url.strip_prefix("file:///clone/").unwrap_or(&url);
        let page = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(rel);
        assert!(page.is_file(), "{url}: no {}", page.display());
    }
}
