//! A policy in several files, read as one source ([`SourceFile::project`]).
//!
//! The files are laid one after the other in one text, each starting a
//! line, so that every span of the project is one byte range, as in a
//! single file (rustc's source map works the same way): names, spans and
//! the compiler's passes need nothing new. Only the presentation of a
//! position asks which file it is in: [`SourceFile::line_col`] counts
//! lines from the start of the offset's file, [`SourceFile::file_name_at`]
//! names it, diagnostics render each snippet from its own file (a label
//! in another file gets its own `╭─[other.policy:3:5]` block), and the
//! parser parses each file alone ([`crate::parse`]), so that neither a
//! syntax error, a doc comment nor a `scope` section runs into the next.

use std::sync::Arc;

use crate::source::{part_at, Part, SourceFile};
use crate::{parse, Item};

impl SourceFile {
    /// One source of several files (each keeping its name), in the order
    /// given, under the project's display `name`. A file that does not
    /// end with a line break gets one, so that every file starts a line.
    pub fn project(name: impl Into<String>, files: &[SourceFile]) -> SourceFile {
        let mut text = String::with_capacity(files.iter().map(|f| f.text().len() + 1).sum());
        let mut parts = Vec::with_capacity(files.len());
        for f in files {
            let start = text.len();
            text.push_str(f.text());
            if !text.is_empty() && !text.ends_with(['\n', '\r']) {
                text.push('\n');
            }
            parts.push(Part {
                name: Arc::from(f.name()),
                start,
                end: text.len(),
            });
        }
        SourceFile::with_parts(name.into(), text, Arc::from(parts))
    }

    /// The files of a project source, in order; empty for one file.
    pub fn parts(&self) -> &[Part] {
        self.parts_slice()
    }

    /// The name of the file holding `offset`: for one file, its name.
    pub fn file_name_at(&self, offset: usize) -> &str {
        part_at(self.parts_slice(), offset).map_or(self.name(), |p| &p.name)
    }

    /// `offset` counted from the start of its file (for one file, itself).
    pub fn file_offset(&self, offset: usize) -> usize {
        part_at(self.parts_slice(), offset).map_or(offset, |p| offset.saturating_sub(p.start))
    }

    /// The byte range of each file to parse: the files of a project, or
    /// the whole text.
    pub fn file_ranges(&self) -> Vec<(usize, usize)> {
        if self.parts_slice().is_empty() {
            vec![(0, self.text().len())]
        } else {
            self.parts_slice()
                .iter()
                .map(|p| (p.start, p.end))
                .collect()
        }
    }
}

/// The text of one policy file split into at most `files` files (at least
/// one) at declaration boundaries, in order, for [`SourceFile::project`]:
/// each file holds consecutive declarations with the comments before them
/// (doc comments and `expect` lines stay with their declaration), the
/// text after the last declaration goes to the last file, and a file that
/// starts inside a level's section repeats its `scope` line first (a
/// project reopens a level that way). `usize::MAX` gives one file per
/// declaration. Compiled as a project, the files decide as the one file.
pub fn split_declarations(text: &str, files: usize) -> Vec<String> {
    let source = SourceFile::new("split.policy", text);
    let (file, _) = parse(&source);
    let per = file.items.len().div_ceil(files.max(1)).max(1);
    let mut out: Vec<String> = Vec::with_capacity(file.items.len().div_ceil(per).max(1));
    let mut scope: Option<&str> = None;
    let mut start = 0usize;
    for (k, item) in file.items.iter().enumerate() {
        if k % per == 0 {
            let mut chunk = String::new();
            if let (Some(line), false) = (scope, matches!(item, Item::Scope(_))) {
                chunk.push_str(line);
                chunk.push('\n');
            }
            out.push(chunk);
        }
        if let Item::Scope(s) = item {
            scope = text.get(s.span.start..s.span.end);
        }
        let end = item.span().end;
        if let (Some(last), Some(piece)) = (out.last_mut(), text.get(start..end)) {
            last.push_str(piece);
            last.push('\n');
        }
        start = end;
    }
    match (out.last_mut(), text.get(start..)) {
        (Some(last), Some(rest)) => last.push_str(rest),
        (None, _) => out.push(text.to_string()),
        (Some(_), None) => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LineCol;

    fn project() -> SourceFile {
        SourceFile::project(
            "acme",
            &[
                SourceFile::new("a.policy", "permission a.b \"A\"\n\nrole x \"X\" {}\n"),
                SourceFile::new("b.policy", "role y \"Y\" {\n  inherits z\n}"),
                SourceFile::new("c.policy", "permission c.d \"C\"\n"),
            ],
        )
    }

    #[test]
    fn positions_are_counted_in_their_own_file() {
        let src = project();
        let text = src.text();
        assert!(text.ends_with("}\npermission c.d \"C\"\n"), "{text:?}");
        let z = text.find("inherits z").unwrap() + 9;
        assert_eq!(src.file_name_at(z), "b.policy");
        assert_eq!(
            src.line_col(z),
            LineCol {
                line: 2,
                column: 12
            }
        );
        let c = text.find("c.d").unwrap();
        assert_eq!(src.file_name_at(c), "c.policy");
        assert_eq!(
            src.line_col(c),
            LineCol {
                line: 1,
                column: 12
            }
        );
        assert_eq!(src.file_name_at(0), "a.policy");
        assert_eq!(src.line_col(text.find("role x").unwrap()).line, 3);
        assert_eq!(src.file_ranges().len(), 3);
        assert_eq!(src.file_offset(c), 11);
        assert_eq!(SourceFile::new("one", "x").file_ranges(), [(0, 1)]);
    }

    #[test]
    fn a_snippet_is_read_from_its_file() {
        use miette::SourceCode;
        let src = project();
        let z = src.text().find("inherits z").unwrap() + 9;
        let c = src.render_source().read_span(&(z, 1).into(), 0, 0).unwrap();
        assert_eq!(c.name(), Some("b.policy"));
        assert_eq!((c.line(), c.column()), (1, 11), "0-based, in b.policy");
        // The context stops at the file's edges.
        let c = src.render_source().read_span(&(z, 1).into(), 2, 2).unwrap();
        assert_eq!((c.name(), c.line()), (Some("b.policy"), 0));
        let data = std::str::from_utf8(c.data()).unwrap();
        assert!(
            !data.contains("role x") && !data.contains("c.d"),
            "{data:?}"
        );
    }

    #[test]
    fn a_policy_splits_at_declarations_with_its_scope_lines() {
        let text = "// tiers\ntiers free < pro\nscope org \"Org\"\n/// doc\npermission a.b \"A\"\nrole r \"R\" { grants a.b }\n// end\n";
        let parts = split_declarations(text, usize::MAX);
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], "// tiers\ntiers free < pro\n");
        assert_eq!(parts[1], "\nscope org \"Org\"\n");
        assert_eq!(
            parts[2],
            "scope org \"Org\"\n\n/// doc\npermission a.b \"A\"\n"
        );
        assert_eq!(
            parts[3],
            "scope org \"Org\"\n\nrole r \"R\" { grants a.b }\n\n// end\n"
        );
        assert_eq!(split_declarations(text, 2).len(), 2);
        assert_eq!(split_declarations(text, 0).len(), 1);
        assert_eq!(
            split_declarations("// only a comment\n", 3),
            ["// only a comment\n"]
        );
        assert_eq!(split_declarations("", 3), [""]);
    }
}
