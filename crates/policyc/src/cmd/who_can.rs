//! `policyc who-can FILE ACTION [--tier T] [--format human|json]`.

use std::fmt::Write as _;
use std::io::Write;

use policy_eval::{Evaluator, TierId};
use serde::Serialize;

use crate::cli::{QueryFormat, WhoCanArgs};
use crate::exit::{CmdError, Exit};
use crate::render::{self, Format};

use super::query::{eval_error, load_evaluator};

/// A role in the JSON contract.
#[derive(Serialize)]
pub struct JsonNamed {
    /// Its id.
    pub id: String,
    /// Its label.
    pub label: String,
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

/// The tiers to answer for: the one named, or every tier (the implicit one
/// of a tierless policy). An unknown or superfluous tier is exit 2.
pub fn tiers_to_show(
    eval: &Evaluator,
    tier: Option<&str>,
    format: Format,
) -> Result<Vec<TierId>, CmdError> {
    match tier {
        Some(_) => Ok(vec![eval
            .resolve_tier(tier)
            .map_err(|e| eval_error(&e, format))?]),
        None => Ok((0..eval.tier_count() as u32).map(TierId).collect()),
    }
}

/// Prints a per-tier listing of `id  label` lines (the human format of
/// `who-can` and `what-can`); `empty` stands in for an empty tier.
pub fn print_listing<'a>(
    tiers: impl Iterator<Item = (Option<&'a str>, &'a [JsonNamed])>,
    empty: &str,
) {
    let mut out = String::new();
    for (tier, items) in tiers {
        if let Some(name) = tier {
            let _ = writeln!(out, "{name}:");
        }
        if items.is_empty() {
            let _ = writeln!(out, "  {empty}");
        }
        for item in items {
            let _ = writeln!(out, "  {}  {}", item.id, item.label);
        }
    }
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
}

/// Runs the command.
pub fn run(args: WhoCanArgs) -> Result<Exit, CmdError> {
    let format = Format::from(args.format);
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
        QueryFormat::Json => render::print_json(&JsonWhoCan {
            action: args.action,
            tiers: answer,
        }),
        QueryFormat::Human => print_listing(
            answer
                .iter()
                .map(|t| (t.tier.as_deref(), t.roles.as_slice())),
            "(no role)",
        ),
    }
    Ok(Exit::Ok)
}
