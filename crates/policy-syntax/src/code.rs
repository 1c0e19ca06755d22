//! The registry of stable diagnostic codes.
//!
//! Ranges: `P01xx` syntax, `P02xx` name resolution, `P03xx` graph and tier
//! constraints, `P04xx` queries, `P05xx` test files and I/O, `P06xx` export. A code is never
//! reused; retired codes stay in this list.

use std::fmt;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The policy is wrong; it cannot be used.
    Error,
    /// The policy compiles but is very likely not what the author meant.
    Warning,
}

impl Severity {
    /// `"error"` or `"warning"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $severity:ident, $title:literal; )*) => {
        /// A stable diagnostic code such as `P0201`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in numeric order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The code as written in output and docs, e.g. `"P0201"`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// The default severity of diagnostics with this code.
            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$severity, )* }
            }

            /// A one-line title of what the code means.
            pub fn title(self) -> &'static str {
                match self { $( Code::$variant => $title, )* }
            }

            /// The long explanation from `docs/errors/CODE.md`, as `policyc explain` prints it.
            pub fn explanation(self) -> &'static str {
                match self {
                    $( Code::$variant => include_str!(concat!("../../../docs/errors/", $code, ".md")), )*
                }
            }

            /// The address of this code's documentation page under `base`,
            /// the root of a copy of the repository's files (a web view of
            /// a branch, or a `file://` clone): `{base}/docs/errors/CODE.md`.
            /// A trailing `/` on `base` is ignored.
            pub fn doc_url(self, base: &str) -> String {
                format!("{}/docs/errors/{}.md", base.trim_end_matches('/'), self.as_str())
            }
        }
    };
}

codes! {
    /// The text does not follow the grammar.
    Syntax = "P0101", Error, "syntax error";
    /// A line is longer than the parser accepts.
    LineTooLong = "P0102", Error, "line too long";
    /// More tiers than the compiler supports.
    TooManyTiers = "P0103", Error, "too many tiers";
    /// A name that is not declared as a role.
    UnknownRole = "P0201", Error, "unknown role";
    /// A name that is not declared as a permission.
    UnknownPermission = "P0202", Error, "unknown permission";
    /// A name that is not declared as a tier.
    UnknownTier = "P0203", Error, "unknown tier";
    /// A role declared twice.
    DuplicateRole = "P0204", Error, "duplicate role";
    /// A permission declared twice.
    DuplicatePermission = "P0205", Error, "duplicate permission";
    /// A tier named twice, or a second `tiers` declaration.
    DuplicateTier = "P0206", Error, "duplicate tier";
    /// A wildcard pattern that matches no declared permission.
    WildcardMatchesNothing = "P0207", Warning, "wildcard matches nothing";
    /// An `expect` line names a lint that does not exist, or an error.
    UnknownLint = "P0208", Error, "unknown lint in `expect`";
    /// A dimension whose values are separated by both `<` and `|`.
    DimensionOrder = "P0209", Error, "dimension both ordered and unordered";
    /// A term of an `on` clause lists values of different dimensions.
    MixedDimensions = "P0210", Error, "values of different dimensions in one term";
    /// A comparison (`>=`, `<` ...) with a value of an unordered dimension.
    UnorderedRange = "P0211", Error, "range over an unordered dimension";
    /// A name that is not declared as a scope (level).
    UnknownScope = "P0212", Error, "unknown scope";
    /// A scope declared twice.
    DuplicateScope = "P0213", Error, "duplicate scope";
    /// A permission or role before the first `scope` line of a policy
    /// that has levels.
    OutsideScope = "P0214", Error, "declaration outside any scope";
    /// A name in a `when` clause that is not a declared condition.
    UnknownCondition = "P0215", Error, "unknown condition";
    /// A condition declared twice.
    DuplicateCondition = "P0216", Error, "duplicate condition";
    /// More conditions than a policy may declare.
    TooManyConditions = "P0217", Error, "too many conditions";
    /// A `when` clause that names a condition both holding and not.
    ContradictoryConditions = "P0218", Error, "contradictory conditions";
    /// `only when` on an assertion other than `R can P`.
    MisplacedOnlyWhen = "P0219", Error, "`only when` on an assertion other than `can`";
    /// Role inheritance forms a cycle.
    InheritanceCycle = "P0301", Error, "inheritance cycle";
    /// An exclusion that removes nothing the role would otherwise have.
    UselessExclusion = "P0302", Warning, "exclusion never takes anything away";
    /// A grant of a permission the role already has through inheritance.
    RedundantGrant = "P0303", Warning, "redundant grant";
    /// A permission that no role holds on any tier.
    UngrantedPermission = "P0304", Warning, "permission granted to nobody";
    /// A tier constraint that selects no tier.
    EmptyTierConstraint = "P0305", Error, "tier constraint selects no tier";
    /// A role that holds no permission on any tier where it is available.
    EmptyRole = "P0306", Warning, "role has no permissions";
    /// A role that both grants and excludes the same permission.
    GrantExcludeConflict = "P0307", Error, "grant conflicts with exclusion";
    /// A role that inherits from the same role twice, or from itself indirectly twice.
    DuplicateParent = "P0308", Warning, "duplicate parent";
    /// An assertion about the policy does not hold.
    AssertionFailed = "P0309", Error, "assertion failed";
    /// An assertion that checks nothing: its pattern matches no permission,
    /// or `no role below R` where `R` inherits from no role.
    VacuousAssertion = "P0310", Error, "assertion checks nothing";
    /// An `expect` line whose warning does not occur on its declaration.
    UnfulfilledExpectation = "P0311", Warning, "expected warning does not occur";
    /// An `expect` line that names the same lint twice (by name or code).
    RepeatedExpectation = "P0312", Warning, "lint named twice in `expect`";
    /// `assignable on` selects contexts where the role is not available.
    AssignableUnavailable = "P0313", Error, "assignable where the role does not exist";
    /// Two `label` clauses of a permission select the same context, or one
    /// selects a context where the permission does not exist.
    ContextLabelConflict = "P0314", Error, "conflicting or unreachable context label";
    /// Scopes nested in a cycle (`a in b`, `b in a`).
    ScopeCycle = "P0315", Error, "scopes nested in a cycle";
    /// `inherits` across levels, or `acts as` a role on a level that is
    /// not inside the role's own.
    LevelMismatch = "P0316", Error, "role implied across levels the wrong way";
    /// `acts as` a role that holds nothing in any context.
    EmptyImplication = "P0317", Warning, "implication grants nothing";
    /// A level with no role of its own and no role acting on it.
    UnreachedScope = "P0318", Warning, "level no role reaches";
    /// A condition no `when` clause names.
    UnusedCondition = "P0319", Warning, "condition no grant depends on";
    /// A query names a role, permission or tier the policy does not declare.
    UnknownQueryName = "P0401", Error, "unknown name in query";
    /// A query lacks a tier the policy needs, or gives one it cannot use.
    QueryTier = "P0402", Error, "missing or unexpected tier in query";
    /// A batch request that is not a well-formed query.
    MalformedQuery = "P0403", Error, "malformed query";
    /// Retired (issue 22): `matrix --tier` with an unknown tier is now
    /// `P0401`, like every query, from the one tier lookup.
    UnknownMatrixTier = "P0404", Error, "unknown tier for the matrix";
    /// `policyc explain` was given a code that does not exist.
    UnknownCode = "P0405", Error, "unknown diagnostic code";
    /// A `policyc serve` request body (or batch) over the server's limit.
    RequestTooLarge = "P0420", Error, "request too large";
    /// A `policyc serve` client too slow to send its request.
    RequestTimeout = "P0421", Error, "request timed out";
    /// `policyc serve` has as many connections open as it allows.
    TooManyConnections = "P0422", Error, "too many connections";
    /// A `policyc serve` request to a path that is not part of the API.
    UnknownEndpoint = "P0423", Error, "unknown endpoint";
    /// A file or directory could not be read.
    Io = "P0501", Error, "cannot read file";
    /// A file is not valid UTF-8 text.
    NotUtf8 = "P0502", Error, "file is not UTF-8";
    /// A file contains a NUL byte.
    NulByte = "P0503", Error, "file contains a NUL byte";
    /// A file is larger than policyc accepts.
    FileTooLarge = "P0504", Error, "file too large";
    /// A path holds no `.policy` files.
    NoPolicies = "P0505", Error, "no policy files found";
    /// A policy file declares nothing.
    EmptyFile = "P0506", Warning, "empty policy file";
    /// A compiled artifact cannot be loaded.
    BadArtifact = "P0507", Error, "invalid compiled policy";
    /// A test file is malformed.
    BadTestFile = "P0508", Error, "invalid test file";
    /// A policy whose roles × permissions table is too large to compute.
    PolicyTooLarge = "P0509", Error, "policy too large";
    /// A command was given arguments that do not fit together.
    Usage = "P0510", Error, "invalid command-line arguments";
    /// `policyc diff` could not read a version of a policy from git.
    GitRead = "P0511", Error, "cannot read a version from git";
    /// A project manifest (`policyc.toml`) that cannot be used.
    BadManifest = "P0512", Error, "invalid project manifest";
    /// A file could not be written (a directory, read-only, no permission).
    CannotWrite = "P0520", Error, "cannot write file";
    /// A path names a FIFO, device or socket where a file was expected.
    NotRegularFile = "P0521", Error, "not a regular file";
    /// An output path is one of the command's inputs.
    OutputIsInput = "P0522", Error, "output would overwrite an input";
    /// A test file's policy (named by `policy:` or beside it), a snapshot or
    /// a snapshot's policy is not a file of its kind inside the tree.
    PolicyOutsideTree = "P0523", Error, "test input outside its tree";
    /// `policyc fmt` would write a file larger than the most policyc reads.
    FormattedTooLarge = "P0524", Error, "formatted file would be too large";
    /// `policyc serve` cannot listen on an address.
    CannotListen = "P0550", Error, "cannot listen";
    /// The language server's connection to its client failed.
    LspConnection = "P0560", Error, "language server connection failed";
    /// A subcommand that this build of policyc was compiled without.
    NotInThisBuild = "P0561", Error, "command not in this build";
    /// A compiled artifact written with a schema version this policyc does not read.
    ArtifactVersion = "P0570", Error, "unsupported artifact version";
    /// A construct `policyc export` cannot translate faithfully to the target engine.
    ExportUnsupported = "P0601", Error, "construct cannot be exported";
    /// `policyc export --to cerbos` leaves out the test suite of a policy
    /// with more cells than a suite should hold.
    ExportSuiteLeftOut = "P0602", Warning, "export test suite left out";
}

impl Code {
    /// Looks a code up by its text, case-insensitively (`p0201` works).
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// The warnings an `expect` line can name, by code and lint name: every
/// warning about one declaration.
const LINTS: &[(Code, &str)] = &[
    (Code::WildcardMatchesNothing, "unmatched-wildcard"),
    (Code::UselessExclusion, "useless-exclusion"),
    (Code::RedundantGrant, "redundant-grant"),
    (Code::UngrantedPermission, "unheld-permission"),
    (Code::EmptyRole, "empty-role"),
    (Code::DuplicateParent, "duplicate-parent"),
    (Code::EmptyImplication, "empty-implication"),
    (Code::UnreachedScope, "unreached-scope"),
    (Code::UnusedCondition, "unused-condition"),
];

impl Code {
    /// The lint name of a warning an `expect` line can name, such as
    /// `unheld-permission` for `P0304`.
    pub fn lint_name(self) -> Option<&'static str> {
        LINTS.iter().find(|(c, _)| *c == self).map(|(_, n)| *n)
    }

    /// The expectable warning named `text`, by lint name or code (`P0304`,
    /// case-insensitively).
    pub fn from_lint(text: &str) -> Option<Code> {
        LINTS
            .iter()
            .find(|(c, n)| *n == text || c.as_str().eq_ignore_ascii_case(text))
            .map(|(c, _)| *c)
    }

    /// Every lint name an `expect` line accepts, sorted.
    pub fn lint_names() -> Vec<&'static str> {
        let mut names: Vec<&'static str> = LINTS.iter().map(|(_, n)| *n).collect();
        names.sort_unstable();
        names
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
