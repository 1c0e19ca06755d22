//! `policyc compile FILE [--format json|yaml] [-o OUT]`.

use std::io::Write;
use std::path::PathBuf;

use policy_syntax::{Code, Diagnostic};

use crate::artifact::Artifact;
use crate::exit::{CmdError, Exit};
use crate::files;
use crate::output::{self, OutputFormat};
use crate::render::{self, Format};

/// `policyc compile`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file.
    pub file: PathBuf,
    /// Output format.
    #[arg(long, default_value = "json", value_parser = output::accepting(&[OutputFormat::Json, OutputFormat::Yaml]))]
    pub format: OutputFormat,
    /// Write to this file (atomically) instead of stdout.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

/// Runs the command.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    let (policy, warnings) = crate::load::load_policy(&args.file, Format::Human)?;
    render::emit_diagnostics(&warnings, Format::Human);
    let artifact = Artifact::from_policy(&policy);
    let text = match args.format {
        OutputFormat::Yaml => crate::artifact::to_yaml(&artifact).map_err(|e| e.to_string()),
        _ => crate::artifact::to_json(&artifact).map_err(|e| e.to_string()),
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
        Some(out) => files::write_atomic(out, text.as_bytes(), &[&args.file])
            .map_err(|d| CmdError::new(d, Format::Human))?,
        None => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    Ok(Exit::Ok)
}
