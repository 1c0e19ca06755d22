//! One module per subcommand.

pub mod check;
pub mod compile;
pub mod diff;
pub mod explain;
pub mod fmt;
pub mod matrix;
pub mod query;
pub mod serve;
pub mod snapshot;
pub mod test;
pub mod what_can;
pub mod who_can;

use std::path::Path;

use policy_compiler::{compile, has_errors, Policy};
use policy_syntax::Diagnostic;

use crate::exit::{CmdError, Exit};
use crate::files::{self, LoadError};
use crate::render::Format;

/// Loads and compiles one policy file for a command that needs a clean
/// policy; any error (or unreadable file) becomes a [`CmdError`].
/// Warnings are returned for the caller to show.
pub fn load_policy(path: &Path, format: Format) -> Result<(Policy, Vec<Diagnostic>), CmdError> {
    let source = match files::load(path) {
        Ok(s) => s,
        Err(LoadError::Unreadable(d)) => return Err(CmdError::new(d, format)),
        Err(LoadError::Content(d)) => {
            return Err(CmdError {
                diagnostics: vec![d],
                format,
                exit: Exit::Failure,
            })
        }
    };
    let (policy, diags) = compile(&source);
    if has_errors(&diags) {
        return Err(CmdError {
            diagnostics: diags,
            format,
            exit: Exit::Failure,
        });
    }
    Ok((policy, diags))
}
