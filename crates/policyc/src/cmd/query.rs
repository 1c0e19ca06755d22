//! `policyc query FILE --role R... --action A [--tier T] [--explain]` and
//! `policyc query FILE --batch REQUESTS`.

use std::fmt;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceCode};
use policy_eval::wire::{WireDecision, WireError, WireFailure, WireRequest};
use policy_eval::{Decision, EvalError, Evaluator, Reason, Request};
use policy_syntax::{Code, Diagnostic};

use crate::cli::{QueryArgs, QueryFormat};
use crate::exit::{CmdError, Exit};
use crate::files::{self, LoadError};
use crate::render::Format;

/// The largest batch read from stdin, in bytes (files use the usual limit).
const MAX_STDIN_BYTES: u64 = files::MAX_FILE_BYTES;

impl From<QueryFormat> for Format {
    fn from(f: QueryFormat) -> Self {
        match f {
            QueryFormat::Human => Format::Human,
            QueryFormat::Json => Format::Json,
        }
    }
}

/// Loads FILE as an evaluator: a compiled artifact when it ends in `.json`,
/// `.yaml` or `.yml`, else a policy source. Any problem is exit 2, so that
/// it cannot be mistaken for a deny (exit 1).
pub fn load_evaluator(path: &Path, format: Format) -> Result<Evaluator, CmdError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some(kind @ ("json" | "yaml" | "yml")) => {
            let source = files::load(path)
                .map_err(|e| CmdError::new(LoadError::into_diagnostic(e), format))?;
            let loaded = if kind == "json" {
                Evaluator::from_artifact_json(source.text())
            } else {
                Evaluator::from_artifact_yaml(source.text())
            };
            loaded.map_err(|e| {
                let d = Diagnostic::new(
                    Code::BadArtifact,
                    format!("`{}`: {e}", files::display_name(path)),
                );
                let d = match e.help() {
                    Some(h) => d.help(h),
                    None => d,
                };
                CmdError::new(d, format)
            })
        }
        _ => match super::load_policy(path, format) {
            Ok((policy, _warnings)) => Ok(Evaluator::from_policy(&policy)),
            Err(mut e) => {
                e.exit = Exit::Error;
                Err(e)
            }
        },
    }
}

/// An [`EvalError`] as a command error (exit 2).
pub fn eval_error(e: &EvalError, format: Format) -> CmdError {
    CmdError::new(e.to_diagnostic(), format)
}

fn json_decision(eval: &Evaluator, d: &Decision, request: Option<usize>) -> WireDecision {
    WireDecision::new(eval, d, request)
}

fn ticks(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The one-line verdict.
fn verdict(d: &Decision) -> String {
    let on = d
        .tier
        .as_ref()
        .map(|t| format!(" on tier `{t}`"))
        .unwrap_or_default();
    if d.allowed {
        format!("allowed: {} can use `{}`{on}", ticks(&d.roles), d.action)
    } else {
        format!("denied: {} cannot use `{}`{on}", ticks(&d.roles), d.action)
    }
}

/// The first line of the explanation: the derivation chain of an allow, or
/// the decisive reason of a deny.
fn headline(d: &Decision, main: &[&Reason]) -> String {
    if d.allowed {
        let chain: Vec<String> = main
            .iter()
            .filter_map(|r| r.role.as_ref().map(|x| format!("`{x}`")))
            .collect();
        if chain.len() > 1 {
            return format!(
                "derivation: {}, which grants `{}`",
                chain.join(" → "),
                d.action
            );
        }
    }
    match main {
        [one] => format!("because {}", one.message),
        _ if d.allowed => "derivation".to_string(),
        _ => format!("because of {} reasons", main.len()),
    }
}

/// The explanation as a miette report against the policy source.
#[derive(Debug)]
struct Explanation {
    message: String,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    source: Arc<NamedSource<Arc<str>>>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Explanation {}

impl miette::Diagnostic for Explanation {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.source.as_ref() as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

fn is_miss(r: &Reason) -> bool {
    matches!(
        r.kind,
        policy_eval::ReasonKind::OtherRoles | policy_eval::ReasonKind::OtherTiers
    )
}

/// Renders the explanation: a miette report when the spans are known (the
/// policy was loaded from source), else one line per reason.
pub fn render_explanation(eval: &Evaluator, d: &Decision, color: bool) -> String {
    let (main, misses): (Vec<&Reason>, Vec<&Reason>) = d.reasons.iter().partition(|r| !is_miss(r));
    let all_spans = main
        .iter()
        .all(|r| r.location.is_none_or(|l| l.span.is_some()));
    if let (Some(src), true) = (eval.source(), all_spans) {
        let mut labels = Vec::new();
        let numbered = d.allowed && main.len() > 1;
        for (i, r) in main.iter().enumerate() {
            let text = if numbered {
                format!("{}. {}", i + 1, r.message)
            } else {
                r.message.clone()
            };
            let primary = if d.allowed { i + 1 == main.len() } else { true };
            match r.location.and_then(|l| l.span) {
                Some(span) if primary => {
                    labels.push(LabeledSpan::new_primary_with_span(Some(text), span))
                }
                Some(span) => labels.push(LabeledSpan::new_with_span(Some(text), span)),
                None => {}
            }
            if let Some(span) = r.related.and_then(|l| l.span) {
                labels.push(LabeledSpan::new_with_span(
                    Some("the grant holds only here".to_string()),
                    span,
                ));
            }
        }
        let mut help: Vec<String> = main
            .iter()
            .filter(|r| r.location.is_none())
            .map(|r| r.message.clone())
            .collect();
        help.extend(misses.iter().map(|r| r.message.clone()));
        let report = Explanation {
            message: headline(d, &main),
            labels,
            help: (!help.is_empty()).then(|| help.join("\n")),
            source: src.named_source(),
        };
        let handler = crate::render::handler(color);
        let mut out = String::new();
        if handler.render_report(&mut out, &report).is_ok() {
            return out;
        }
    }
    brief(eval, d)
}

/// One line per reason, with `file:line:column` where one applies.
fn brief(eval: &Evaluator, d: &Decision) -> String {
    let mut out = String::new();
    for r in &d.reasons {
        match r.location {
            Some(l) => out.push_str(&format!(
                "  - {} ({}:{}:{})\n",
                r.message,
                eval.source_name(),
                l.line,
                l.column
            )),
            None => out.push_str(&format!("  - {}\n", r.message)),
        }
    }
    out
}

fn stdout_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Runs the command.
pub fn run(args: QueryArgs) -> Result<Exit, CmdError> {
    let format = Format::from(args.format);
    let eval = load_evaluator(&args.file, format)?;
    if let Some(batch) = &args.batch {
        return run_batch(&eval, batch);
    }
    let request = Request {
        roles: args.roles.clone(),
        action: args.action.clone().unwrap_or_default(),
        tier: args.tier.clone(),
    };
    let decision = eval.query(&request).map_err(|e| eval_error(&e, format))?;
    let mut out = String::new();
    match args.format {
        QueryFormat::Json => {
            let doc = json_decision(&eval, &decision, None);
            out = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_string());
            out.push('\n');
        }
        QueryFormat::Human => {
            out.push_str(&verdict(&decision));
            out.push('\n');
            if args.explain {
                out.push_str(&render_explanation(&eval, &decision, stdout_color()));
            } else if !decision.allowed {
                out.push_str(&brief(&eval, &decision));
            }
        }
    }
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(if decision.allowed {
        Exit::Ok
    } else {
        Exit::Failure
    })
}

fn read_batch(path: &Path) -> Result<(String, bool), CmdError> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        let read = std::io::stdin()
            .lock()
            .take(MAX_STDIN_BYTES)
            .read_to_string(&mut text);
        if let Err(e) = read {
            let d = Diagnostic::new(
                Code::Io,
                format!("cannot read the requests from stdin: {e}"),
            );
            return Err(CmdError::new(d, Format::Json));
        }
        return Ok((text, false));
    }
    let yaml_ext = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    let source = files::load(path)
        .map_err(|e| CmdError::new(LoadError::into_diagnostic(e), Format::Json))?;
    Ok((source.text().to_string(), yaml_ext))
}

/// `--batch`: one compact JSON decision per request on stdout, in input
/// order. A malformed request gives an error object on its line and exit 2
/// at the end; it does not stop the batch.
fn run_batch(eval: &Evaluator, path: &Path) -> Result<Exit, CmdError> {
    let (text, yaml_ext) = read_batch(path)?;
    let first = text.trim_start().chars().next();
    let is_yaml = yaml_ext || matches!(first, Some('-' | '['));
    let items: Vec<(usize, Result<WireRequest, String>)> = if is_yaml {
        match serde_yaml::from_str::<Vec<serde_yaml::Value>>(&text) {
            Ok(values) => values
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i + 1, serde_yaml::from_value(v).map_err(|e| e.to_string())))
                .collect(),
            Err(e) => vec![(1, Err(format!("the requests are not a YAML list: {e}")))],
        }
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i + 1, serde_json::from_str(l).map_err(|e| e.to_string())))
            .collect()
    };
    let mut failed = false;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (n, item) in items {
        let answer = item.map_err(WireError::malformed).and_then(|req| {
            eval.query(&req.into_request())
                .map_err(|e| WireError::from(&e))
        });
        let line = match answer {
            Ok(d) => serde_json::to_string(&json_decision(eval, &d, Some(n))),
            Err(error) => {
                failed = true;
                serde_json::to_string(&WireFailure { request: n, error })
            }
        };
        let _ = writeln!(out, "{}", line.unwrap_or_else(|_| "{}".to_string()));
    }
    let _ = out.flush();
    Ok(if failed { Exit::Error } else { Exit::Ok })
}
