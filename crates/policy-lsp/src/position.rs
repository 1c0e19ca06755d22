//! Conversion between byte offsets (the compiler's spans) and LSP positions.
//!
//! An LSP `Position` is a zero-based line and a column counted in the code
//! units of the negotiated encoding: UTF-8 bytes when the client offers
//! `utf-8`, UTF-16 code units otherwise (the protocol's default). Lines end
//! at `\n`, `\r\n` or a lone `\r`, as the protocol says and as the CLI counts
//! them (`policy_syntax::line_starts`, the one line model). Every conversion
//! clamps: a position past the end of a line maps to the line's end, a line
//! past the end of the text to the end of the text, and an offset inside a
//! multi-byte character to the character's start. Nothing here panics.

use lsp_types::{Position, Range};

use crate::engine::{self, Span};

/// The unit in which columns are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 code units (bytes).
    Utf8,
    /// UTF-16 code units (the protocol's default).
    Utf16,
}

/// Line starts of a text, for offset ↔ position conversion.
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset of the start of every line; the first is 0.
    starts: Vec<usize>,
    len: usize,
    encoding: Encoding,
}

impl LineIndex {
    /// Indexes `text` for conversions in `encoding`.
    pub fn new(text: &str, encoding: Encoding) -> Self {
        LineIndex {
            starts: engine::line_starts(text),
            len: text.len(),
            encoding,
        }
    }

    /// The encoding columns are counted in.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The byte range of line `line` without its line break.
    fn line_bounds(&self, text: &str, line: usize) -> Option<(usize, usize)> {
        let start = *self.starts.get(line)?;
        let mut end = self.starts.get(line + 1).copied().unwrap_or(self.len);
        // Strip the line break: `\n`, `\r\n` or a lone `\r`.
        if end > start && text.as_bytes().get(end - 1) == Some(&b'\n') {
            end -= 1;
        }
        if end > start && text.as_bytes().get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        Some((start, end))
    }

    /// The LSP position of byte `offset` in `text` (clamped).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while offset > 0 && !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self
            .starts
            .partition_point(|s| *s <= offset)
            .saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let before = text.get(start..offset).unwrap_or("");
        let column = match self.encoding {
            Encoding::Utf8 => before.len(),
            Encoding::Utf16 => before.chars().map(char::len_utf16).sum(),
        };
        Position::new(to_u32(line), to_u32(column))
    }

    /// The LSP range of a byte span.
    pub fn range(&self, text: &str, span: Span) -> Range {
        Range::new(
            self.position(text, span.start),
            self.position(text, span.end),
        )
    }

    /// The byte offset of an LSP position in `text` (clamped to the line and text).
    pub fn offset(&self, text: &str, pos: Position) -> usize {
        let Some((start, end)) = self.line_bounds(text, pos.line as usize) else {
            return text.len();
        };
        let line = text.get(start..end).unwrap_or("");
        let want = pos.character as usize;
        let mut units = 0;
        for (i, c) in line.char_indices() {
            if units >= want {
                return start + i;
            }
            units += match self.encoding {
                Encoding::Utf8 => c.len_utf8(),
                Encoding::Utf16 => c.len_utf16(),
            };
            if units > want {
                // Inside a character: the character's start.
                return start + i;
            }
        }
        end
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_round_trip() {
        let text = "ab\ncd\r\nef";
        let idx = LineIndex::new(text, Encoding::Utf16);
        for off in 0..=text.len() {
            let p = idx.position(text, off);
            if text.as_bytes().get(off) != Some(&b'\n') {
                assert_eq!(idx.offset(text, p), off, "offset {off} -> {p:?}");
            }
        }
        assert_eq!(idx.position(text, 4), Position::new(1, 1));
        // Past the end of a line: the end of the line, before `\r\n`.
        assert_eq!(idx.offset(text, Position::new(1, 99)), 5);
        assert_eq!(idx.offset(text, Position::new(9, 0)), text.len());
    }

    /// Every offset the CLI reports (`SourceFile::line_col`, 1-based, in
    /// characters) is the server's position (0-based, in UTF-8 or UTF-16
    /// units) on LF, CRLF and lone-CR files alike.
    #[test]
    fn positions_equal_the_cli_on_lf_crlf_and_cr() {
        let lf = "permission a.b \"x\"\nrole r \"R\" {\n  grants a.c\n}\n";
        for text in [
            lf.to_string(),
            lf.replace('\n', "\r\n"),
            lf.replace('\n', "\r"),
            "a\r\rb\n\r\nc\ré\r😀x\n".to_string(),
        ] {
            let cli = engine::SourceFile::new("t.policy", text.as_str());
            let idx = LineIndex::new(&text, Encoding::Utf8);
            for off in (0..=text.len()).filter(|o| text.is_char_boundary(*o)) {
                let lc = cli.line_col(off);
                let p = idx.position(&text, off);
                let line_start = idx.starts[lc.line - 1];
                let chars = text[line_start..off].chars().count();
                assert_eq!(p.line as usize, lc.line - 1, "{text:?} at {off}");
                assert_eq!(chars + 1, lc.column, "{text:?} at {off}");
                assert_eq!(p.character as usize, off - line_start, "{text:?} at {off}");
            }
        }
        // The issue's case: the error on `a.c` is on line 3 (0-based 2), not 0:41.
        let text = "permission a.b \"x\"\rrole r \"R\" {\r  grants a.c\r}\r";
        let idx = LineIndex::new(text, Encoding::Utf16);
        let off = text.find("a.c").unwrap_or(0);
        assert_eq!(idx.position(text, off), Position::new(2, 9));
        assert_eq!(idx.offset(text, Position::new(2, 9)), off);
        assert_eq!(
            idx.offset(text, Position::new(1, 99)),
            text.find(" {").unwrap_or(0) + 2
        );
    }

    #[test]
    fn utf16_counts_surrogate_pairs_and_bmp_chars() {
        // "é" is 2 bytes / 1 UTF-16 unit; "😀" is 4 bytes / 2 units.
        let text = "role a \"é😀\" { inherits b }";
        let b = text.find(" b ").map(|i| i + 1).unwrap_or(0);
        let u16 = LineIndex::new(text, Encoding::Utf16);
        let u8 = LineIndex::new(text, Encoding::Utf8);
        let chars_before = text.get(..b).map_or(0, |s| s.chars().count());
        // é + 😀 are 2 chars, 3 UTF-16 units, 6 bytes.
        assert_eq!(u16.position(text, b).character as usize, chars_before + 1);
        assert_eq!(u8.position(text, b).character as usize, b);
        assert_eq!(u16.offset(text, u16.position(text, b)), b);
        assert_eq!(u8.offset(text, u8.position(text, b)), b);
    }

    #[test]
    fn positions_inside_a_character_clamp_to_its_start() {
        let text = "x😀y";
        let u16 = LineIndex::new(text, Encoding::Utf16);
        assert_eq!(u16.offset(text, Position::new(0, 2)), 1);
        let u8 = LineIndex::new(text, Encoding::Utf8);
        assert_eq!(u8.offset(text, Position::new(0, 3)), 1);
        assert_eq!(u8.position(text, 3), Position::new(0, 1));
    }
}
