//! Compiler diagnostics as LSP diagnostics, and the code actions they offer.
//!
//! An analysis may hold several files (a project): `uris` names each file
//! of [`Analysis::files`] in order, and a diagnostic goes to the file of
//! its primary span, with its related information and quick-fix edits in
//! whichever files their spans are.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeDescription, Diagnostic,
    DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Range, TextEdit,
    Uri, WorkspaceEdit,
};

use crate::analysis::Analysis;
use crate::engine::{self, Severity};

/// The URI of file `file` of the analysis (the first when out of range).
fn uri_of(uris: &[Uri], file: usize) -> Option<&Uri> {
    uris.get(file).or_else(|| uris.first())
}

/// The file a diagnostic belongs to: its primary span's, or `None`.
pub fn file_of(analysis: &Analysis, d: &engine::Diagnostic) -> Option<usize> {
    d.primary_span().map(|s| analysis.file_at(s.start))
}

/// One compiler diagnostic as an LSP diagnostic, positioned in the file of
/// its primary span (`uris`: the URI of each file); with `docs_url` (the
/// base of the documentation, see [`Code::doc_url`]) its code links to its
/// page, without it there is no `codeDescription`.
pub fn to_lsp(
    analysis: &Analysis,
    uris: &[Uri],
    d: &engine::Diagnostic,
    docs_url: Option<&str>,
) -> Diagnostic {
    let range = d
        .primary_span()
        .map_or_else(Range::default, |s| analysis.range(s).1);
    let mut message = d.message().to_string();
    if let Some(help) = d.help_text() {
        message.push_str("\nhelp: ");
        message.push_str(&help);
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels()
        .iter()
        .filter(|l| !l.primary)
        .filter_map(|l| {
            let (file, range) = analysis.range(l.span);
            Some((uri_of(uris, file)?.clone(), range, l))
        })
        .map(|(uri, range, l)| DiagnosticRelatedInformation {
            location: Location::new(uri, range),
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

/// Every diagnostic of a document alone (`docs_url` as in [`to_lsp`]).
pub fn all(analysis: &Analysis, uri: &Uri, docs_url: Option<&str>) -> Vec<Diagnostic> {
    let uris = std::slice::from_ref(uri);
    analysis
        .compiled
        .diagnostics
        .iter()
        .map(|d| to_lsp(analysis, uris, d, docs_url))
        .collect()
}

/// Every diagnostic of the analysis, by file: one list per file of
/// `uris`, in the compiler's order; a diagnostic without a span goes to
/// the list `unplaced` (an index into `uris`).
pub fn by_file(
    analysis: &Analysis,
    uris: &[Uri],
    unplaced: usize,
    docs_url: Option<&str>,
) -> Vec<Vec<Diagnostic>> {
    let mut out = vec![Vec::new(); uris.len()];
    for d in &analysis.compiled.diagnostics {
        let file = file_of(analysis, d).unwrap_or(unplaced);
        if let Some(list) = out.get_mut(file) {
            list.push(to_lsp(analysis, uris, d, docs_url));
        }
    }
    out
}

fn overlaps(a: Range, b: Range) -> bool {
    a.start <= b.end && b.start <= a.end
}

/// The quick fixes for the diagnostics of file `file` overlapping `range`
/// (`uris` as in [`to_lsp`]): each diagnostic's
/// machine-applicable fixes ([`engine::Diagnostic::fixes`]: did-you-mean
/// replacements, a missing `}`, `<` between tiers, removal of redundant
/// grants, useless exclusions and duplicate parents), the same edits
/// `policyc fix` applies.
#[expect(
    clippy::mutable_key_type,
    reason = "lsp_types::Uri caches its parse lazily; its hash and equality are those of the text"
)]
pub fn code_actions(
    analysis: &Analysis,
    uris: &[Uri],
    file: usize,
    range: Range,
) -> Vec<CodeActionOrCommand> {
    let mut out = Vec::new();
    for d in &analysis.compiled.diagnostics {
        if file_of(analysis, d).unwrap_or(0) != file {
            continue;
        }
        let lsp = to_lsp(analysis, uris, d, None);
        if !overlaps(lsp.range, range) {
            continue;
        }
        for fix in d.fixes() {
            let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
            for e in &fix.edits {
                let (at, range) = analysis.range(e.span);
                if let Some(uri) = uri_of(uris, at) {
                    changes
                        .entry(uri.clone())
                        .or_default()
                        .push(TextEdit::new(range, e.text.clone()));
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::position::Encoding;

    /// In a project each diagnostic goes to its primary span's file, its
    /// related information to theirs, and a quick fix edits the file it is
    /// about.
    #[test]
    fn diagnostics_go_to_their_files_with_related_information_in_others() {
        let files = [
            engine::SourceFile::new(
                "a.policy",
                "permission a.b \"A\"\nrole x \"X\" { grants a.b }\n",
            ),
            engine::SourceFile::new(
                "b.policy",
                "role x \"X again\" {}\nrole y \"Y\" { inherits xx }\n",
            ),
        ];
        let analysis = Analysis::of(&engine::SourceFile::project("p", &files), Encoding::Utf8);
        let uris: Vec<Uri> = [
            "file:///p/a.policy",
            "file:///p/b.policy",
            "file:///p/policyc.toml",
        ]
        .iter()
        .map(|u| u.parse().unwrap())
        .collect();
        let lists = by_file(&analysis, &uris, 2, None);
        assert_eq!(lists.len(), 3);
        assert!(lists[0].is_empty() && lists[2].is_empty(), "{lists:?}");
        let codes: Vec<_> = lists[1].iter().map(|d| d.code.clone()).collect();
        let code = |c: &str| Some(NumberOrString::String(c.to_string()));
        assert_eq!(codes, [code("P0204"), code("P0201")], "{lists:?}");
        // The clash: here, and first declared in the other file.
        let clash = &lists[1][0];
        assert_eq!(clash.range.start, lsp_types::Position::new(0, 5));
        let related = clash.related_information.as_ref().unwrap();
        assert_eq!(related[0].location.uri, uris[0]);
        assert_eq!(
            related[0].location.range.start,
            lsp_types::Position::new(1, 5)
        );
        // The typo's quick fix edits the file it is in.
        let typo = lists[1][1].range;
        let actions = code_actions(&analysis, &uris, 1, typo);
        let Some(CodeActionOrCommand::CodeAction(fix)) = actions.first() else {
            panic!("no quick fix: {actions:?}");
        };
        let edit = serde_json::to_value(fix.edit.as_ref().unwrap()).unwrap();
        let files: Vec<&String> = edit["changes"].as_object().unwrap().keys().collect();
        assert_eq!(files, ["file:///p/b.policy"]);
        assert!(code_actions(&analysis, &uris, 0, typo).is_empty());
    }
}
