//! Levels (`scope` lines): their nesting, the section each declaration is
//! in, the qualification of names written in a section, and the rules of
//! implications between levels (`inherits` on one level, `acts as` from a
//! level to one inside it).

use std::cell::OnceCell;
use std::collections::HashMap;

use policy_syntax::{
    on_other_level, qualify, Code, Ident, Item, NameKind, OtherLevel, PolicyFile, ScopeDecl,
    Suggester,
};

use super::Resolver;
use crate::model::*;

impl Resolver<'_> {
    /// Collects the `scope` lines: duplicates (`P0213`), unknown outer
    /// levels (`P0212`) and nesting cycles (`P0315`) are reported, and the
    /// offending `in` is dropped, so the levels always form a forest.
    pub(super) fn collect_scopes(&mut self, file: &PolicyFile) {
        let decls: Vec<&ScopeDecl> = file
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Scope(s) => Some(s),
                _ => None,
            })
            .collect();
        let mut kept: Vec<&ScopeDecl> = Vec::new();
        let source = file.source.clone();
        for d in decls {
            // In a project, another file may open the same level's section
            // with the same line (same label, same outer level). `kept` is
            // in the order of `scopes`, so the index finds the first line.
            let first = self
                .scope_index
                .get(&d.id.name)
                .and_then(|k| kept.get(k.index()));
            let reopened = first.is_some_and(|k| {
                k.label.value == d.label.value
                    && k.parent.as_ref().map(|p| &p.name) == d.parent.as_ref().map(|p| &p.name)
                    && source.file_name_at(k.span.start) != source.file_name_at(d.span.start)
            });
            if reopened {
                continue;
            }
            if let Some(prev) = self.scope_index.get(&d.id.name) {
                let prev_span = self.scopes.get(prev.index()).map(|s| s.span);
                let mut diag = self
                    .diag(
                        Code::DuplicateScope,
                        format!("scope `{}` is declared twice", d.id.name),
                    )
                    .primary(d.id.span, "declared again here")
                    .help("declare each level once, and keep its permissions and roles below that one line (another file of a project may repeat the line exactly to add to the level)");
                if let Some(s) = prev_span {
                    diag = diag.secondary(s, "first declared here");
                }
                self.diags.push(diag);
                continue;
            }
            self.scope_index
                .insert(d.id.name.clone(), ScopeId(self.scopes.len() as u32));
            self.scopes.push(Scope {
                id: d.id.name.clone(),
                label: d.label.value.clone(),
                description: d.doc.as_ref().map(|x| x.text.clone()),
                parent: None,
                span: d.id.span,
            });
            kept.push(d);
        }
        let suggester = Suggester::new(self.scopes.iter().map(|s| &s.id));
        for (i, d) in kept.iter().enumerate() {
            let Some(outer) = &d.parent else { continue };
            match self.scope_index.get(&outer.name).copied() {
                Some(p) if p.index() == i => {
                    let diag = self
                        .diag(
                            Code::ScopeCycle,
                            format!("scope `{}` is declared inside itself", d.id.name),
                        )
                        .primary(outer.span, "the level itself")
                        .help("name the level it is inside, or drop `in` for an outermost level");
                    self.diags.push(diag);
                }
                Some(p) => {
                    if let Some(s) = self.scopes.get_mut(i) {
                        s.parent = Some(p);
                    }
                }
                None => {
                    let diag = self
                        .diag(
                            Code::UnknownScope,
                            format!("unknown scope `{}`", outer.name),
                        )
                        .primary(outer.span, "not a declared scope")
                        .help("declare the outer level with its own `scope` line")
                        .suggest(suggester.did_you_mean(&outer.name));
                    self.diags.push(diag);
                }
            }
        }
        // A cycle of two or more levels: each is reported once, at the
        // `in` that closes it, and broken there.
        for i in 0..self.scopes.len() {
            let mut seen = vec![false; self.scopes.len()];
            let mut at = ScopeId(i as u32);
            while let Some(p) = self.scopes.get(at.index()).and_then(|s| s.parent) {
                if p.index() == i {
                    let names: Vec<String> = self.chain(ScopeId(i as u32));
                    let span = kept
                        .get(at.index())
                        .and_then(|d| d.parent.as_ref())
                        .map_or(self.scopes.get(i).map(|s| s.span), |o| Some(o.span));
                    let mut diag = self
                        .diag(
                            Code::ScopeCycle,
                            format!("scopes nested in a cycle: {}", names.join(" in ")),
                        )
                        .help("levels nest like folders: name, for each, the one level it is directly inside, and let one be outermost");
                    if let Some(span) = span {
                        diag = diag.primary(span, "this `in` closes the cycle");
                    }
                    self.diags.push(diag);
                    if let Some(s) = self.scopes.get_mut(at.index()) {
                        s.parent = None;
                    }
                    break;
                }
                if seen
                    .get_mut(p.index())
                    .is_none_or(|x| std::mem::replace(x, true))
                {
                    break;
                }
                at = p;
            }
        }
    }

    /// The ids of `scope` and the levels it is inside, in order (`a`, its
    /// outer `b`, ...), stopping where a level repeats.
    fn chain(&self, scope: ScopeId) -> Vec<String> {
        let mut out = Vec::new();
        let mut seen = vec![false; self.scopes.len()];
        let mut at = Some(scope);
        while let Some(s) = at {
            let Some(decl) = self.scopes.get(s.index()) else {
                break;
            };
            out.push(format!("`{}`", decl.id));
            if seen
                .get_mut(s.index())
                .is_none_or(|x| std::mem::replace(x, true))
            {
                break;
            }
            at = decl.parent;
        }
        out
    }

    /// Whether `inner` is strictly inside `outer`.
    pub(super) fn is_inside(&self, inner: ScopeId, outer: ScopeId) -> bool {
        scope_inside(&self.scopes, inner, outer)
    }

    /// Makes `section` the one whose names are being resolved (asserts may
    /// stand outside any section).
    pub(super) fn enter_section(&mut self, section: Option<&ScopeDecl>) {
        self.section = section.and_then(|s| {
            self.scope_index
                .get(&s.id.name)
                .map(|id| (*id, s.id.name.clone()))
        });
    }

    /// [`Self::enter_section`] for the declaration of a permission or a
    /// role, which a policy with levels must place in a section (`P0214`;
    /// one before any is then read as the first level's).
    pub(super) fn enter(&mut self, section: Option<&ScopeDecl>, kind: NameKind, id: &Ident) {
        self.enter_section(section);
        if section.is_none() && !self.scopes.is_empty() {
            let first = self
                .scopes
                .first()
                .map(|s| s.id.clone())
                .unwrap_or_default();
            let d = self
                .diag(
                    Code::OutsideScope,
                    format!(
                        "{} `{}` is declared before any `scope` line",
                        kind.as_str(),
                        id.name
                    ),
                )
                .primary(id.span, "on no level")
                .help(format!(
                    "in a policy with levels every permission and role belongs to one: move it below the `scope` line of its level (such as `{first}`)"
                ));
            self.diags.push(d);
            // Recovery: read it as the first level's, so that the uses of
            // its name there do not cascade into unknown names.
            self.section = self.scopes.first().map(|s| (ScopeId(0), s.id.clone()));
        }
    }

    /// The full id of `name` (a permission or role) written in the current
    /// section.
    pub(super) fn qualified(&self, kind: NameKind, name: &str) -> String {
        qualify(kind, self.section.as_ref().map(|(_, s)| s.as_str()), name).into_owned()
    }

    /// A full id as the current section would write it: without the
    /// section's prefix when it is the section's own, else as it is (a
    /// role of another level); `None` for another level's permission,
    /// which cannot be named here.
    pub(super) fn relative(&self, kind: NameKind, qualified: &str) -> Option<String> {
        let Some((_, section)) = &self.section else {
            return Some(qualified.to_string());
        };
        match qualified
            .strip_prefix(section.as_str())
            .and_then(|r| r.strip_prefix('.'))
        {
            Some(local) => Some(local.to_string()),
            None if kind == NameKind::Role => Some(qualified.to_string()),
            None => None,
        }
    }

    /// Where a name unknown in the current section is declared on another
    /// level ([`on_other_level`]); `None` outside sections, where names
    /// are full ids.
    pub(super) fn elsewhere(
        &self,
        kind: NameKind,
        written: &str,
        declared: impl Fn(&str) -> bool,
    ) -> Option<OtherLevel> {
        let (_, section) = self.section.as_ref()?;
        on_other_level(
            kind,
            section,
            written,
            self.scopes.iter().map(|s| s.id.as_str()),
            declared,
        )
    }

    /// Reports `n`, a role unknown in the current section (`P0201`), with a
    /// did-you-mean among `index`'s full ids as the section writes them, or
    /// the role of that name on another level, written in full.
    pub(super) fn unknown_role(
        &mut self,
        n: &Ident,
        index: &HashMap<String, RoleId>,
        names: &OnceCell<Suggester>,
    ) {
        let qualified = self.qualified(NameKind::Role, &n.name);
        let mut d = self
            .diag(Code::UnknownRole, format!("unknown role `{}`", n.name))
            .primary(n.span, "not a declared role");
        if let Some(e) = self.elsewhere(NameKind::Role, &n.name, |id| index.contains_key(id)) {
            d = d.suggest(Some(e.full)).help(format!(
                "`{}` is a role of level `{}`, and a role of another level is written in full",
                n.name, e.level
            ));
        } else {
            let suggestion = names
                .get_or_init(|| {
                    let mut ids: Vec<&String> = index.keys().collect();
                    ids.sort_unstable();
                    Suggester::new(ids)
                })
                .did_you_mean(&qualified)
                .and_then(|s| self.relative(NameKind::Role, &s));
            d = d.suggest(suggestion);
        }
        self.diags.push(d);
    }

    /// Checks an `inherits` (`acts_as == false`) or `acts as` edge from
    /// `child` to `parent`: inheritance stays on one level, and a role acts
    /// only as roles of levels inside its own (`P0316`). `false` drops the
    /// edge, so the levels stay acyclic and nothing is granted by it.
    pub(super) fn edge_between_levels(
        &mut self,
        roles: &[Role],
        child: RoleId,
        parent: RoleId,
        named: &Ident,
        acts_as: bool,
    ) -> bool {
        let level = |r: RoleId| roles.get(r.index()).and_then(|x| x.scope);
        let (from, to) = (level(child), level(parent));
        let name = |s: Option<ScopeId>| {
            s.and_then(|s| self.scopes.get(s.index()))
                .map_or("no level".to_string(), |x| format!("level `{}`", x.id))
        };
        let child_id = roles.get(child.index()).map_or("", |r| r.id.as_str());
        let (message, label, help) = if !acts_as {
            if from == to {
                return true;
            }
            let inward = matches!((from, to), (Some(f), Some(t)) if self.is_inside(t, f));
            (
                format!(
                    "role `{child_id}` inherits `{}`, a role on another level",
                    named.name
                ),
                format!("on {}", name(to)),
                if inward {
                    format!(
                        "inheritance stays on one level; for a role that has, on every inner level, what a role there has, write `acts as {}`",
                        named.name
                    )
                } else {
                    "inheritance stays on one level, and a role never has what an outer level's role has; turn the link around: the outer role `acts as` this one".to_string()
                },
            )
        } else {
            match (from, to) {
                (Some(f), Some(t)) if self.is_inside(t, f) => return true,
                (None, _) | (_, None) => (
                    format!("role `{child_id}` acts as `{}`, but the policy has no levels", named.name),
                    "not a role on an inner level".to_string(),
                    "`acts as` links a role to one on a level inside its own: declare the levels with `scope` lines, or write `inherits`".to_string(),
                ),
                (Some(_), Some(_)) => (
                    format!(
                        "role `{child_id}` acts as `{}`, which is not on a level inside {}",
                        named.name,
                        name(from)
                    ),
                    format!("on {}", name(to)),
                    "a role acts as roles of the levels inside its own (an organization role as a team role); on its own level, write `inherits`".to_string(),
                ),
            }
        };
        let d = self
            .diag(Code::LevelMismatch, message)
            .primary(named.span, label)
            .help(help);
        self.diags.push(d);
        false
    }

    /// `P0318`: levels without a role of their own (so no role can act on
    /// them either), whose permissions nobody can hold.
    pub(super) fn unreached_scopes(&mut self, roles: &[Role]) {
        let mut reached = vec![false; self.scopes.len()];
        for r in roles {
            if let Some(s) = r.scope {
                if let Some(x) = reached.get_mut(s.index()) {
                    *x = true;
                }
            }
        }
        for (i, s) in self.scopes.clone().iter().enumerate() {
            if reached.get(i).copied().unwrap_or(true) {
                continue;
            }
            let d = self
                .diag(
                    Code::UnreachedScope,
                    format!("no role reaches level `{}`", s.id),
                )
                .primary(s.span, "no role is declared on this level")
                .help("declare the level's roles below its `scope` line, or remove the level");
            self.diags.push(d);
        }
    }
}

/// The help for a permission (or pattern) `written` in a section that is
/// another level's (`other`): a section names only its own level's.
pub(super) fn other_level_permission_help(other: &OtherLevel, written: &str) -> String {
    let full = if other.full == written {
        String::new()
    } else {
        format!(" (`{}`)", other.full)
    };
    let what = if written.split('.').any(|s| s == "*") {
        "matches permissions of"
    } else {
        "is a permission of"
    };
    format!(
        "`{written}` {what} level `{}`{full}, and a section names only its own level's permissions: write this below `scope {}`",
        other.level, other.level
    )
}

/// `P0317`: `acts as` a role that holds nothing in any context, so the
/// line gives nothing (run on the computed sets, with the other lints).
pub(crate) fn empty_implications(
    policy: &Policy,
    source: &policy_syntax::SourceFile,
) -> Vec<policy_syntax::Diagnostic> {
    let mut out = Vec::new();
    for role in policy.roles() {
        for p in role.parents.iter().filter(|p| p.acts_as) {
            let holds_nothing = policy
                .tier_ids()
                .all(|t| policy.raw_perms(t, p.role).is_empty());
            if !holds_nothing {
                continue;
            }
            let target = policy.role(p.role).map_or("?", |r| r.id.as_str());
            out.push(
                policy_syntax::Diagnostic::new(
                    Code::EmptyImplication,
                    format!(
                        "role `{}` acts as `{target}`, which holds no permission in any context",
                        role.id
                    ),
                )
                .with_source(source)
                .primary(p.span, "this gives nothing")
                .help(format!(
                    "grant `{target}` its permissions, or name the role meant"
                )),
            );
        }
    }
    out
}
