//! The one registry of name kinds: the five namespaces of the language
//! (tiers, permissions, roles, scopes, conditions), the declaration keyword that
//! declares each one, [`item_names`], the one listing of the names a
//! declaration declares and uses, and [`NameRef::qualified`], the one
//! meaning of a name written in a level's section.
//!
//! The compiler's recovery, the evaluator's errors and the language server
//! all speak of these kinds; they use this type rather than their own, and a
//! new statement lists its names here once.

use std::borrow::Cow;

use crate::ast::{
    AssertKind, Ident, Item, Pattern, PolicyFile, RoleStmt, ScopeDecl, TierConstraint,
    TierSelector, WhenClause,
};
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
    /// A level of the product, declared by `scope team "…" in organization`.
    Scope,
    /// A fact about a request, declared by `condition own "…"`.
    Condition,
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
    pub const ALL: [NameKind; 5] = [
        NameKind::Tier,
        NameKind::Permission,
        NameKind::Role,
        NameKind::Scope,
        NameKind::Condition,
    ];

    /// `"tier"`, `"permission"`, `"role"`, `"scope"` or `"condition"`.
    pub fn as_str(self) -> &'static str {
        match self {
            NameKind::Tier => "tier",
            NameKind::Permission => "permission",
            NameKind::Role => "role",
            NameKind::Scope => "scope",
            NameKind::Condition => "condition",
        }
    }

    /// The declaration keyword that declares names of this kind: `tiers`,
    /// `permission`, `role`, `scope` or `condition`.
    pub fn keyword(self) -> &'static str {
        match self {
            NameKind::Tier => "tiers",
            NameKind::Permission => "permission",
            NameKind::Role => "role",
            NameKind::Scope => "scope",
            NameKind::Condition => "condition",
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
    /// excluded), a permission id for a permission or a condition
    /// ([`crate::is_permission_id`]).
    pub fn is_valid_name(self, text: &str) -> bool {
        match self {
            NameKind::Permission | NameKind::Condition => crate::is_permission_id(text),
            NameKind::Tier | NameKind::Role | NameKind::Scope => crate::is_identifier(text),
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
    /// The level whose section the name is written in (`None` outside
    /// any): a permission or an unqualified role is that level's.
    pub section: Option<&'a str>,
}

/// The full id of a name of `kind` written as `name` in the section of
/// level `section` (see [`NameRef::qualified`]).
pub fn qualify<'a>(kind: NameKind, section: Option<&str>, name: &'a str) -> Cow<'a, str> {
    match (kind, section) {
        (NameKind::Permission, Some(s)) => Cow::Owned(format!("{s}.{name}")),
        (NameKind::Role, Some(s)) if !name.contains('.') => Cow::Owned(format!("{s}.{name}")),
        _ => Cow::Borrowed(name),
    }
}

/// A name declared on another level than the one it is written on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherLevel {
    /// Its full id (or pattern): `organization.manager`.
    pub full: String,
    /// The level that declares it: `organization`.
    pub level: String,
}

/// Where `name` (a permission, pattern or role), which names nothing when
/// written on level `section`, is declared on another of `levels`: a role
/// `admin` written on `organization` that is `team.admin`, a permission
/// written `billing.manage` (or in full, `organization.billing.manage`) on
/// `team` that is the organization's. `declared` tells whether a full id
/// (or pattern) names something. The one reading of "another level's
/// name", for the compiler's help and the queries' errors.
pub fn on_other_level<'l>(
    kind: NameKind,
    section: &str,
    name: &str,
    levels: impl IntoIterator<Item = &'l str>,
    declared: impl Fn(&str) -> bool,
) -> Option<OtherLevel> {
    let levels: Vec<&str> = levels.into_iter().collect();
    match kind {
        NameKind::Permission => {
            if let Some((head, _)) = name.split_once('.') {
                if head != section && levels.contains(&head) && declared(name) {
                    return Some(OtherLevel {
                        full: name.to_string(),
                        level: head.to_string(),
                    });
                }
            }
        }
        NameKind::Role if !name.contains('.') => {}
        _ => return None,
    }
    levels
        .into_iter()
        .filter(|l| *l != section)
        .map(|l| OtherLevel {
            full: format!("{l}.{name}"),
            level: l.to_string(),
        })
        .find(|o| declared(&o.full))
}

impl NameRef<'_> {
    /// Whether this is a permission pattern with a `*` segment, which names
    /// the permissions it matches rather than one permission.
    pub fn is_pattern(&self) -> bool {
        self.kind == NameKind::Permission && self.name.split('.').any(|s| s == "*")
    }

    /// The name's full id: in a level's section, a permission `p` is
    /// `level.p` and a role `r` is `level.r` (a role written `other.r`
    /// is another level's, as written); outside sections, the name as
    /// written. Tiers and scopes are global.
    pub fn qualified(&self) -> Cow<'_, str> {
        qualify(self.kind, self.section, self.name)
    }
}

/// Every name of `file`, in source order, each with its section.
pub fn file_names(file: &PolicyFile) -> impl Iterator<Item = NameRef<'_>> {
    file.sections().flat_map(|(s, item)| item_names(s, item))
}

/// Every name `item` declares or uses, in source order, with its kind and
/// span: the one walk of the AST's names that the language server's index
/// (definitions, references, rename) is built on. `section` is the `scope`
/// line whose section `item` is in ([`PolicyFile::sections`]).
pub fn item_names<'a>(
    section: Option<&'a ScopeDecl>,
    item: &'a Item,
) -> impl Iterator<Item = NameRef<'a>> {
    let mut out = Names(Vec::new(), section.map(|s| s.id.name.as_str()));
    match item {
        Item::Scope(d) => {
            // The scope line itself is outside any section.
            out.1 = None;
            out.ident(NameKind::Scope, &d.id, true);
            if let Some(p) = &d.parent {
                out.ident(NameKind::Scope, p, false);
            }
        }
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
                    RoleStmt::ActsAs { roles, .. } => out.idents(NameKind::Role, roles),
                    RoleStmt::Grants {
                        patterns,
                        tiers,
                        when,
                        ..
                    } => {
                        out.patterns(patterns);
                        out.tiers(tiers);
                        out.when(when.as_ref());
                    }
                    RoleStmt::Excludes { patterns, when, .. } => {
                        out.patterns(patterns);
                        out.when(when.as_ref());
                    }
                    RoleStmt::Assignable { tiers, .. } => out.tiers(tiers),
                }
            }
        }
        Item::Offered(d) => out.clause(&d.tiers),
        Item::Condition(d) => out.ident(NameKind::Condition, &d.id, true),
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
            out.when(d.when.as_ref());
        }
    }
    out.0.into_iter()
}

struct Names<'a>(Vec<NameRef<'a>>, Option<&'a str>);

impl<'a> Names<'a> {
    fn when(&mut self, when: Option<&'a WhenClause>) {
        for c in when.into_iter().flat_map(|w| &w.conditions) {
            self.ident(NameKind::Condition, &c.id, false);
        }
    }

    fn ident(&mut self, kind: NameKind, ident: &'a Ident, declaration: bool) {
        // Tiers, scopes and conditions are global, whichever section names them.
        let section = match kind {
            NameKind::Tier | NameKind::Scope | NameKind::Condition => None,
            NameKind::Role | NameKind::Permission => self.1,
        };
        self.0.push(NameRef {
            kind,
            name: &ident.name,
            span: ident.span,
            declaration,
            section,
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
                section: self.1,
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
            NameKind::Scope => format!("scope {name} \"L\""),
            NameKind::Condition => format!("condition {name} \"L\""),
        }
    }

    /// Whether the real parser accepts `name` as the name its declaration declares.
    fn parser_accepts(kind: NameKind, name: &str) -> bool {
        let source = SourceFile::new("t.policy", declaration(kind, name));
        let (file, diags) = crate::parse(&source);
        let declared: Vec<NameRef<'_>> = file_names(&file).collect();
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
        file.sections()
            .flat_map(|(s, i)| {
                item_names(s, i)
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

    #[test]
    fn names_in_a_section_are_the_levels_and_qualified_ones_are_as_written() {
        let source = SourceFile::new(
            "t.policy",
            "assert org.owner can team.p\n\
             scope org \"Org\"\n\
             permission p \"P\"\n\
             role owner \"Owner\" { grants p acts as team.admin }\n\
             scope team \"Team\" in org\n\
             permission p \"P\"\n\
             role admin \"Admin\" { grants p }\n\
             assert org.owner, admin can p\n",
        );
        let (file, diags) = crate::parse(&source);
        assert!(diags.is_empty(), "{diags:?}");
        let got: Vec<(NameKind, String, bool)> = file_names(&file)
            .map(|n| (n.kind, n.qualified().into_owned(), n.declaration))
            .collect();
        use NameKind::*;
        let n = |k, s: &str, d| (k, s.to_string(), d);
        assert_eq!(
            got,
            [
                n(Role, "org.owner", false),
                n(Permission, "team.p", false),
                n(Scope, "org", true),
                n(Permission, "org.p", true),
                n(Role, "org.owner", true),
                n(Permission, "org.p", false),
                n(Role, "team.admin", false),
                n(Scope, "team", true),
                n(Scope, "org", false),
                n(Permission, "team.p", true),
                n(Role, "team.admin", true),
                n(Permission, "team.p", false),
                n(Role, "org.owner", false),
                n(Role, "team.admin", false),
                n(Permission, "team.p", false),
            ]
        );
    }
}
