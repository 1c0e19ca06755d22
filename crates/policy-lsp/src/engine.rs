//! The one adapter between the language server and the policy engine.
//!
//! Everything the server needs from the compiler, the formatter and the
//! policy model goes through this module, so that when the engine's API
//! changes only this file changes with it. Nothing here re-implements the
//! engine: compiling, formatting, derivations and deny reasons are the
//! compiler's own, and every decision (what a role may use, who may use a
//! permission) is the evaluator's, the engine `policyc query` and
//! `policyc serve` answer from.

use std::sync::OnceLock;

pub use policy_compiler::{wording, PermId, Policy, RoleId, Step, TierId};
pub use policy_eval::Evaluator;
/// The grammar's own identifier rules and reserved words: what is a role or
/// tier name ([`is_identifier`], keywords excluded), what is a permission id
/// ([`is_permission_id`]), and every keyword ([`keywords`]), read from
/// `grammar/policy.pest`. The server keeps no list of its own.
pub use policy_syntax::keywords::{declaration_keywords, is_keyword, keywords};
/// The names each declaration declares and uses, with kinds and spans: the
/// one listing the server's name index is built on.
pub use policy_syntax::{file_names, item_names, NameRef, ScopeDecl};
pub use policy_syntax::{is_identifier, is_permission_id};
pub use policy_syntax::{
    line_starts, AssertDecl, AssertKind, Code, Diagnostic, Ident, Item, NameKind, Pattern,
    PolicyFile, RoleStmt, Severity, SourceFile, Span, TierConstraint, TierSelector,
    DEFAULT_MAX_FILE_BYTES,
};

/// The result of compiling one document: the AST, the policy and every
/// diagnostic `policyc check` reports for the same text.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The parsed declarations (whatever parsed, after error recovery).
    pub file: PolicyFile,
    /// The resolved policy (built from what resolved when there are errors).
    pub policy: Policy,
    /// Every diagnostic, sorted, as `policyc check` reports them.
    pub diagnostics: Vec<Diagnostic>,
    /// The evaluator of `policy`, built on first use (a hover).
    eval: OnceLock<Evaluator>,
}

impl Compiled {
    /// The evaluator deciding for this document's policy: the query
    /// engine of `policyc query`, built the first time it is needed.
    pub fn eval(&self) -> &Evaluator {
        self.eval
            .get_or_init(|| Evaluator::from_policy(&self.policy))
    }
}

/// Compiles `text` exactly as `policyc check` does: one file, one compile,
/// through the compiler's own sequence (`policy_compiler::compile_full`,
/// which keeps the AST); a test checks that the diagnostics are identical
/// to `policy_compiler::compile`'s.
pub fn compile(name: &str, text: &str) -> Compiled {
    compile_source(&SourceFile::new(name, text))
}

/// Compiles `source`, one file or a project's files
/// ([`SourceFile::project`]), as `policyc check` does.
pub fn compile_source(source: &SourceFile) -> Compiled {
    let c = policy_compiler::compile_full(source);
    Compiled {
        file: c.file,
        policy: c.policy,
        diagnostics: c.diagnostics,
        eval: OnceLock::new(),
    }
}

/// The permissions each role grant and exclusion matches, as the compiler
/// resolved them, by the span of the pattern.
pub fn resolved_matches(policy: &Policy) -> std::collections::HashMap<Span, &[PermId]> {
    let mut out = std::collections::HashMap::new();
    for r in policy.roles() {
        for g in &r.grants {
            out.insert(g.span, g.matches.as_slice());
        }
        for e in &r.exclusions {
            out.insert(e.span, e.matches.as_slice());
        }
    }
    out
}

/// Formats `text` with the formatter behind `policyc fmt`; `None` when the
/// text has syntax errors (the formatter never guesses at broken input).
pub fn format(name: &str, text: &str) -> Option<String> {
    policy_syntax::format(&SourceFile::new(name, text)).ok()
}

/// Whether permission pattern `pattern` matches permission id `id`.
pub fn pattern_matches(pattern: &str, id: &str) -> bool {
    policy_compiler::pattern_matches(pattern, id)
}

/// The name of a tier for display (`default` for the implicit tier).
pub fn tier_name(policy: &Policy, tier: TierId) -> &str {
    policy.tier_name(tier)
}

/// The permissions `role` may use on `tier`, in declaration order: the
/// evaluator's `what-can`.
pub fn what_can(eval: &Evaluator, tier: TierId, role: RoleId) -> Vec<PermId> {
    eval.what_can(tier, role)
}

/// The roles that may use `perm` on `tier`, in declaration order: the
/// evaluator's `who-can`.
pub fn who_can(eval: &Evaluator, tier: TierId, perm: PermId) -> Vec<RoleId> {
    eval.who_can(tier, perm)
}

/// The shortest derivation of `perm` for `role` on `tier`.
pub fn derivation(policy: &Policy, tier: TierId, role: RoleId, perm: PermId) -> Option<Vec<Step>> {
    policy.derivation(tier, role, perm)
}

/// What exclusions take from `role` on `tier`: (permission, excluding
/// role, the exclusion's span), as the engine's deny reasons say.
pub fn excluded(policy: &Policy, tier: TierId, role: RoleId) -> Vec<(PermId, RoleId, Span)> {
    policy.excluded_perms(tier, role)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The adapter's compile reports exactly what `policy_compiler::compile` does.
    #[test]
    fn compile_matches_the_compiler_on_every_ui_policy() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ui");
        let mut dirs = vec![root];
        let mut checked = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "policy") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let ours = compile("x.policy", &text).diagnostics;
                    let (_, theirs) = policy_compiler::compile(&SourceFile::new("x.policy", text));
                    let key = |d: &Diagnostic| (d.sort_key(), d.message().to_string());
                    assert_eq!(
                        ours.iter().map(key).collect::<Vec<_>>(),
                        theirs.iter().map(key).collect::<Vec<_>>(),
                        "{}",
                        path.display()
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 20);
    }
}
