//! Rendering diagnostics: human (miette) and JSON.

use std::io::{IsTerminal, Write};

use miette::{GraphicalReportHandler, GraphicalTheme};
use policy_syntax::Diagnostic;
use serde::Serialize;

pub use crate::output::Format;

/// Whether to colour output written to stderr.
pub fn stderr_color() -> bool {
    crate::global::color(std::io::stderr().is_terminal())
}

/// The miette handler every human report goes through: unicode, no
/// syntax highlighting or links, 100 columns; colour only when asked.
pub fn handler(color: bool) -> GraphicalReportHandler {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .without_syntax_highlighting()
        .with_links(false)
        .with_width(100)
}

/// Renders one diagnostic as rustc-like text (`error[P0201]: …`, then snippets).
pub fn render_human(diag: &Diagnostic, color: bool) -> String {
    diag.render(color, 100)
}

/// A source location in JSON output.
#[derive(Debug, Serialize)]
pub struct JsonLocation {
    /// The file, as displayed.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// Byte offsets `[start, end)`.
    pub start: usize,
    /// End byte offset.
    pub end: usize,
}

/// A label in JSON output.
#[derive(Debug, Serialize)]
pub struct JsonLabel {
    /// What the label says.
    pub message: String,
    /// Whether it is the primary label.
    pub primary: bool,
    /// Where.
    pub location: JsonLocation,
}

/// A diagnostic in JSON output.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic {
    /// Stable code, e.g. `P0201`.
    pub code: &'static str,
    /// `error` or `warning`.
    pub severity: &'static str,
    /// The message.
    pub message: String,
    /// The file the diagnostic is about, if any.
    pub file: Option<String>,
    /// The primary location, if any.
    pub location: Option<JsonLocation>,
    /// Every label.
    pub labels: Vec<JsonLabel>,
    /// The help text, if any.
    pub help: Option<String>,
    /// The did-you-mean suggestion, if any.
    pub suggestion: Option<String>,
    /// Every counterexample of a failed assertion (`P0309`); absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub counterexamples: Vec<JsonCounterexample>,
}

/// One counterexample of a failed assertion in JSON output.
#[derive(Debug, Serialize)]
pub struct JsonCounterexample {
    /// The tier (`null` in a policy without tiers).
    pub tier: Option<String>,
    /// The role.
    pub role: String,
    /// The permission.
    pub permission: String,
    /// Whether the role has the permission there (the assertion said the opposite).
    pub allowed: bool,
}

impl JsonDiagnostic {
    /// Converts a diagnostic.
    pub fn from_diag(d: &Diagnostic, file_hint: Option<&str>) -> Self {
        let src = d.source_file();
        let loc = |span: policy_syntax::Span| {
            src.map(|s| {
                let lc = s.line_col(span.start);
                JsonLocation {
                    file: s.file_name_at(span.start).to_string(),
                    line: lc.line,
                    column: lc.column,
                    start: s.file_offset(span.start),
                    end: s.file_offset(span.start) + span.len(),
                }
            })
        };
        JsonDiagnostic {
            code: d.code().as_str(),
            severity: d.severity().as_str(),
            message: d.message().to_string(),
            file: d
                .file_name()
                .map(str::to_string)
                .or_else(|| file_hint.map(str::to_string)),
            location: d.primary_span().and_then(loc),
            labels: d
                .labels()
                .iter()
                .filter_map(|l| {
                    Some(JsonLabel {
                        message: l.message.clone(),
                        primary: l.primary,
                        location: loc(l.span)?,
                    })
                })
                .collect(),
            help: d.help_text(),
            suggestion: d.suggestion().map(str::to_string),
            counterexamples: d
                .counterexamples()
                .iter()
                .map(|c| JsonCounterexample {
                    tier: c.tier.clone(),
                    role: c.role.clone(),
                    permission: c.permission.clone(),
                    allowed: c.allowed,
                })
                .collect(),
        }
    }
}

/// How many diagnostics of one file the human format shows; the rest are
/// counted in one line (the JSON format lists them all). Rendering a
/// snippet costs about a line's worth of work, so a file with 20,000
/// errors still prints in the time of a few hundred.
pub const MAX_RENDERED_PER_FILE: usize = 100;

/// Writes `diags` in the human format, at most [`MAX_RENDERED_PER_FILE`]
/// of each file, then for each file with more a line counting the rest.
pub fn write_human(out: &mut impl Write, diags: &[Diagnostic], color: bool) {
    let mut shown: Vec<(&str, usize, usize)> = Vec::new();
    for d in diags {
        let name = d.file_name().unwrap_or("");
        let at = match shown.iter().position(|(n, _, _)| *n == name) {
            Some(at) => at,
            None => {
                shown.push((name, 0, 0));
                shown.len() - 1
            }
        };
        let Some(entry) = shown.get_mut(at) else {
            continue;
        };
        if entry.1 < MAX_RENDERED_PER_FILE {
            entry.1 += 1;
            let _ = write!(out, "{}", render_human(d, color));
        } else {
            entry.2 += 1;
        }
    }
    for (name, _, rest) in shown {
        if rest > 0 {
            let place = if name.is_empty() {
                String::new()
            } else {
                format!(" in `{name}`")
            };
            let _ = writeln!(
                out,
                "… and {rest} more{place} (`policyc check --format json` lists them all)\n"
            );
        }
    }
}

/// Prints diagnostics for a command that failed before producing output.
pub fn emit_diagnostics(diags: &[Diagnostic], format: Format) {
    match format {
        Format::Human => {
            let color = stderr_color();
            write_human(&mut std::io::stderr().lock(), diags, color);
        }
        Format::Json => {
            #[derive(Serialize)]
            struct Doc {
                diagnostics: Vec<JsonDiagnostic>,
            }
            let doc = Doc {
                diagnostics: diags
                    .iter()
                    .map(|d| JsonDiagnostic::from_diag(d, None))
                    .collect(),
            };
            crate::output::print_json(&doc);
        }
    }
}
