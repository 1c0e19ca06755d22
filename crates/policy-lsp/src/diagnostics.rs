//! Compiler diagnostics as LSP diagnostics, and the code actions they offer.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeDescription, Diagnostic,
    DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Range, TextEdit,
    Uri, WorkspaceEdit,
};

use crate::analysis::Analysis;
use crate::engine::{self, Severity};

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

/// The quick fixes for diagnostics overlapping `range`: each diagnostic's
/// machine-applicable fixes ([`engine::Diagnostic::fixes`]: did-you-mean
/// replacements, a missing `}`, `<` between tiers, removal of redundant
/// grants, useless exclusions and duplicate parents), the same edits
/// `policyc fix` applies.
#[expect(
    clippy::mutable_key_type,
    reason = "lsp_types::Uri caches its parse lazily; its hash and equality are those of the text"
)]
pub fn code_actions(analysis: &Analysis, uri: &Uri, range: Range) -> Vec<CodeActionOrCommand> {
    let mut out = Vec::new();
    for d in &analysis.compiled.diagnostics {
        let lsp = to_lsp(analysis, uri, d, None);
        if !overlaps(lsp.range, range) {
            continue;
        }
        for fix in d.fixes() {
            let edits = fix
                .edits
                .iter()
                .map(|e| {
                    TextEdit::new(analysis.lines.range(&analysis.text, e.span), e.text.clone())
                })
                .collect();
            let changes = HashMap::from([(uri.clone(), edits)]);
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: fix.title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![lsp.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(changes),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(true),
                ..CodeAction::default()
            }));
        }
    }
    out
}
