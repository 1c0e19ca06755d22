//! What a document means: the compile result plus an index of every place a
//! role, permission or tier is declared or named.
//!
//! A document of a policy project is analysed with the project's other
//! files, as one text (`SourceFile::project`): spans are offsets into that
//! text, and each file's positions are counted from the file's own start
//! ([`Analysis::files`]).

use lsp_types::{Position, Range};

use crate::engine::{self, Compiled, Item, SourceFile, Span};
use crate::position::{Encoding, LineIndex};

/// The three namespaces of names: the language's one [`NameKind`],
/// re-exported so `policy_lsp::analysis::NameKind` keeps working.
pub use crate::engine::NameKind;

/// One place a name is declared or used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// Which namespace.
    pub kind: NameKind,
    /// The name (for a wildcard: the matched permission's id).
    pub name: String,
    /// Where it is written (for a wildcard: the whole pattern).
    pub span: Span,
    /// Whether this is the declaration.
    pub declaration: bool,
    /// The wildcard pattern, when the name is matched by one rather than written.
    pub wildcard: Option<String>,
}

/// One file of the analysed text: the document, or a file of its project.
#[derive(Debug, Clone)]
pub struct FileLines {
    /// The file's name in messages (for a project's file, its path below
    /// the manifest's directory).
    pub name: String,
    /// Where the file is in the analysed text.
    pub span: Span,
    /// Offset ↔ position conversion within the file.
    lines: LineIndex,
}

/// A compiled document with its name index.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The text analysed: the document's, or its project's files end to end.
    pub text: String,
    /// The files of `text`, in order (one for a document alone).
    pub files: Vec<FileLines>,
    /// AST, policy and diagnostics.
    pub compiled: Compiled,
    /// Every declaration and use of a name, in source order.
    pub occurrences: Vec<Occurrence>,
}

impl Analysis {
    /// Compiles `text` (shown as `name` in messages) and indexes its names.
    pub fn new(name: &str, text: &str, encoding: Encoding) -> Self {
        Analysis::of(&SourceFile::new(name, text), encoding)
    }

    /// Compiles `source` (one file, or a project's files as one
    /// [`SourceFile::project`]) and indexes its names.
    pub fn of(source: &SourceFile, encoding: Encoding) -> Self {
        let compiled = engine::compile_source(source);
        let permission_ids: Vec<String> = engine::file_names(&compiled.file)
            .filter(|n| n.declaration && n.kind == NameKind::Permission)
            .map(|n| n.qualified().into_owned())
            .collect();
        let occurrences = {
            let policy = &compiled.policy;
            let mut idx = Indexer {
                out: Vec::new(),
                permission_ids: &permission_ids,
                resolved: engine::resolved_matches(policy),
                policy,
            };
            for (section, item) in compiled.file.sections() {
                idx.item(section, item);
            }
            idx.out
        };
        let text = source.text();
        let mut files: Vec<FileLines> = source
            .parts()
            .iter()
            .map(|p| FileLines {
                name: p.name.to_string(),
                span: Span::new(p.start, p.end),
                lines: LineIndex::new(text.get(p.start..p.end).unwrap_or(""), encoding),
            })
            .collect();
        if files.is_empty() {
            files.push(FileLines {
                name: source.name().to_string(),
                span: Span::new(0, text.len()),
                lines: LineIndex::new(text, encoding),
            });
        }
        Analysis {
            text: text.to_string(),
            files,
            compiled,
            occurrences,
        }
    }

    /// The index of the file holding byte `offset` (the last file for the
    /// end of the text).
    pub fn file_at(&self, offset: usize) -> usize {
        self.files
            .partition_point(|f| f.span.start <= offset)
            .saturating_sub(1)
    }

    /// The text of file `file` (empty when there is no such file).
    pub fn file_text(&self, file: usize) -> &str {
        self.files
            .get(file)
            .and_then(|f| self.text.get(f.span.start..f.span.end))
            .unwrap_or("")
    }

    /// The file of byte `offset` and its position in that file.
    pub fn position(&self, offset: usize) -> (usize, Position) {
        let file = self.file_at(offset);
        let Some(f) = self.files.get(file) else {
            return (file, Position::default());
        };
        let local = offset.saturating_sub(f.span.start);
        (file, f.lines.position(self.file_text(file), local))
    }

    /// The file of a span and its range in that file (a span lies in one file).
    pub fn range(&self, span: Span) -> (usize, Range) {
        let (file, start) = self.position(span.start);
        let end = match self.files.get(file) {
            Some(f) => {
                let end = span.end.clamp(f.span.start, f.span.end) - f.span.start;
                f.lines.position(self.file_text(file), end)
            }
            None => start,
        };
        (file, Range::new(start, end))
    }

    /// The byte offset (in [`Analysis::text`]) of position `pos` in file
    /// `file`, clamped to the file.
    pub fn offset(&self, file: usize, pos: Position) -> usize {
        match self.files.get(file) {
            Some(f) => f.span.start + f.lines.offset(self.file_text(file), pos),
            None => self.text.len(),
        }
    }

    /// The occurrences whose span contains byte `offset` (touching its end counts).
    pub fn at(&self, offset: usize) -> Vec<&Occurrence> {
        self.occurrences
            .iter()
            .filter(|o| o.span.start <= offset && offset <= o.span.end)
            .collect()
    }

    /// The declarations of `name` in namespace `kind`.
    pub fn declarations(&self, kind: NameKind, name: &str) -> Vec<&Occurrence> {
        self.occurrences
            .iter()
            .filter(|o| o.declaration && o.kind == kind && o.name == name)
            .collect()
    }

    /// Every occurrence of `name` in namespace `kind`, declarations included.
    pub fn occurrences_of(&self, kind: NameKind, name: &str) -> Vec<&Occurrence> {
        self.occurrences
            .iter()
            .filter(|o| o.kind == kind && o.name == name)
            .collect()
    }

    /// The 1-based line of a byte offset, counted in its own file.
    pub fn line_of(&self, offset: usize) -> u32 {
        self.position(offset).1.line + 1
    }

    /// The assertion whose span contains `offset`, with its index among assertions.
    pub fn assertion_at(&self, offset: usize) -> Option<&engine::AssertDecl> {
        self.compiled.file.items.iter().find_map(|i| match i {
            Item::Assert(a) if a.span.start <= offset && offset <= a.span.end => Some(a),
            _ => None,
        })
    }
}

struct Indexer<'a> {
    out: Vec<Occurrence>,
    permission_ids: &'a [String],
    /// What the compiler matched for each role grant/exclusion pattern.
    resolved: std::collections::HashMap<Span, &'a [engine::PermId]>,
    policy: &'a engine::Policy,
}

impl Indexer<'_> {
    /// The item's names, as `policy_syntax::item_names` lists them, with
    /// each wildcard pattern expanded to the permissions it matches.
    /// Names are indexed by their full ids ([`engine::NameRef::qualified`]):
    /// `admin` in the section of level `team` is `team.admin`.
    fn item(&mut self, section: Option<&engine::ScopeDecl>, item: &Item) {
        for n in engine::item_names(section, item) {
            if n.is_pattern() {
                self.wildcard(&n.qualified(), n.name, n.span);
            } else {
                self.out.push(Occurrence {
                    kind: n.kind,
                    name: n.qualified().into_owned(),
                    span: n.span,
                    declaration: n.declaration,
                    wildcard: None,
                });
            }
        }
    }

    /// A use of every permission `pattern` matches: as the compiler resolved
    /// it (role grants and exclusions), or matched against the declared ids.
    fn wildcard(&mut self, pattern: &str, written: &str, span: Span) {
        let matched = |name: String| Occurrence {
            kind: NameKind::Permission,
            name,
            span,
            declaration: false,
            wildcard: Some(written.to_string()),
        };
        if let Some(matches) = self.resolved.get(&span) {
            for m in *matches {
                if let Some(perm) = self.policy.permission(*m) {
                    self.out.push(matched(perm.id.clone()));
                }
            }
            return;
        }
        for id in self.permission_ids {
            if engine::pattern_matches(pattern, id) {
                self.out.push(matched(id.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In a project, positions are counted in each file (as the CLI counts
    /// them, `SourceFile::line_col`), and a position in a file maps back to
    /// the same offset of the whole text; a file's end is its own.
    #[test]
    fn positions_are_counted_in_each_file_of_a_project() {
        let files = [
            engine::SourceFile::new("a.policy", "permission a.b \"A\"\r\nrole x \"X\" {}"),
            engine::SourceFile::new("sub/b.policy", "role y \"Y\" {\n  inherits x\n}\n"),
        ];
        let source = engine::SourceFile::project("p", &files);
        let analysis = Analysis::of(&source, Encoding::Utf16);
        assert!(analysis
            .compiled
            .diagnostics
            .iter()
            .all(|d| d.code() != engine::Code::UnknownRole));
        let names: Vec<&str> = analysis.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a.policy", "sub/b.policy"]);
        let text = source.text();
        for offset in (0..=text.len()).filter(|o| text.is_char_boundary(*o)) {
            let (file, p) = analysis.position(offset);
            let lc = source.line_col(offset);
            if offset < text.len() {
                assert_eq!(analysis.files[file].name, source.file_name_at(offset));
                assert_eq!(
                    (p.line as usize + 1, p.character as usize + 1),
                    (lc.line, lc.column)
                );
            }
            if text.as_bytes().get(offset) != Some(&b'\n') {
                assert_eq!(analysis.offset(file, p), offset, "at {offset}");
            }
        }
        let x = text.rfind("x\n").unwrap();
        assert_eq!(analysis.file_at(x), 1);
        assert_eq!(analysis.line_of(x), 2);
        let (file, range) = analysis.range(Span::new(x, x + 1));
        assert_eq!(
            (file, range.start, range.end),
            (1, Position::new(1, 11), Position::new(1, 12))
        );
        // The end of the first file, and a position past it, stay in it.
        let end_of_a = analysis.files[0].span.end;
        assert_eq!(analysis.offset(0, Position::new(9, 0)), end_of_a);
        assert_eq!(
            analysis.file_text(0),
            "permission a.b \"A\"\r\nrole x \"X\" {}\n"
        );
        assert_eq!(analysis.file_text(7), "");
    }

    /// The index holds every name `policy_syntax::item_names` lists, in the
    /// same order, with each wildcard replaced by the permissions it matches.
    #[test]
    fn the_index_is_the_shared_listing_with_wildcards_expanded() {
        let text = "tiers free < team\n\
                    permission a.b \"A\"\n\
                    permission a.c \"C\" on team\n\
                    role m \"M\" { grants a.* on >= team }\n\
                    role r \"R\" { inherits m excludes a.c }\n\
                    assert m, r includes r\n\
                    assert m can every a.* on team\n";
        let analysis = Analysis::new("t.policy", text, Encoding::Utf8);
        assert!(
            analysis.compiled.diagnostics.is_empty(),
            "{:?}",
            analysis.compiled.diagnostics
        );
        let mut want = Vec::new();
        for n in engine::file_names(&analysis.compiled.file) {
            if n.is_pattern() {
                for id in ["a.b", "a.c"] {
                    want.push((n.kind, id.to_string(), n.span, false, Some(n.name)));
                }
            } else {
                want.push((n.kind, n.name.to_string(), n.span, n.declaration, None));
            }
        }
        let got: Vec<_> = analysis
            .occurrences
            .iter()
            .map(|o| {
                let w = o.wildcard.as_deref();
                (o.kind, o.name.clone(), o.span, o.declaration, w)
            })
            .collect();
        assert_eq!(got, want);
        let roles: Vec<_> = analysis
            .occurrences_of(NameKind::Role, "m")
            .iter()
            .map(|o| o.declaration)
            .collect();
        // Declared once, inherited once, named by `includes` and by `can every`.
        assert_eq!(roles, [true, false, false, false]);
    }
}
