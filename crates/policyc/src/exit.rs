//! Process exit codes: a public contract (see `docs/cli.md`).

use std::process::{ExitCode, Termination};

use policy_syntax::Diagnostic;

use crate::render::{self, Format};

/// How `policyc` exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success, a clean check, an allowed query.
    Ok,
    /// 1: diagnostics (errors, or warnings under `--deny-warnings`), failed
    /// tests or assertions, a denied query, a detected difference.
    Failure,
    /// 2: usage error, unreadable input, an unknown name.
    Error,
    /// 3: a query whose answer depends on conditions the request does not
    /// state (the third outcome, *conditional*).
    Conditional,
}

impl Termination for Exit {
    fn report(self) -> ExitCode {
        ExitCode::from(match self {
            Exit::Ok => 0,
            Exit::Failure => 1,
            Exit::Error => 2,
            Exit::Conditional => 3,
        })
    }
}

/// A command that could not run: rendered once, then exit 2 (or 1).
#[derive(Debug)]
pub struct CmdError {
    pub diagnostics: Vec<Diagnostic>,
    pub format: Format,
    pub exit: Exit,
}

impl CmdError {
    /// A usage or I/O error (exit 2).
    pub fn new(diagnostic: Diagnostic, format: Format) -> Self {
        CmdError {
            diagnostics: vec![diagnostic],
            format,
            exit: Exit::Error,
        }
    }

    /// Renders the diagnostics to stderr (or JSON on stdout) and gives the exit code.
    pub fn report(self) -> Exit {
        render::emit_diagnostics(&self.diagnostics, self.format);
        self.exit
    }
}
