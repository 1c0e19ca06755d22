//! Completion in each context, and every keyword of the grammar offered.
use super::*;
use crate::position::Encoding;

const SRC: &str = "tiers free < team\npermission a.b \"A\"\nrole r \"R\" { grants a.b }\n";

fn labels(text: &str) -> Vec<String> {
    let analysis = Analysis::new("t.policy", text, Encoding::Utf8);
    complete(&analysis, text.len())
        .into_iter()
        .map(|p| p.label)
        .collect()
}

#[test]
fn contexts() {
    // Not the role being declared, nor a parent already listed.
    assert_eq!(labels(&format!("{SRC}role x \"X\" {{ inherits ")), ["r"]);
    assert!(labels(&format!("{SRC}role x \"X\" {{ inherits r, ")).is_empty());
    assert_eq!(
        labels(&format!(
            "{SRC}role x \"X\" {{ grants a.b }}\nrole y \"Y\" on free {{\n  inherits "
        )),
        ["r", "x"]
    );
    assert_eq!(
        labels(&format!(
            "{SRC}role x \"X\" {{ inherits r }}\nrole y \"Y\" {{ inherits x, "
        )),
        ["r"]
    );
    assert_eq!(
        labels(&format!("{SRC}role x \"X\" {{ grants ")),
        ["a.b", "*", "*.b", "a.*"]
    );
    assert_eq!(
        labels(&format!("{SRC}role x \"X\" on >= ")),
        ["free", "team"]
    );
    assert_eq!(
        labels(&format!("{SRC}role x \"X\" on free, t")),
        ["free", "team"]
    );
    assert_eq!(
        labels(&format!("{SRC}ro")),
        [
            "tiers",
            "dimension",
            "offered",
            "permission",
            "role",
            "assert",
            "scope",
            "condition",
            "expect"
        ]
    );
    assert_eq!(
        labels("scope org \"Org\"\nscope team \"Team\" in "),
        ["org", "team"]
    );
    assert_eq!(labels("scope team \"Team\" "), ["in"]);
    assert_eq!(labels(&format!("{SRC}role x \"X\" {{ acts ")), ["as"]);
    let conds =
        "condition own \"Own\"\ncondition setting.public \"Public\"\npermission a.b \"A\"\n";
    assert_eq!(
        labels(&format!("{conds}role x \"X\" {{ grants a.b when ")),
        ["own", "setting.public", "not"]
    );
    assert_eq!(
        labels(&format!("{conds}role x \"X\" {{ grants a.b when own and ")),
        ["own", "setting.public", "not"]
    );
    assert_eq!(
        labels(&format!(
            "{conds}role x \"X\" {{ grants a.b when own and not "
        )),
        ["own", "setting.public"]
    );
    assert_eq!(
        labels(&format!(
            "{conds}role x \"X\" {{ excludes a.b when not own "
        )),
        ["and"]
    );
    assert_eq!(
        labels(&format!("{conds}role x \"X\" {{ excludes a.b ")),
        ["when"]
    );
    assert_eq!(
        labels(&format!("{conds}role x \"X\" {{ grants a.b when own ")),
        ["and"]
    );
    assert_eq!(
        labels(&format!("{conds}role x \"X\" {{ grants a.b ")),
        ["on", "when"]
    );
    assert_eq!(
        labels("dimension edition cloud | server\ndimension plan free < pro\nrole x \"X\" on cloud and "),
        ["cloud", "server", "free", "pro"]
    );
    assert_eq!(
        labels("dimension edition cloud | server\nrole x \"X\" on cloud, server "),
        ["and", "or"]
    );
    assert_eq!(
        labels("dimension edition cloud | server\ndimension plan free < pro\nrole x \"X\" on cloud and free or "),
        ["cloud", "server", "free", "pro"]
    );
    assert_eq!(
        labels("dimension edition cloud | server\ndimension plan free < pro\noffered "),
        ["on"]
    );
    assert_eq!(
        labels(
            "dimension edition cloud | server\ndimension plan free < pro\noffered on server and "
        ),
        ["cloud", "server", "free", "pro"]
    );
    assert_eq!(labels(&format!("{SRC}role x \"X\" {{\n  gr")), IN_BLOCK);
    assert_eq!(labels(&format!("{SRC}assert ")), ["r", "only", "no"]);
    assert_eq!(
        labels(&format!("{SRC}assert r ")),
        ["can", "cannot", "includes"]
    );
    assert_eq!(
        labels(&format!("{SRC}assert r cannot ")),
        ["a.b", "*", "*.b", "a.*"]
    );
    assert!(labels(&format!("{SRC}// inherits ")).is_empty());
    assert!(labels(&format!("{SRC}permission \"")).is_empty());
}

fn keywords_proposed(text: &str) -> Vec<String> {
    let analysis = Analysis::new("t.policy", text, Encoding::Utf8);
    complete(&analysis, text.len())
        .into_iter()
        .filter(|p| p.kind == ItemKind::Keyword)
        .map(|p| p.label)
        .collect()
}

/// Every keyword of the grammar is proposed in some context, and every
/// keyword proposed is one of the grammar's.
#[test]
fn completion_offers_every_keyword_of_the_grammar_and_no_other() {
    let probes = [
        String::new(),
        format!("{SRC}role x \"X\" {{\n  "),
        format!("{SRC}role x \"X\" "),
        format!("{SRC}assert "),
        format!("{SRC}assert no "),
        format!("{SRC}assert no role "),
        format!("{SRC}assert r "),
        format!("{SRC}assert r can "),
        format!("{SRC}role x \"X\" on free "),
        format!("{SRC}permission p.q \"P\" "),
        format!("{SRC}role x \"X\" {{ assignable "),
        format!("{SRC}role x \"X\" {{ acts "),
        format!("{SRC}role x \"X\" {{ grants a.b "),
        "scope t \"T\" ".to_string(),
    ];
    let mut offered = BTreeSet::new();
    for probe in &probes {
        for kw in keywords_proposed(probe) {
            assert!(
                engine::is_keyword(&kw),
                "`{kw}` is not a keyword of the grammar"
            );
            offered.insert(kw);
        }
    }
    for kw in engine::keywords() {
        assert!(
            offered.contains(*kw),
            "keyword `{kw}` of the grammar is never proposed by completion"
        );
    }
}

#[test]
fn every_is_offered_only_after_the_can_of_an_assertions_roles() {
    assert_eq!(keywords_proposed(&format!("{SRC}assert r can ")), ["every"]);
    assert_eq!(
        keywords_proposed(&format!("{SRC}assert r, r can e")),
        ["every"]
    );
    assert!(keywords_proposed(&format!("{SRC}assert r cannot ")).is_empty());
    assert!(keywords_proposed(&format!("{SRC}assert only r can ")).is_empty());
    assert!(keywords_proposed(&format!("{SRC}assert no role can ")).is_empty());
    assert!(keywords_proposed(&format!("{SRC}assert no role below r can ")).is_empty());
    assert!(keywords_proposed(&format!("{SRC}role x \"X\" {{ grants ")).is_empty());
    // After `can every`, the permissions.
    assert_eq!(
        labels(&format!("{SRC}assert r can every ")),
        ["a.b", "*", "*.b", "a.*"]
    );
}

/// A half-typed declaration of a keyword is not a name to complete
/// (the server's old keyword list missed `includes`, `every`, `expect`).
#[test]
fn keywords_are_not_completed_as_declared_names() {
    for kw in engine::keywords() {
        let text = format!("tiers free < {kw}\nrole {kw} \"K\" {{}}\nrole x \"X\" {{ inherits ");
        assert_eq!(labels(&text), Vec::<String>::new(), "`{kw}`");
        let text = format!("tiers free < {kw}\nrole x \"X\" on ");
        assert_eq!(labels(&text), ["free"], "`{kw}`");
    }
}
