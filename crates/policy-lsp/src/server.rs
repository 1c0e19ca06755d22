//! The message loop: documents, dispatch, and the guard that keeps one
//! failing request from taking the server down.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response, ResponseError};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest,
    References, Rename, Request as _,
};
use lsp_types::{
    CodeActionProviderCapability, CompletionItem, CompletionItemKind, CompletionOptions,
    CompletionResponse, CompletionTextEdit, DocumentSymbol, DocumentSymbolResponse,
    GotoDefinitionResponse, Hover, HoverContents, HoverProviderCapability, InitializeParams,
    InitializeResult, Location, MarkupContent, MarkupKind, OneOf, Position, PositionEncodingKind,
    PublishDiagnosticsParams, ServerCapabilities, ServerInfo, SymbolKind,
    TextDocumentContentChangeEvent, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextEdit, Uri, WorkspaceEdit,
};
use serde::de::DeserializeOwned;

use crate::analysis::{Analysis, NameKind};
use crate::completion::{self, ItemKind};
use crate::position::{Encoding, LineIndex};
use crate::{diagnostics, engine, hover, navigation};

/// Why the server stopped abnormally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeError(pub String);

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServeError {}

/// The encoding to use given what the client offers: UTF-8 when offered,
/// otherwise UTF-16 (the protocol's default).
pub fn negotiate(params: &InitializeParams) -> Encoding {
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref());
    if offered.is_some_and(|o| o.contains(&PositionEncodingKind::UTF8)) {
        Encoding::Utf8
    } else {
        Encoding::Utf16
    }
}

/// What the server can do, announced in `initialize`.
pub fn capabilities(encoding: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(match encoding {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![" ".to_string(), ",".to_string()]),
            ..CompletionOptions::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    }
}

/// Runs the server on `connection` until the client shuts it down: the
/// `initialize` handshake, then the message loop. The connection may be
/// stdio (as `policyc lsp` wires it), a socket, or in memory (tests).
pub fn serve(connection: &Connection) -> Result<(), ServeError> {
    let (id, params) = connection
        .initialize_start()
        .map_err(|e| ServeError(e.to_string()))?;
    let params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let encoding = negotiate(&params);
    let result = InitializeResult {
        capabilities: capabilities(encoding),
        server_info: Some(ServerInfo {
            name: "policyc".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
    };
    let result = serde_json::to_value(result).map_err(|e| ServeError(e.to_string()))?;
    connection
        .initialize_finish(id, result)
        .map_err(|e| ServeError(e.to_string()))?;
    let mut server = Server::new(encoding);
    for msg in &connection.receiver {
        let out = match msg {
            Message::Request(req) => {
                if connection
                    .handle_shutdown(&req)
                    .map_err(|e| ServeError(e.to_string()))?
                {
                    return Ok(());
                }
                vec![Message::Response(server.request(req))]
            }
            Message::Notification(n) => server.notification(n),
            Message::Response(_) => Vec::new(),
        };
        for m in out {
            connection
                .sender
                .send(m)
                .map_err(|e| ServeError(e.to_string()))?;
        }
    }
    Ok(())
}

/// Runs `f`, turning a panic into `None` so the server keeps serving.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

struct Document {
    uri: Uri,
    version: i32,
    analysis: Analysis,
}

/// The server's state: open documents and the negotiated encoding.
pub struct Server {
    encoding: Encoding,
    docs: HashMap<String, Document>,
}

type Handled<T> = Result<T, ResponseError>;

fn error(code: ErrorCode, message: impl Into<String>) -> ResponseError {
    ResponseError {
        code: code as i32,
        message: message.into(),
        data: None,
    }
}

fn file_name(uri: &Uri) -> String {
    let path = uri.path().as_str();
    let name = path.rsplit('/').next().unwrap_or(path);
    if name.is_empty() {
        "untitled.policy".to_string()
    } else {
        name.to_string()
    }
}

impl Server {
    /// A server with no open documents, counting columns in `encoding`.
    pub fn new(encoding: Encoding) -> Self {
        Server {
            encoding,
            docs: HashMap::new(),
        }
    }

    /// Answers one request; a panic inside becomes an `InternalError` response.
    pub fn request(&mut self, req: Request) -> Response {
        let id = req.id.clone();
        guarded(|| self.dispatch(req)).unwrap_or_else(|| {
            Response::new_err(
                id,
                ErrorCode::InternalError as i32,
                "policyc lsp: this request failed inside the server; it keeps running".to_string(),
            )
        })
    }

    /// Handles one notification; returns the messages to send (diagnostics).
    /// A panic inside is contained: the notification is dropped.
    pub fn notification(&mut self, n: Notification) -> Vec<Message> {
        guarded(|| self.notify(n)).unwrap_or_default()
    }

    fn dispatch(&mut self, req: Request) -> Response {
        let Request { id, method, params } = req;
        let result = match method.as_str() {
            HoverRequest::METHOD => self.run(params, Self::hover),
            GotoDefinition::METHOD => self.run(params, Self::definition),
            References::METHOD => self.run(params, Self::references),
            DocumentSymbolRequest::METHOD => self.run(params, Self::symbols),
            Rename::METHOD => self.run(params, Self::rename),
            Completion::METHOD => self.run(params, Self::completion),
            Formatting::METHOD => self.run(params, Self::formatting),
            CodeActionRequest::METHOD => self.run(params, Self::code_action),
            _ => Err(error(
                ErrorCode::MethodNotFound,
                format!("policyc lsp does not handle `{method}`"),
            )),
        };
        Response {
            id,
            response_result: result,
        }
    }

    fn run<P: DeserializeOwned, R: serde::Serialize>(
        &self,
        params: serde_json::Value,
        f: fn(&Self, P) -> Handled<R>,
    ) -> Handled<serde_json::Value> {
        let params: P = serde_json::from_value(params)
            .map_err(|e| error(ErrorCode::InvalidParams, e.to_string()))?;
        let result = f(self, params)?;
        serde_json::to_value(result).map_err(|e| error(ErrorCode::InternalError, e.to_string()))
    }

    fn doc(&self, uri: &Uri) -> Handled<&Document> {
        self.docs.get(uri.as_str()).ok_or_else(|| {
            error(
                ErrorCode::InvalidParams,
                format!("`{}` is not open", uri.as_str()),
            )
        })
    }

    fn offset(doc: &Document, pos: Position) -> usize {
        doc.analysis.lines.offset(&doc.analysis.text, pos)
    }

    fn range(doc: &Document, span: engine::Span) -> lsp_types::Range {
        doc.analysis.lines.range(&doc.analysis.text, span)
    }

    fn notify(&mut self, n: Notification) -> Vec<Message> {
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                let doc = p.text_document;
                self.set(doc.uri, doc.version, doc.text)
            }
            DidChangeTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                let Some(doc) = self.docs.get(p.text_document.uri.as_str()) else {
                    return Vec::new();
                };
                let text = apply_changes(&doc.analysis.text, &p.content_changes, self.encoding);
                self.set(p.text_document.uri, p.text_document.version, text)
            }
            DidCloseTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                self.docs.remove(p.text_document.uri.as_str());
                vec![publish(p.text_document.uri, Vec::new(), None)]
            }
            _ => Vec::new(),
        }
    }

    fn set(&mut self, uri: Uri, version: i32, text: String) -> Vec<Message> {
        let analysis = Analysis::new(&file_name(&uri), &text, self.encoding);
        let diags = diagnostics::all(&analysis, &uri);
        let msg = publish(uri.clone(), diags, Some(version));
        self.docs.insert(
            uri.as_str().to_string(),
            Document {
                uri,
                version,
                analysis,
            },
        );
        vec![msg]
    }

    /// The text of an open document (for tests and benchmarks).
    pub fn text(&self, uri: &Uri) -> Option<&str> {
        self.docs
            .get(uri.as_str())
            .map(|d| d.analysis.text.as_str())
    }

    /// The version of an open document as last reported by the client.
    pub fn version(&self, uri: &Uri) -> Option<i32> {
        self.docs.get(uri.as_str()).map(|d| d.version)
    }

    fn hover(&self, p: lsp_types::HoverParams) -> Handled<Option<Hover>> {
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

    fn definition(
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

    fn references(&self, p: lsp_types::ReferenceParams) -> Handled<Option<Vec<Location>>> {
        let doc = self.doc(&p.text_document_position.text_document.uri)?;
        let offset = Self::offset(doc, p.text_document_position.position);
        let locs: Vec<Location> =
            navigation::references(&doc.analysis, offset, p.context.include_declaration)
                .into_iter()
                .map(|s| Location::new(doc.uri.clone(), Self::range(doc, s)))
                .collect();
        Ok((!locs.is_empty()).then_some(locs))
    }

    fn symbols(
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

    fn rename(&self, p: lsp_types::RenameParams) -> Handled<Option<WorkspaceEdit>> {
        let doc = self.doc(&p.text_document_position.text_document.uri)?;
        let offset = Self::offset(doc, p.text_document_position.position);
        let spans = navigation::rename(&doc.analysis, offset, &p.new_name)
            .map_err(|e| error(ErrorCode::RequestFailed, e.0))?;
        let edits: Vec<TextEdit> = spans
            .into_iter()
            .map(|s| TextEdit::new(Self::range(doc, s), p.new_name.clone()))
            .collect();
        Ok(Some(WorkspaceEdit {
            changes: Some(HashMap::from([(doc.uri.clone(), edits)])),
            ..WorkspaceEdit::default()
        }))
    }

    fn completion(&self, p: lsp_types::CompletionParams) -> Handled<Option<CompletionResponse>> {
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

    fn formatting(&self, p: lsp_types::DocumentFormattingParams) -> Handled<Option<Vec<TextEdit>>> {
        let doc = self.doc(&p.text_document.uri)?;
        let text = &doc.analysis.text;
        let Some(formatted) = engine::format(&file_name(&doc.uri), text) else {
            return Ok(None);
        };
        if formatted == *text {
            return Ok(Some(Vec::new()));
        }
        let whole = Self::range(doc, engine::Span::new(0, text.len()));
        Ok(Some(vec![TextEdit::new(whole, formatted)]))
    }

    fn code_action(
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

fn publish(uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) -> Message {
    Message::Notification(Notification::new(
        PublishDiagnostics::METHOD.to_string(),
        PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        },
    ))
}

/// Applies content changes in order: a change with a range replaces that
/// range (positions in `encoding`, clamped), one without replaces the text.
pub fn apply_changes(
    text: &str,
    changes: &[TextDocumentContentChangeEvent],
    encoding: Encoding,
) -> String {
    let mut text = text.to_string();
    for c in changes {
        match c.range {
            Some(r) => {
                let lines = LineIndex::new(&text, encoding);
                let start = lines.offset(&text, r.start);
                let end = lines.offset(&text, r.end).max(start);
                text.replace_range(start..end, &c.text);
            }
            None => text = c.text.clone(),
        }
    }
    text
}
