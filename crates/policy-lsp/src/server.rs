//! The message loop: documents, dispatch, and the guard that keeps one
//! failing request from taking the server down.
//!
//! A document is compiled alone, or, when it belongs to a policy project
//! (a `policyc.toml` above it lists it), with the project's other files
//! ([`projects`]): the open documents' texts and the others read from disk.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{RecvTimeoutError, Sender};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response, ResponseError};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument,
    Notification as _, PublishDiagnostics,
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
use serde_json::Value;

use crate::analysis::{Analysis, NameKind};
use crate::completion::{self, ItemKind};
use crate::position::{Encoding, LineIndex};
use crate::{diagnostics, engine, hover, navigation};

mod documents;
mod handlers;
mod init;
mod projects;

pub use documents::apply_changes;

use init::initialize;
pub use init::{capabilities, negotiate};

/// Why the server stopped abnormally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeError(pub String);

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServeError {}

/// How a session ended, for the process's exit status: the protocol says
/// `exit` after `shutdown` is 0 and `exit` without it is 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `exit` after `shutdown`.
    Clean,
    /// `exit` without `shutdown` first.
    WithoutShutdown,
}

/// Limits and settings of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The largest document analysed, in bytes (the CLI's file limit); a
    /// larger one gets one `P0504` diagnostic and is not compiled.
    pub max_document_bytes: usize,
    /// The base address of the documentation (`POLICYC_DOCS_URL` in the
    /// CLI): each diagnostic's code links to its page under it
    /// (`codeDescription`, see `Code::doc_url`). `None`: no link.
    pub docs_url: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_document_bytes: usize::try_from(engine::DEFAULT_MAX_FILE_BYTES)
                .unwrap_or(usize::MAX),
            docs_url: None,
        }
    }
}

/// How long the loop waits for more edits before compiling a changed
/// document: a burst of edits costs one compile.
const SETTLE: Duration = Duration::from_millis(25);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before `initialize`: requests get `ServerNotInitialized`.
    Uninitialized,
    /// Between `initialize` and `shutdown`.
    Running,
    /// After `shutdown`: requests get `InvalidRequest`, until `exit`.
    ShutDown,
}

/// Runs the server on `connection` with the default [`Options`]; see [`serve_with`].
pub fn serve(connection: &Connection) -> Result<Ending, ServeError> {
    serve_with(connection, Options::default())
}

/// Runs the server on `connection` until the client sends `exit`, following
/// the protocol's lifecycle: requests before `initialize` are answered with
/// `ServerNotInitialized`, requests after `shutdown` with `InvalidRequest`,
/// notifications before `initialize` and after `shutdown` are dropped. The
/// connection may be stdio ([`crate::transport`]), a socket, or in memory
/// (tests). Edits are applied as they come; a changed document is compiled
/// once the edits stop for a moment ([`SETTLE`]) or when a request needs it,
/// so a burst of edits costs one compile. Formatting runs on its own thread.
pub fn serve_with(connection: &Connection, options: Options) -> Result<Ending, ServeError> {
    let mut phase = Phase::Uninitialized;
    // Whether the client lets the server watch files ([`init::watch_registration`]).
    let mut watch_files = false;
    let mut server = Server::new(Encoding::Utf16);
    server.options = options;
    let send = |m: Message| {
        connection
            .sender
            .send(m)
            .map_err(|e| ServeError(e.to_string()))
    };
    loop {
        let msg = if server.dirty() {
            match connection.receiver.recv_timeout(SETTLE) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    for m in server.settle() {
                        send(m)?;
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match connection.receiver.recv() {
                Ok(m) => m,
                Err(_) => break,
            }
        };
        match msg {
            Message::Request(req) => {
                // A request sees every edit before it compiled (and the
                // client gets their diagnostics first).
                if phase == Phase::Running {
                    for m in server.settle() {
                        send(m)?;
                    }
                }
                let reply = match (phase, req.method.as_str()) {
                    (Phase::Uninitialized, "initialize") => {
                        let init = initialize(req.params);
                        server.encoding = init.encoding;
                        server.roots = init.roots;
                        watch_files = init.watch_files;
                        phase = Phase::Running;
                        Response {
                            id: req.id,
                            response_result: init.result,
                        }
                    }
                    (Phase::Uninitialized, _) => Response::new_err(
                        req.id,
                        ErrorCode::ServerNotInitialized as i32,
                        "the server is not initialized: send `initialize` first".to_string(),
                    ),
                    (_, "initialize") => Response::new_err(
                        req.id,
                        ErrorCode::InvalidRequest as i32,
                        "`initialize` was already received".to_string(),
                    ),
                    (Phase::ShutDown, method) => Response::new_err(
                        req.id,
                        ErrorCode::InvalidRequest as i32,
                        format!("`{method}` after `shutdown`: the server is shutting down"),
                    ),
                    (Phase::Running, "shutdown") => {
                        phase = Phase::ShutDown;
                        Response::new_ok(req.id, Value::Null)
                    }
                    (Phase::Running, _) => match server.request_off_loop(req, &connection.sender) {
                        Some(r) => r,
                        None => continue,
                    },
                };
                send(Message::Response(reply))?;
            }
            Message::Notification(n) if n.method == "exit" => {
                return Ok(if phase == Phase::ShutDown {
                    Ending::Clean
                } else {
                    Ending::WithoutShutdown
                });
            }
            Message::Notification(n) => {
                if phase == Phase::Running && watch_files && n.method == "initialized" {
                    send(Message::Request(init::watch_registration()))?;
                }
                if phase == Phase::Running {
                    for m in server.apply(n) {
                        send(m)?;
                    }
                }
            }
            Message::Response(_) => {}
        }
    }
    Err(ServeError(
        match phase {
            Phase::Uninitialized => "the client closed the connection before `initialize`",
            Phase::Running => "the client closed the connection without `shutdown` and `exit`",
            Phase::ShutDown => "the client closed the connection after `shutdown` without `exit`",
        }
        .to_string(),
    ))
}

/// Runs `f`, turning a panic into `None` so the server keeps serving.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

struct Document {
    uri: Uri,
    version: i32,
    /// The text as the client has it (every edit applied).
    text: String,
    /// The compile the document was last part of: its own, or its
    /// project's (of nothing when over the size limit).
    unit: Arc<Unit>,
    /// The document's file in `unit`.
    file: usize,
    /// Whether `text` changed since the last compile.
    stale: bool,
    /// The manifest of the project the document belongs to, if any.
    project: Option<std::path::PathBuf>,
    /// A manifest above the document that could not be read (P0512),
    /// reported with the document's own diagnostics.
    manifest_problem: Option<engine::Diagnostic>,
}

/// One compile: the analysis and the URI of each of its files (for a
/// document alone, the document's).
struct Unit {
    analysis: Analysis,
    uris: Vec<Uri>,
}

impl Unit {
    fn alone(uri: &Uri, analysis: Analysis) -> Arc<Unit> {
        Arc::new(Unit {
            analysis,
            uris: vec![uri.clone()],
        })
    }
}

/// The server's state: open documents and the negotiated encoding.
pub struct Server {
    encoding: Encoding,
    options: Options,
    docs: HashMap<String, Document>,
    /// The projects of the open documents, by manifest.
    projects: HashMap<std::path::PathBuf, projects::Project>,
    /// The client's workspace folders (where a rename looks for the
    /// `*.test.yaml` files that use the name).
    roots: Vec<std::path::PathBuf>,
    /// Whether a formatting request is being answered on its thread.
    formatting: Arc<AtomicBool>,
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
            options: Options::default(),
            docs: HashMap::new(),
            projects: HashMap::new(),
            roots: Vec::new(),
            formatting: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether a document changed since it was last compiled.
    pub fn dirty(&self) -> bool {
        self.docs.values().any(|d| d.stale) || self.projects.values().any(|p| p.stale)
    }

    /// Compiles every document changed since its last compile (with its
    /// project, if it has one) and returns their diagnostics: the end of a
    /// burst of edits.
    pub fn settle(&mut self) -> Vec<Message> {
        let mut out = Vec::new();
        let stale: Vec<std::path::PathBuf> = self
            .projects
            .iter()
            .filter(|(_, p)| p.stale)
            .map(|(m, _)| m.clone())
            .collect();
        for manifest in stale {
            out.extend(self.settle_project(&manifest));
        }
        let limit = self.options.max_document_bytes;
        let docs_url = self.options.docs_url.as_deref();
        let alone = self.docs.values_mut().filter(|d| d.project.is_none());
        for doc in alone.filter(|d| d.stale) {
            doc.stale = false;
            let mut diags = if doc.text.len() > limit {
                let analysis = Analysis::new(&file_name(&doc.uri), "", self.encoding);
                doc.unit = Unit::alone(&doc.uri, analysis);
                let d = too_large("document", doc.text.len(), limit);
                vec![diagnostics::to_lsp(
                    &doc.unit.analysis,
                    &doc.unit.uris,
                    &d,
                    docs_url,
                )]
            } else {
                let name = file_name(&doc.uri);
                let (text, encoding) = (&doc.text, self.encoding);
                match guarded(|| Analysis::new(&name, text, encoding)) {
                    Some(analysis) => {
                        doc.unit = Unit::alone(&doc.uri, analysis);
                        diagnostics::all(&doc.unit.analysis, &doc.uri, docs_url)
                    }
                    // A contained failure: the last analysis stays.
                    None => continue,
                }
            };
            if let Some(d) = &doc.manifest_problem {
                // Its spans are in the manifest, not in this document.
                let unit = &doc.unit;
                let d = d.unplaced();
                diags.push(diagnostics::to_lsp(
                    &unit.analysis,
                    &unit.uris,
                    &d,
                    docs_url,
                ));
            }
            out.push(publish(doc.uri.clone(), diags, Some(doc.version)));
        }
        out
    }

    /// Answers a request, or starts answering it on a thread of its own
    /// (formatting, whose cost grows with the document) and returns `None`;
    /// that thread sends the response on `sender`.
    pub fn request_off_loop(&mut self, req: Request, sender: &Sender<Message>) -> Option<Response> {
        if req.method != Formatting::METHOD {
            return Some(self.request(req));
        }
        let id = req.id.clone();
        let job = match serde_json::from_value(req.params)
            .map_err(|e| error(ErrorCode::InvalidParams, e.to_string()))
            .and_then(|p| self.formatting_job(p))
        {
            Ok(job) => job,
            Err(e) => {
                return Some(Response {
                    id,
                    response_result: Err(e),
                })
            }
        };
        if self.formatting.swap(true, Ordering::AcqRel) {
            return Some(Response::new_err(
                id,
                ErrorCode::ContentModified as i32,
                "a formatting request is still being answered; try again".to_string(),
            ));
        }
        let busy = Arc::clone(&self.formatting);
        let sender = sender.clone();
        std::thread::spawn(move || {
            let result = guarded(|| job.run()).unwrap_or_else(|| {
                Err(error(
                    ErrorCode::InternalError,
                    "formatting failed inside the server",
                ))
            });
            busy.store(false, Ordering::Release);
            let _ = sender.send(Message::Response(Response {
                id,
                response_result: result,
            }));
        });
        None
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

    /// Handles one notification and compiles what it changed; returns the
    /// messages to send (diagnostics). A panic inside is contained: the
    /// notification is dropped.
    pub fn notification(&mut self, n: Notification) -> Vec<Message> {
        let mut out = self.apply(n);
        out.extend(self.settle());
        out
    }

    /// Handles one notification without compiling: an edit is applied to
    /// the text and the document marked for [`Server::settle`]. A panic
    /// inside is contained: the notification is dropped.
    pub fn apply(&mut self, n: Notification) -> Vec<Message> {
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

    /// The offset (in the analysed text) of a position in the document.
    fn offset(doc: &Document, pos: Position) -> usize {
        doc.unit.analysis.offset(doc.file, pos)
    }

    /// The range of a span in the document's file.
    fn range(doc: &Document, span: engine::Span) -> lsp_types::Range {
        doc.unit.analysis.range(span).1
    }

    /// Where a span is: in the document or another file of its project.
    fn location(doc: &Document, span: engine::Span) -> Option<Location> {
        let (file, range) = doc.unit.analysis.range(span);
        Some(Location::new(doc.unit.uris.get(file)?.clone(), range))
    }

    /// The text of an open document (for tests and benchmarks).
    pub fn text(&self, uri: &Uri) -> Option<&str> {
        self.docs.get(uri.as_str()).map(|d| d.text.as_str())
    }

    /// The version of an open document as last reported by the client.
    pub fn version(&self, uri: &Uri) -> Option<i32> {
        self.docs.get(uri.as_str()).map(|d| d.version)
    }
}

/// The P0504 diagnostic of a document (or project, `what`) of `len` bytes
/// over the server's limit: it is not compiled.
fn too_large(what: &str, len: usize, limit: usize) -> engine::Diagnostic {
    engine::Diagnostic::new(
        engine::Code::FileTooLarge,
        format!(
            "the {what} is {len} bytes; the language server analyses {what}s of at most {limit} bytes"
        ),
    )
    .help("split the policy, or check it with `policyc check --max-file-size`")
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
