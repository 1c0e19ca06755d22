//! `policyc assignable FILE ROLE [--tier T | --on D=V ...] [--format human|json]`:
//! the check a product runs when a customer assigns a role. Exit 0 when the
//! role can be given in the context, 1 (with the reason) when it cannot:
//! it does not exist there, or it exists but is no longer given there
//! (`assignable on`; its holders keep it).

use std::io::Write;
use std::path::PathBuf;

use policy_eval::wire;

use crate::exit::{CmdError, Exit};
use crate::load::{eval_error, load_evaluator};
use crate::output::{self, OutputFormat};

/// `policyc assignable`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy: a `.policy` source or a compiled artifact.
    pub file: PathBuf,
    /// The role to be given.
    pub role: String,
    /// The tier or context it would be given in (required when the policy has tiers).
    #[command(flatten)]
    pub context: crate::context_arg::ContextArgs,
    /// Output format.
    #[arg(long, default_value = "human", value_parser = output::accepting_described(&[
        (OutputFormat::Human, "`assignable: …` or `not assignable: …`, with the reason"),
        (OutputFormat::Json, "One JSON document: `role`, `tier`, `assignable`, `kind`, `message` (docs/cli.md)"),
    ]))]
    pub format: OutputFormat,
}

/// Runs the command.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    let format = args.format.diagnostics();
    let eval = load_evaluator(&args.file, format)?;
    let answer = wire::assignment(
        &eval,
        &args.role,
        args.context.text().as_deref(),
        args.context.scope.as_deref(),
    )
    .map_err(|e| eval_error(&e, format))?;
    match args.format {
        OutputFormat::Json => output::print_json(&answer),
        _ => {
            let verdict = if answer.assignable {
                "assignable"
            } else {
                "not assignable"
            };
            let text = policy_syntax::escape_controls(&answer.message);
            let _ = writeln!(std::io::stdout().lock(), "{verdict}: {text}");
        }
    }
    Ok(if answer.assignable {
        Exit::Ok
    } else {
        Exit::Failure
    })
}
