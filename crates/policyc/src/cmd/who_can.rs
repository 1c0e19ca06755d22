//! `policyc who-can FILE ACTION [--tier T] [--format human|json]`.

use std::path::PathBuf;

use policy_eval::wire;

use crate::exit::{CmdError, Exit};
use crate::output::{self, OutputFormat};

use crate::load::{eval_error, load_evaluator};
use crate::output::print_listing;

/// `policyc who-can`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy: a `.policy` source or a compiled artifact.
    pub file: PathBuf,
    /// The permission.
    pub action: String,
    /// Only this tier or context (default: every tier or context).
    #[command(flatten)]
    pub context: crate::context_arg::ContextArgs,
    /// Output format.
    #[arg(long, default_value = "human", value_parser = output::accepting_described(&[
        (OutputFormat::Human, "Per tier, the roles that may use ACTION: `id  label`, aligned"),
        (OutputFormat::Json, "One JSON document: `action` and, per tier, its `roles` (docs/cli.md)"),
    ]))]
    pub format: OutputFormat,
}

/// Runs the command.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    let format = args.format.diagnostics();
    let eval = load_evaluator(&args.file, format)?;
    let answer = wire::who_can(
        &eval,
        &args.action,
        args.context.text().as_deref(),
        args.context.scope.as_deref(),
    )
    .map_err(|e| eval_error(&e, format))?;
    match args.format {
        OutputFormat::Json => output::print_json(&answer),
        _ => {
            // Those that hold it only under conditions follow, marked.
            let listed: Vec<Vec<output::JsonNamed>> = answer
                .tiers
                .iter()
                .map(|t| t.roles.iter().chain(&t.conditional).cloned().collect())
                .collect();
            print_listing(answer.tiers.iter().zip(&listed).map(|(t, items)| {
                (
                    t.tier.as_deref(),
                    items.as_slice(),
                    "(no role)".to_string(),
                    None,
                )
            }))
        }
    }
    Ok(Exit::Ok)
}
