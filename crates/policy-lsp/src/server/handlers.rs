//! The request handlers of the language server: hover, navigation,
//! rename, completion, formatting and code actions, each answering from
//! the document's last analysis (with its project's files, if it has a
//! project: a definition, a reference or a rename may be in another file).

use super::*;

impl Server {
    pub(super) fn hover(&self, p: lsp_types::HoverParams) -> Handled<Option<Hover>> {
        let doc = self.doc(&p.text_document_position_params.text_document.uri)?;
        let offset = Self::offset(doc, p.text_document_position_params.position);
        Ok(
            hover::hover(&doc.unit.analysis, offset).map(|(value, span)| Hover {
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
        let locs: Vec<Location> = navigation::definition(&doc.unit.analysis, offset)
            .into_iter()
            .filter_map(|s| Self::location(doc, s))
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
            navigation::references(&doc.unit.analysis, offset, p.context.include_declaration)
                .into_iter()
                .filter_map(|s| Self::location(doc, s))
                .collect();
        Ok((!locs.is_empty()).then_some(locs))
    }

    pub(super) fn symbols(
        &self,
        p: lsp_types::DocumentSymbolParams,
    ) -> Handled<Option<DocumentSymbolResponse>> {
        let doc = self.doc(&p.text_document.uri)?;
        let symbols = navigation::symbols(&doc.unit.analysis, doc.file)
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
        let analysis = &doc.unit.analysis;
        let spans = navigation::rename(analysis, offset, &p.new_name)
            .map_err(|e| error(ErrorCode::RequestFailed, e.0))?;
        // The document's own edits first (it gets an entry even with none),
        // then each other file of its project in order.
        let mut by_file: Vec<Vec<TextEdit>> = vec![Vec::new(); doc.unit.uris.len()];
        for s in spans {
            let (file, range) = analysis.range(s);
            if let Some(edits) = by_file.get_mut(file) {
                edits.push(TextEdit::new(range, p.new_name.clone()));
            }
        }
        let own = by_file
            .get_mut(doc.file)
            .map(std::mem::take)
            .unwrap_or_default();
        let others = doc.unit.uris.iter().cloned().zip(by_file);
        let tests = match navigation::rename_target(analysis, offset) {
            Ok((kind, old)) => self.test_file_edits(doc, kind, old, &p.new_name),
            Err(_) => Vec::new(),
        };
        Ok(Some(WorkspaceEdit {
            changes: Some(
                std::iter::once((doc.uri.clone(), own))
                    .chain(others.filter(|(_, edits)| !edits.is_empty()))
                    .chain(tests)
                    .collect(),
            ),
            ..WorkspaceEdit::default()
        }))
    }

    /// The edits renaming `old` (a name of `kind`) to `new` in the test
    /// files on disk that test the policy of `doc`: the document's file,
    /// or, in a project, the project (its directory or manifest) or any of
    /// its files.
    fn test_file_edits(
        &self,
        doc: &Document,
        kind: NameKind,
        old: &str,
        new: &str,
    ) -> Vec<(Uri, Vec<TextEdit>)> {
        let policies: Vec<std::path::PathBuf> = match &doc.project {
            Some(manifest) => std::iter::once(manifest.clone())
                .chain(self.project_files(manifest))
                .collect(),
            None => crate::test_files::path_of(&doc.uri).into_iter().collect(),
        };
        let mut out = Vec::new();
        for (test, text) in crate::test_files::testing(&policies, &self.roots) {
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
        let analysis = &doc.unit.analysis;
        let replace = Self::range(doc, completion::prefix_span(&analysis.text, offset));
        let items: Vec<CompletionItem> = completion::complete_in(analysis, doc.file, offset)
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
            &doc.unit.analysis,
            &doc.unit.uris,
            doc.file,
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
