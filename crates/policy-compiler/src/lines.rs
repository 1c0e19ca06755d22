//! Where the lines of a source are, without its text: what a compiled
//! artifact stores so that the line and column of every span can be
//! re-derived on load, as [`SourceFile::line_col`] computes them from the
//! text.
//!
//! Written compactly: the byte length of every line but the last (so the
//! line starts are their running sums, split exactly as
//! [`policy_syntax::line_starts`] splits them), and, since a column counts
//! characters, every character of more than one byte with its extra bytes.
//! A source in ASCII has no such characters.

use policy_syntax::{LineCol, SourceFile};
use serde::{Deserialize, Serialize};

/// The line starts and the wide characters of a source, indexed for
/// [`LineTable::line_col`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LineTableRepr", into = "LineTableRepr")]
pub struct LineTable {
    /// Byte offset of the start of every line; the first is 0.
    starts: Vec<usize>,
    /// Byte offset of every character of more than one byte, ascending.
    wide: Vec<usize>,
    /// `extra[i]`: the extra bytes (beyond one per character) of the wide
    /// characters before `wide[i]`; one more entry, the total.
    extra: Vec<usize>,
    /// The files of a project source: each one's name and the byte offset
    /// it starts at, ascending from 0 (empty for one file).
    files: Vec<FileStart>,
}

/// Where a file of a project starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStart {
    /// Its display name.
    pub name: String,
    /// The byte offset of its first character in the project's text.
    pub start: usize,
}

/// The serialized form of a [`LineTable`].
#[derive(Serialize, Deserialize)]
struct LineTableRepr {
    /// The byte length of every line but the last, with its line break.
    line_lengths: Vec<usize>,
    /// `[offset, extra bytes]` of every character of more than one byte.
    wide_chars: Vec<(usize, usize)>,
    /// The files of a project, each with the offset it starts at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    files: Vec<FileStart>,
}

impl LineTable {
    /// The table of `source`'s text.
    pub fn of(source: &SourceFile) -> Self {
        let text = source.text();
        let starts = policy_syntax::line_starts(text);
        let wide = text
            .char_indices()
            .filter(|(_, c)| c.len_utf8() > 1)
            .map(|(i, c)| (i, c.len_utf8() - 1));
        let files = source
            .parts()
            .iter()
            .map(|p| FileStart {
                name: p.name.to_string(),
                start: p.start,
            })
            .collect();
        Self::from_parts(starts, wide, files)
    }

    fn from_parts(
        starts: Vec<usize>,
        wide: impl Iterator<Item = (usize, usize)>,
        files: Vec<FileStart>,
    ) -> Self {
        let mut table = LineTable {
            starts,
            wide: Vec::new(),
            extra: vec![0],
            files,
        };
        let mut sum = 0usize;
        for (at, more) in wide {
            table.wide.push(at);
            sum = sum.saturating_add(more);
            table.extra.push(sum);
        }
        table
    }

    /// The 1-based line and column of a byte offset, as
    /// [`SourceFile::line_col`] gives it for the text the table was made
    /// from (for an offset at a character boundary).
    pub fn line_col(&self, offset: usize) -> LineCol {
        // The last line start at or before `offset` (starts[0] == 0).
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let line_start = self.starts.get(line - 1).copied().unwrap_or(0);
        let extra_before = |at: usize| {
            let k = self.wide.partition_point(|&w| w < at);
            self.extra.get(k).copied().unwrap_or(0)
        };
        let bytes = offset.saturating_sub(line_start);
        let extra = extra_before(offset).saturating_sub(extra_before(line_start));
        // In a project, counted from the first line of the offset's file.
        let first = self
            .file_at(offset)
            .map_or(1, |f| self.starts.partition_point(|&s| s <= f.start).max(1));
        LineCol {
            line: line + 1 - first.min(line),
            column: bytes.saturating_sub(extra) + 1,
        }
    }

    fn file_at(&self, offset: usize) -> Option<&FileStart> {
        let i = self
            .files
            .partition_point(|f| f.start <= offset)
            .checked_sub(1)?;
        self.files.get(i)
    }

    /// The name of the project file holding `offset`; `None` for one file.
    pub fn file_name_at(&self, offset: usize) -> Option<&str> {
        self.file_at(offset).map(|f| f.name.as_str())
    }
}

impl From<LineTable> for LineTableRepr {
    fn from(t: LineTable) -> Self {
        LineTableRepr {
            line_lengths: t
                .starts
                .iter()
                .zip(t.starts.iter().skip(1))
                .map(|(a, b)| b.saturating_sub(*a))
                .collect(),
            wide_chars: t
                .wide
                .iter()
                .zip(t.extra.iter().zip(t.extra.iter().skip(1)))
                .map(|(&at, (a, b))| (at, b.saturating_sub(*a)))
                .collect(),
            files: t.files,
        }
    }
}

impl TryFrom<LineTableRepr> for LineTable {
    type Error = String;

    /// Refuses what no text has: an empty line (every line but the last
    /// ends with a break), a character of more than four bytes, and wide
    /// characters out of order or overlapping.
    fn try_from(r: LineTableRepr) -> Result<Self, String> {
        let mut starts = Vec::with_capacity(r.line_lengths.len() + 1);
        let mut at = 0usize;
        starts.push(at);
        for (i, len) in r.line_lengths.iter().enumerate() {
            if *len == 0 {
                return Err(format!(
                    "`line_lengths` entry {i} is 0: a line holds its break"
                ));
            }
            at = at
                .checked_add(*len)
                .ok_or("`line_lengths` add up past the largest offset")?;
            starts.push(at);
        }
        let mut next = 0usize;
        for (i, (offset, more)) in r.wide_chars.iter().enumerate() {
            if !(1..=3).contains(more) {
                return Err(format!(
                    "`wide_chars` entry {i} has {more} extra bytes: a character has 2 to 4 bytes"
                ));
            }
            if *offset < next {
                return Err(format!(
                    "`wide_chars` entry {i} is not after the character before it"
                ));
            }
            next = offset.saturating_add(more + 1);
        }
        // Files start at line starts, the first at 0, in order.
        for (i, f) in r.files.iter().enumerate() {
            let first = i == 0 && f.start != 0;
            let after = r
                .files
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.start >= f.start);
            if first || after || starts.binary_search(&f.start).is_err() {
                return Err(format!(
                    "`files` entry {i} does not start a line after the one before it"
                ));
            }
            if !policy_syntax::is_label(&f.name) || f.name.is_empty() {
                return Err(format!("`files` entry {i} has no usable name"));
            }
        }
        Ok(Self::from_parts(starts, r.wide_chars.into_iter(), r.files))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offset_has_the_line_and_column_of_the_source() {
        let text = "ab\r\nç\u{1F600}x\rz\n\n→é y\r\n";
        let src = SourceFile::new("t", text);
        let table = LineTable::of(&src);
        for (offset, _) in text.char_indices().chain([(text.len(), ' ')]) {
            assert_eq!(table.line_col(offset), src.line_col(offset), "{offset}");
        }
        let json = serde_json::to_string(&table).unwrap();
        assert_eq!(
            json,
            r#"{"line_lengths":[4,8,2,1,9],"wide_chars":[[4,1],[6,3],[15,2],[18,1]]}"#
        );
        let back: LineTable = serde_json::from_str(&json).unwrap();
        assert_eq!(back, table);
    }

    #[test]
    fn a_project_table_counts_lines_in_each_file() {
        let src = SourceFile::project(
            "p",
            &[
                SourceFile::new("a.policy", "x\ny\n"),
                SourceFile::new("b.policy", "z\né w"),
            ],
        );
        let table = LineTable::of(&src);
        for (offset, _) in src.text().char_indices() {
            assert_eq!(table.line_col(offset), src.line_col(offset), "{offset}");
            assert_eq!(
                table.file_name_at(offset),
                Some(src.file_name_at(offset)),
                "{offset}"
            );
        }
        let json = serde_json::to_string(&table).unwrap();
        let back: LineTable = serde_json::from_str(&json).unwrap();
        assert_eq!(back, table);
        let bad = json.replace("\"start\":4", "\"start\":5");
        assert!(serde_json::from_str::<LineTable>(&bad).is_err(), "{bad}");
    }

    #[test]
    fn a_table_no_text_has_is_refused() {
        for bad in [
            r#"{"line_lengths":[3,0],"wide_chars":[]}"#,
            r#"{"line_lengths":[],"wide_chars":[[0,4]]}"#,
            r#"{"line_lengths":[],"wide_chars":[[4,1],[5,1]]}"#,
        ] {
            assert!(serde_json::from_str::<LineTable>(bad).is_err(), "{bad}");
        }
    }
}
