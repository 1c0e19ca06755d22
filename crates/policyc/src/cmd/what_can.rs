//! `policyc what-can FILE ROLE [--tier T] [--format human|json]`.

use serde::Serialize;

use crate::cli::{QueryFormat, WhatCanArgs};
use crate::exit::{CmdError, Exit};
use crate::render::{self, Format};

use super::query::{eval_error, load_evaluator};
use super::who_can::{print_listing, tiers_to_show, JsonNamed};

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
pub fn run(args: WhatCanArgs) -> Result<Exit, CmdError> {
    let format = Format::from(args.format);
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
        QueryFormat::Json => render::print_json(&JsonWhatCan {
            role: args.role,
            tiers: answer,
        }),
        QueryFormat::Human => print_listing(
            answer
                .iter()
                .map(|t| (t.tier.as_deref(), t.permissions.as_slice())),
            "(nothing)",
        ),
    }
    Ok(Exit::Ok)
}
