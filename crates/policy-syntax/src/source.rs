//! Source files and byte spans.

use std::sync::Arc;

use miette::NamedSource;

/// A half-open byte range `start..end` into a [`SourceFile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// Creates a span from `start` to `end` (swapped if given backwards).
    pub fn new(start: usize, end: usize) -> Self {
        if start <= end {
            Span { start, end }
        } else {
            Span {
                start: end,
                end: start,
            }
        }
    }

    /// The length of the span in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the span covers no bytes.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start, span.len()).into()
    }
}

/// A 1-based line and column (in characters) of a byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in Unicode scalar values.
    pub column: usize,
}

/// A named policy source: the file name shown in diagnostics and its text.
///
/// Cloning is cheap; diagnostics keep an `Arc` to the source so they render
/// without outside context.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: Arc<str>,
    text: Arc<str>,
    named: Arc<NamedSource<Arc<str>>>,
    /// Byte offsets of line starts, built on the first [`SourceFile::line_col`].
    lines: Arc<std::sync::OnceLock<Vec<usize>>>,
}

impl SourceFile {
    /// Creates a source from a display name (usually a relative path) and its text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let name: Arc<str> = Arc::from(name.into());
        let text: Arc<str> = Arc::from(text.into());
        let named = Arc::new(NamedSource::new(&name, text.clone()));
        SourceFile {
            name,
            text,
            named,
            lines: Arc::default(),
        }
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The source as a reference, for diagnostics that borrow it.
    pub(crate) fn named_ref(&self) -> &Arc<NamedSource<Arc<str>>> {
        &self.named
    }

    /// The full text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The source as miette renders it.
    pub fn named_source(&self) -> Arc<NamedSource<Arc<str>>> {
        self.named.clone()
    }

    /// The text covered by `span` (empty when the span is out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    /// The 1-based line and column of a byte offset (clamped to the text).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        // O(log lines) after one O(n) pass: the evaluator asks for the
        // location of every declaration, which was quadratic on big files.
        let starts = self.lines.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let line = starts.partition_point(|&s| s <= offset).max(1);
        let line_start = starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .text
            .get(line_start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        LineCol { line, column }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The straightforward definition the line index must agree with.
    fn naive(text: &str, offset: usize) -> LineCol {
        let before = &text[..offset];
        let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        LineCol {
            line,
            column: before[line_start..].chars().count() + 1,
        }
    }

    #[test]
    fn line_col_agrees_with_the_naive_scan_at_every_offset() {
        let text = "ab\n\nrôle é\r\n  x\n";
        let src = SourceFile::new("t", text);
        for offset in (0..=text.len()).filter(|o| text.is_char_boundary(*o)) {
            assert_eq!(src.line_col(offset), naive(text, offset), "offset {offset}");
        }
        // Clamped and rounded down to a char boundary.
        assert_eq!(src.line_col(10_000), naive(text, text.len()));
        assert_eq!(src.line_col(6), naive(text, 5));
    }
}
