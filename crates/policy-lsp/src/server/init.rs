//! The `initialize` handshake: the position encoding, the capabilities
//! announced, and the workspace folders a rename searches for test files.

use lsp_types::notification::DidChangeWatchedFiles;
use lsp_types::request::RegisterCapability;
use lsp_types::{
    DidChangeWatchedFilesRegistrationOptions, FileSystemWatcher, GlobPattern, Registration,
    RegistrationParams,
};

use super::*;

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

/// Whether the client lets the server register file watchers
/// (`workspace.didChangeWatchedFiles.dynamicRegistration`).
pub(super) fn watches_files(params: &InitializeParams) -> bool {
    params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|d| d.dynamic_registration)
        .unwrap_or(false)
}

/// The request sent after `initialized` to a client that lets the server
/// register file watchers: report every change on disk to a policy file
/// or a project manifest (`workspace/didChangeWatchedFiles`), so that a
/// project is compiled again when a file no editor has open changes, and
/// an open file joins a project whose manifest appears.
pub(super) fn watch_registration() -> Request {
    let watcher = |glob: &str| FileSystemWatcher {
        glob_pattern: GlobPattern::String(glob.to_string()),
        kind: None,
    };
    let options = DidChangeWatchedFilesRegistrationOptions {
        watchers: vec![
            watcher("**/*.policy"),
            watcher(&format!("**/{}", policy_files::project::MANIFEST)),
        ],
    };
    let params = RegistrationParams {
        registrations: vec![Registration {
            id: "policyc-files".to_string(),
            method: DidChangeWatchedFiles::METHOD.to_string(),
            register_options: serde_json::to_value(options).ok(),
        }],
    };
    Request::new(
        lsp_server::RequestId::from("policyc/watch-files".to_string()),
        RegisterCapability::METHOD.to_string(),
        params,
    )
}

/// What `initialize` settled: the negotiated encoding, the workspace
/// folders (local paths), whether to register file watchers, and the
/// result.
pub(super) struct Initialized {
    pub encoding: Encoding,
    pub roots: Vec<std::path::PathBuf>,
    pub watch_files: bool,
    pub result: Result<Value, ResponseError>,
}

/// Answers `initialize`.
pub(super) fn initialize(params: Value) -> Initialized {
    let params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let encoding = negotiate(&params);
    let watch_files = watches_files(&params);
    #[allow(deprecated, reason = "`rootUri` is still what many clients send")]
    let root = params.root_uri.clone();
    let roots: Vec<std::path::PathBuf> = params
        .workspace_folders
        .iter()
        .flatten()
        .map(|f| f.uri.clone())
        .chain(root)
        .filter_map(|u| crate::test_files::path_of(&u))
        .collect();
    let result = InitializeResult {
        capabilities: capabilities(encoding),
        server_info: Some(ServerInfo {
            name: "policyc".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
    };
    let result =
        serde_json::to_value(result).map_err(|e| error(ErrorCode::InternalError, e.to_string()));
    Initialized {
        encoding,
        roots,
        watch_files,
        result,
    }
}
