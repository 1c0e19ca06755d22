//! The diagnostic type shared by every stage.

use std::fmt;

use miette::{LabeledSpan, SourceCode};

use crate::code::{Code, Severity};
use crate::source::{SourceFile, Span};

/// A labelled span inside a diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What is wrong, or related, there.
    pub message: String,
    /// Whether this is the primary label (what is wrong *here*).
    pub primary: bool,
}

/// One case where an assertion does not hold: on `tier`, `role` is
/// `allowed` `permission` (or not), contrary to the assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counterexample {
    /// The tier, or `None` in a policy without tiers.
    pub tier: Option<String>,
    /// The role.
    pub role: String,
    /// The permission.
    pub permission: String,
    /// Whether the role has the permission there (the assertion said the opposite).
    pub allowed: bool,
}

/// Whether `text` is one name as a policy writes it (a role, tier, keyword,
/// lint, or permission id or pattern): what a did-you-mean replaces.
fn is_one_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '*'))
}

/// One change of a [`Fix`]: the bytes of `span` replaced by `text` (an
/// insertion when the span is empty, a deletion when `text` is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The bytes replaced.
    pub span: Span,
    /// What replaces them.
    pub text: String,
}

/// A machine-applicable fix for a diagnostic: edits to its source that make
/// the problem go away without changing anything else, applied together.
/// One list serves every front end: the editor's quick fixes, SARIF
/// `fixes` and `policyc fix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What it does, in the imperative (``replace `develper` with `developer` ``).
    pub title: String,
    /// The edits, in source order, not overlapping.
    pub edits: Vec<Edit>,
}

/// One problem found in a policy, with its stable [`Code`], source spans,
/// labels and help.
///
/// Every stage (syntax, compiler, evaluator, CLI I/O) reports problems as
/// `Diagnostic`s so they can be sorted, counted and rendered uniformly; the
/// stage is encoded in the code's range. A diagnostic carries its source, so
/// it renders through `miette` without outside context:
///
/// ```text
/// error[P0201]: unknown role `develper`
///   ╭─[policies/humanloop.policy:20:12]
/// 20 │   inherits develper
///    ·            ────┬───
///    ·                ╰── not a declared role
///    ╰────
///   help: did you mean `developer`?
/// ```
#[derive(Debug, Clone)]
pub struct Diagnostic {
    code: Code,
    severity: Severity,
    message: String,
    labels: Vec<Label>,
    help: Option<String>,
    suggestion: Option<String>,
    source: Option<SourceFile>,
    counterexamples: Vec<Counterexample>,
    fixes: Vec<Fix>,
}

impl Diagnostic {
    /// Starts a diagnostic with the code's default severity.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            labels: Vec::new(),
            help: None,
            suggestion: None,
            source: None,
            counterexamples: Vec::new(),
            fixes: Vec::new(),
        }
    }

    /// Attaches the source the spans point into.
    pub fn with_source(mut self, source: &SourceFile) -> Self {
        self.source = Some(source.clone());
        self
    }

    /// Adds the primary label.
    pub fn primary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: true,
        });
        self
    }

    /// Adds a secondary label, pointing at a related place.
    pub fn secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: false,
        });
        self
    }

    /// Sets the help text.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets a did-you-mean suggestion; it renders as help when no other help is set.
    pub fn suggest(mut self, suggestion: Option<String>) -> Self {
        self.suggestion = suggestion;
        self
    }

    /// Attaches a machine-applicable fix (besides the one a did-you-mean
    /// suggestion implies; see [`Diagnostic::fixes`]).
    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fixes.push(fix);
        self
    }

    /// Adds a fix to a diagnostic already built.
    pub fn add_fix(&mut self, fix: Fix) {
        self.fixes.push(fix);
    }

    /// The machine-applicable fixes: a did-you-mean suggestion replaces the
    /// name under the primary label (when that label covers exactly one
    /// name), then the fixes attached with [`Diagnostic::with_fix`].
    pub fn fixes(&self) -> Vec<Fix> {
        let mut out = Vec::with_capacity(self.fixes.len() + 1);
        if let (Some(suggestion), Some(span)) = (&self.suggestion, self.primary_span()) {
            let written = self
                .source
                .as_ref()
                .and_then(|s| s.text().get(span.start..span.end));
            if let Some(written) = written.filter(|w| is_one_name(w)) {
                out.push(Fix {
                    title: format!("replace `{written}` with `{suggestion}`"),
                    edits: vec![Edit {
                        span,
                        text: suggestion.clone(),
                    }],
                });
            }
        }
        out.extend(self.fixes.iter().cloned());
        out
    }

    /// Attaches every counterexample of a failed assertion.
    pub fn with_counterexamples(mut self, counterexamples: Vec<Counterexample>) -> Self {
        self.counterexamples = counterexamples;
        self
    }

    /// Every counterexample of a failed assertion (empty for other diagnostics).
    pub fn counterexamples(&self) -> &[Counterexample] {
        &self.counterexamples
    }

    /// The same problem without a place in a source: no source, labels or
    /// fixes, and where its primary label was (`file:line:col`) at the end
    /// of the message. For a problem shown in a file other than its own:
    /// the language server reports a project manifest's P0512 at the top
    /// of each policy document under it.
    pub fn unplaced(&self) -> Diagnostic {
        let mut message = self.message.clone();
        if let Some(at) = self.location() {
            message.push_str(&format!(" (at {at})"));
        }
        Diagnostic {
            message,
            labels: Vec::new(),
            source: None,
            fixes: Vec::new(),
            ..self.clone()
        }
    }

    /// Overrides the severity.
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// The stable code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// Error or warning.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The one-line message (lowercase, no final period).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// All labels, primary first.
    pub fn labels(&self) -> &[Label] {
        &self.labels
    }

    /// The did-you-mean suggestion, if one was found.
    pub fn suggestion(&self) -> Option<&str> {
        self.suggestion.as_deref()
    }

    /// The help text as rendered: explicit help, else the suggestion.
    pub fn help_text(&self) -> Option<String> {
        match (&self.help, &self.suggestion) {
            (Some(h), Some(s)) => Some(format!("did you mean `{s}`? {h}")),
            (Some(h), None) => Some(h.clone()),
            (None, Some(s)) => Some(format!("did you mean `{s}`?")),
            (None, None) => None,
        }
    }

    /// The source this diagnostic points into, if any.
    pub fn source_file(&self) -> Option<&SourceFile> {
        self.source.as_ref()
    }

    /// The span of the primary label, if any.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels
            .iter()
            .find(|l| l.primary)
            .or_else(|| self.labels.first())
            .map(|l| l.span)
    }

    /// The name of the file the diagnostic is about: its source's, or in
    /// a project the file of its primary span.
    pub fn file_name(&self) -> Option<&str> {
        let source = self.source.as_ref()?;
        Some(match self.primary_span() {
            Some(span) => source.file_name_at(span.start),
            None => source.name(),
        })
    }

    /// Where the diagnostic points as `file:line:col`: the file of its
    /// primary span (in a project, the one file that holds it) and the
    /// line and column in that file; just the file without a span, `None`
    /// without a source.
    pub fn location(&self) -> Option<String> {
        let source = self.source.as_ref()?;
        Some(match self.primary_span() {
            Some(span) => {
                let at = source.line_col(span.start);
                format!(
                    "{}:{}:{}",
                    source.file_name_at(span.start),
                    at.line,
                    at.column
                )
            }
            None => source.name().to_string(),
        })
    }

    /// The key diagnostics sort by: file name, offset, code.
    pub fn sort_key(&self) -> (String, usize, Code) {
        (
            self.file_name().unwrap_or_default().to_string(),
            self.primary_span().map_or(0, |s| s.start),
            self.code,
        )
    }
}

/// Sorts diagnostics by (file, offset, code) and removes exact duplicates.
pub fn sort_diagnostics(diags: &mut Vec<Diagnostic>) {
    diags.sort_by_key(|d| d.sort_key());
    diags.dedup_by(|a, b| a.sort_key() == b.sort_key() && a.message == b.message);
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help_text()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        let source = self.source.as_ref()?.render_source();
        Some(source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().map(|l| {
            let text = if l.message.is_empty() {
                None
            } else {
                Some(l.message.clone())
            };
            if l.primary {
                LabeledSpan::new_primary_with_span(text, l.span)
            } else {
                LabeledSpan::new_with_span(text, l.span)
            }
        })))
    }
}

#[cfg(feature = "render")]
impl Diagnostic {
    /// Renders the diagnostic as text in the style of rustc: a first line
    /// `error[P0201]: unknown role `x`` (or `warning[…]`), so people and
    /// `grep` find it, then miette's snippets and help. `width` is where
    /// text wraps; `color` adds ANSI colours.
    pub fn render(&self, color: bool, width: usize) -> String {
        let theme = if color {
            miette::GraphicalTheme::unicode()
        } else {
            miette::GraphicalTheme::unicode_nocolor()
        };
        let handler = miette::GraphicalReportHandler::new_themed(theme)
            .without_syntax_highlighting()
            .with_links(false)
            .with_width(width);
        let severity = self.severity.as_str();
        let mut out = if color {
            let style = match self.severity {
                Severity::Error => "\u{1b}[1;31m",
                Severity::Warning => "\u{1b}[1;33m",
            };
            format!(
                "{style}{severity}[{}]\u{1b}[0m\u{1b}[1m: {}\u{1b}[0m\n",
                self.code,
                crate::escape_controls(&self.message)
            )
        } else {
            format!(
                "{severity}[{}]: {}\n",
                self.code,
                crate::escape_controls(&self.message)
            )
        };
        let mut body = String::new();
        if handler.render_report(&mut body, &Body(self)).is_ok() {
            // miette's first line is the glyph before the (empty) message.
            let rest = body.split_once('\n').map_or("", |(_, rest)| rest);
            out.push_str(&trim_line_ends(rest));
        }
        // A blank line between reports, as rustc prints them.
        out.push('\n');
        out
    }
}

/// `text` without spaces or tabs at the end of its lines (miette pads a
/// blank source line after the gutter: ` 30 │ `); line breaks are kept.
pub fn trim_line_ends(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            let (body, end) = match line.strip_suffix('\n') {
                Some(body) => (body, "\n"),
                None => (line, ""),
            };
            format!("{}{end}", body.trim_end_matches([' ', '\t']))
        })
        .collect()
}

/// A diagnostic as miette renders the part after the header line: no code
/// and no message, which [`Diagnostic::render`] writes itself.
#[cfg(feature = "render")]
#[derive(Debug)]
struct Body<'a>(&'a Diagnostic);

#[cfg(feature = "render")]
impl fmt::Display for Body<'_> {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

#[cfg(feature = "render")]
impl std::error::Error for Body<'_> {}

#[cfg(feature = "render")]
impl miette::Diagnostic for Body<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        miette::Diagnostic::severity(self.0)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0.help_text().map(|h| {
            Box::new(crate::escape_controls(&h).into_owned()) as Box<dyn fmt::Display + 'a>
        })
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        miette::Diagnostic::source_code(self.0)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let labels = miette::Diagnostic::labels(self.0)?;
        Some(Box::new(labels.map(|l| {
            let text = l.label().map(|t| crate::escape_controls(t).into_owned());
            if l.primary() {
                LabeledSpan::new_primary_with_span(text, *l.inner())
            } else {
                LabeledSpan::new_with_span(text, *l.inner())
            }
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::trim_line_ends;

    #[test]
    fn line_ends_lose_their_padding_but_keep_their_breaks() {
        assert_eq!(trim_line_ends(" 30 │ \n 31 │ x\t\n"), " 30 │\n 31 │ x\n");
        assert_eq!(trim_line_ends("a  \n\nb "), "a\n\nb");
        assert_eq!(trim_line_ends(""), "");
    }
}
