//! The diagnostic type shared by every stage.

use std::fmt;
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceCode};

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

    /// The key diagnostics sort by: file name, offset, code.
    pub fn sort_key(&self) -> (String, usize, Code) {
        (
            self.source
                .as_ref()
                .map(|s| s.name().to_string())
                .unwrap_or_default(),
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
        let named: &Arc<NamedSource<Arc<str>>> = self.source.as_ref().map(|s| s.named_ref())?;
        Some(named.as_ref() as &dyn SourceCode)
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
