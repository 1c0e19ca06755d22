//! The policyc compiler: resolves a parsed policy into a permission graph.
//!
//! [`compile`] parses a [`SourceFile`], resolves every name (roles,
//! permissions, tiers, wildcard patterns), orders the inheritance graph
//! (petgraph; cycles are reported), and precomputes the effective permission
//! set of every role on every tier (interned sets of 512-bit chunks, so
//! memory follows what the policy states, not roles × permissions). It returns the [`Policy`]
//! together with every [`Diagnostic`] found (errors and warnings, sorted).
//!
//! ```
//! use policy_compiler::compile;
//! use policy_syntax::SourceFile;
//!
//! let src = SourceFile::new("demo.policy", r#"
//!     tiers free < enterprise
//!     permission billing.manage "Manage billing"
//!     permission files.manage "Create and manage Files"
//!     role member "Member" on enterprise { grants files.manage }
//!     role admin "Admin" { inherits member grants billing.manage }
//! "#);
//! let (policy, diagnostics) = compile(&src);
//! assert!(diagnostics.is_empty());
//! let free = policy.tier_id("free").unwrap();
//! let admin = policy.role_id("admin").unwrap();
//! let files = policy.perm_id("files.manage").unwrap();
//! // Admin inherits from Member even on `free`, where Member is not available.
//! assert!(policy.allows(free, admin, files));
//! ```
#![deny(missing_docs)]

mod assemble;
mod assertions;
mod condition_set;
mod conditional;
pub mod context;
mod decl;
mod diff;
mod expect;
mod explain;
mod fixes;
mod graph;
mod lines;
mod model;
mod pattern;
mod recovery;
mod resolve;
mod sets;
mod snapshot;

pub use assemble::{assemble, AssembleError, Declarations};
pub use diff::{
    diff_policies, AccessChange, AvailabilityChange, Change, ChangeReason, LabelChange,
    PermissionEntry, PolicyDiff, RoleEntry, Subject, TierPermissions, DIFF_SCHEMA_VERSION,
};
pub use expect::Expected;
pub use explain::wording;
pub use explain::{
    Decider, Decision, DenyReason, Facts, Location, NearestMiss, Outcome, Reason, ReasonKind, Step,
};
pub use lines::LineTable;
pub use model::*;
pub use pattern::matches as pattern_matches;
pub use sets::{Chunk, PermSets, SetBuilder, SetId, CHUNK_BITS, MAX_SET_BYTES, MAX_SET_WORK};
pub use snapshot::{Snapshot, Source, TierSnapshot, SNAPSHOT_SCHEMA_VERSION};

use policy_syntax::{sort_diagnostics, Code, Diagnostic, PolicyFile, Severity, SourceFile, Span};

/// Parses and compiles `source`. See [`compile_file`].
pub fn compile(source: &SourceFile) -> (Policy, Vec<Diagnostic>) {
    let (policy, diags, _) = compile_with_expected(source);
    (policy, diags)
}

/// Parses and compiles `source`, also returning the warnings that `expect`
/// lines marked as expected (and that the diagnostics therefore leave out),
/// each with its reason, for reports that show them (`check --format json`,
/// SARIF suppressions).
pub fn compile_with_expected(source: &SourceFile) -> (Policy, Vec<Diagnostic>, Vec<Expected>) {
    let c = compile_full(source);
    (c.policy, c.diagnostics, c.expected)
}

/// Everything one compile of a source produces, the parsed file included.
#[derive(Debug, Clone)]
pub struct Compilation {
    /// The declarations that parsed (after error recovery).
    pub file: PolicyFile,
    /// The resolved policy (built from what resolved when there are errors).
    pub policy: Policy,
    /// Every diagnostic, sorted: what [`compile`] returns.
    pub diagnostics: Vec<Diagnostic>,
    /// The warnings `expect` lines expected, left out of `diagnostics`.
    pub expected: Vec<Expected>,
}

/// The one compile sequence behind [`compile`] and
/// [`compile_with_expected`]: parses `source`, compiles the parsed file
/// (see [`compile_file`]), merges and sorts the diagnostics, and keeps the
/// parsed file for callers that need it too (the language server).
pub fn compile_full(source: &SourceFile) -> Compilation {
    let (file, mut diagnostics) = policy_syntax::parse(source);
    let (policy, more, expected) = compile_file_with_expected(&file, diagnostics.is_empty());
    diagnostics.extend(more);
    sort_diagnostics(&mut diagnostics);
    Compilation {
        file,
        policy,
        diagnostics,
        expected,
    }
}

/// Compiles a parsed file. `parsed_cleanly` tells whether the parser
/// reported no errors; when it did, the lints that judge the whole policy
/// (such as "granted to nobody") are skipped, since declarations are missing.
/// Warnings that an `expect` line expects are left out.
pub fn compile_file(file: &PolicyFile, parsed_cleanly: bool) -> (Policy, Vec<Diagnostic>) {
    let (policy, diags, _) = compile_file_with_expected(file, parsed_cleanly);
    (policy, diags)
}

/// [`compile_file`], also returning the expected warnings it left out.
pub fn compile_file_with_expected(
    file: &PolicyFile,
    parsed_cleanly: bool,
) -> (Policy, Vec<Diagnostic>, Vec<Expected>) {
    let source = &file.source;
    let (mut resolved, mut diags) = resolve::Resolver::new(source).resolve(file);
    if !parsed_cleanly {
        recovery::drop_cascades(source, &mut diags);
        // A level's roles, or the `when` naming a condition, may be in a
        // declaration the parser dropped.
        diags.retain(|d| !matches!(d.code(), Code::UnreachedScope | Code::UnusedCondition));
    }
    let asserts = std::mem::take(&mut resolved.asserts);
    let repeated = std::mem::take(&mut resolved.repeated_grants);
    let indexed = assemble::Indexed {
        dimensions: resolved.dimensions,
        offered: resolved.offered,
        scopes: resolved.scopes,
        permissions: resolved.permissions,
        roles: resolved.roles,
        perm_index: resolved.perm_index,
        role_index: resolved.role_index,
        conditions: resolved.conditions,
    };
    let mut lint_diags = Vec::new();
    let (policy, too_large) = assemble::build(
        source.clone(),
        indexed,
        &repeated,
        asserts.len(),
        None,
        &mut diags,
        &mut lint_diags,
    );
    if let Some(bound) = too_large {
        let what = match bound {
            sets::TooLarge::Bytes => {
                format!("more than {} MiB of permission sets", MAX_SET_BYTES >> 20)
            }
            sets::TooLarge::Work => format!("more than {MAX_SET_WORK} set operations"),
        };
        diags.push(
            Diagnostic::new(
                Code::PolicyTooLarge,
                format!(
                    "`{}` ({} roles, {} permissions) needs {what}; policyc computes no more",
                    source.name(),
                    policy.roles().len(),
                    policy.permissions().len(),
                ),
            )
            .with_source(source)
            .help("split it into independent policies, one per product or workspace (the files of a project are one policy)"),
        );
        // Fail closed: no sets, so every decision is a deny.
    }
    // After P0509 too: assertions are not checked against a policy that decides nothing.
    let names_ok = !diags.iter().any(|d| d.severity() == Severity::Error);
    if parsed_cleanly && names_ok {
        // `assert no role can P` says on purpose that nobody holds P (where
        // it exists: an assertion that checks nothing silences nothing).
        let unheld_on_purpose: std::collections::HashSet<Span> = asserts
            .iter()
            .filter(|a| matches!(a.kind, resolve::AssertClaim::NoRole))
            .filter(|a| !assertions::vacuous(&policy, a))
            .flat_map(|a| a.perms.iter())
            .filter_map(|&p| policy.permission(p).map(|p| p.span))
            .collect();
        lint_diags.retain(|d| {
            d.code() != Code::UngrantedPermission
                || !d
                    .primary_span()
                    .is_some_and(|s| unheld_on_purpose.contains(&s))
        });
        diags.extend(lint_diags);
        diags.extend(resolve::empty_implications(&policy, source));
    }
    if parsed_cleanly {
        assertions::check_vacuous(&policy, &asserts, &mut diags);
    }
    if parsed_cleanly && names_ok {
        // No verdict on a policy with an error (names, cycles, `P0509`): it
        // would be about another policy than the one written.
        assertions::check(&policy, &asserts, &mut diags);
    }
    if file.items.is_empty() && parsed_cleanly {
        diags.push(
            Diagnostic::new(
                Code::EmptyFile,
                format!("`{}` declares nothing", source.name()),
            )
            .with_source(source)
            .help("declare tiers, permissions and roles, or delete the file"),
        );
    }
    let expected = expect::apply(file, parsed_cleanly && names_ok, &mut diags);
    fixes::attach_removals(file, &mut diags);
    sort_diagnostics(&mut diags);
    (policy, diags, expected)
}

/// Whether any diagnostic is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(|d| d.severity() == Severity::Error)
}
