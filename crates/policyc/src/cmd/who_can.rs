//! `policyc who-can FILE ACTION [--tier T] [--format human|json]`.

use std::path::PathBuf;

use serde::Serialize;

use crate::exit::{CmdError, Exit};
use crate::output::{self, OutputFormat};

use crate::load::{eval_error, load_evaluator, tiers_to_show};
use crate::output::{print_listing, JsonNamed};

/// `policyc who-can`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy: a `.policy` source or a compiled artifact.
    pub file: PathBuf,
    /// The permission.
    pub action: String,
    /// Only this tier (default: every tier).
    #[arg(long)]
    pub tier: Option<String>,
    /// Output format.
    #[arg(long, default_value = "human", value_parser = output::accepting_described(&[
        (OutputFormat::Human, "Per tier, the roles that may use ACTION: `id  label`, aligned"),
        (OutputFormat::Json, "One JSON document: `action` and, per tier, its `roles` (docs/cli.md)"),
    ]))]
    pub format: OutputFormat,
}

/// One tier's answer (JSON contract).
#[derive(Serialize)]
struct JsonTier {
    tier: Option<String>,
    roles: Vec<JsonNamed>,
}

/// The JSON contract of `policyc who-can --format json` (docs/cli.md).
#[derive(Serialize)]
struct JsonWhoCan {
    action: String,
    tiers: Vec<JsonTier>,
}

/// Runs the command.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    let format = args.format.diagnostics();
    let eval = load_evaluator(&args.file, format)?;
    let perm = eval
        .resolve_perm(&args.action)
        .map_err(|e| eval_error(&e, format))?;
    let tiers = tiers_to_show(&eval, args.tier.as_deref(), format)?;
    let answer: Vec<JsonTier> = tiers
        .iter()
        .map(|&t| JsonTier {
            tier: eval.tier_name(t).map(str::to_string),
            roles: eval
                .who_can(t, perm)
                .into_iter()
                .filter_map(|r| eval.role_name(r))
                .map(|(id, label)| JsonNamed {
                    id: id.to_string(),
                    label: label.to_string(),
                })
                .collect(),
        })
        .collect();
    match args.format {
        OutputFormat::Json => output::print_json(&JsonWhoCan {
            action: args.action,
            tiers: answer,
        }),
        _ => print_listing(answer.iter().map(|t| {
            (
                t.tier.as_deref(),
                t.roles.as_slice(),
                "(no role)".to_string(),
            )
        })),
    }
    Ok(Exit::Ok)
}
