//! The reserved words of the language, read from the one place that defines
//! them: the `decl_keyword` and `keyword` rules of `grammar/policy.pest`.
//!
//! The grammar needs the words to refuse them as names; the parser's error
//! messages, its error recovery and the compiler's cascade filter need them
//! too. Rather than keep copies in step, they all read the grammar's rules.

use std::collections::BTreeSet;
use std::sync::OnceLock;

const GRAMMAR: &str = include_str!("../../../grammar/policy.pest");

/// The quoted words of the grammar rule `name = _{ ... }`, in order; a
/// rule name inside it (such as `decl_keyword`) is expanded in place.
fn rule_words(name: &str) -> Vec<&'static str> {
    let head = format!("\n{name} = _{{");
    let Some(start) = GRAMMAR.find(&head) else {
        return Vec::new();
    };
    let body_start = start + head.len();
    let body = GRAMMAR
        .get(body_start..)
        .and_then(|rest| rest.find('}').and_then(|end| rest.get(..end)))
        .unwrap_or("");
    let mut out = Vec::new();
    let mut in_quote = false;
    let mut word_start = 0usize;
    let mut ident = String::new();
    for (i, c) in body.char_indices() {
        if in_quote {
            if c == '"' {
                in_quote = false;
                if let Some(w) = GRAMMAR.get(body_start + word_start..body_start + i) {
                    out.push(w);
                }
            }
            continue;
        }
        if c == '"' {
            in_quote = true;
            word_start = i + 1;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            ident.push(c);
            continue;
        }
        if !ident.is_empty() {
            out.extend(rule_words(&ident));
            ident.clear();
        }
    }
    if !ident.is_empty() {
        out.extend(rule_words(&ident));
    }
    out
}

/// Every reserved word, in the grammar's order.
pub fn keywords() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| rule_words("keyword"))
}

/// The keywords that open a declaration: `tiers`, `permission`, `role`, `assert`.
pub fn declaration_keywords() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| rule_words("decl_keyword"))
}

/// Whether `word` is reserved.
pub fn is_keyword(word: &str) -> bool {
    keywords().contains(&word)
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Whether `line` starts (after indentation) with the word `word`, not
/// merely with a name that begins with it.
pub fn starts_with_word(line: &str, word: &str) -> bool {
    let trimmed = line.trim_start_matches([' ', '\t', '\u{feff}']);
    trimmed.starts_with(word)
        && !trimmed
            .as_bytes()
            .get(word.len())
            .is_some_and(|b| is_name_byte(*b))
}

/// The declaration keyword that `line` starts with (after indentation), if any.
pub fn declaration_keyword(line: &str) -> Option<&'static str> {
    let trimmed = line.trim_start_matches([' ', '\t', '\u{feff}']);
    declaration_keywords()
        .iter()
        .copied()
        .find(|kw| starts_with_word(trimmed, kw))
}

/// The kind of name a declaration introduces (defined in one place, the
/// name registry; re-exported here for the callers of [`declared_names`]).
pub use crate::names::NameKind;

/// The names that lines of `text` appear to declare, by kind, judged line
/// by line without the grammar: what a declaration that failed to parse
/// would have declared. A permission or role after a `scope` line is there
/// under its name and its full id (`team.admin`). Used to keep syntax
/// errors from cascading into unknown-name errors.
pub fn declared_names(text: &str) -> BTreeSet<(NameKind, String)> {
    let mut out = BTreeSet::new();
    let mut section: Option<&str> = None;
    for line in crate::source::lines(text) {
        let code = line.split("//").next().unwrap_or("");
        let Some(kind) = declaration_keyword(code).and_then(NameKind::declared_by) else {
            continue;
        };
        let mut words = code
            .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .filter(|w| !w.is_empty())
            .skip(1);
        match kind {
            NameKind::Tier => out.extend(words.map(|w| (kind, w.to_string()))),
            NameKind::Scope => {
                section = words.next();
                out.extend(section.map(|w| (kind, w.to_string())));
            }
            _ => {
                if let Some(w) = words.next() {
                    if let Some(s) = section {
                        out.insert((kind, format!("{s}.{w}")));
                    }
                    out.insert((kind, w.to_string()));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_keywords_come_from_the_grammar() {
        let mut words = keywords().to_vec();
        words.sort_unstable();
        assert_eq!(
            words,
            [
                "acts",
                "and",
                "as",
                "assert",
                "assignable",
                "below",
                "can",
                "cannot",
                "condition",
                "dimension",
                "every",
                "excludes",
                "expect",
                "grants",
                "in",
                "includes",
                "inherits",
                "label",
                "no",
                "nowhere",
                "offered",
                "on",
                "only",
                "or",
                "permission",
                "role",
                "scope",
                "tiers",
                "when"
            ]
        );
        assert_eq!(
            declaration_keywords(),
            [
                "tiers",
                "dimension",
                "offered",
                "permission",
                "role",
                "assert",
                "scope",
                "condition"
            ]
        );
    }

    #[test]
    fn no_keyword_is_shadowed_by_an_earlier_prefix() {
        let words = keywords();
        for (i, w) in words.iter().enumerate() {
            for earlier in &words[..i] {
                assert!(
                    !w.starts_with(earlier),
                    "`{earlier}` comes before `{w}` in the grammar's `keyword` rule, so `{w}` would be accepted as a name"
                );
            }
        }
    }

    #[test]
    fn declared_names_reads_each_declaration_kind() {
        let names =
            declared_names("tiers a < b\r  permission x.y \"X\"\nrole r \"R\" {\n// role q\n");
        let want: BTreeSet<(NameKind, String)> = [
            (NameKind::Tier, "a"),
            (NameKind::Tier, "b"),
            (NameKind::Permission, "x.y"),
            (NameKind::Role, "r"),
        ]
        .into_iter()
        .map(|(k, n)| (k, n.to_string()))
        .collect();
        assert_eq!(names, want);
    }

    #[test]
    fn declared_names_after_a_scope_line_have_their_full_ids_too() {
        let names = declared_names(
            "role o \"O\" {\nscope team \"Team\" in org\npermission p.v \"P\"\nrole admin \"A\" {\n",
        );
        let want: BTreeSet<(NameKind, String)> = [
            (NameKind::Role, "o"),
            (NameKind::Scope, "team"),
            (NameKind::Permission, "p.v"),
            (NameKind::Permission, "team.p.v"),
            (NameKind::Role, "admin"),
            (NameKind::Role, "team.admin"),
        ]
        .into_iter()
        .map(|(k, n)| (k, n.to_string()))
        .collect();
        assert_eq!(names, want);
    }
}
