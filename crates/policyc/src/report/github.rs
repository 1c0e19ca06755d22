//! `policyc check --format github`: GitHub Actions workflow commands on
//! stdout, one per diagnostic, which the runner turns into annotations:
//!
//! ```text
//! ::error file=a.policy,line=9,col=12,endLine=9,endColumn=19,title=P0201::unknown role `develper`%0Ahelp: did you mean `developer`?
//! ```
//!
//! `endColumn` is the column of the last character (inclusive). Data is
//! escaped as the runner expects (`%` → `%25`, CR → `%0D`, LF → `%0A`), and
//! property values also escape `:` (`%3A`) and `,` (`%2C`).

use std::fmt::Write as _;

use policy_syntax::{Diagnostic, Severity};

use super::Checked;

/// Escapes a command's message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`file=…`, `title=…`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The workflow command of one diagnostic about `file`.
pub fn command(file: &str, d: &Diagnostic) -> String {
    let kind = match d.severity() {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let src = d.source_file();
    let file = d.file_name().unwrap_or(file);
    let mut props = Vec::new();
    if !file.is_empty() {
        props.push(format!("file={}", escape_property(file)));
    }
    if let (Some(src), Some(span)) = (src, d.primary_span()) {
        let start = src.line_col(span.start);
        // Inclusive end: the column of the span's last character.
        let last = if span.end > span.start {
            span.end - 1
        } else {
            span.start
        };
        let end = src.line_col(last);
        props.push(format!("line={}", start.line));
        props.push(format!("col={}", start.column));
        props.push(format!("endLine={}", end.line));
        props.push(format!("endColumn={}", end.column));
    }
    props.push(format!("title={}", escape_property(d.code().as_str())));
    let message = match d.help_text() {
        Some(help) => format!("{}\nhelp: {help}", d.message()),
        None => d.message().to_string(),
    };
    format!("::{kind} {}::{}", props.join(","), escape_data(&message))
}

/// Every command of a `check` run, one per line.
pub fn render(checked: &[Checked]) -> String {
    let mut out = String::new();
    for c in checked {
        for d in &c.diagnostics {
            let _ = writeln!(out, "{}", command(&c.name, d));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy_syntax::Code;

    #[test]
    fn data_and_properties_are_escaped() {
        assert_eq!(escape_data("100%\r\nnext: a,b"), "100%25%0D%0Anext: a,b");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn a_diagnostic_without_a_file_has_only_a_title() {
        let d = Diagnostic::new(Code::NoPolicies, "no `*.policy` files found under `x`");
        assert_eq!(
            command("", &d),
            "::error title=P0505::no `*.policy` files found under `x`"
        );
    }
}
