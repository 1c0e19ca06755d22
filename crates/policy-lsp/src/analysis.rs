//! What a document means: the compile result plus an index of every place a
//! role, permission or tier is declared or named.

use crate::engine::{self, AssertKind, Compiled, Ident, Item, Pattern, RoleStmt, Span};
use crate::engine::{TierConstraint, TierSelector};
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
        let permission_ids: Vec<String> = compiled
            .file
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Permission(p) => Some(p.id.name.clone()),
                _ => None,
            })
            .collect();
        let occurrences = {
            let policy = &compiled.policy;
            let mut idx = Indexer {
                out: Vec::new(),
                permission_ids: &permission_ids,
                resolved: engine::resolved_matches(policy),
                policy,
            };
            for item in &compiled.file.items {
                idx.item(item);
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
    fn push(&mut self, kind: NameKind, ident: &Ident, declaration: bool) {
        self.out.push(Occurrence {
            kind,
            name: ident.name.clone(),
            span: ident.span,
            declaration,
            wildcard: None,
        });
    }

    fn pattern(&mut self, p: &Pattern) {
        if p.text.contains('*') {
            if let Some(matches) = self.resolved.get(&p.span) {
                for m in *matches {
                    if let Some(perm) = self.policy.permission(*m) {
                        self.out.push(Occurrence {
                            kind: NameKind::Permission,
                            name: perm.id.clone(),
                            span: p.span,
                            declaration: false,
                            wildcard: Some(p.text.clone()),
                        });
                    }
                }
                return;
            }
            for id in self.permission_ids {
                if engine::pattern_matches(&p.text, id) {
                    self.out.push(Occurrence {
                        kind: NameKind::Permission,
                        name: id.clone(),
                        span: p.span,
                        declaration: false,
                        wildcard: Some(p.text.clone()),
                    });
                }
            }
        } else {
            self.out.push(Occurrence {
                kind: NameKind::Permission,
                name: p.text.clone(),
                span: p.span,
                declaration: false,
                wildcard: None,
            });
        }
    }

    fn tiers(&mut self, c: &Option<TierConstraint>) {
        match c.as_ref().map(|c| &c.selector) {
            Some(TierSelector::Range { tier, .. }) => self.push(NameKind::Tier, tier, false),
            Some(TierSelector::List(list)) => {
                for t in list {
                    self.push(NameKind::Tier, t, false);
                }
            }
            None => {}
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Tiers(d) => {
                for t in &d.tiers {
                    self.push(NameKind::Tier, t, true);
                }
            }
            Item::Permission(d) => {
                self.push(NameKind::Permission, &d.id, true);
                self.tiers(&d.tiers);
            }
            Item::Role(d) => {
                self.push(NameKind::Role, &d.id, true);
                self.tiers(&d.tiers);
                for stmt in &d.body {
                    match stmt {
                        RoleStmt::Inherits { parents, .. } => {
                            for p in parents {
                                self.push(NameKind::Role, p, false);
                            }
                        }
                        RoleStmt::Grants {
                            patterns, tiers, ..
                        } => {
                            for p in patterns {
                                self.pattern(p);
                            }
                            self.tiers(tiers);
                        }
                        RoleStmt::Excludes { patterns, .. } => {
                            for p in patterns {
                                self.pattern(p);
                            }
                        }
                    }
                }
            }
            Item::Assert(d) => {
                match &d.kind {
                    AssertKind::Only { roles, pattern }
                    | AssertKind::Can { roles, pattern, .. } => {
                        for r in roles {
                            self.push(NameKind::Role, r, false);
                        }
                        self.pattern(pattern);
                    }
                    AssertKind::NoneBelow { role, pattern } => {
                        self.push(NameKind::Role, role, false);
                        self.pattern(pattern);
                    }
                    AssertKind::NoRole { pattern } => self.pattern(pattern),
                    AssertKind::Includes { roles, others } => {
                        for r in roles.iter().chain(others) {
                            self.push(NameKind::Role, r, false);
                        }
                    }
                }
                self.tiers(&d.tiers);
            }
        }
    }
}
