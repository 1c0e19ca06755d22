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

/// Runs the server until the client shuts it down.
pub fn run(_args: LspArgs) -> Result<Exit, CmdError> {
    let (connection, io_threads) = policy_lsp::Connection::stdio();
    let served = policy_lsp::serve(&connection);
    // Close our end so the writer thread finishes, then wait for both threads.
    drop(connection);
    let joined = io_threads.join();
    let failed = |message: String| {
        CmdError::new(
            Diagnostic::new(Code::LspConnection, message)
                .help("start `policyc lsp` from an editor's language client; it speaks LSP on stdin/stdout"),
            Format::Human,
        )
    };
    served.map_err(|e| failed(format!("language server stopped: {e}")))?;
    joined.map_err(|e| failed(format!("language server stdio failed: {e}")))?;
    Ok(Exit::Ok)
}
