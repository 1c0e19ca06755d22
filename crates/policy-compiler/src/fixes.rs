//! Machine-applicable fixes that need the syntax tree: removing a
//! redundant grant, a useless exclusion or a duplicate parent. They are
//! attached to the diagnostics here, once, so the editor's quick fixes,
//! SARIF and `policyc fix` apply the same edits.

use policy_syntax::{Code, Diagnostic, Edit, Fix, Item, PolicyFile, RoleStmt, Span};

/// Attaches the removal fix to every diagnostic that says a list item is
/// redundant (`P0302` useless exclusion, `P0303` redundant grant, `P0308`
/// duplicate parent): deleting it changes no decision.
pub(crate) fn attach_removals(file: &PolicyFile, diags: &mut [Diagnostic]) {
    for d in diags.iter_mut() {
        let what = match d.code() {
            Code::RedundantGrant => "redundant grant",
            Code::UselessExclusion => "useless exclusion",
            Code::DuplicateParent => "duplicate parent",
            _ => continue,
        };
        let Some(item) = d.primary_span() else {
            continue;
        };
        let Some(span) = removal(file, item) else {
            continue;
        };
        let written = file.source.text().get(item.start..item.end).unwrap_or("");
        d.add_fix(Fix {
            title: format!("remove {what} `{written}`"),
            edits: vec![Edit {
                span,
                text: String::new(),
            }],
        });
    }
}

/// The bytes to delete to remove the list item at `item` from its
/// `inherits`/`grants`/`excludes` statement: the item and one neighbouring
/// comma, or the whole statement (with its doc comment, and its lines when
/// nothing else stands on them) when it is the only item.
pub(crate) fn removal(file: &PolicyFile, item: Span) -> Option<Span> {
    let text = file.source.text();
    for it in &file.items {
        let Item::Role(role) = it else { continue };
        for stmt in &role.body {
            let (spans, stmt_span, doc): (Vec<Span>, Span, Option<Span>) = match stmt {
                RoleStmt::Inherits {
                    parents: names,
                    span,
                }
                | RoleStmt::ActsAs { roles: names, span } => {
                    (names.iter().map(|p| p.span).collect(), *span, None)
                }
                // No fix removes part of an `assignable` line.
                RoleStmt::Assignable { .. } => continue,
                RoleStmt::Grants {
                    patterns,
                    span,
                    doc,
                    ..
                }
                | RoleStmt::Excludes {
                    patterns,
                    span,
                    doc,
                    ..
                } => (
                    patterns.iter().map(|p| p.span).collect(),
                    *span,
                    doc.as_ref().map(|d| d.span),
                ),
            };
            let Some(pos) = spans.iter().position(|s| *s == item) else {
                continue;
            };
            if spans.len() == 1 {
                let start = doc.map_or(stmt_span.start, |d| d.start.min(stmt_span.start));
                return Some(whole_lines(text, Span::new(start, stmt_span.end)));
            }
            return if pos > 0 {
                spans.get(pos - 1).map(|prev| Span::new(prev.end, item.end))
            } else {
                spans.get(1).map(|next| Span::new(item.start, next.start))
            };
        }
    }
    None
}

/// `span` widened to its whole lines (through the line break, `\n`, `\r\n`
/// or a lone `\r`) when nothing else stands on them.
fn whole_lines(text: &str, span: Span) -> Span {
    let before = text.get(..span.start).unwrap_or("");
    let line_start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let after = text.get(span.end..).unwrap_or("");
    let line_end = match after.find(['\n', '\r']) {
        None => text.len(),
        Some(i) if after.get(i..i + 2) == Some("\r\n") => span.end + i + 2,
        Some(i) => span.end + i + 1,
    };
    let blank_before = text
        .get(line_start..span.start)
        .is_some_and(|s| s.trim().is_empty());
    let blank_after = after
        .get(..line_end - span.end)
        .is_some_and(|s| s.trim().is_empty());
    if blank_before && blank_after {
        Span::new(line_start, line_end)
    } else {
        span
    }
}

#[cfg(test)]
mod tests {
    use policy_syntax::SourceFile;

    use super::*;

    fn fixed(text: &str) -> String {
        let src = SourceFile::new("p.policy", text);
        let (_, diags) = crate::compile(&src);
        let mut out = text.to_string();
        let mut edits: Vec<Edit> = diags
            .iter()
            .flat_map(|d| d.fixes())
            .flat_map(|f| f.edits)
            .collect();
        edits.sort_by_key(|e| std::cmp::Reverse(e.span.start));
        for e in edits {
            out.replace_range(e.span.start..e.span.end, &e.text);
        }
        out
    }

    #[test]
    fn removals_take_the_item_and_one_comma_or_the_whole_line_with_its_doc() {
        let text = "permission a.b \"A\"\npermission a.c \"C\"\n\
                    role r \"R\" {\n  grants a.*\n}\n\
                    role s \"S\" {\n  inherits r, r\n  /// Why.\n  grants a.b\n}\n";
        let out = fixed(text);
        assert!(out.contains("role s \"S\" {\n  inherits r\n"), "{out}");
        assert!(!out.contains("/// Why."), "{out}");
        assert!(!out.contains("grants a.b"), "{out}");
    }

    #[test]
    fn whole_lines_understand_crlf_and_lone_cr() {
        for nl in ["\n", "\r\n", "\r"] {
            let text = format!("a{nl}  x{nl}b");
            let x = text.find('x').unwrap_or(0);
            let span = whole_lines(&text, Span::new(x, x + 1));
            let mut out = text.clone();
            out.replace_range(span.start..span.end, "");
            assert_eq!(out, format!("a{nl}b"), "{nl:?}");
        }
    }
}
