//! `policyc lsp`: the language server, over stdio.
//!
//! The protocol logic lives in the `policy-lsp` crate, which takes a
//! connection and does no I/O; this command is the one place that wires it
//! to the process's stdin and stdout (stderr stays free for logs).

use clap::Args;
use policy_syntax::{Code, Diagnostic};

use crate::exit::{CmdError, Exit};
use crate::render::Format;

/// `policyc lsp`
#[derive(Debug, Args)]
pub struct LspArgs {
    /// Speak the protocol on stdin/stdout (the default and only transport;
    /// accepted because editors' clients pass it).
    #[arg(long)]
    pub stdio: bool,
}

/// Runs the server until the client sends `exit`: exit status 0 after
/// `shutdown`, 1 without it (as the protocol says), 2 when the connection
/// broke (P0560).
pub fn run(_args: LspArgs) -> Result<Exit, CmdError> {
    let limit = crate::files::max_file_bytes();
    let options = policy_lsp::Options {
        max_document_bytes: usize::try_from(limit).unwrap_or(usize::MAX),
        docs_url: crate::global::docs_url().map(str::to_string),
    };
    // A message may carry a document at the limit with JSON escaping.
    let max_message = limit.saturating_mul(2).saturating_add(1 << 20);
    let stdin = std::io::BufReader::new(std::io::stdin());
    let (connection, io_threads) =
        policy_lsp::transport::transport(stdin, std::io::stdout(), max_message);
    let served = policy_lsp::serve_with(&connection, options);
    // Close our end so the writer thread finishes, then wait for it.
    drop(connection);
    let joined = io_threads.join();
    let failed = |message: String| {
        CmdError::new(
            Diagnostic::new(Code::LspConnection, message)
                .help("start `policyc lsp` from an editor's language client; it speaks LSP on stdin/stdout"),
            Format::Human,
        )
    };
    joined.map_err(|e| failed(format!("language server stopped: {e}")))?;
    match served.map_err(|e| failed(format!("language server stopped: {e}")))? {
        policy_lsp::Ending::Clean => Ok(Exit::Ok),
        policy_lsp::Ending::WithoutShutdown => Ok(Exit::Failure),
    }
}
