//! Output shared by every command: the one output-format type, the JSON
//! envelope, and the per-tier listings of `who-can` and `what-can`.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::ValueEnum;
use serde::Serialize;

/// How to print diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// miette reports on stderr.
    Human,
    /// A JSON document on stdout.
    Json,
}

/// Every output format any command speaks. Each command accepts the subset
/// it lists with [`accepting`]; `--help` shows only those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Text for a terminal: rendered reports, verdicts, listings.
    Human,
    /// One JSON document (JSON Lines for `query --batch`), `schema_version` first.
    Json,
    /// Markdown, for documentation and pull-request comments.
    Markdown,
    /// Comma-separated values with a header row.
    Csv,
    /// YAML.
    Yaml,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…::…`).
    Github,
    /// JUnit XML, for CI test reports.
    Junit,
}

impl OutputFormat {
    /// How diagnostics are reported alongside this output: as a JSON
    /// document when the output is JSON, rendered on stderr otherwise.
    pub fn diagnostics(self) -> Format {
        match self {
            OutputFormat::Json => Format::Json,
            _ => Format::Human,
        }
    }
}

/// A `--format` value parser accepting only `allowed` (in that order).
pub fn accepting(allowed: &'static [OutputFormat]) -> impl TypedValueParser<Value = OutputFormat> {
    let names = allowed
        .iter()
        .filter_map(|f| f.to_possible_value())
        .collect::<Vec<_>>();
    PossibleValuesParser::new(names).try_map(|s| OutputFormat::from_str(&s, true))
}

/// Like [`accepting`], with this command's own description of each format
/// in `--help` (e.g. what `who-can --format human` prints).
pub fn accepting_described(
    allowed: &'static [(OutputFormat, &'static str)],
) -> impl TypedValueParser<Value = OutputFormat> {
    let names = allowed
        .iter()
        .filter_map(|(f, help)| f.to_possible_value().map(|v| v.help(*help)))
        .collect::<Vec<_>>();
    PossibleValuesParser::new(names).try_map(|s| OutputFormat::from_str(&s, true))
}

/// The one JSON envelope (`policy_eval::wire::Versioned`): `schema_version`,
/// then the command's own fields.
use policy_eval::wire::Versioned as Envelope;

/// `body` inside the envelope, pretty-printed.
pub fn json_document<T: Serialize>(body: &T) -> String {
    let doc = Envelope::new(body);
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_string())
}

/// `body` inside the envelope, on one line (JSON Lines).
pub fn json_line<T: Serialize>(body: &T) -> String {
    let doc = Envelope::new(body);
    serde_json::to_string(&doc).unwrap_or_else(|_| "{}".to_string())
}

/// Prints `body` inside the envelope on stdout, with a trailing newline.
pub fn print_json<T: Serialize>(body: &T) {
    print_text(&format!("{}\n", json_document(body)));
}

/// Prints a library document that carries its own `schema_version` (the
/// policy diff), pretty, with a trailing newline.
pub fn print_versioned<T: Serialize>(doc: &T) {
    let text = serde_json::to_string_pretty(doc).unwrap_or_else(|_| "{}".to_string());
    print_text(&format!("{text}\n"));
}

/// Writes `text` to stdout in one write (a closed pipe is not an error).
pub fn print_text(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Whether to colour output written to stdout.
pub fn stdout_color() -> bool {
    crate::global::color(std::io::stdout().is_terminal())
}

/// A role or permission in a listing (JSON contract of `who-can` and
/// `what-can`, shared with `policyc serve`).
pub use policy_eval::wire::WireNamed as JsonNamed;

/// Prints a per-tier listing of `id  label` lines (the human format of
/// `who-can` and `what-can`), the labels aligned in one column; a tier with
/// no items shows its `empty` text, and a tier with a note (a role no
/// longer assignable there) shows it first.
pub fn print_listing<'a>(
    tiers: impl Iterator<Item = (Option<&'a str>, &'a [JsonNamed], String, Option<String>)>,
) {
    let tiers: Vec<_> = tiers.collect();
    let width = tiers
        .iter()
        .flat_map(|(_, items, _, _)| items.iter())
        .map(|i| i.id.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (tier, items, empty, note) in &tiers {
        if let Some(name) = tier {
            let _ = writeln!(out, "{name}:");
        }
        if let Some(note) = note {
            let _ = writeln!(out, "  note: {note}");
        }
        if items.is_empty() {
            let _ = writeln!(out, "  {empty}");
        }
        for item in items.iter() {
            let label = policy_syntax::escape_controls(&item.label);
            let kept = if item.assignable == Some(false) {
                format!("  {}", policy_compiler::wording::listing::kept_mark())
            } else if !item.when.is_empty() {
                format!(
                    "  {}",
                    policy_compiler::wording::listing::only_when(&item.when)
                )
            } else {
                String::new()
            };
            let _ = writeln!(out, "  {:<width$}  {label}{kept}", item.id);
        }
    }
    print_text(&out);
}

/// `1 file`, `2 files`: a count and a noun that takes `s` in the plural.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
