//! `policyc compile FILE [--format json|yaml] [-o OUT]`.

use std::io::Write;

use policy_syntax::{Code, Diagnostic};

use crate::artifact::Artifact;
use crate::cli::{ArtifactFormat, CompileArgs};
use crate::exit::{CmdError, Exit};
use crate::files;
use crate::render::{self, Format};

/// Runs the command.
pub fn run(args: CompileArgs) -> Result<Exit, CmdError> {
    let (policy, warnings) = super::load_policy(&args.file, Format::Human)?;
    render::emit_diagnostics(&warnings, Format::Human);
    let artifact = Artifact::from_policy(&policy);
    let text = match args.format {
        ArtifactFormat::Json => serde_json::to_string_pretty(&artifact)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string()),
        ArtifactFormat::Yaml => crate::artifact::to_yaml(&artifact).map_err(|e| e.to_string()),
    }
    .map_err(|e| {
        CmdError::new(
            Diagnostic::new(
                Code::BadArtifact,
                format!("cannot serialize the compiled policy: {e}"),
            ),
            Format::Human,
        )
    })?;
    match &args.output {
        Some(out) => files::write_atomic(out, text.as_bytes())
            .map_err(|d| CmdError::new(d, Format::Human))?,
        None => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    Ok(Exit::Ok)
}
