//! Resolving `assert` declarations: the roles, permissions and tiers each
//! names, and the claim it makes.

use std::cell::OnceCell;
use std::collections::HashMap;

use policy_syntax::{Code, Ident, Item, NameKind, PolicyFile, Span, Suggester};

use super::Resolver;
use crate::model::*;

/// An assertion with its names resolved.
pub(crate) struct ResolvedAssert {
    pub kind: AssertClaim,
    pub pattern: String,
    pub perms: Vec<PermId>,
    pub tiers: TierSet,
    /// The facts the claim is checked under (`when`): these conditions
    /// hold and the others do not; `None`: whatever the facts.
    pub when: Option<ConditionSet>,
    /// `only when`: the permissions are also denied whenever one of the
    /// conditions of `when` fails.
    pub only: bool,
    pub span: Span,
    /// Where the pattern is written.
    pub pattern_span: Span,
    /// For a wildcard that matches nothing, the nearest pattern that would match.
    pub suggestion: Option<String>,
    /// For a wildcard that matches nothing in its section but matches
    /// another level's permissions, the help that says so.
    pub elsewhere: Option<String>,
}

/// The claim of an assertion.
pub(crate) enum AssertClaim {
    Only(Vec<RoleId>),
    NoneBelow(RoleId),
    /// `no role can P`
    NoRole,
    /// `R includes S`: (R, S); the assertion's permissions are all of them.
    Includes(Vec<RoleId>, Vec<RoleId>),
    Can(Vec<RoleId>),
    /// `R can every P`: every matched permission that exists on the tier.
    CanEvery(Vec<RoleId>),
    Cannot(Vec<RoleId>),
}

impl Resolver<'_> {
    fn lookup_role(
        &mut self,
        n: &Ident,
        index: &HashMap<String, RoleId>,
        names: &OnceCell<Suggester>,
    ) -> Option<RoleId> {
        let qualified = self.qualified(NameKind::Role, &n.name);
        if let Some(id) = index.get(&qualified) {
            return Some(*id);
        }
        self.unknown_role(n, index, names);
        None
    }

    /// Resolves every name of `roles`, reporting each unknown one (all of
    /// them, not only the first); `None` when any failed.
    fn lookup_roles(
        &mut self,
        roles: &[Ident],
        index: &HashMap<String, RoleId>,
        names: &OnceCell<Suggester>,
    ) -> Option<Vec<RoleId>> {
        let ids: Vec<Option<RoleId>> = roles
            .iter()
            .map(|n| self.lookup_role(n, index, names))
            .collect();
        ids.into_iter().collect()
    }

    /// Resolves every `assert` declaration; unresolvable ones are dropped
    /// after their diagnostics.
    pub(super) fn resolve_asserts(
        &mut self,
        file: &PolicyFile,
        index: &HashMap<String, RoleId>,
    ) -> Vec<ResolvedAssert> {
        use policy_syntax::AssertKind;
        let names = OnceCell::new();
        let mut out = Vec::new();
        for (section, item) in file.sections() {
            let Item::Assert(a) = item else { continue };
            self.enter_section(section);
            let tiers = self.tier_set(a.tiers.as_ref(), || "this assertion".to_string());
            let when = self.when_set(a.when.as_ref()).map(|(w, _)| w);
            if a.only_when && !matches!(&a.kind, AssertKind::Can { negated: false, .. }) {
                let at = a.when.as_ref().map_or(a.span, |w| w.span);
                let d = self
                    .diag(
                        Code::MisplacedOnlyWhen,
                        "`only when` belongs to an assertion that a role can use a permission"
                            .to_string(),
                    )
                    .primary(at, "says which conditions a `can` needs")
                    .help(
                        "write `assert ROLE can PERMISSION only when CONDITION`; for the others, use `when`",
                    );
                self.diags.push(d);
                continue;
            }
            let (claim, pattern) = match &a.kind {
                AssertKind::Only { roles, pattern } => {
                    let Some(ids) = self.lookup_roles(roles, index, &names) else {
                        continue;
                    };
                    (AssertClaim::Only(ids), pattern)
                }
                AssertKind::NoneBelow { role, pattern } => {
                    let Some(id) = self.lookup_role(role, index, &names) else {
                        continue;
                    };
                    (AssertClaim::NoneBelow(id), pattern)
                }
                AssertKind::NoRole { pattern } => (AssertClaim::NoRole, pattern),
                AssertKind::Includes { roles, others } => {
                    // Both lists are resolved before giving up, so every
                    // unknown name in either is reported.
                    let r = self.lookup_roles(roles, index, &names);
                    let o = self.lookup_roles(others, index, &names);
                    let (Some(r), Some(o)) = (r, o) else {
                        continue;
                    };
                    let Some(first_other) = others.first() else {
                        continue;
                    };
                    out.push(ResolvedAssert {
                        kind: AssertClaim::Includes(r, o),
                        pattern: "*".to_string(),
                        perms: (0..self.permissions.len() as u32).map(PermId).collect(),
                        tiers,
                        when,
                        only: false,
                        span: a.span,
                        pattern_span: first_other.span,
                        suggestion: None,
                        elsewhere: None,
                    });
                    continue;
                }
                AssertKind::Can {
                    roles,
                    pattern,
                    negated,
                    every,
                } => {
                    let Some(ids) = self.lookup_roles(roles, index, &names) else {
                        continue;
                    };
                    let claim = match (negated, every) {
                        (true, _) => AssertClaim::Cannot(ids),
                        (false, true) => AssertClaim::CanEvery(ids),
                        (false, false) => AssertClaim::Can(ids),
                    };
                    (claim, pattern)
                }
            };
            // A wildcard that matches nothing makes the assertion check
            // nothing: that is `P0310`, an error reported by the assertion
            // pass, not the `P0207` warning a grant's wildcard gets.
            let (perms, suggestion, elsewhere) = if pattern.is_wildcard() {
                let qualified = self.qualified(NameKind::Permission, &pattern.text);
                let perms = self.wildcard_matches(&qualified);
                let elsewhere = perms
                    .is_empty()
                    .then(|| self.other_level_help(&pattern.text))
                    .flatten();
                let suggestion = (perms.is_empty() && elsewhere.is_none())
                    .then(|| self.wildcard_suggestion(&qualified))
                    .flatten();
                (perms, suggestion, elsewhere)
            } else {
                let perms = self.resolve_pattern(pattern);
                if perms.is_empty() {
                    continue;
                }
                (perms, None, None)
            };
            out.push(ResolvedAssert {
                kind: claim,
                pattern: pattern.text.clone(),
                perms,
                tiers,
                when,
                only: a.only_when,
                span: a.span,
                pattern_span: pattern.span,
                suggestion,
                elsewhere,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use policy_syntax::{Code, SourceFile};

    /// Every unknown role of an assertion is reported, on both sides of
    /// `includes` too, and the assertion is dropped (no other error).
    #[test]
    fn every_unknown_role_of_an_assertion_is_reported() {
        let text = "permission a.b \"A\"\n\
                    role admin \"Admin\" { grants a.b }\n\
                    assert admin, amdin includes owner, admin, bob\n\
                    assert only admin, root can a.b\n\
                    assert x, y cannot a.b\n";
        let (_, diags) = crate::compile(&SourceFile::new("t.policy", text));
        let unknown: Vec<&str> = diags
            .iter()
            .filter(|d| d.code() == Code::UnknownRole)
            .map(|d| d.message())
            .collect();
        assert_eq!(
            unknown,
            [
                "unknown role `amdin`",
                "unknown role `owner`",
                "unknown role `bob`",
                "unknown role `root`",
                "unknown role `x`",
                "unknown role `y`",
            ]
        );
        assert_eq!(diags.len(), unknown.len(), "{diags:#?}");
    }
}
