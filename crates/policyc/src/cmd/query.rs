//! `policyc query FILE --role R... --action A [--tier T] [--explain]` and
//! `policyc query FILE --batch REQUESTS`.

use std::fmt;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{LabeledSpan, SourceCode};
use policy_compiler::wording;
use policy_eval::wire::{WireDecision, WireError, WireFailure, WireRequest};
use policy_eval::{Decision, Evaluator, Reason};
use policy_syntax::{Code, Diagnostic};

use crate::exit::{CmdError, Exit};
use crate::files::{self, LoadError};
use crate::load::{eval_error, load_evaluator};
use crate::output::{self, OutputFormat};
use crate::render::Format;

/// `policyc query`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy: a `.policy` source, or a compiled artifact (`.json`, `.yaml`, `.yml`).
    pub file: PathBuf,
    /// A role the user holds; repeat for several (their union applies).
    #[arg(long = "role", value_name = "ROLE", required_unless_present = "batch")]
    pub roles: Vec<String>,
    /// The permission asked for.
    #[arg(long, value_name = "PERMISSION", required_unless_present = "batch")]
    pub action: Option<String>,
    /// The tier or context (required when the policy declares tier or contexts).
    #[command(flatten)]
    pub context: crate::context_arg::ContextArgs,
    /// A fact about the request: `CONDITION` or `CONDITION=true` (it holds),
    /// `CONDITION=false` (it does not); repeat for several. A condition
    /// left out is unknown, and a cell that depends on it is conditional.
    #[arg(long = "when", value_name = "CONDITION[=BOOL]", value_parser = policy_eval::parse_fact)]
    pub when: Vec<(String, bool)>,
    /// Explain an allow too (a deny is always explained).
    #[arg(long)]
    pub explain: bool,
    /// Output format.
    #[arg(long, default_value = "human", value_parser = output::accepting(&[OutputFormat::Human, OutputFormat::Json]))]
    pub format: OutputFormat,
    /// Answer many requests: JSON Lines or a YAML list, `-` for stdin; one JSON decision per line.
    #[arg(long, value_name = "REQUESTS", conflicts_with_all = ["roles", "action", "tier", "on", "explain", "when"])]
    pub batch: Option<PathBuf>,
}

/// The largest YAML batch read from stdin, in bytes (a YAML list is parsed
/// whole; JSON Lines are streamed with no total limit): the file limit.
fn max_stdin_yaml_bytes() -> u64 {
    files::max_file_bytes()
}

/// The longest request line of a JSON Lines batch, in bytes.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// The one-line verdict.
fn verdict(d: &Decision) -> String {
    if !d.conditional.is_empty() {
        return wording::report::conditional_verdict(
            &d.roles,
            &d.action,
            d.tier.as_deref(),
            &d.conditional,
        );
    }
    let line = wording::report::verdict(d.allowed, &d.roles, &d.action, d.tier.as_deref());
    if d.when.is_empty() {
        line
    } else {
        format!("{line} {}", wording::report::when(&d.when))
    }
}

/// The first line of the explanation: the derivation chain of an allow, or
/// the decisive reason of a deny.
fn headline(d: &Decision, main: &[&Reason]) -> String {
    if d.allowed {
        let chain: Vec<String> = main.iter().filter_map(|r| r.role.clone()).collect();
        if chain.len() > 1 {
            return wording::report::derivation_chain(&chain, &d.action);
        }
    }
    match main {
        [one] => wording::report::because(&one.message),
        _ if d.allowed => wording::report::derivation(),
        _ => wording::report::because_of(main.len()),
    }
}

/// The explanation as a miette report against the policy source.
#[derive(Debug)]
struct Explanation {
    message: String,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    source: Arc<policy_syntax::RenderSource>,
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
    r.kind.is_nearest_miss()
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
                    Some(wording::report::gate_holds_here()),
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
            source: src.snippets(),
        };
        let handler = crate::render::handler(color);
        let mut out = String::new();
        if handler.render_report(&mut out, &report).is_ok() {
            return policy_syntax::trim_line_ends(&out);
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
                eval.policy().file_name_of(&l),
                l.line,
                l.column
            )),
            None => out.push_str(&format!("  - {}\n", r.message)),
        }
    }
    out
}

/// Runs the command.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    let format = args.format.diagnostics();
    let eval = load_evaluator(&args.file, format)?;
    if let Some(batch) = &args.batch {
        return run_batch(&eval, batch, format);
    }
    // The request a `--batch` line or the server would send: one reading
    // of names on a level (`WireRequest::into_request`).
    let request = WireRequest {
        roles: args.roles.clone(),
        role: None,
        action: args.action.clone().unwrap_or_default(),
        tier: args.context.text(),
        on: None,
        scope: args.context.scope.clone(),
        when: Some(args.when.iter().cloned().collect()),
    }
    .into_parts(&eval)
    .map_err(|e| eval_error(&e, format))?;
    let (request, facts) = request;
    let decision = eval
        .authorize(&request)
        .map(|v| v.explain_with(facts))
        .map_err(|e| eval_error(&e, format))?;
    let mut out = String::new();
    match args.format {
        OutputFormat::Json => {
            let doc = WireDecision::new(&eval, &decision, None);
            out = output::json_document(&doc);
            out.push('\n');
        }
        _ => {
            out.push_str(&verdict(&decision));
            out.push('\n');
            if args.explain {
                out.push_str(&render_explanation(
                    &eval,
                    &decision,
                    output::stdout_color(),
                ));
            } else if !decision.allowed {
                out.push_str(&brief(&eval, &decision));
            }
            if let Some(tier) = decision.tier.as_deref() {
                for role in &decision.not_assignable {
                    out.push_str(&format!(
                        "  note: {}\n",
                        wording::not_assignable(role, tier)
                    ));
                }
            }
        }
    }
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(if decision.allowed {
        Exit::Ok
    } else if decision.conditional.is_empty() {
        Exit::Failure
    } else {
        Exit::Conditional
    })
}

/// A batch that cannot be read: reported in `format` (human text on
/// stderr unless `--format json`), like the policy's own load errors.
fn stdin_error(e: &std::io::Error, format: Format) -> CmdError {
    let d = Diagnostic::new(
        Code::Io,
        format!("cannot read the requests from stdin: {e}"),
    );
    CmdError::new(d, format)
}

/// Where the requests come from.
enum Batch {
    /// A whole text (a file, or a YAML list on stdin) and whether it is YAML.
    Text(String, bool),
    /// JSON Lines on stdin, answered line by line as they arrive.
    Stream(std::io::StdinLock<'static>),
}

fn read_batch(path: &Path, format: Format) -> Result<Batch, CmdError> {
    if path.as_os_str() == "-" {
        let mut stdin = std::io::stdin().lock();
        // Peek past leading whitespace: `-` or `[` starts a YAML list.
        let first = loop {
            let buf = stdin.fill_buf().map_err(|e| stdin_error(&e, format))?;
            match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(i) => break buf.get(i).copied(),
                None if buf.is_empty() => break None,
                None => {
                    let n = buf.len();
                    stdin.consume(n);
                }
            }
        };
        if !matches!(first, Some(b'-' | b'[')) {
            return Ok(Batch::Stream(stdin));
        }
        let mut text = String::new();
        stdin
            .take(max_stdin_yaml_bytes().saturating_add(1))
            .read_to_string(&mut text)
            .map_err(|e| stdin_error(&e, format))?;
        if text.len() as u64 > max_stdin_yaml_bytes() {
            let d = Diagnostic::new(
                Code::FileTooLarge,
                format!(
                    "the YAML list on stdin is larger than {}",
                    files::human_size(max_stdin_yaml_bytes())
                ),
            )
            .help("send JSON Lines instead (one request per line), which have no total limit");
            return Err(CmdError::new(d, format));
        }
        return Ok(Batch::Text(text, true));
    }
    let yaml_ext = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    let source =
        files::load(path).map_err(|e| CmdError::new(LoadError::into_diagnostic(e), format))?;
    Ok(Batch::Text(source.text().to_string(), yaml_ext))
}

/// The next line of a JSON Lines stream, without its line ending: `None` at
/// the end, `Some(Err(()))` for a line over [`MAX_LINE_BYTES`] (skipped to
/// its end) or not UTF-8.
fn next_line(
    input: &mut impl BufRead,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Result<String, String>>> {
    buf.clear();
    let limit = MAX_LINE_BYTES as u64 + 1;
    let n = input.by_ref().take(limit).read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.len() > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
        // Discard the rest of the overlong line.
        loop {
            let chunk = input.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => {
                    input.consume(i + 1);
                    break;
                }
                None => {
                    let len = chunk.len();
                    input.consume(len);
                }
            }
        }
        return Ok(Some(Err(format!(
            "the line is longer than {} KiB",
            MAX_LINE_BYTES / 1024
        ))));
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(Some(
        String::from_utf8(std::mem::take(buf)).map_err(|_| "the line is not UTF-8".to_string()),
    ))
}

/// `--batch`: one compact JSON decision per request on stdout, in input
/// order. A malformed request gives an error object on its line and exit 2
/// at the end; it does not stop the batch. A batch that cannot be read at
/// all is reported in `format`.
fn run_batch(eval: &Evaluator, path: &Path, format: Format) -> Result<Exit, CmdError> {
    let (text, is_yaml) = match read_batch(path, format)? {
        Batch::Text(text, yaml_ext) => {
            let first = text.trim_start().chars().next();
            let is_yaml = yaml_ext || matches!(first, Some('-' | '['));
            (text, is_yaml)
        }
        Batch::Stream(mut stdin) => return stream_batch(eval, &mut stdin, format),
    };
    let items: Vec<(usize, Result<WireRequest, String>)> = if is_yaml {
        match crate::yaml::from_str::<Vec<crate::yaml::Value>>(&text) {
            Ok(values) => values
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i + 1, crate::yaml::from_value(v).map_err(|e| e.to_string())))
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
        let (line, bad) = answer(eval, n, item);
        failed |= bad;
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
    Ok(if failed { Exit::Error } else { Exit::Ok })
}

/// JSON Lines from stdin: each line is answered as it is read (and the
/// answers flushed whenever no more input is waiting), with no limit on the
/// number of lines; a line over the per-line limit is an error on its line.
fn stream_batch(
    eval: &Evaluator,
    input: &mut impl BufRead,
    format: Format,
) -> Result<Exit, CmdError> {
    let mut failed = false;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut buf = Vec::new();
    let mut n = 0;
    while let Some(line) = next_line(input, &mut buf).map_err(|e| stdin_error(&e, format))? {
        n += 1;
        let item = match line {
            Ok(l) if l.trim().is_empty() => continue,
            Ok(l) => serde_json::from_str(&l).map_err(|e| e.to_string()),
            Err(why) => Err(why),
        };
        let (answer, bad) = answer(eval, n, item);
        failed |= bad;
        if writeln!(out, "{answer}").is_err() {
            // The reader went away: stop answering.
            break;
        }
        if input.fill_buf().map_or(true, <[u8]>::is_empty) {
            let _ = out.flush();
        }
    }
    let _ = out.flush();
    Ok(if failed { Exit::Error } else { Exit::Ok })
}

/// The output line for request `n`, and whether it failed.
fn answer(eval: &Evaluator, n: usize, item: Result<WireRequest, String>) -> (String, bool) {
    let answer = item.map_err(WireError::malformed).and_then(|req| {
        req.into_parts(eval)
            .and_then(|(r, facts)| eval.authorize(&r).map(|v| v.explain_with(facts)))
            .map_err(|e| WireError::from(&e))
    });
    match answer {
        Ok(d) => (
            output::json_line(&WireDecision::new(eval, &d, Some(n))),
            false,
        ),
        Err(error) => (output::json_line(&WireFailure { request: n, error }), true),
    }
}
