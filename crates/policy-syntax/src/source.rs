//! Source files and byte spans.

use std::sync::{Arc, OnceLock};

use miette::{MietteError, MietteSpanContents, NamedSource, SourceCode, SpanContents};

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

/// The lines of `text` with their line breaks: a line ends at `\n`, at
/// `\r\n`, or at a lone `\r`. This is the one line model of policyc: the
/// grammar, [`SourceFile::line_col`], the parser's recovery and what
/// miette renders all split lines this way.
pub(crate) fn lines_inclusive(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0usize;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let mut i = start;
        while let Some(&b) = bytes.get(i) {
            i += 1;
            if b == b'\n' {
                break;
            }
            if b == b'\r' {
                if bytes.get(i) == Some(&b'\n') {
                    i += 1;
                }
                break;
            }
        }
        let line = text.get(start..i);
        start = i;
        line
    })
}

/// The lines of `text` without their line breaks (see [`lines_inclusive`]).
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    lines_inclusive(text).map(|l| l.trim_end_matches('\n').trim_end_matches('\r'))
}

/// `text` with every lone `\r` turned into `\n`. Byte offsets do not move,
/// and miette, whose snippet code treats a lone `\r` inconsistently, sees the
/// same lines as [`SourceFile::line_col`].
fn normalise_lone_cr(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        if c == '\r' && bytes.get(i + 1) != Some(&b'\n') {
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

/// One file of a project source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The file's display name (usually its path, relative).
    pub name: Arc<str>,
    /// Where its text starts in the project's text.
    pub start: usize,
    /// Where it ends (exclusive; a line break added after a file that
    /// does not end with one belongs to it).
    pub end: usize,
}

/// The file holding `offset` (the last one for the end of the text).
pub(crate) fn part_at(parts: &[Part], offset: usize) -> Option<&Part> {
    let i = parts
        .partition_point(|p| p.start <= offset)
        .checked_sub(1)?;
    parts.get(i)
}

/// The byte range of the file holding `offset`; `None` for one file.
pub(crate) fn part_range(parts: &[Part], offset: usize, len: usize) -> Option<(usize, usize)> {
    part_at(parts, offset).map(|p| (p.start, p.end.min(len)))
}

/// What miette reads a diagnostic's snippets from.
///
/// It fixes one thing in miette 7's `SourceCode` for `str`: the line count
/// of a span's context is reported as the number of lines from the start
/// of the file, so two labels far apart (the second before about twice the
/// line of the first) were merged into one snippet spanning every line
/// between them. Here it is the number of lines in the context, so only
/// labels whose contexts touch share a snippet.
///
/// It also reads only the lines around a span: miette's `str` reader scans
/// from the start of the file for every snippet, which made rendering N
/// diagnostics of a large file cost N × its size. Here a line index, built
/// once, picks a window of lines and miette reads that.
#[derive(Debug)]
pub struct RenderSource {
    name: String,
    text: Arc<str>,
    /// The files of a project source ([`SourceFile::project`]): a snippet
    /// is read from the one its span starts in, named and numbered as in
    /// that file. Empty for one file.
    parts: Arc<[Part]>,
    /// Byte offset of the start of every line of `text` (split at `\n`
    /// only: lone CRs are already line feeds here), built on first use.
    line_starts: OnceLock<Vec<usize>>,
}

impl RenderSource {
    fn new(name: String, text: Arc<str>, parts: Arc<[Part]>) -> Self {
        RenderSource {
            name,
            text,
            parts,
            line_starts: OnceLock::new(),
        }
    }

    /// The part of the text miette needs for `span` with the given context:
    /// whole lines from a line before the context to a line after it, with
    /// the byte offset and the 0-based line number where it starts. `None`
    /// when the span does not lie inside the text (miette reports that).
    fn window(
        &self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Option<(usize, usize, &str)> {
        let text: &str = &self.text;
        let start = span.offset();
        let end = start.checked_add(span.len())?;
        if end > text.len() {
            return None;
        }
        let starts = self.starts();
        let line_of = |offset: usize| starts.partition_point(|&s| s <= offset).saturating_sub(1);
        // In a project, the lines of the file the span starts in.
        let (part_lo, part_hi) = match part_range(&self.parts, start, text.len()) {
            Some((lo, hi)) => (line_of(lo), line_of(hi.saturating_sub(1).max(lo)) + 1),
            None => (0, usize::MAX),
        };
        let first = line_of(start);
        let last = line_of(end.saturating_sub(1).max(start));
        let lo_line = first.saturating_sub(before.saturating_add(1)).max(part_lo);
        let hi_line = last.saturating_add(after).saturating_add(2).min(part_hi);
        let lo = starts.get(lo_line).copied().unwrap_or(0);
        let hi = starts.get(hi_line).copied().unwrap_or(text.len());
        Some((lo, lo_line, text.get(lo..hi)?))
    }

    /// The start of every line (split at `\n`: lone CRs are line feeds
    /// here), built on first use.
    fn starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        })
    }

    /// The name and first line (0-based, in the whole text) of the file
    /// holding `offset`.
    fn file_at(&self, offset: usize) -> (&str, usize) {
        match part_at(&self.parts, offset) {
            Some(p) => {
                let line = self
                    .starts()
                    .partition_point(|&x| x <= p.start)
                    .saturating_sub(1);
                (&p.name, line)
            }
            None => (&self.name, 0),
        }
    }
}

impl SourceCode for RenderSource {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let (base, base_line, text) = self
            .window(span, context_lines_before, context_lines_after)
            .unwrap_or((0, 0, self.text.as_ref()));
        let local: miette::SourceSpan = (span.offset() - base, span.len()).into();
        let inner = text.read_span(&local, context_lines_before, context_lines_after)?;
        let data = inner.data();
        let breaks = data.iter().filter(|b| **b == b'\n').count();
        let line_count = (breaks + usize::from(!data.ends_with(b"\n"))).max(1);
        let found = inner.span();
        let (name, first_line) = self.file_at(span.offset());
        Ok(Box::new(MietteSpanContents::new_named(
            name.to_string(),
            data,
            (found.offset() + base, found.len()).into(),
            inner.line() + base_line - first_line.min(inner.line() + base_line),
            inner.column(),
            line_count,
        )))
    }
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
    render: Arc<RenderSource>,
    /// Byte offset of the start of every line (the first is 0), built on
    /// the first [`SourceFile::line_col`] and shared by every clone, so a
    /// lookup is a binary search, not a scan (and a file whose positions
    /// are never asked for pays nothing).
    line_starts: Arc<OnceLock<Vec<usize>>>,
    /// The files of a project source, in order (empty for one file).
    parts: Arc<[Part]>,
}

impl SourceFile {
    /// Creates a source from a display name (usually a relative path) and its text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        SourceFile::with_parts(name.into(), text.into(), Arc::from([]))
    }

    /// A source of several files, one after the other (see
    /// [`crate::project`]).
    pub(crate) fn with_parts(name: String, text: String, parts: Arc<[Part]>) -> Self {
        let name: Arc<str> = Arc::from(name);
        let text: Arc<str> = Arc::from(text);
        let masked = crate::escape::mask_controls(&text);
        let shown: Arc<str> = if masked.contains('\r') {
            Arc::from(normalise_lone_cr(&masked))
        } else if let std::borrow::Cow::Owned(masked) = masked {
            Arc::from(masked)
        } else {
            text.clone()
        };
        let named = Arc::new(NamedSource::new(&name, shown.clone()));
        let render = Arc::new(RenderSource::new(name.to_string(), shown, parts.clone()));
        SourceFile {
            name,
            text,
            named,
            render,
            line_starts: Arc::new(OnceLock::new()),
            parts,
        }
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The files of a project source (see [`crate::project`]).
    pub(crate) fn parts_slice(&self) -> &[Part] {
        &self.parts
    }

    /// What diagnostics render their snippets from.
    pub(crate) fn render_source(&self) -> &RenderSource {
        &self.render
    }

    /// What a report renders snippets of this source from (each from its
    /// own file in a project), shared.
    pub fn snippets(&self) -> Arc<RenderSource> {
        self.render.clone()
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
    /// Lines end at `\n`, `\r\n` or a lone `\r`, as everywhere in policyc.
    /// A binary search in the line index plus a count of the characters
    /// before `offset` on its line: O(log lines + line length).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let starts = self.line_starts.get_or_init(|| line_starts(&self.text));
        // The last line start at or before `offset` (starts[0] == 0).
        let line = starts.partition_point(|&s| s <= offset).max(1);
        let line_start = starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .text
            .get(line_start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        // In a project, counted from the first line of the offset's file
        // (every file starts a line).
        let first = part_at(&self.parts, offset)
            .map_or(1, |p| starts.partition_point(|&s| s <= p.start).max(1));
        LineCol {
            line: line + 1 - first.min(line),
            column,
        }
    }
}

/// The byte offset of the start of every line of `text`, the first being 0.
///
/// This is policyc's one line model: a line ends at `\n`, `\r\n` or a lone
/// `\r`, as in the grammar, in [`SourceFile::line_col`] and in the language
/// server's positions (the protocol counts lines the same way).
pub fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0).chain(line_break_ends(text)).collect()
}

/// The byte offset just past every line break in `text` (`\n`, `\r\n`, or a
/// lone `\r`): the start of every line but the first.
fn line_break_ends(text: &str) -> impl Iterator<Item = usize> + '_ {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().filter_map(move |(i, b)| {
        let lone_cr = *b == b'\r' && bytes.get(i + 1) != Some(&b'\n');
        (*b == b'\n' || lone_cr).then_some(i + 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scan `line_col` replaced: count line breaks from the file start.
    fn naive(text: &str, offset: usize) -> LineCol {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let bytes = text.as_bytes();
        let mut line = 1usize;
        let mut line_start = 0usize;
        for (i, b) in bytes.iter().enumerate().take(offset) {
            let lone_cr = *b == b'\r' && bytes.get(i + 1) != Some(&b'\n');
            if *b == b'\n' || lone_cr {
                line += 1;
                line_start = i + 1;
            }
        }
        LineCol {
            line,
            column: text[line_start..offset].chars().count() + 1,
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
            "a\rb\r\rc\r\n\r",
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

    #[test]
    fn a_lone_cr_ends_a_line_like_lf_and_crlf() {
        for text in ["ab\ncd\nef", "ab\r\ncd\r\nef", "ab\rcd\ref", "ab\ncd\ref"] {
            let src = SourceFile::new("t", text);
            let ef = text.find('e').unwrap();
            assert_eq!(src.line_col(ef), LineCol { line: 3, column: 1 }, "{text:?}");
            assert_eq!(
                lines(text).collect::<Vec<_>>(),
                ["ab", "cd", "ef"],
                "{text:?}"
            );
            assert_eq!(lines_inclusive(text).collect::<String>(), text);
        }
    }

    #[test]
    fn miette_sees_the_same_lines_as_line_col() {
        let src = SourceFile::new("t", "ab\rcd\ref");
        let span: miette::SourceSpan = (6, 2).into();
        let contents = src.render_source().read_span(&span, 0, 0).unwrap();
        assert_eq!(contents.line() + 1, src.line_col(6).line);
        assert_eq!(contents.column() + 1, src.line_col(6).column);
    }

    #[test]
    fn a_context_counts_its_own_lines() {
        let text: String = (1..=60).map(|i| format!("line {i}\n")).collect();
        let src = SourceFile::new("t", text.clone());
        let at = text.find("line 50").unwrap();
        let contents = src
            .render_source()
            .read_span(&(at, 4).into(), 1, 1)
            .unwrap();
        assert_eq!(contents.line(), 48);
        assert_eq!(contents.line_count(), 3);
    }

    /// The windowed reader gives miette exactly what reading the whole
    /// text gives: the same bytes, span, line, column and line count.
    #[test]
    fn the_window_reads_what_the_whole_text_reads() {
        let long: String = (0..30).map(|i| format!("l{i}\n")).collect();
        for text in [
            "",
            "a",
            "ab\ncd\n",
            "\n\n\nx\n\n",
            "é\nüñ\r\nz\r\n\r\nq",
            "a\rb\r\rc\r\n\r",
            long.as_str(),
        ] {
            let src = SourceFile::new("t", text);
            let render = src.render_source();
            let whole: &str = &render.text;
            let mut compared = 0usize;
            for start in 0..=text.len() {
                for len in [0, 1, 2, 5, 40] {
                    for (before, after) in [(0, 0), (1, 1), (2, 0), (0, 3)] {
                        let span: miette::SourceSpan = (start, len).into();
                        let want = whole.read_span(&span, before, after);
                        let got = render.read_span(&span, before, after);
                        let (want, got) = match (want, got) {
                            (Ok(want), Ok(got)) => (want, got),
                            (Err(_), Err(_)) => continue,
                            (want, got) => panic!(
                                "{text:?} {start}+{len}: whole {:?}, window {:?}",
                                want.is_ok(),
                                got.is_ok()
                            ),
                        };
                        compared += 1;
                        let lines = |data: &[u8]| {
                            let n = data.iter().filter(|b| **b == b'\n').count();
                            (n + usize::from(!data.ends_with(b"\n"))).max(1)
                        };
                        let case = format!("{text:?} {start}+{len} ({before}, {after})");
                        assert_eq!(got.data(), want.data(), "{case}");
                        assert_eq!(got.span(), want.span(), "{case}");
                        assert_eq!(got.line(), want.line(), "{case}");
                        assert_eq!(got.column(), want.column(), "{case}");
                        assert_eq!(got.line_count(), lines(want.data()), "{case}");
                    }
                }
            }
            assert!(
                compared > text.len(),
                "{text:?}: only {compared} spans compared"
            );
        }
    }
}
