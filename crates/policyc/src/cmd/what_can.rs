//! `policyc what-can FILE ROLE [--tier T] [--format human|json]`.

use policy_eval::wire;

use crate::cli::{QueryFormat, WhatCanArgs};
use crate::exit::{CmdError, Exit};
use crate::render::{self, Format};

use super::query::{eval_error, load_evaluator};
use super::who_can::print_listing;

/// Runs the command.
pub fn run(args: WhatCanArgs) -> Result<Exit, CmdError> {
    let format = Format::from(args.format);
    let eval = load_evaluator(&args.file, format)?;
    let answer = wire::what_can(&eval, &args.role, args.tier.as_deref())
        .map_err(|e| eval_error(&e, format))?;
    match args.format {
        QueryFormat::Json => render::print_json(&answer),
        QueryFormat::Human => print_listing(
            answer
                .tiers
                .iter()
                .map(|t| (t.tier.as_deref(), t.permissions.as_slice())),
            "(nothing)",
        ),
    }
    Ok(Exit::Ok)
}
