//! The policyc language server.
//!
//! [`serve`] speaks the Language Server Protocol on an [`lsp_server::Connection`]
//! handed in by the caller; this crate opens no stream of its own
//! (`policyc lsp` hands [`transport::transport`] the process's stdin and
//! stdout, and the transport frames, limits and decodes messages on them).
//! The only files it reads are those of an open document's policy project
//! (through `policy-files`, as the CLI reads them) and the test files a
//! rename edits. Features: diagnostics on open and change
//! (incremental sync) with error-page links (when [`Options::docs_url`] is set), related information and quick
//! fixes; hover with effective permissions per tier and their provenance;
//! go to definition, find references, document symbols, rename; completion in
//! context; formatting with the `policyc fmt` formatter. Positions are
//! negotiated as UTF-8 when the client offers it and UTF-16 otherwise.
//!
//! Every call into the policy engine goes through [`engine`]. A request that
//! panics is answered with an error and the server keeps running.
#![deny(missing_docs)]

pub mod analysis;
pub mod completion;
pub mod diagnostics;
pub mod engine;
pub mod hover;
pub mod navigation;
pub mod position;
mod server;
pub mod test_files;
pub mod transport;

pub use lsp_server::Connection;
pub use server::{
    apply_changes, capabilities, guarded, negotiate, serve, serve_with, Ending, Options,
    ServeError, Server,
};
