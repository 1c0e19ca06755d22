//! The TextMate grammar of the VS Code extension highlights every keyword
//! of the language: a keyword added to the grammar (`grammar/policy.pest`)
//! and forgotten in the editor grammar fails here, not in a user's editor.

#![allow(clippy::unwrap_used, reason = "test code")]

const TEXTMATE: &str = include_str!("../../../editors/vscode/syntaxes/policy.tmLanguage.json");

/// Whether `word` is written as a whole alternative of a pattern of the
/// TextMate grammar: `\\bword\\b`, `(?:a|word|b)`, `(word)`.
fn highlighted(word: &str) -> bool {
    TEXTMATE.match_indices(word).any(|(i, _)| {
        let before = TEXTMATE.get(..i).unwrap_or("");
        let after = TEXTMATE.get(i + word.len()..).unwrap_or("");
        let opens = before.ends_with("\\\\b")
            || before.ends_with('|')
            || before.ends_with("(?:")
            || before.ends_with('(');
        let closes = after.starts_with("\\\\b") || after.starts_with('|') || after.starts_with(')');
        opens && closes
    })
}

#[test]
fn the_textmate_grammar_highlights_every_keyword() {
    let missing: Vec<&str> = policy_syntax::keywords::keywords()
        .iter()
        .copied()
        .filter(|kw| !highlighted(kw))
        .collect();
    assert!(
        missing.is_empty(),
        "editors/vscode/syntaxes/policy.tmLanguage.json does not highlight {missing:?}"
    );
    assert!(
        !highlighted("billing"),
        "the check itself finds only keywords"
    );
}
