//! `policyc what-can FILE ROLE [--tier T] [--format human|json]`.

use policy_compiler::wording;
use policy_eval::{wire, Evaluator, RoleId, TierId};
use std::path::PathBuf;

use crate::exit::{CmdError, Exit};
use crate::output::{self, OutputFormat};

use crate::load::{eval_error, load_evaluator};
use crate::output::print_listing;

/// `policyc what-can`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy: a `.policy` source or a compiled artifact.
    pub file: PathBuf,
    /// The role.
    pub role: String,
    /// Only this tier or context (default: every tier or context).
    #[command(flatten)]
    pub context: crate::context_arg::ContextArgs,
    /// Output format.
    #[arg(long, default_value = "human", value_parser = output::accepting_described(&[
        (OutputFormat::Human, "Per tier, the permissions ROLE may use: `id  label`, aligned; where it has none, why"),
        (OutputFormat::Json, "One JSON document: `role` and, per tier, its `permissions` (docs/cli.md)"),
    ]))]
    pub format: OutputFormat,
}

/// Runs the command.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    let format = args.format.diagnostics();
    let eval = load_evaluator(&args.file, format)?;
    let scope = args.context.scope.as_deref();
    let role = eval
        .scoped_name(scope, policy_syntax::NameKind::Role, &args.role)
        .and_then(|name| eval.resolve_role(&name))
        .map_err(|e| eval_error(&e, format))?;
    let tiers = eval
        .tiers_to_show(args.context.text().as_deref())
        .map_err(|e| eval_error(&e, format))?;
    let answer = wire::what_can(&eval, &args.role, args.context.text().as_deref(), scope)
        .map_err(|e| eval_error(&e, format))?;
    match args.format {
        OutputFormat::Json => output::print_json(&answer),
        _ => {
            // Those it holds only under conditions follow, marked.
            let listed: Vec<Vec<output::JsonNamed>> = answer
                .tiers
                .iter()
                .map(|t| {
                    t.permissions
                        .iter()
                        .chain(&t.conditional)
                        .cloned()
                        .collect()
                })
                .collect();
            print_listing(answer.tiers.iter().zip(&tiers).zip(&listed).map(
                |((t, &tier), items)| {
                    (
                        t.tier.as_deref(),
                        items.as_slice(),
                        nothing(&eval, tier, role),
                        (t.assignable == Some(false)).then(|| {
                            wording::not_assignable(&args.role, eval.policy().tier_name(tier))
                        }),
                    )
                },
            ))
        }
    }
    Ok(Exit::Ok)
}

/// What a tier with no permissions for `role` shows: `(nothing)`, and why
/// when the role is not available on that tier at all, in the engine's words.
fn nothing(eval: &Evaluator, tier: TierId, role: RoleId) -> String {
    let policy = eval.policy();
    let why = if eval.perm_count() == 0 {
        Some(wording::listing::no_permissions())
    } else if policy.role_available(role, tier) {
        None
    } else {
        let rname = eval.role_name(role).map_or("?", |r| r.0);
        Some(wording::role_unavailable(rname, policy.tier_name(tier)))
    };
    wording::listing::nothing(why.as_deref())
}
