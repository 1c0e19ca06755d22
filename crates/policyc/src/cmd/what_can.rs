//! `policyc what-can FILE ROLE [--tier T] [--format human|json]`.

use serde::Serialize;
use std::path::PathBuf;

use crate::exit::{CmdError, Exit};
use crate::output::{self, OutputFormat};

use crate::load::{eval_error, load_evaluator, tiers_to_show};
use crate::output::{print_listing, JsonNamed};

/// `policyc what-can`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy: a `.policy` source or a compiled artifact.
    pub file: PathBuf,
    /// The role.
    pub role: String,
    /// Only this tier (default: every tier).
    #[arg(long)]
    pub tier: Option<String>,
    /// Output format.
    #[arg(long, default_value = "human", value_parser = output::accepting(&[OutputFormat::Human, OutputFormat::Json]))]
    pub format: OutputFormat,
}

/// One tier's answer (JSON contract).
#[derive(Serialize)]
struct JsonTier {
    tier: Option<String>,
    permissions: Vec<JsonNamed>,
}

/// The JSON contract of `policyc what-can --format json` (docs/cli.md).
#[derive(Serialize)]
struct JsonWhatCan {
    role: String,
    tiers: Vec<JsonTier>,
}

/// Runs the command.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    let format = args.format.diagnostics();
    let eval = load_evaluator(&args.file, format)?;
    let role = eval
        .resolve_role(&args.role)
        .map_err(|e| eval_error(&e, format))?;
    let tiers = tiers_to_show(&eval, args.tier.as_deref(), format)?;
    let answer: Vec<JsonTier> = tiers
        .iter()
        .map(|&t| JsonTier {
            tier: eval.tier_name(t).map(str::to_string),
            permissions: eval
                .what_can(t, role)
                .into_iter()
                .filter_map(|p| eval.perm_name(p))
                .map(|(id, label)| JsonNamed {
                    id: id.to_string(),
                    label: label.to_string(),
                })
                .collect(),
        })
        .collect();
    match args.format {
        OutputFormat::Json => output::print_json(&JsonWhatCan {
            role: args.role,
            tiers: answer,
        }),
        _ => print_listing(
            answer
                .iter()
                .map(|t| (t.tier.as_deref(), t.permissions.as_slice())),
            "(nothing)",
        ),
    }
    Ok(Exit::Ok)
}
