//! What a document means: the compile result plus an index of every place a
//! role, permission or tier is declared or named.

use crate::engine::{self, Compiled, Item, Span};
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

/// A compiled document with its name index.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The text analysed.
    pub text: String,
    /// Offset ↔ position conversion for `text`.
    pub lines: LineIndex,
    /// AST, policy and diagnostics.
    pub compiled: Compiled,
    /// Every declaration and use of a name, in source order.
    pub occurrences: Vec<Occurrence>,
}

impl Analysis {
    /// Compiles `text` (shown as `name` in messages) and indexes its names.
    pub fn new(name: &str, text: &str, encoding: Encoding) -> Self {
        let compiled = engine::compile(name, text);
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
        Analysis {
            text: text.to_string(),
            lines: LineIndex::new(text, encoding),
            compiled,
            occurrences,
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

    /// The 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> u32 {
        self.lines.position(&self.text, offset).line + 1
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
