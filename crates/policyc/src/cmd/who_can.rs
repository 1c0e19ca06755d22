//! `policyc who-can FILE ACTION [--tier T] [--format human|json]`.

use std::fmt::Write as _;
use std::io::Write;

use policy_eval::wire;

use crate::cli::{QueryFormat, WhoCanArgs};
use crate::exit::{CmdError, Exit};
use crate::render::{self, Format};

use super::query::{eval_error, load_evaluator};

/// A role or permission in the JSON contract.
pub use policy_eval::wire::WireNamed as JsonNamed;

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
    let answer = wire::who_can(&eval, &args.action, args.tier.as_deref())
        .map_err(|e| eval_error(&e, format))?;
    match args.format {
        QueryFormat::Json => render::print_json(&answer),
        QueryFormat::Human => print_listing(
            answer
                .tiers
                .iter()
                .map(|t| (t.tier.as_deref(), t.roles.as_slice())),
            "(no role)",
        ),
    }
    Ok(Exit::Ok)
}
