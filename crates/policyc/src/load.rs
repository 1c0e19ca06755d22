//! Loading what commands work on: a policy source, or an evaluator from a
//! source or a compiled artifact.

use std::path::Path;

use policy_compiler::{compile, has_errors, Policy};
use policy_eval::{EvalError, Evaluator};
use policy_syntax::Diagnostic;

use crate::exit::{CmdError, Exit};
use crate::files::{self, LoadError};
use crate::render::Format;

/// Loads and compiles one policy file for a command that needs a clean
/// policy; any error (or unreadable file) becomes a [`CmdError`].
/// Warnings are returned for the caller to show.
pub fn load_policy(path: &Path, format: Format) -> Result<(Policy, Vec<Diagnostic>), CmdError> {
    let source = match crate::project::load_policy(path) {
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

/// Loads FILE as an evaluator: a compiled artifact when it ends in `.json`,
/// `.yaml` or `.yml`, else a policy source. Any problem is exit 2, so that
/// it cannot be mistaken for a deny (exit 1).
pub fn load_evaluator(path: &Path, format: Format) -> Result<Evaluator, CmdError> {
    evaluator_from_file(path).map_err(|diagnostics| CmdError {
        diagnostics,
        format,
        exit: Exit::Error,
    })
}

/// Reads FILE once and builds its evaluator: a compiled artifact (checked
/// against itself) when it ends in `.json`, `.yaml` or `.yml`, else a policy
/// source, which must compile without errors. Used by the query commands
/// and by `policyc serve` (load and every reload); the errors are returned
/// as diagnostics, warnings are dropped.
pub fn evaluator_from_file(path: &Path) -> Result<Evaluator, Vec<Diagnostic>> {
    let source =
        crate::project::load_policy(path).map_err(|e| vec![LoadError::into_diagnostic(e)])?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some(kind @ ("json" | "yaml" | "yml")) => {
            let loaded = if kind == "json" {
                Evaluator::from_artifact_json(source.text())
            } else {
                crate::artifact::evaluator_from_yaml(source.text())
            };
            loaded.map_err(|e| {
                let d = Diagnostic::new(e.code(), format!("`{}`: {e}", files::display_name(path)));
                vec![match e.help() {
                    Some(h) => d.help(h),
                    None => d,
                }]
            })
        }
        _ => {
            let (policy, diags) = compile(&source);
            if has_errors(&diags) {
                return Err(diags);
            }
            Ok(Evaluator::from_policy(&policy))
        }
    }
}

/// An [`EvalError`] as a command error (exit 2).
pub fn eval_error(e: &EvalError, format: Format) -> CmdError {
    CmdError::new(e.to_diagnostic(), format)
}
