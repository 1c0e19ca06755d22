//! The request handlers of the language server: hover, navigation,
//! rename, completion, formatting and code actions, each answering from
//! the document's last analysis.

use super::*;

impl Server {
    pub(super) fn hover(&self, p: lsp_types::HoverParams) -> Handled<Option<Hover>> {
        let doc = self.doc(&p.text_document_position_params.text_document.uri)?;
        let offset = Self::offset(doc, p.text_document_position_params.position);
        Ok(
            hover::hover(&doc.analysis, offset).map(|(value, span)| Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value,
                }),
                range: Some(Self::range(doc, span)),
            }),
        )
    }

    pub(super) fn definition(
        &self,
        p: lsp_types::GotoDefinitionParams,
    ) -> Handled<Option<GotoDefinitionResponse>> {
        let doc = self.doc(&p.text_document_position_params.text_document.uri)?;
        let offset = Self::offset(doc, p.text_document_position_params.position);
        let locs: Vec<Location> = navigation::definition(&doc.analysis, offset)
            .into_iter()
            .map(|s| Location::new(doc.uri.clone(), Self::range(doc, s)))
            .collect();
        Ok((!locs.is_empty()).then_some(GotoDefinitionResponse::Array(locs)))
    }

    pub(super) fn references(
        &self,
        p: lsp_types::ReferenceParams,
    ) -> Handled<Option<Vec<Location>>> {
        let doc = self.doc(&p.text_document_position.text_document.uri)?;
        let offset = Self::offset(doc, p.text_document_position.position);
        let locs: Vec<Location> =
            navigation::references(&doc.analysis, offset, p.context.include_declaration)
                .into_iter()
                .map(|s| Location::new(doc.uri.clone(), Self::range(doc, s)))
                .collect();
        Ok((!locs.is_empty()).then_some(locs))
    }

    pub(super) fn symbols(
        &self,
        p: lsp_types::DocumentSymbolParams,
    ) -> Handled<Option<DocumentSymbolResponse>> {
        let doc = self.doc(&p.text_document.uri)?;
        let symbols = navigation::symbols(&doc.analysis)
            .into_iter()
            .map(|s| {
                #[expect(
                    deprecated,
                    reason = "`deprecated` is a required field of the LSP type"
                )]
                DocumentSymbol {
                    name: if s.name.is_empty() {
                        "?".to_string()
                    } else {
                        s.name
                    },
                    detail: s.detail,
                    kind: match s.kind {
                        Some(NameKind::Role) => SymbolKind::CLASS,
                        Some(NameKind::Permission) => SymbolKind::CONSTANT,
                        Some(NameKind::Tier) => SymbolKind::ENUM_MEMBER,
                        Some(NameKind::Scope) => SymbolKind::NAMESPACE,
                        Some(NameKind::Condition) => SymbolKind::PROPERTY,
                        None => SymbolKind::BOOLEAN,
                    },
                    tags: None,
                    deprecated: None,
                    range: Self::range(doc, s.span),
                    selection_range: Self::range(doc, s.selection),
                    children: None,
                }
            })
            .collect();
        Ok(Some(DocumentSymbolResponse::Nested(symbols)))
    }

    pub(super) fn rename(&self, p: lsp_types::RenameParams) -> Handled<Option<WorkspaceEdit>> {
        let doc = self.doc(&p.text_document_position.text_document.uri)?;
        let offset = Self::offset(doc, p.text_document_position.position);
        let spans = navigation::rename(&doc.analysis, offset, &p.new_name)
            .map_err(|e| error(ErrorCode::RequestFailed, e.0))?;
        let edits: Vec<TextEdit> = spans
            .into_iter()
            .map(|s| TextEdit::new(Self::range(doc, s), p.new_name.clone()))
            .collect();
        let tests = match navigation::rename_target(&doc.analysis, offset) {
            Ok((kind, old)) => self.test_file_edits(&doc.uri, kind, old, &p.new_name),
            Err(_) => Vec::new(),
        };
        Ok(Some(WorkspaceEdit {
            changes: Some(
                std::iter::once((doc.uri.clone(), edits))
                    .chain(tests)
                    .collect(),
            ),
            ..WorkspaceEdit::default()
        }))
    }

    /// The edits renaming `old` (a name of `kind`) to `new` in the test
    /// files on disk that test the policy at `uri`.
    fn test_file_edits(
        &self,
        uri: &Uri,
        kind: NameKind,
        old: &str,
        new: &str,
    ) -> Vec<(Uri, Vec<TextEdit>)> {
        let Some(policy) = crate::test_files::path_of(uri) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (test, text) in crate::test_files::testing(&policy, &self.roots) {
            let Some(test_uri) = crate::test_files::uri_of(&test) else {
                continue;
            };
            let lines = LineIndex::new(&text, self.encoding);
            let edits: Vec<TextEdit> = crate::test_files::occurrences(&text, kind, old)
                .into_iter()
                .map(|(s, e)| {
                    TextEdit::new(lines.range(&text, engine::Span::new(s, e)), new.to_string())
                })
                .collect();
            if !edits.is_empty() {
                out.push((test_uri, edits));
            }
        }
        out
    }

    pub(super) fn completion(
        &self,
        p: lsp_types::CompletionParams,
    ) -> Handled<Option<CompletionResponse>> {
        let doc = self.doc(&p.text_document_position.text_document.uri)?;
        let offset = Self::offset(doc, p.text_document_position.position);
        let replace = Self::range(doc, completion::prefix_span(&doc.analysis.text, offset));
        let items: Vec<CompletionItem> = completion::complete(&doc.analysis, offset)
            .into_iter()
            .map(|c| CompletionItem {
                kind: Some(match c.kind {
                    ItemKind::Keyword => CompletionItemKind::KEYWORD,
                    ItemKind::Name(NameKind::Role) => CompletionItemKind::CLASS,
                    ItemKind::Name(NameKind::Permission) => CompletionItemKind::CONSTANT,
                    ItemKind::Name(NameKind::Tier) => CompletionItemKind::ENUM_MEMBER,
                    ItemKind::Name(NameKind::Scope) => CompletionItemKind::MODULE,
                    ItemKind::Name(NameKind::Condition) => CompletionItemKind::PROPERTY,
                    ItemKind::Pattern => CompletionItemKind::VALUE,
                }),
                detail: c.detail,
                text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(
                    replace,
                    c.label.clone(),
                ))),
                label: c.label,
                ..CompletionItem::default()
            })
            .collect();
        Ok(Some(CompletionResponse::Array(items)))
    }

    pub(super) fn formatting_job(
        &self,
        p: lsp_types::DocumentFormattingParams,
    ) -> Handled<FormatJob> {
        let doc = self.doc(&p.text_document.uri)?;
        if doc.text.len() > self.options.max_document_bytes {
            return Err(error(
                ErrorCode::RequestFailed,
                format!(
                    "the document is {} bytes, over the {}-byte limit; it is not formatted",
                    doc.text.len(),
                    self.options.max_document_bytes
                ),
            ));
        }
        Ok(FormatJob {
            name: file_name(&doc.uri),
            text: doc.text.clone(),
            encoding: self.encoding,
        })
    }

    pub(super) fn formatting(&self, p: lsp_types::DocumentFormattingParams) -> Handled<Value> {
        self.formatting_job(p)?.run()
    }

    pub(super) fn code_action(
        &self,
        p: lsp_types::CodeActionParams,
    ) -> Handled<Option<lsp_types::CodeActionResponse>> {
        let doc = self.doc(&p.text_document.uri)?;
        Ok(Some(diagnostics::code_actions(
            &doc.analysis,
            &doc.uri,
            p.range,
        )))
    }
}

/// A formatting request, detached from the server's state so that it can
/// run on a thread of its own.
pub(super) struct FormatJob {
    name: String,
    text: String,
    encoding: Encoding,
}

impl FormatJob {
    /// The edits: none when the text is already formatted, one replacing
    /// the whole text otherwise, `null` when it has syntax errors.
    pub(super) fn run(self) -> Handled<Value> {
        let edits = engine::format(&self.name, &self.text).map(|formatted| {
            if formatted == self.text {
                return Vec::new();
            }
            let lines = LineIndex::new(&self.text, self.encoding);
            let whole = lines.range(&self.text, engine::Span::new(0, self.text.len()));
            vec![TextEdit::new(whole, formatted)]
        });
        serde_json::to_value(edits).map_err(|e| error(ErrorCode::InternalError, e.to_string()))
    }
}
