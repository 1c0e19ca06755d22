//! `policyc matrix FILE [--tier T] [--format markdown|json|csv]`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use policy_compiler::{Policy, RoleId, TierId};
use serde::Serialize;

use crate::exit::{CmdError, Exit};
use crate::output::{self, OutputFormat};
use crate::render::{self, Format};

/// `policyc matrix`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file.
    pub file: PathBuf,
    /// The tier to show (default: the highest tier).
    #[arg(long)]
    pub tier: Option<String>,
    /// Output format.
    #[arg(long, default_value = "markdown", value_parser = output::accepting(&[OutputFormat::Markdown, OutputFormat::Json, OutputFormat::Csv]))]
    pub format: OutputFormat,
}

/// A role column (JSON contract).
#[derive(Serialize)]
struct JsonRole {
    id: String,
    label: String,
}

/// A permission row (JSON contract).
#[derive(Serialize)]
struct JsonRow {
    permission: String,
    label: String,
    roles: Vec<String>,
}

/// The JSON contract of `policyc matrix --format json` (docs/cli.md).
#[derive(Serialize)]
struct JsonMatrix {
    tiers: Vec<String>,
    tier: Option<String>,
    roles: Vec<JsonRole>,
    rows: Vec<JsonRow>,
}

fn csv_field(s: &str) -> String {
    let s = &*policy_syntax::escape_controls(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn md_cell(s: &str) -> String {
    policy_syntax::escape_controls(s).replace('|', "\\|")
}

/// The matrix of `tier`: per permission (declaration order), per role
/// (declaration order), whether the evaluator allows it.
pub fn grid(eval: &policy_eval::Evaluator, tier: TierId) -> Vec<Vec<bool>> {
    (0..eval.perm_count() as u32)
        .map(|p| {
            (0..eval.role_count() as u32)
                .map(|r| eval.decide_one(tier, RoleId(r), policy_compiler::PermId(p)))
                .collect()
        })
        .collect()
}

/// The ids of the roles marked in one row of [`grid`].
fn allowed_roles(policy: &Policy, row: &[bool]) -> Vec<String> {
    row.iter()
        .zip(policy.roles())
        .filter(|(a, _)| **a)
        .map(|(_, r)| r.id.clone())
        .collect()
}

/// Runs the command.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    let diag_format = if args.format == OutputFormat::Json {
        Format::Json
    } else {
        Format::Human
    };
    let (policy, warnings) = crate::load::load_policy(&args.file, diag_format)?;
    if diag_format == Format::Human {
        render::emit_diagnostics(&warnings, Format::Human);
    }
    // Every cell is decided by the evaluator a service loads, for the tier
    // its one tier lookup resolves (the highest without `--tier`).
    let eval = policy_eval::Evaluator::from_owned_policy(policy);
    let tier = eval
        .tier_or_highest(args.tier.as_deref())
        .map_err(|e| crate::load::eval_error(&e, diag_format))?;
    let cells = grid(&eval, tier);
    let policy = eval.policy();
    let mut out = String::new();
    match args.format {
        OutputFormat::Json => {
            let m = JsonMatrix {
                tiers: policy.tiers().iter().map(|t| t.id.clone()).collect(),
                tier: policy.tier(tier).map(|t| t.id.clone()),
                roles: policy
                    .roles()
                    .iter()
                    .map(|r| JsonRole {
                        id: r.id.clone(),
                        label: r.label.clone(),
                    })
                    .collect(),
                rows: policy
                    .permissions()
                    .iter()
                    .enumerate()
                    .map(|(i, p)| JsonRow {
                        permission: p.id.clone(),
                        label: p.label.clone(),
                        roles: cells
                            .get(i)
                            .map(|row| allowed_roles(policy, row))
                            .unwrap_or_default(),
                    })
                    .collect(),
            };
            output::print_json(&m);
            return Ok(Exit::Ok);
        }
        OutputFormat::Csv => {
            let mut header = vec!["permission".to_string(), "label".to_string()];
            header.extend(policy.roles().iter().map(|r| csv_field(&r.id)));
            let _ = writeln!(out, "{}", header.join(","));
            for (i, p) in policy.permissions().iter().enumerate() {
                let mut row = vec![csv_field(&p.id), csv_field(&p.label)];
                for &allowed in cells.get(i).map_or(&[][..], Vec::as_slice) {
                    row.push(if allowed { "yes" } else { "no" }.to_string());
                }
                let _ = writeln!(out, "{}", row.join(","));
            }
        }
        _ => {
            if let Some(t) = policy.tier(tier) {
                let _ = writeln!(out, "Tier: `{}`\n", t.id);
            }
            let mut header = String::from("| Permission |");
            let mut rule = String::from("|---|");
            for r in policy.roles() {
                let _ = write!(header, " {} |", md_cell(&r.label));
                rule.push_str(":-:|");
            }
            let _ = writeln!(out, "{header}\n{rule}");
            for (i, p) in policy.permissions().iter().enumerate() {
                let _ = write!(out, "| {} |", md_cell(&p.label));
                for &allowed in cells.get(i).map_or(&[][..], Vec::as_slice) {
                    out.push_str(if allowed { " ✔️ |" } else { "  |" });
                }
                out.push('\n');
            }
        }
    }
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(Exit::Ok)
}
