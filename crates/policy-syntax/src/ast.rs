//! The abstract syntax tree of a `.policy` file. Every node keeps its span.

use crate::source::{SourceFile, Span};

/// A name as written, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it appears.
    pub span: Span,
}

/// A quoted label, unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The text between the quotes, with escapes resolved.
    pub value: String,
    /// The span including the quotes.
    pub span: Span,
}

/// A doc comment (`/// ...` lines) attached to the next declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    /// The lines without their `///` marker and one leading space, joined by `\n`.
    pub text: String,
    /// The span of all the lines.
    pub span: Span,
}

/// A permission id or pattern in a grant, exclusion or assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The text as written, e.g. `deployments.*`.
    pub text: String,
    /// Where it appears.
    pub span: Span,
}

impl Pattern {
    /// Whether the pattern contains a `*` segment.
    pub fn is_wildcard(&self) -> bool {
        self.text.split('.').any(|s| s == "*")
    }
}

/// A comparison operator in a tier range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `<`
    Lt,
}

impl CmpOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Ge => ">=",
            CmpOp::Gt => ">",
            CmpOp::Le => "<=",
            CmpOp::Lt => "<",
        }
    }
}

/// The tiers a constraint selects, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TierSelector {
    /// `on >= team`
    Range {
        /// The comparison.
        op: CmpOp,
        /// The tier compared with.
        tier: Ident,
    },
    /// `on team, enterprise`
    List(Vec<Ident>),
}

/// An `on ...` clause: terms joined by `and`, each selecting values of
/// one dimension; the clause selects the contexts every term selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierConstraint {
    /// Its terms, in order (at least one): each `and`-joined to the one
    /// before, except where an `or` starts an alternative ([`Self::or_at`]).
    pub terms: Vec<TierSelector>,
    /// The index in `terms` of the first term of each alternative after
    /// the first (where an `or` stands), ascending; empty without `or`.
    pub or_at: Vec<usize>,
    /// The span of the whole clause, `on` included.
    pub span: Span,
}

impl TierConstraint {
    /// The alternatives (`or`-joined), each its `and`-joined terms: the
    /// clause selects the contexts some alternative's terms all select.
    pub fn alternatives(&self) -> impl Iterator<Item = &[TierSelector]> {
        let starts = std::iter::once(0).chain(self.or_at.iter().copied());
        let ends = self
            .or_at
            .iter()
            .copied()
            .chain(std::iter::once(self.terms.len()));
        starts
            .zip(ends)
            .filter_map(move |(a, b)| self.terms.get(a..b))
    }
}

/// `tiers free < team < enterprise` (the dimension named `tier`), or
/// `dimension plan free < pro` / `dimension edition cloud | server`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TiersDecl {
    /// Attached doc comment.
    pub doc: Option<Doc>,
    /// The dimension's name after `dimension`; `None` for `tiers`.
    pub dimension: Option<Ident>,
    /// The values (tiers), lowest first when ordered.
    pub tiers: Vec<Ident>,
    /// The first `<` between values, if any.
    pub first_lt: Option<Span>,
    /// The first `|` between values, if any (a dimension with one is
    /// unordered).
    pub first_bar: Option<Span>,
    /// The whole declaration.
    pub span: Span,
}

impl TiersDecl {
    /// The dimension's name: the one after `dimension`, or `tier`.
    pub fn dimension_name(&self) -> &str {
        self.dimension.as_ref().map_or("tier", |d| d.name.as_str())
    }
}

/// `permission billing.manage "Manage billing" on >= team`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionDecl {
    /// Attached doc comment (the permission's description).
    pub doc: Option<Doc>,
    /// The dotted id.
    pub id: Ident,
    /// The human label.
    pub label: Label,
    /// The tiers on which the permission exists (all when absent).
    pub tiers: Option<TierConstraint>,
    /// Its `label "…" on …` clauses: other wordings in some contexts.
    pub labels: Vec<ContextLabel>,
    /// The whole declaration.
    pub span: Span,
}

/// `label "View private or internal repositories" on server`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextLabel {
    /// The label in those contexts.
    pub label: Label,
    /// The contexts.
    pub tiers: TierConstraint,
    /// The whole clause.
    pub span: Span,
}

/// A statement in a role block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleStmt {
    /// `inherits a, b`
    Inherits {
        /// The parent roles.
        parents: Vec<Ident>,
        /// The whole statement.
        span: Span,
    },
    /// `grants p, q.* on >= team`
    Grants {
        /// The doc comment on the line before, explaining this grant.
        doc: Option<Doc>,
        /// What is granted.
        patterns: Vec<Pattern>,
        /// From which tiers the grant holds (all when absent).
        tiers: Option<TierConstraint>,
        /// The conditions under which it holds (always when absent).
        when: Option<WhenClause>,
        /// The whole statement.
        span: Span,
    },
    /// `excludes p, q.*`, `excludes p when archived`
    Excludes {
        /// The doc comment on the line before, explaining this exclusion.
        doc: Option<Doc>,
        /// What is taken away from the inherited set.
        patterns: Vec<Pattern>,
        /// The conditions under which it is taken away (always when absent).
        when: Option<WhenClause>,
        /// The whole statement.
        span: Span,
    },
    /// `acts as team.admin`: on the levels inside the role's own, its
    /// holders have what the named inner-level roles have there.
    ActsAs {
        /// The roles, as written (`team.admin`).
        roles: Vec<Ident>,
        /// The whole statement.
        span: Span,
    },
    /// `assignable on < business`: where the role can be newly given;
    /// `assignable nowhere`: in no context.
    Assignable {
        /// The contexts it selects (`None`: `nowhere`).
        tiers: Option<TierConstraint>,
        /// The whole statement.
        span: Span,
    },
}

/// `role admin "Admin" on enterprise { ... }`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDecl {
    /// Attached doc comment (the role's description).
    pub doc: Option<Doc>,
    /// The role id.
    pub id: Ident,
    /// The display label.
    pub label: Label,
    /// The tiers on which the role can be assigned (all when absent).
    pub tiers: Option<TierConstraint>,
    /// The statements of the block, in order.
    pub body: Vec<RoleStmt>,
    /// The whole declaration.
    pub span: Span,
}

/// What an assertion claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssertKind {
    /// `only a, b can P`
    Only {
        /// The only roles allowed to hold `pattern`.
        roles: Vec<Ident>,
        /// The permissions concerned.
        pattern: Pattern,
    },
    /// `no role below R can P`
    NoneBelow {
        /// The role whose ancestors may not hold `pattern`.
        role: Ident,
        /// The permissions concerned.
        pattern: Pattern,
    },
    /// `no role can P`
    NoRole {
        /// The permissions nobody may hold.
        pattern: Pattern,
    },
    /// `R includes S`, or with lists `R1, R2 includes S1, S2`: each role
    /// on the left holds everything each role on the right holds.
    Includes {
        /// The roles that must hold everything the `others` hold (one or more).
        roles: Vec<Ident>,
        /// The roles whose permissions `roles` must include (one or more).
        others: Vec<Ident>,
    },
    /// `R can P` (every matched permission), `R can every P` (every matched
    /// permission that exists on the tier) or `R cannot P` (none of them),
    /// for each role of a list.
    Can {
        /// The roles, in order (one or more).
        roles: Vec<Ident>,
        /// The permissions concerned.
        pattern: Pattern,
        /// `true` for `cannot`.
        negated: bool,
        /// `true` for `can every`.
        every: bool,
    },
}

/// `assert ... [on TIERS]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertDecl {
    /// Attached doc comment.
    pub doc: Option<Doc>,
    /// The claim.
    pub kind: AssertKind,
    /// The tiers the claim is checked on (all when absent).
    pub tiers: Option<TierConstraint>,
    /// The facts the claim is checked under (`when own`: `own` holds, every
    /// other condition does not); absent: whatever the facts.
    pub when: Option<WhenClause>,
    /// `only when own`: besides holding under the facts of `when`, the
    /// claim's permissions are denied whenever one of them fails.
    pub only_when: bool,
    /// The whole declaration.
    pub span: Span,
}

/// A top-level declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// `tiers ...`
    Tiers(TiersDecl),
    /// `permission ...`
    Permission(PermissionDecl),
    /// `role ... { }`
    Role(RoleDecl),
    /// `assert ...`
    Assert(AssertDecl),
    /// `offered on ...`
    Offered(OfferedDecl),
    /// `scope team "Team" in organization`
    Scope(ScopeDecl),
    /// `condition own "On items they created"`
    Condition(ConditionDecl),
}

/// `condition own "On items they created"`: a named fact about a request
/// that grants can depend on (`grants items.delete when own`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionDecl {
    /// Attached doc comment (what the fact means, quoted in explanations).
    pub doc: Option<Doc>,
    /// The condition's id (dotted, like a permission's).
    pub id: Ident,
    /// Its display label.
    pub label: Label,
    /// The whole line.
    pub span: Span,
}

/// `when own and setting.public_channels`: the conditions under which a
/// grant holds (all of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhenClause {
    /// The conditions, as written.
    pub conditions: Vec<CondRef>,
    /// The whole clause.
    pub span: Span,
}

/// One condition of a `when` clause: `own`, or `not archived`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondRef {
    /// The condition's id.
    pub id: Ident,
    /// Whether it reads `not id` (the condition must not hold).
    pub negated: bool,
}

/// `scope team "Team" in organization`: a level of the product, and the
/// start of its section: the permissions, roles and assertions after it,
/// up to the next `scope` line, belong to it ([`PolicyFile::sections`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeDecl {
    /// Attached doc comment.
    pub doc: Option<Doc>,
    /// The level's id.
    pub id: Ident,
    /// Its display label.
    pub label: Label,
    /// The level it is inside (`in organization`); `None` for an outermost one.
    pub parent: Option<Ident>,
    /// The whole line.
    pub span: Span,
}

/// `offered on cloud and >= pro`: combinations of values the product
/// sells; with such lines, the policy's contexts are their union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedDecl {
    /// Attached doc comment.
    pub doc: Option<Doc>,
    /// The combinations it selects.
    pub tiers: TierConstraint,
    /// The whole declaration.
    pub span: Span,
}

impl Item {
    /// The whole declaration, from its doc comment (if any) to its end.
    pub fn span(&self) -> Span {
        match self {
            Item::Tiers(d) => d.span,
            Item::Permission(d) => d.span,
            Item::Role(d) => d.span,
            Item::Assert(d) => d.span,
            Item::Offered(d) => d.span,
            Item::Scope(d) => d.span,
            Item::Condition(d) => d.span,
        }
    }
}

/// `expect LINT[, LINT] "reason"` before a declaration: the warnings named
/// are expected on that declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The lints, by name (`unheld-permission`) or code (`P0304`), as written.
    pub lints: Vec<Ident>,
    /// Why the warning is expected.
    pub reason: Label,
    /// The `expect` line itself.
    pub span: Span,
    /// The declaration it applies to (from its doc comment, if any, to its end).
    pub target: Span,
}

/// A parsed file: its declarations in source order.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    /// The source it was parsed from.
    pub source: SourceFile,
    /// The declarations that parsed, in source order.
    pub items: Vec<Item>,
    /// The lint expectations, in source order.
    pub expectations: Vec<Expectation>,
}

impl PolicyFile {
    /// Every declaration with the `scope` line whose section it is in
    /// (the last one before it; `None` before the first). The one meaning
    /// of "the level a declaration belongs to", for the compiler, the
    /// formatter and the language server.
    ///
    /// In a project, a section ends with its file: each file's
    /// declarations before its own first `scope` line are in none.
    pub fn sections(&self) -> impl Iterator<Item = (Option<&ScopeDecl>, &Item)> {
        let mut current: Option<&ScopeDecl> = None;
        let parts = self.source.parts();
        let mut file = 0usize;
        self.items.iter().map(move |item| {
            let start = item.span().start;
            while parts.get(file + 1).is_some_and(|p| p.start <= start) {
                file += 1;
                current = None;
            }
            if let Item::Scope(s) = item {
                current = Some(s);
            }
            (current, item)
        })
    }
}
