//! The one registry of name kinds: the three namespaces of the language
//! (tiers, permissions, roles), the declaration keyword that declares each
//! one, and [`item_names`], the one listing of the names a declaration
//! declares and uses.
//!
//! The compiler's recovery, the evaluator's errors and the language server
//! all speak of these kinds; they use this type rather than their own, and a
//! new statement lists its names here once.

use crate::ast::{AssertKind, Ident, Item, Pattern, RoleStmt, TierConstraint, TierSelector};
use crate::source::Span;

/// The kind of a name: which namespace it lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NameKind {
    /// A tier (a value of a dimension), declared by `tiers a < b` or
    /// `dimension d a | b`.
    Tier,
    /// A permission id, declared by `permission a.b "…"`.
    Permission,
    /// A role id, declared by `role r "…" { … }`.
    Role,
}

/// The declaration keywords that declare no name (`assert`, `offered`). Every
/// keyword of the grammar's `decl_keyword` rule is either here or the
/// [`NameKind::keyword`] of a kind; a unit test checks it.
pub const NON_NAMING_DECLARATIONS: &[&str] = &["assert", "offered"];

/// Declaration keywords that declare names of a kind besides its own
/// [`NameKind::keyword`]: `dimension` declares tiers (the values of a
/// dimension; `tiers` is the dimension named `tier`).
pub const ALSO_DECLARED_BY: &[(&str, NameKind)] = &[("dimension", NameKind::Tier)];

impl NameKind {
    /// Every kind.
    pub const ALL: [NameKind; 3] = [NameKind::Tier, NameKind::Permission, NameKind::Role];

    /// `"tier"`, `"permission"` or `"role"`.
    pub fn as_str(self) -> &'static str {
        match self {
            NameKind::Tier => "tier",
            NameKind::Permission => "permission",
            NameKind::Role => "role",
        }
    }

    /// The declaration keyword that declares names of this kind: `tiers`,
    /// `permission` or `role`.
    pub fn keyword(self) -> &'static str {
        match self {
            NameKind::Tier => "tiers",
            NameKind::Permission => "permission",
            NameKind::Role => "role",
        }
    }

    /// The kind of name the declaration keyword `keyword` declares, by its
    /// text (`None` for `assert`, or a word that opens no declaration).
    pub fn declared_by(keyword: &str) -> Option<NameKind> {
        NameKind::ALL
            .into_iter()
            .find(|k| k.keyword() == keyword)
            .or_else(|| {
                ALSO_DECLARED_BY
                    .iter()
                    .find(|(kw, _)| *kw == keyword)
                    .map(|&(_, kind)| kind)
            })
    }

    /// Whether `text` is a valid name of this kind as the grammar says: an
    /// identifier for a tier or role ([`crate::is_identifier`], keywords
    /// excluded), a permission id for a permission
    /// ([`crate::is_permission_id`]).
    pub fn is_valid_name(self, text: &str) -> bool {
        match self {
            NameKind::Permission => crate::is_permission_id(text),
            NameKind::Tier | NameKind::Role => crate::is_identifier(text),
        }
    }
}

/// One place a declaration declares or uses a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameRef<'a> {
    /// The namespace.
    pub kind: NameKind,
    /// The name as written; for a permission pattern, the pattern (which
    /// may contain `*` segments, see [`NameRef::is_pattern`]).
    pub name: &'a str,
    /// Where it is written.
    pub span: Span,
    /// Whether this is the name's declaration (otherwise a use).
    pub declaration: bool,
}

impl NameRef<'_> {
    /// Whether this is a permission pattern with a `*` segment, which names
    /// the permissions it matches rather than one permission.
    pub fn is_pattern(&self) -> bool {
        self.kind == NameKind::Permission && self.name.split('.').any(|s| s == "*")
    }
}

/// Every name `item` declares or uses, in source order, with its kind and
/// span: the one walk of the AST's names that the language server's index
/// (definitions, references, rename) is built on.
pub fn item_names(item: &Item) -> impl Iterator<Item = NameRef<'_>> {
    let mut out = Names(Vec::new());
    match item {
        Item::Tiers(d) => {
            for t in &d.tiers {
                out.ident(NameKind::Tier, t, true);
            }
        }
        Item::Permission(d) => {
            out.ident(NameKind::Permission, &d.id, true);
            out.tiers(&d.tiers);
            for l in &d.labels {
                out.clause(&l.tiers);
            }
        }
        Item::Role(d) => {
            out.ident(NameKind::Role, &d.id, true);
            out.tiers(&d.tiers);
            for stmt in &d.body {
                match stmt {
                    RoleStmt::Inherits { parents, .. } => {
                        out.idents(NameKind::Role, parents);
                    }
                    RoleStmt::Grants {
                        patterns, tiers, ..
                    } => {
                        out.patterns(patterns);
                        out.tiers(tiers);
                    }
                    RoleStmt::Excludes { patterns, .. } => out.patterns(patterns),
                    RoleStmt::Assignable { tiers, .. } => out.tiers(tiers),
                }
            }
        }
        Item::Offered(d) => out.clause(&d.tiers),
        Item::Assert(d) => {
            match &d.kind {
                AssertKind::Only { roles, pattern } | AssertKind::Can { roles, pattern, .. } => {
                    out.idents(NameKind::Role, roles);
                    out.patterns(std::slice::from_ref(pattern));
                }
                AssertKind::NoneBelow { role, pattern } => {
                    out.ident(NameKind::Role, role, false);
                    out.patterns(std::slice::from_ref(pattern));
                }
                AssertKind::NoRole { pattern } => out.patterns(std::slice::from_ref(pattern)),
                AssertKind::Includes { roles, others } => {
                    out.idents(NameKind::Role, roles);
                    out.idents(NameKind::Role, others);
                }
            }
            out.tiers(&d.tiers);
        }
    }
    out.0.into_iter()
}

struct Names<'a>(Vec<NameRef<'a>>);

impl<'a> Names<'a> {
    fn ident(&mut self, kind: NameKind, ident: &'a Ident, declaration: bool) {
        self.0.push(NameRef {
            kind,
            name: &ident.name,
            span: ident.span,
            declaration,
        });
    }

    fn idents(&mut self, kind: NameKind, idents: &'a [Ident]) {
        for i in idents {
            self.ident(kind, i, false);
        }
    }

    fn patterns(&mut self, patterns: &'a [Pattern]) {
        for p in patterns {
            self.0.push(NameRef {
                kind: NameKind::Permission,
                name: &p.text,
                span: p.span,
                declaration: false,
            });
        }
    }

    fn tiers(&mut self, clause: &'a Option<TierConstraint>) {
        if let Some(c) = clause {
            self.clause(c);
        }
    }

    fn clause(&mut self, clause: &'a TierConstraint) {
        for term in &clause.terms {
            match term {
                TierSelector::Range { tier, .. } => self.ident(NameKind::Tier, tier, false),
                TierSelector::List(list) => self.idents(NameKind::Tier, list),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keywords::declaration_keywords;
    use crate::source::SourceFile;

    #[test]
    fn every_declaration_keyword_declares_a_kind_or_is_listed_as_declaring_none() {
        for kw in declaration_keywords() {
            let kind = NameKind::declared_by(kw);
            let none = NON_NAMING_DECLARATIONS.contains(kw);
            assert!(
                kind.is_some() != none,
                "declaration keyword `{kw}` of the grammar must either declare a NameKind \
                 (NameKind::keyword) or be listed in NON_NAMING_DECLARATIONS, not both"
            );
        }
        for kind in NameKind::ALL {
            assert!(
                declaration_keywords().contains(&kind.keyword()),
                "`{}` is not a declaration keyword of the grammar",
                kind.keyword()
            );
            assert_eq!(NameKind::declared_by(kind.keyword()), Some(kind));
        }
        for kw in NON_NAMING_DECLARATIONS {
            assert!(declaration_keywords().contains(kw), "`{kw}`");
        }
    }

    /// The declaration of one name of `kind`, as a file would write it.
    fn declaration(kind: NameKind, name: &str) -> String {
        match kind {
            NameKind::Tier => format!("tiers {name}"),
            NameKind::Permission => format!("permission {name} \"L\""),
            NameKind::Role => format!("role {name} \"L\" {{}}"),
        }
    }

    /// Whether the real parser accepts `name` as the name its declaration declares.
    fn parser_accepts(kind: NameKind, name: &str) -> bool {
        let source = SourceFile::new("t.policy", declaration(kind, name));
        let (file, diags) = crate::parse(&source);
        let declared: Vec<NameRef<'_>> = file.items.iter().flat_map(item_names).collect();
        diags.is_empty()
            && matches!(declared.as_slice(), [n] if n.declaration && n.kind == kind && n.name == name)
    }

    #[test]
    fn name_rules_agree_with_the_parser_on_every_short_name() {
        const ALPHABET: &[char] = &['a', 'Z', '_', '-', '0', '.', '*', ' ', '"', '{', 'é'];
        let mut names = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..3 {
            last = last
                .iter()
                .flat_map(|p| ALPHABET.iter().map(move |c| format!("{p}{c}")))
                .collect();
            names.extend(last.iter().cloned());
        }
        for kw in crate::keywords::keywords() {
            for name in [
                kw.to_string(),
                format!("{kw}x"),
                format!("{kw}-"),
                format!("{kw}_1"),
                format!("x{kw}"),
                format!("{kw}.a"),
                format!("a.{kw}"),
                kw.get(..kw.len() - 1).unwrap_or("").to_string(),
            ] {
                names.push(name);
            }
        }
        for kind in NameKind::ALL {
            for name in &names {
                assert_eq!(
                    kind.is_valid_name(name),
                    parser_accepts(kind, name),
                    "{} `{name}`",
                    kind.as_str()
                );
            }
        }
    }

    #[test]
    fn no_keyword_is_a_role_or_tier_name_but_a_longer_word_is() {
        for kw in crate::keywords::keywords() {
            assert!(!crate::is_identifier(kw), "`{kw}` is a keyword");
            assert!(!NameKind::Role.is_valid_name(kw), "`{kw}`");
            assert!(!NameKind::Tier.is_valid_name(kw), "`{kw}`");
            assert!(crate::is_identifier(&format!("{kw}s")), "`{kw}s`");
            // A permission id may be a keyword (`permission every "…"`).
            assert!(NameKind::Permission.is_valid_name(kw), "`{kw}`");
        }
    }

    fn names(text: &str) -> Vec<(NameKind, String, &'static str, bool)> {
        let source = SourceFile::new("t.policy", text);
        let (file, diags) = crate::parse(&source);
        assert!(diags.is_empty(), "{diags:?}");
        file.items
            .iter()
            .flat_map(|i| {
                item_names(i)
                    .map(|n| {
                        assert_eq!(source.slice(n.span), n.name);
                        let how = if n.is_pattern() { "pattern" } else { "name" };
                        (n.kind, n.name.to_string(), how, n.declaration)
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn item_names_lists_every_statement_in_source_order() {
        use NameKind::*;
        let got = names(
            "tiers free < team\n\
             permission a.b \"A\" on >= team\n\
             role m \"M\" on free, team { grants a.* on team excludes a.b }\n\
             role r \"R\" { inherits m }\n\
             assert only r can a.b on free\n\
             assert no role below r can a.*\n\
             assert no role can a.b\n\
             assert r, m includes m\n\
             assert r can every a.b\n",
        );
        let n = |k, s: &str, how, d| (k, s.to_string(), how, d);
        assert_eq!(
            got,
            [
                n(Tier, "free", "name", true),
                n(Tier, "team", "name", true),
                n(Permission, "a.b", "name", true),
                n(Tier, "team", "name", false),
                n(Role, "m", "name", true),
                n(Tier, "free", "name", false),
                n(Tier, "team", "name", false),
                n(Permission, "a.*", "pattern", false),
                n(Tier, "team", "name", false),
                n(Permission, "a.b", "name", false),
                n(Role, "r", "name", true),
                n(Role, "m", "name", false),
                n(Role, "r", "name", false),
                n(Permission, "a.b", "name", false),
                n(Tier, "free", "name", false),
                n(Role, "r", "name", false),
                n(Permission, "a.*", "pattern", false),
                n(Permission, "a.b", "name", false),
                n(Role, "r", "name", false),
                n(Role, "m", "name", false),
                n(Role, "m", "name", false),
                n(Role, "r", "name", false),
                n(Permission, "a.b", "name", false),
            ]
        );
    }
}
