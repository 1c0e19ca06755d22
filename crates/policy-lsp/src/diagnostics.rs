//! Compiler diagnostics as LSP diagnostics, and the code actions they offer.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeDescription, Diagnostic,
    DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Range, TextEdit,
    Uri, WorkspaceEdit,
};

use crate::analysis::Analysis;
use crate::engine::{self, Code, Item, RoleStmt, Severity, Span};

/// One compiler diagnostic as an LSP diagnostic; with `docs_url` (the base
/// of the documentation, see [`Code::doc_url`]) its code links to its page,
/// without it there is no `codeDescription`.
pub fn to_lsp(
    analysis: &Analysis,
    uri: &Uri,
    d: &engine::Diagnostic,
    docs_url: Option<&str>,
) -> Diagnostic {
    let text = &analysis.text;
    let range = d
        .primary_span()
        .map_or_else(Range::default, |s| analysis.lines.range(text, s));
    let mut message = d.message().to_string();
    if let Some(help) = d.help_text() {
        message.push_str("\nhelp: ");
        message.push_str(&help);
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels()
        .iter()
        .filter(|l| !l.primary)
        .map(|l| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), analysis.lines.range(text, l.span)),
            message: if l.message.is_empty() {
                "related".to_string()
            } else {
                l.message.clone()
            },
        })
        .collect();
    Diagnostic {
        range,
        severity: Some(match d.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code().as_str().to_string())),
        code_description: docs_url
            .and_then(|base| d.code().doc_url(base).parse::<Uri>().ok())
            .map(|href| CodeDescription { href }),
        source: Some("policyc".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

/// Every diagnostic of the document (`docs_url` as in [`to_lsp`]).
pub fn all(analysis: &Analysis, uri: &Uri, docs_url: Option<&str>) -> Vec<Diagnostic> {
    analysis
        .compiled
        .diagnostics
        .iter()
        .map(|d| to_lsp(analysis, uri, d, docs_url))
        .collect()
}

fn overlaps(a: Range, b: Range) -> bool {
    a.start <= b.end && b.start <= a.end
}

/// The quick fixes for diagnostics overlapping `range`: every did-you-mean
/// suggestion, and the removal of redundant grants, useless exclusions and
/// duplicate parents.
#[expect(
    clippy::mutable_key_type,
    reason = "lsp_types::Uri caches its parse lazily; its hash and equality are those of the text"
)]
pub fn code_actions(analysis: &Analysis, uri: &Uri, range: Range) -> Vec<CodeActionOrCommand> {
    let mut out = Vec::new();
    for d in &analysis.compiled.diagnostics {
        let Some(span) = d.primary_span() else {
            continue;
        };
        let lsp = to_lsp(analysis, uri, d, None);
        if !overlaps(lsp.range, range) {
            continue;
        }
        let written = analysis.text.get(span.start..span.end).unwrap_or("");
        let fix = if let Some(s) = d.suggestion() {
            Some((
                format!("replace `{written}` with `{s}`"),
                span,
                s.to_string(),
            ))
        } else {
            let what = match d.code() {
                Code::RedundantGrant => Some("redundant grant"),
                Code::UselessExclusion => Some("useless exclusion"),
                Code::DuplicateParent => Some("duplicate parent"),
                _ => None,
            };
            what.and_then(|w| {
                removal(analysis, span)
                    .map(|r| (format!("remove {w} `{written}`"), r, String::new()))
            })
        };
        let Some((title, edit_span, new_text)) = fix else {
            continue;
        };
        let edit = TextEdit::new(analysis.lines.range(&analysis.text, edit_span), new_text);
        let changes = HashMap::from([(uri.clone(), vec![edit])]);
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title,
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![lsp]),
            edit: Some(WorkspaceEdit {
                changes: Some(changes),
                ..WorkspaceEdit::default()
            }),
            is_preferred: Some(true),
            ..CodeAction::default()
        }));
    }
    out
}

/// The bytes to delete to remove the list item at `item` from its
/// `inherits`/`grants`/`excludes` statement: the item and one neighbouring
/// comma, or the whole statement (and its line, when it stands alone) when it
/// is the only item.
fn removal(analysis: &Analysis, item: Span) -> Option<Span> {
    let text = &analysis.text;
    for it in &analysis.compiled.file.items {
        let Item::Role(role) = it else { continue };
        for stmt in &role.body {
            let (spans, stmt_span): (Vec<Span>, Span) = match stmt {
                RoleStmt::Inherits { parents, span } => {
                    (parents.iter().map(|p| p.span).collect(), *span)
                }
                RoleStmt::Grants { patterns, span, .. }
                | RoleStmt::Excludes { patterns, span, .. } => {
                    (patterns.iter().map(|p| p.span).collect(), *span)
                }
            };
            let Some(pos) = spans.iter().position(|s| *s == item) else {
                continue;
            };
            if spans.len() == 1 {
                return Some(whole_lines(text, stmt_span));
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

/// `span` widened to its whole lines when nothing else stands on them.
fn whole_lines(text: &str, span: Span) -> Span {
    let before = text.get(..span.start).unwrap_or("");
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let after = text.get(span.end..).unwrap_or("");
    let line_end = after.find('\n').map_or(text.len(), |i| span.end + i + 1);
    let blank_before = text
        .get(line_start..span.start)
        .is_some_and(|s| s.trim().is_empty());
    let blank_after = text
        .get(span.end..line_end)
        .is_some_and(|s| s.trim().is_empty());
    if blank_before && blank_after {
        Span::new(line_start, line_end)
    } else {
        span
    }
}
