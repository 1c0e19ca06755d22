//! `policyc matrix FILE [--tier T | --on D=V ...] [--scope S [--outer]] [--format markdown|json|csv]`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use policy_compiler::{ConditionSet, PermId, Policy, RoleId, ScopeId, TierId};
use serde::Serialize;

use crate::exit::{CmdError, Exit};
use crate::output::{self, OutputFormat};
use crate::render::{self, Format};

/// `policyc matrix`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file.
    pub file: PathBuf,
    /// The tier or context to show (default: the highest tier or context).
    #[command(flatten)]
    pub context: crate::context_arg::ContextArgs,
    /// With `--scope`, also the columns of the outer levels' roles that act
    /// on the level (their effective cells there).
    #[arg(long, requires = "scope")]
    pub outer: bool,
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
    /// The roles that hold it only under conditions, with the ways.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    conditional: Vec<JsonConditional>,
}

/// A cell held only under conditions (JSON contract): the role, and each
/// way (the conditions that, all holding, allow it).
#[derive(Serialize)]
struct JsonConditional {
    role: String,
    when: Vec<Vec<String>>,
}

/// The cells of one context held only under conditions: (permission,
/// role, ways), by permission then role; empty without conditions.
type Ways = Vec<(usize, usize, Vec<ConditionSet>)>;

/// The conditional cells of `tier` (held only under conditions).
fn conditional_cells(eval: &policy_eval::Evaluator, tier: TierId) -> Ways {
    let policy = eval.policy();
    if !policy.has_conditional() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for p in 0..eval.perm_count() {
        for r in 0..eval.role_count() {
            let ways = policy.conditional_ways(tier, RoleId(r as u32), PermId(p as u32));
            if !ways.is_empty() {
                out.push((p, r, ways.to_vec()));
            }
        }
    }
    out
}

/// The ways of one cell, if it is conditional.
fn ways_of(ways: &Ways, perm: usize, role: usize) -> Option<&[ConditionSet]> {
    ways.binary_search_by(|(p, r, _)| (*p, *r).cmp(&(perm, role)))
        .ok()
        .and_then(|i| ways.get(i))
        .map(|(_, _, w)| w.as_slice())
}

/// A conditional cell as words: "if own and x or y" (`quote`: the
/// condition ids in backticks, for Markdown).
fn when_text(policy: &Policy, ways: &[ConditionSet], quote: bool) -> String {
    let q = if quote { "`" } else { "" };
    let ways: Vec<String> = ways
        .iter()
        .map(|w| {
            policy
                .condition_names(*w)
                .iter()
                .map(|c| format!("{q}{c}{q}"))
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .collect();
    format!("if {}", ways.join(" or "))
}

/// Contexts that share one table, and its rows (JSON contract).
#[derive(Serialize)]
struct JsonGroup {
    contexts: Vec<String>,
    rows: Vec<JsonRow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    not_assignable: Vec<String>,
}

/// The JSON contract of `policyc matrix --format json` (docs/cli.md):
/// `tier` and `rows` are the first group's; `groups` is there only for a
/// policy with several dimensions.
#[derive(Serialize)]
struct JsonMatrix {
    /// The level shown (`--scope`); absent for a whole policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    tiers: Vec<String>,
    tier: Option<String>,
    roles: Vec<JsonRole>,
    rows: Vec<JsonRow>,
    /// The roles available on `tier` but no longer assignable there.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    not_assignable: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    groups: Vec<JsonGroup>,
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

/// The ids of the roles marked in one row of [`grid`], among `view`'s.
fn allowed_roles(policy: &Policy, view: &View, row: &[bool]) -> Vec<String> {
    view.roles
        .iter()
        .filter(|&&r| row.get(r).copied().unwrap_or(false))
        .filter_map(|&r| policy.role(RoleId(r as u32)).map(|x| x.id.clone()))
        .collect()
}

/// The rows and columns of one table: all of them, or one level's
/// permissions with its roles (and, `--outer`, the outer roles that act
/// on it).
struct View {
    /// The level, for its heading.
    scope: Option<ScopeId>,
    /// Permission indexes, in declaration order.
    perms: Vec<usize>,
    /// Role indexes, in declaration order.
    roles: Vec<usize>,
}

/// The tables to print: the whole policy; in a policy with levels, one
/// per level (`--scope`: that one).
fn views(
    eval: &policy_eval::Evaluator,
    scope: Option<&str>,
    outer: bool,
) -> Result<Vec<View>, policy_eval::EvalError> {
    let policy = eval.policy();
    let all = |n: usize| (0..n).collect::<Vec<_>>();
    let scope = eval.resolve_scope(scope)?.and_then(|s| policy.scope_id(s));
    let level = |s: ScopeId, outer: bool| View {
        scope: Some(s),
        perms: all(policy.permissions().len())
            .into_iter()
            .filter(|&p| policy.permissions().get(p).and_then(|x| x.scope) == Some(s))
            .collect(),
        roles: all(policy.roles().len())
            .into_iter()
            .filter(|&r| {
                let role = RoleId(r as u32);
                policy.role(role).and_then(|x| x.scope) == Some(s)
                    || (outer && policy.reaches(role, s))
            })
            .collect(),
    };
    Ok(match scope {
        Some(s) => vec![level(s, outer)],
        None if policy.scopes().is_empty() => vec![View {
            scope: None,
            perms: all(policy.permissions().len()),
            roles: all(policy.roles().len()),
        }],
        None => (0..policy.scopes().len() as u32)
            .map(|s| level(ScopeId(s), false))
            .collect(),
    })
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
    let shown = shown_contexts(&eval, args.context.text().as_deref())
        .map_err(|e| crate::load::eval_error(&e, diag_format))?;
    let views = views(&eval, args.context.scope.as_deref(), args.outer)
        .map_err(|e| crate::load::eval_error(&e, diag_format))?;
    // JSON and CSV hold one table: the level asked for, or every row.
    let whole = View {
        scope: None,
        perms: (0..eval.perm_count()).collect(),
        roles: (0..eval.role_count()).collect(),
    };
    let one = match views.as_slice() {
        [v] => v,
        _ => &whole,
    };
    // Contexts whose tables are equal share one table, in the order of
    // their first context.
    // A group is one table: the cells, which roles are kept but no longer
    // assignable (marked in the header), and the rows' wording.
    type Table = (Vec<Vec<bool>>, Vec<bool>, Vec<String>, Ways);
    let mut groups: Vec<(Vec<TierId>, Table)> = Vec::new();
    for tier in shown {
        let kept = (0..eval.role_count() as u32)
            .map(|r| eval.policy().role_kept_not_assignable(RoleId(r), tier))
            .collect();
        let labels = (0..eval.perm_count() as u32)
            .map(|p| {
                eval.policy()
                    .perm_label(policy_compiler::PermId(p), tier)
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        let table = (
            grid(&eval, tier),
            kept,
            labels,
            conditional_cells(&eval, tier),
        );
        match groups.iter_mut().find(|(_, t)| *t == table) {
            Some((tiers, _)) => tiers.push(tier),
            None => groups.push((vec![tier], table)),
        }
    }
    let policy = eval.policy();
    let kept_ids = |kept: &[bool]| -> Vec<String> {
        one.roles
            .iter()
            .filter(|&&r| kept.get(r).copied().unwrap_or(false))
            .filter_map(|&r| policy.role(RoleId(r as u32)).map(|x| x.id.clone()))
            .collect()
    };
    let names = |tiers: &[TierId]| -> Vec<String> {
        tiers
            .iter()
            .filter_map(|t| policy.tier(*t).map(|x| x.id.clone()))
            .collect()
    };
    let json_rows = |cells: &[Vec<bool>], labels: &[String], ways: &Ways| -> Vec<JsonRow> {
        one.perms
            .iter()
            .filter_map(|&i| Some((i, policy.permissions().get(i)?)))
            .map(|(i, p)| JsonRow {
                permission: p.id.clone(),
                label: labels.get(i).cloned().unwrap_or_default(),
                roles: cells
                    .get(i)
                    .map(|row| allowed_roles(policy, one, row))
                    .unwrap_or_default(),
                conditional: one
                    .roles
                    .iter()
                    .filter_map(|&r| {
                        let w = ways_of(ways, i, r)?;
                        Some(JsonConditional {
                            role: policy.role(RoleId(r as u32))?.id.clone(),
                            when: w.iter().map(|c| policy.condition_names(*c)).collect(),
                        })
                    })
                    .collect(),
            })
            .collect()
    };
    let several = by_context(policy);
    let mut out = String::new();
    match args.format {
        OutputFormat::Json => {
            let first = groups.first();
            let m = JsonMatrix {
                scope: one
                    .scope
                    .and_then(|s| policy.scope(s))
                    .map(|s| s.id.clone()),
                tiers: policy.tiers().iter().map(|t| t.id.clone()).collect(),
                tier: first
                    .and_then(|(t, _)| t.first())
                    .and_then(|t| policy.tier(*t))
                    .map(|t| t.id.clone()),
                roles: one
                    .roles
                    .iter()
                    .filter_map(|&r| policy.role(RoleId(r as u32)))
                    .map(|r| JsonRole {
                        id: r.id.clone(),
                        label: r.label.clone(),
                    })
                    .collect(),
                rows: first
                    .map(|(_, (c, _, l, w))| json_rows(c, l, w))
                    .unwrap_or_default(),
                not_assignable: first
                    .map(|(_, (_, k, _, _))| kept_ids(k))
                    .unwrap_or_default(),
                groups: groups
                    .iter()
                    .filter(|_| several)
                    .map(|(t, (c, k, l, w))| JsonGroup {
                        contexts: names(t),
                        rows: json_rows(c, l, w),
                        not_assignable: kept_ids(k),
                    })
                    .collect(),
            };
            output::print_json(&m);
            return Ok(Exit::Ok);
        }
        OutputFormat::Csv => {
            let mut header = Vec::new();
            if several {
                header.push("contexts".to_string());
            }
            header.extend(["permission".to_string(), "label".to_string()]);
            header.extend(
                one.roles
                    .iter()
                    .filter_map(|&r| policy.role(RoleId(r as u32)))
                    .map(|r| csv_field(&r.id)),
            );
            let _ = writeln!(out, "{}", header.join(","));
            for (tiers, (cells, _, labels, ways)) in &groups {
                for &i in &one.perms {
                    let Some(p) = policy.permissions().get(i) else {
                        continue;
                    };
                    let mut row = Vec::new();
                    if several {
                        row.push(csv_field(&names(tiers).join(" ")));
                    }
                    let label = labels.get(i).map_or("", String::as_str);
                    row.extend([csv_field(&p.id), csv_field(label)]);
                    let cells = cells.get(i).map_or(&[][..], Vec::as_slice);
                    for &r in &one.roles {
                        let allowed = cells.get(r).copied().unwrap_or(false);
                        row.push(match (allowed, ways_of(ways, i, r)) {
                            (true, _) => "yes".to_string(),
                            (false, Some(w)) => csv_field(&when_text(policy, w, false)),
                            (false, None) => "no".to_string(),
                        });
                    }
                    let _ = writeln!(out, "{}", row.join(","));
                }
            }
        }
        _ => {
            let several_views = views.len() > 1;
            for (k, (view, (tiers, (cells, kept, labels, ways)))) in views
                .iter()
                .flat_map(|v| groups.iter().map(move |g| (v, g)))
                .enumerate()
            {
                if k > 0 {
                    out.push('\n');
                }
                if let Some(s) = view.scope.and_then(|s| policy.scope(s)) {
                    if several_views || view.roles.len() > 1 || args.outer {
                        let _ = writeln!(out, "Scope: `{}` ({})", s.id, s.label);
                    }
                }
                let quoted: Vec<String> = names(tiers).iter().map(|t| format!("`{t}`")).collect();
                match quoted.as_slice() {
                    [] => {}
                    [one] if !several => {
                        let _ = writeln!(out, "Tier: {one}\n");
                    }
                    [one] => {
                        let _ = writeln!(out, "Context: {one}\n");
                    }
                    all => {
                        let _ = writeln!(out, "Contexts (one table): {}\n", all.join(", "));
                    }
                }
                markdown_table(&mut out, policy, view, (cells, ways), kept, labels);
            }
        }
    }
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(Exit::Ok)
}

/// The contexts a matrix shows: the one named, or the highest; with
/// several dimensions or unordered values, every context (or every one
/// with the values named, `--on plan=pro`).
fn shown_contexts(
    eval: &policy_eval::Evaluator,
    text: Option<&str>,
) -> Result<Vec<TierId>, policy_eval::EvalError> {
    if by_context(eval.policy()) {
        eval.tiers_to_show(text)
    } else {
        Ok(vec![eval.tier_or_highest(text)?])
    }
}

/// Whether the matrix is drawn per context: with several dimensions, or
/// one whose values are unordered (`cloud | server`), which has no highest
/// value to stand for the others.
fn by_context(policy: &Policy) -> bool {
    let dims = policy.dimensions();
    dims.len() > 1 || dims.first().is_some_and(|d| d.unordered)
}

/// One Markdown table: a row per permission, a column per role.
/// A role kept but no longer assignable is marked `†` in the header, with
/// a legend under the table.
fn markdown_table(
    out: &mut String,
    policy: &Policy,
    view: &View,
    (cells, ways): (&[Vec<bool>], &Ways),
    kept: &[bool],
    labels: &[String],
) {
    let mut header = String::from("| Permission |");
    let mut rule = String::from("|---|");
    for &i in &view.roles {
        let Some(r) = policy.role(RoleId(i as u32)) else {
            continue;
        };
        let mark = if kept.get(i).copied().unwrap_or(false) {
            " †"
        } else {
            ""
        };
        // An outer level's role is named with its level.
        let label = match (r.scope, view.scope) {
            (Some(own), Some(shown)) if own != shown => {
                let level = policy.scope(own).map_or("", |s| s.label.as_str());
                format!("{level} {}", r.label)
            }
            _ => r.label.clone(),
        };
        let _ = write!(header, " {}{mark} |", md_cell(&label));
        rule.push_str(":-:|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    for &i in &view.perms {
        let label = labels.get(i).map_or("", String::as_str);
        let _ = write!(out, "| {} |", md_cell(label));
        let row = cells.get(i).map_or(&[][..], Vec::as_slice);
        for &r in &view.roles {
            let allowed = row.get(r).copied().unwrap_or(false);
            match (allowed, ways_of(ways, i, r)) {
                (true, _) => out.push_str(" ✔️ |"),
                (false, Some(w)) => {
                    let _ = write!(out, " {} |", md_cell(&when_text(policy, w, true)));
                }
                (false, None) => out.push_str("  |"),
            }
        }
        out.push('\n');
    }
    // The conditions the table's cells name, with their labels.
    let named = ways
        .iter()
        .filter(|(p, r, _)| view.perms.contains(p) && view.roles.contains(r))
        .fold(0u64, |acc, (_, _, w)| w.iter().fold(acc, |a, c| a | c.0));
    if named != 0 {
        out.push('\n');
        let indices: std::collections::BTreeSet<usize> =
            ConditionSet(named).literals().map(|(i, _)| i).collect();
        for c in indices.iter().filter_map(|&i| policy.conditions().get(i)) {
            let _ = writeln!(out, "- `{}`: {}", c.id, md_cell(&c.label));
        }
    }
    if view
        .roles
        .iter()
        .any(|&r| kept.get(r).copied().unwrap_or(false))
    {
        let _ = writeln!(
            out,
            "\n† {}",
            policy_compiler::wording::listing::kept_not_assignable()
        );
    }
}
