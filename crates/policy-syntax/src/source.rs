//! Source files and byte spans.

use std::sync::{Arc, OnceLock};

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
    /// Byte offset of the start of every line (the first is 0), built on
    /// the first [`SourceFile::line_col`] and shared by every clone, so a
    /// lookup is a binary search, not a scan (and a file whose positions
    /// are never asked for pays nothing).
    line_starts: Arc<OnceLock<Vec<usize>>>,
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
            line_starts: Arc::new(OnceLock::new()),
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
    /// A binary search in the line index plus a count of the characters
    /// before `offset` on its line: O(log lines + line length).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(newline_offsets(&self.text).map(|i| i + 1))
                .collect()
        });
        // The last line start at or before `offset` (starts[0] == 0).
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

/// The byte offsets of every `\n` in `text`.
fn newline_offsets(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::{LineCol, SourceFile};

    /// The scan `line_col` replaced: count newlines from the file start.
    fn naive(text: &str, offset: usize) -> LineCol {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        LineCol {
            line,
            column: before[line_start..].chars().count() + 1,
        }
    }

    #[test]
    fn line_index_matches_the_scan_at_every_offset() {
        for text in [
            "",
            "\n",
            "a",
            "ab\ncd\n",
            "\n\nx\n",
            "é\nüñ\r\nz",
            "role a \"A\" {}\n// ünïcode\npermission b.c \"B\"",
        ] {
            let src = SourceFile::new("t.policy", text);
            for offset in 0..=text.len() + 2 {
                assert_eq!(
                    src.line_col(offset),
                    naive(text, offset),
                    "{text:?} @ {offset}"
                );
            }
        }
    }
}
