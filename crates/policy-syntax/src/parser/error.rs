//! Turning pest errors into diagnostics in user terms.

use std::collections::BTreeSet;

use pest::error::{Error, ErrorVariant, InputLocation};

use super::Rule;
use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceFile, Span};
use crate::suggest::did_you_mean;

const KEYWORDS: &[&str] = &[
    "tiers",
    "permission",
    "role",
    "inherits",
    "grants",
    "excludes",
    "on",
    "assert",
    "only",
    "can",
    "cannot",
    "no",
    "below",
];

/// What a grammar rule is called in an error message; `None` hides it.
fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::kw_tiers => "`tiers`",
        Rule::kw_permission => "`permission`",
        Rule::kw_role => "`role`",
        Rule::kw_inherits | Rule::inherits_clause => "`inherits`",
        Rule::kw_grants | Rule::grants_clause => "`grants`",
        Rule::kw_excludes | Rule::excludes_clause => "`excludes`",
        Rule::kw_on | Rule::tier_clause => "`on`",
        Rule::kw_assert => "`assert`",
        Rule::kw_only | Rule::assert_only => "`only`",
        Rule::kw_can => "`can`",
        Rule::kw_cannot => "`cannot`",
        Rule::kw_no | Rule::assert_none_below => "`no`",
        Rule::kw_below => "`below`",
        Rule::ident | Rule::tier_list => "a name",
        Rule::perm_id => "a permission id such as `billing.manage`",
        Rule::perm_pattern => "a permission or pattern such as `billing.*`",
        Rule::string | Rule::string_inner => "a quoted label",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::comma => "`,`",
        Rule::lt => "`<`",
        Rule::cmp_op | Rule::tier_range => "a comparison (`>=`, `>`, `<=`, `<`)",
        // pest names the whole-file rule when nothing at all matched at the start.
        Rule::file
        | Rule::tiers_decl
        | Rule::permission_decl
        | Rule::role_decl
        | Rule::assert_decl
        | Rule::doc
        | Rule::doc_line => "a declaration (`tiers`, `permission`, `role` or `assert`)",
        Rule::assert_can => "a role name",
        Rule::EOI => "end of file",
        _ => return None,
    })
}

fn join_alternatives(items: &BTreeSet<&'static str>) -> String {
    let items: Vec<&str> = items.iter().copied().collect();
    match items.as_slice() {
        [] => "something else".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The token at `pos` in `chunk`, as (byte length, description).
fn found_token(chunk: &str, pos: usize) -> (usize, String) {
    let rest = chunk.get(pos..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return (0, "end of file".to_string());
    };
    if first == '"' {
        let line_end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let closed = rest.get(1..line_end).is_some_and(|s| s.contains('"'));
        let len = if closed {
            rest.get(1..line_end)
                .and_then(|s| s.find('"'))
                .map_or(1, |i| i + 2)
        } else {
            line_end
        };
        let what = if closed {
            "a quoted label"
        } else {
            "an unclosed label"
        };
        return (len.max(1), what.to_string());
    }
    if first.is_ascii_alphanumeric() || first == '_' || first == '*' {
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '*')))
            .unwrap_or(rest.len());
        let word = rest.get(..len).unwrap_or("");
        let shown: String = word.chars().take(40).collect();
        let ellipsis = if shown.len() < word.len() { "…" } else { "" };
        return (len, format!("`{shown}{ellipsis}`"));
    }
    if first == '\n' || first == '\r' {
        return (first.len_utf8(), "end of line".to_string());
    }
    let shown = if first.is_control() || first == '\u{feff}' {
        format!("U+{:04X}", first as u32)
    } else {
        format!("`{first}`")
    };
    (first.len_utf8(), shown)
}

/// Builds the `P0101` diagnostic for a pest error in `chunk`, which starts at `base`.
pub(super) fn syntax_error(
    source: &SourceFile,
    chunk: &str,
    base: usize,
    err: &Error<Rule>,
) -> Diagnostic {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected = BTreeSet::new();
    if let ErrorVariant::ParsingError { positives, .. } = &err.variant {
        for rule in positives {
            if let Some(d) = describe(*rule) {
                expected.insert(d);
            }
        }
    }
    let wants_declaration = expected.iter().any(|e| e.starts_with("a declaration"));
    if wants_declaration {
        for kw in ["`tiers`", "`permission`", "`role`", "`assert`"] {
            expected.remove(kw);
        }
    }
    // A chunk ends where the next declaration starts; what the parser ran
    // into there is that declaration's keyword, not the end of the file.
    let at_chunk_end = chunk.get(pos..).is_some_and(|rest| rest.trim().is_empty());
    let (len, found) = found_token(source.text(), base + pos);
    let span = Span::new(base + pos, base + pos + len);
    if found == "an unclosed label" {
        return Diagnostic::new(Code::Syntax, "this label is not closed")
            .with_source(source)
            .primary(span, "the closing `\"` is missing")
            .help("add a `\"` before the end of the line; labels cannot span lines");
    }
    let expected_text = join_alternatives(&expected);
    let mut diag = Diagnostic::new(
        Code::Syntax,
        format!("expected {expected_text}, found {found}"),
    )
    .with_source(source)
    .primary(span, format!("expected {expected_text}"));

    let word = source
        .text()
        .get(base + pos..base + pos + len)
        .unwrap_or("")
        .trim_matches('"');
    let wants_name =
        expected.contains("a name") || expected.iter().any(|e| e.starts_with("a permission"));
    let after_name_char = chunk
        .get(..pos)
        .and_then(|before| before.chars().next_back())
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if at_chunk_end {
        // The declaration before `word` is incomplete; `word` itself is fine.
    } else if KEYWORDS.contains(&word) && wants_name {
        diag = diag.help(format!(
            "`{word}` is a keyword and cannot be used as a name; choose another name"
        ));
    } else if after_name_char && word.chars().next().is_some_and(|c| !c.is_ascii()) {
        diag = diag.help("names may only contain ASCII letters, digits, `_` and `-`");
    } else if !word.is_empty() {
        let keywords: Vec<&str> = KEYWORDS
            .iter()
            .copied()
            .filter(|k| {
                expected.contains(format!("`{k}`").as_str())
                    || (wants_declaration && ["tiers", "permission", "role", "assert"].contains(k))
            })
            .collect();
        if let Some(s) = did_you_mean(word, keywords.iter().copied()) {
            diag = diag.suggest(Some(s));
        } else if expected.contains("a quoted label") {
            diag = diag.help("labels are written in double quotes, e.g. `\"Manage billing\"`");
        }
    }
    diag
}
