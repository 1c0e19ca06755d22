//! Turning pest errors into diagnostics in user terms.

use std::collections::BTreeSet;

use pest::error::{Error, ErrorVariant, InputLocation};

use super::Rule;
use crate::code::Code;
use crate::diagnostic::{Diagnostic, Edit, Fix};
use crate::keywords;
use crate::source::{SourceFile, Span};
use crate::suggest::did_you_mean;

/// What a grammar rule is called in an error message; `None` hides it.
fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::kw_tiers => "`tiers`",
        Rule::kw_dimension => "`dimension`",
        Rule::kw_offered => "`offered`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_scope => "`scope`",
        Rule::kw_in => "`in`",
        Rule::kw_condition => "`condition`",
        Rule::kw_when | Rule::when_clause => "`when`",
        Rule::negation => "`not`",
        Rule::cond_id => "a condition such as `own`",
        Rule::kw_acts | Rule::acts_clause => "`acts`",
        Rule::kw_as => "`as`",
        Rule::bar => "`|`",
        Rule::kw_permission => "`permission`",
        Rule::kw_role => "`role`",
        Rule::kw_inherits | Rule::inherits_clause => "`inherits`",
        Rule::kw_grants | Rule::grants_clause => "`grants`",
        Rule::kw_excludes | Rule::excludes_clause => "`excludes`",
        Rule::kw_assignable | Rule::assignable_clause => "`assignable`",
        Rule::kw_nowhere => "`nowhere`",
        Rule::kw_label | Rule::label_clause => "`label`",
        Rule::kw_on | Rule::tier_clause => "`on`",
        Rule::kw_assert => "`assert`",
        Rule::kw_only | Rule::assert_only => "`only`",
        Rule::kw_can => "`can`",
        Rule::kw_cannot => "`cannot`",
        Rule::kw_no | Rule::assert_none_below => "`no`",
        Rule::kw_below => "`below`",
        Rule::kw_includes => "`includes`",
        Rule::kw_every | Rule::can_every => "`every`",
        Rule::kw_expect | Rule::expect_attr => "`expect`",
        Rule::ident | Rule::tier_list => "a name",
        Rule::role_ref => "a role name",
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
        | Rule::dimension_decl
        | Rule::permission_decl
        | Rule::role_decl
        | Rule::assert_decl
        | Rule::offered_decl
        | Rule::scope_decl
        | Rule::condition_decl
        | Rule::doc
        | Rule::doc_line => {
            "a declaration (`tiers`, `dimension`, `offered`, `scope`, `permission`, `role` or `assert`, or an `expect` line before one)"
        }
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
    // Optional lead-ins are not what is missing: a doc comment inside a
    // role block (it documents the `grants` or `excludes` line after it)
    // is not a declaration, an `expect` line only precedes a declaration,
    // and `every` only precedes a pattern.
    if expected.contains("`grants`") || expected.contains("`excludes`") {
        expected.retain(|e| !e.starts_with("a declaration"));
    }
    // A role block's `assignable` and `acts as` lines are tried only where
    // the text reads that word (a lookahead pest does not record), so they
    // are added wherever the block's other statements were expected.
    if expected.contains("`inherits`") {
        expected.insert("`acts`");
        expected.insert("`assignable`");
    }
    if expected.iter().any(|e| e.starts_with("a declaration")) {
        expected.remove("`expect`");
    }
    if expected
        .iter()
        .any(|e| e.starts_with("a permission or pattern"))
    {
        expected.remove("`every`");
    }
    let wants_declaration = expected.iter().any(|e| e.starts_with("a declaration"));
    if wants_declaration {
        for kw in keywords::declaration_keywords() {
            expected.remove(format!("`{kw}`").as_str());
        }
    }
    // A chunk ends where the next declaration starts; what the parser ran
    // into there is that declaration's keyword, not the end of the file.
    let at_chunk_end = chunk.get(pos..).is_some_and(|rest| rest.trim().is_empty());
    if at_chunk_end && expected.contains("`}`") {
        if let Some(d) = unclosed_brace(source, chunk, base) {
            return d;
        }
    }
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
    let wants_name = expected.contains("a name")
        || expected.contains("a role name")
        || expected.iter().any(|e| e.starts_with("a permission"));
    let after_name_char = chunk
        .get(..pos)
        .and_then(|before| before.chars().next_back())
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let before = chunk.get(..pos).unwrap_or("");
    if let Some((help, fix)) = (found == "`,`")
        .then(|| tiers_with_commas(chunk, base, pos))
        .flatten()
    {
        diag = diag.help(help).with_fix(fix);
    } else if let Some(help) = slip_help(before, chunk.get(pos..).unwrap_or(""), &expected) {
        diag = diag.help(help);
    } else if at_chunk_end {
        // The declaration before `word` is incomplete; `word` itself is fine.
    } else if keywords::is_keyword(word) && wants_name {
        diag = diag.help(format!(
            "`{word}` is a keyword and cannot be used as a name; choose another name"
        ));
    } else if after_name_char && word.chars().next().is_some_and(|c| !c.is_ascii()) {
        diag = diag.help("names may only contain ASCII letters, digits, `_` and `-`");
    } else if !word.is_empty() {
        let candidates: Vec<&str> = keywords::keywords()
            .iter()
            .copied()
            .filter(|k| {
                expected.contains(format!("`{k}`").as_str())
                    || (wants_declaration && keywords::declaration_keywords().contains(k))
            })
            .collect();
        if let Some(s) = did_you_mean(word, candidates.iter().copied()) {
            diag = diag.suggest(Some(s));
        } else if expected.contains("a quoted label") {
            diag = diag.help("labels are written in double quotes, e.g. `\"Manage billing\"`");
        }
    }
    diag
}

/// The last word of `text` (a run of name characters), if it ends with one
/// after optional whitespace.
fn last_word(text: &str) -> &str {
    let t = text.trim_end();
    let start = t
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '*')))
        .map_or(0, |i| i + 1);
    t.get(start..).unwrap_or("")
}

/// A help line for a common slip, judged from the text `before` the error
/// position and the text `after` it.
fn slip_help(before: &str, after: &str, expected: &BTreeSet<&'static str>) -> Option<String> {
    let in_body = expected.contains("`}`") || expected.contains("`grants`");
    let previous_line = before
        .trim_end()
        .rsplit(['\n', '\r'])
        .next()
        .unwrap_or("")
        .trim_start();
    if after.starts_with("///") && previous_line.starts_with("expect ") {
        return Some(
            "a doc comment goes first, before the `expect` lines of the declaration it documents: \
             move it above `expect`"
                .to_string(),
        );
    }
    if in_body && (after.starts_with("expect ") || after.starts_with("expect\t")) {
        let role = before
            .lines()
            .rev()
            .find_map(|l| l.trim_start().strip_prefix("role "))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or("ROLE");
        return Some(format!(
            "`expect` applies to a whole declaration: move the line above `role {role}`, \
             with any other `expect` lines of the role"
        ));
    }
    let next_word = after
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    if in_body
        && previous_line.starts_with("///")
        && matches!(next_word, "acts" | "inherits" | "assignable")
    {
        return Some(format!(
            "a doc comment (`///`) inside a role documents the `grants` or `excludes` line below it; \
             above `{next_word}` write a plain comment, `// ...`"
        ));
    }
    if after.starts_with("///") && in_body {
        return Some(
            "a doc comment (`///`) documents a whole declaration and goes on the lines before it; \
             inside a role body write a plain comment, `// ...`"
                .to_string(),
        );
    }
    if after.starts_with("/*") {
        return Some(
            "comments start with `//` and run to the end of the line; `/* ... */` is not a comment here"
                .to_string(),
        );
    }
    if after.starts_with(';') {
        return Some("statements end at the end of the line without a `;`; remove it".to_string());
    }
    if expected.contains("`below`") && last_word(before) == "role" {
        return Some(
            "`no role` needs `below ROLE`: write `assert no role below ROLE can PERMISSION`, \
             or `assert only ROLE can PERMISSION` to say no other role can"
                .to_string(),
        );
    }
    let wants_item = expected
        .iter()
        .any(|e| e.starts_with("a permission") || *e == "a name" || *e == "a role name");
    if wants_item && before.trim_end().ends_with(',') {
        return Some(
            "remove the trailing `,`: commas go only between the items of a list".to_string(),
        );
    }
    if after.starts_with(['>', '<']) && last_word(before) == "on" {
        let rest = before.trim_end();
        let rest = rest.get(..rest.len().saturating_sub(2)).unwrap_or("");
        if last_word(rest) == "grants" {
            return Some(
                "the tier clause comes after the permissions: `grants PERMISSION, ... on >= TIER`"
                    .to_string(),
            );
        }
    }
    let prev = last_word(before);
    let word = after
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    if prev == "assert" && (word == "can" || word == "cannot") {
        return Some(format!(
            "`{word}` is a keyword and the role comes first: `assert ROLE {word} PERMISSION`"
        ));
    }
    None
}

/// The `{` in `chunk` that is never closed, as a diagnostic pointing at it,
/// with a second label where its `}` is missing. `None` when every `{` is closed.
fn unclosed_brace(source: &SourceFile, chunk: &str, base: usize) -> Option<Diagnostic> {
    let mut open: Vec<usize> = Vec::new();
    let mut last_content = 0usize;
    for (line_start, line) in line_offsets(chunk) {
        let mut in_string = false;
        let mut escaped = false;
        let mut prev_slash = false;
        for (i, c) in line.char_indices() {
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
                last_content = line_start + i + c.len_utf8();
                continue;
            }
            if c == '/' && prev_slash {
                break;
            }
            prev_slash = c == '/';
            match c {
                '"' => in_string = true,
                '{' => open.push(line_start + i),
                '}' => {
                    open.pop();
                }
                _ => {}
            }
            if !c.is_whitespace() && !prev_slash {
                last_content = line_start + i + c.len_utf8();
            }
        }
    }
    let brace = *open.last()?;
    // The name after the keyword of the declaration the `{` belongs to
    // (the chunk may start with its doc comment).
    let name = crate::source::lines(chunk.get(..brace).unwrap_or(""))
        .filter(|l| keywords::declaration_keyword(l).is_some())
        .last()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("");
    let what = if name.is_empty() {
        "this block".to_string()
    } else {
        format!("role `{name}`")
    };
    let mut d = Diagnostic::new(
        Code::Syntax,
        format!("unclosed `{{`: the body of {what} has no closing `}}`"),
    )
    .with_source(source)
    .primary(
        Span::new(base + brace, base + brace + 1),
        "this `{` is never closed",
    );
    if last_content > brace + 1 {
        let end = base + last_content;
        let start = source
            .text()
            .get(..end)
            .and_then(|t| t.char_indices().next_back())
            .map_or(end, |(i, _)| i);
        d = d.secondary(Span::new(start, end), "expected `}` after this");
    }
    // Nothing nests inside a body, so where the `}` goes is not a guess:
    // after the body's last statement (or right after an empty `{`).
    let at = base + last_content.max(brace + 1);
    let text = if last_content > brace + 1 { "\n}" } else { "}" };
    Some(
        d.help("add `}` after the role's last statement")
            .with_fix(Fix {
                title: "add the missing `}`".to_string(),
                edits: vec![Edit {
                    span: Span::new(at, at),
                    text: text.to_string(),
                }],
            }),
    )
}

/// `tiers free, pro, enterprise`: the tiers line around `pos` (an offset
/// into `chunk`) written with commas where the grammar wants `<`, as the
/// help and the fix that rewrites each `,` to ` <`. `None` unless the line is
/// a `tiers` declaration of names separated by `,` or `<`.
fn tiers_with_commas(chunk: &str, base: usize, pos: usize) -> Option<(String, Fix)> {
    let (start, line) = line_offsets(chunk).find(|(at, l)| *at <= pos && pos < at + l.len())?;
    let code = line.split("//").next().unwrap_or("").trim_end();
    let rest = code.trim_start().strip_prefix("tiers")?;
    let names: Vec<&str> = rest.split([',', '<']).map(str::trim).collect();
    if !rest.contains(',') || names.iter().any(|n| !crate::is_identifier(n)) {
        return None;
    }
    let mut edits = Vec::new();
    for (i, c) in code.char_indices() {
        if c == ',' {
            let gap = code.get(..i).unwrap_or("").trim_end().len();
            edits.push(Edit {
                span: Span::new(base + start + gap, base + start + i + 1),
                text: " <".to_string(),
            });
        }
    }
    let help = format!(
        "tiers are ordered, lowest first, with `<`: did you mean `tiers {}`?",
        names.join(" < ")
    );
    Some((
        help,
        Fix {
            title: "separate the tiers with `<`".to_string(),
            edits,
        },
    ))
}

/// Each line of `text` with the byte offset it starts at.
fn line_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0usize;
    crate::source::lines_inclusive(text).map(move |l| {
        let at = offset;
        offset += l.len();
        (at, l)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every keyword of the grammar has its `kw_` rule, named in syntax
    /// errors by its text, and every `kw_` rule is a reserved word (else it
    /// would also be accepted as a name).
    #[test]
    fn every_keyword_has_a_rule_that_errors_name() {
        let kw_rules: Vec<(String, Rule)> = Rule::all_rules()
            .iter()
            .filter_map(|r| Some((format!("{r:?}").strip_prefix("kw_")?.to_string(), *r)))
            .collect();
        for kw in keywords::keywords() {
            let rule = kw_rules.iter().find(|(w, _)| w == kw).map(|(_, r)| *r);
            let rule = rule.unwrap_or_else(|| panic!("no rule `kw_{kw}` in the grammar"));
            assert_eq!(describe(rule), Some(format!("`{kw}`").as_str()));
        }
        for (w, _) in &kw_rules {
            assert!(
                keywords::is_keyword(w),
                "`kw_{w}` is not in the `keyword` rule"
            );
        }
    }

    /// A keyword where a name is wanted is explained as a keyword.
    #[test]
    fn a_keyword_used_as_a_name_is_said_to_be_one() {
        for kw in keywords::keywords() {
            let text = format!("role {kw} \"K\" {{}}\n");
            let (_, diags) = crate::parse(&SourceFile::new("t.policy", text));
            let help = diags
                .first()
                .and_then(|d| d.help_text())
                .unwrap_or_default();
            assert!(help.contains("is a keyword"), "`{kw}`: {diags:?}");
        }
    }
}
