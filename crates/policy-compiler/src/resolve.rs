//! Name resolution: from the AST to declarations with resolved references.

use std::cell::OnceCell;
use std::collections::HashMap;

use policy_syntax::{
    Code, Diagnostic, Item, NameKind, Pattern, PolicyFile, RoleStmt, SourceFile, Span, Suggester,
};

use crate::model::*;
use crate::pattern;

mod conditions;
mod dimensions;
mod scopes;

/// The declarations of a file with every reference resolved.
pub(crate) struct Resolved {
    pub dimensions: Vec<Dimension>,
    /// The levels (`scope` lines), in declaration order.
    pub scopes: Vec<Scope>,
    /// The offered combinations (see [`crate::context::ContextSpace`]).
    pub offered: Option<Vec<u32>>,
    pub permissions: Vec<Permission>,
    pub roles: Vec<Role>,
    pub role_index: HashMap<String, RoleId>,
    pub perm_index: HashMap<String, PermId>,
    /// Exact grants that repeat an earlier exact grant in the same role: (role, span, perm).
    pub repeated_grants: Vec<(RoleId, Span, PermId)>,
    /// The assertions, resolved.
    pub asserts: Vec<ResolvedAssert>,
    /// The conditions, in declaration order.
    pub conditions: Vec<Condition>,
}

pub(crate) struct Resolver<'a> {
    source: &'a SourceFile,
    pub diags: Vec<Diagnostic>,
    /// Every dimension value by name: (dimension, value) indexes.
    value_index: HashMap<String, (usize, usize)>,
    dims: Vec<Dimension>,
    /// The combinations the `offered` lines select (mixed-radix ids,
    /// ascending); `None` until they are resolved, or without any.
    offered: Option<Vec<u32>>,
    perm_index: HashMap<String, PermId>,
    perm_ids_sorted: Vec<String>,
    /// Wildcard expansion (`pattern.rs`), built once the permissions are known.
    patterns: pattern::PatternIndex,
    /// Did-you-mean indexes, built at the first unknown name: permission
    /// ids, and their prefixes (for wildcards that match nothing).
    perm_suggester: OnceCell<Suggester>,
    prefix_suggester: OnceCell<Suggester>,
    permissions: Vec<Permission>,
    /// The levels, and each by id.
    scopes: Vec<Scope>,
    scope_index: HashMap<String, ScopeId>,
    /// The level whose section is being resolved: names in it are that
    /// level's ([`policy_syntax::qualify`]).
    section: Option<(ScopeId, String)>,
    /// The conditions, and each by id (its index).
    conditions: Vec<Condition>,
    condition_index: HashMap<String, usize>,
}

impl<'a> Resolver<'a> {
    pub fn new(source: &'a SourceFile) -> Self {
        Resolver {
            source,
            diags: Vec::new(),
            value_index: HashMap::new(),
            dims: Vec::new(),
            offered: None,
            perm_index: HashMap::new(),
            perm_ids_sorted: Vec::new(),
            patterns: pattern::PatternIndex::default(),
            perm_suggester: OnceCell::new(),
            prefix_suggester: OnceCell::new(),
            permissions: Vec::new(),
            scopes: Vec::new(),
            scope_index: HashMap::new(),
            section: None,
            conditions: Vec::new(),
            condition_index: HashMap::new(),
        }
    }

    fn diag(&self, code: Code, message: String) -> Diagnostic {
        Diagnostic::new(code, message).with_source(self.source)
    }

    /// An `on ...` clause's span without the whitespace the grammar
    /// includes after it, so labels and locations stay on the clause.
    fn clause_span(&self, span: Span) -> Span {
        let trimmed = self.source.slice(span).trim_end().len();
        if trimmed > 0 {
            Span::new(span.start, span.start + trimmed)
        } else {
            span
        }
    }

    pub fn resolve(mut self, file: &PolicyFile) -> (Resolved, Vec<Diagnostic>) {
        self.collect_dimensions(file);
        self.collect_offered(file);
        self.collect_scopes(file);
        self.collect_permissions(file);
        self.collect_conditions(file);
        let (roles, role_index, repeated) = self.collect_roles(file);
        self.unreached_scopes(&roles);
        self.unused_conditions(&roles);
        let asserts = self.resolve_asserts(file, &role_index);
        let resolved = Resolved {
            asserts,
            dimensions: self.dims,
            scopes: self.scopes,
            offered: self.offered,
            permissions: self.permissions,
            roles,
            role_index,
            perm_index: self.perm_index,
            repeated_grants: repeated,
            conditions: self.conditions,
        };
        (resolved, self.diags)
    }

    fn collect_permissions(&mut self, file: &PolicyFile) {
        for (section, item) in file.sections() {
            let Item::Permission(decl) = item else {
                continue;
            };
            self.enter(section, NameKind::Permission, &decl.id);
            let scope = self.section.as_ref().map(|(id, _)| *id);
            let qualified = self.qualified(NameKind::Permission, &decl.id.name);
            if let Some(prev) = self.perm_index.get(&qualified) {
                let prev_span = self.permissions.get(prev.index()).map(|p| p.span);
                let mut d = self
                    .diag(
                        Code::DuplicatePermission,
                        format!("permission `{}` is declared twice", decl.id.name),
                    )
                    .primary(decl.id.span, "declared again here")
                    .help("remove one of the declarations, or rename one of them");
                if let Some(s) = prev_span {
                    d = d.secondary(s, "first declared here");
                }
                self.diags.push(d);
                continue;
            }
            let tiers = self.tier_set(decl.tiers.as_ref(), || {
                format!("permission `{}`", decl.id.name)
            });
            let labels = self.context_labels(decl, tiers);
            let id = PermId(self.permissions.len() as u32);
            self.perm_index.insert(qualified.clone(), id);
            self.permissions.push(Permission {
                id: qualified,
                scope,
                label: decl.label.value.clone(),
                description: decl.doc.as_ref().map(|d| d.text.clone()),
                tiers,
                tier_span: decl.tiers.as_ref().map(|c| self.clause_span(c.span)),
                labels,
                span: decl.id.span,
            });
        }
        self.perm_ids_sorted = self.permissions.iter().map(|p| p.id.clone()).collect();
        self.perm_ids_sorted.sort_unstable();
        self.patterns = pattern::PatternIndex::new(&self.permissions);
    }

    /// The permissions wildcard `pattern` matches, in declaration order.
    fn wildcard_matches(&self, pattern: &str) -> Vec<PermId> {
        self.patterns.expand(pattern, &self.permissions)
    }

    /// Resolves a pattern to the permissions it matches, reporting unknown
    /// ids (`P0202`) and wildcards that match nothing (`P0207`).
    pub fn resolve_pattern(&mut self, p: &Pattern) -> Vec<PermId> {
        let qualified = self.qualified(NameKind::Permission, &p.text);
        if !p.is_wildcard() {
            if let Some(id) = self.perm_index.get(qualified.as_str()) {
                return vec![*id];
            }
            if let Some(help) = self.other_level_help(&p.text) {
                let d = self
                    .diag(
                        Code::UnknownPermission,
                        format!("unknown permission `{}`", p.text),
                    )
                    .primary(p.span, "another level's permission")
                    .help(help);
                self.diags.push(d);
                return Vec::new();
            }
            let suggestion = self
                .perm_suggester
                .get_or_init(|| Suggester::new(&self.perm_ids_sorted))
                .did_you_mean(&qualified)
                .and_then(|s| self.relative(NameKind::Permission, &s));
            let d = self
                .diag(
                    Code::UnknownPermission,
                    format!("unknown permission `{}`", p.text),
                )
                .primary(p.span, "not a declared permission")
                .help(if suggestion.is_some() {
                    format!(
                        "if `{}` is a new permission, declare it with `permission {} \"Label\"`",
                        p.text, p.text
                    )
                } else {
                    format!(
                        "declare it with `permission {} \"Label\"`, or fix the name",
                        p.text
                    )
                })
                .suggest(suggestion);
            self.diags.push(d);
            return Vec::new();
        }
        let matches = self.wildcard_matches(&qualified);
        if matches.is_empty() {
            let d = self
                .diag(
                    Code::WildcardMatchesNothing,
                    format!("`{}` matches no declared permission", p.text),
                )
                .primary(p.span, "matches nothing");
            let d = match self.other_level_help(&p.text) {
                Some(help) => d.help(help),
                None => d
                    .suggest(self.wildcard_suggestion(&qualified))
                    .help("a `*` segment stands for one or more whole segments of a permission id"),
            };
            self.diags.push(d);
        }
        matches
    }

    /// For a permission or pattern written in a section that names nothing
    /// there but names another level's permissions, the help that says so.
    pub(super) fn other_level_help(&self, written: &str) -> Option<String> {
        let wildcard = written.split('.').any(|s| s == "*");
        let e = self.elsewhere(NameKind::Permission, written, |id| {
            if wildcard {
                !self.wildcard_matches(id).is_empty()
            } else {
                self.perm_index.contains_key(id)
            }
        })?;
        Some(scopes::other_level_permission_help(&e, written))
    }

    /// A did-you-mean for a wildcard that matches nothing: the nearest
    /// declared prefix, with the pattern's wildcard tail.
    fn wildcard_suggestion(&self, pattern: &str) -> Option<String> {
        let prefix = pattern.split(".*").next().unwrap_or("");
        if prefix.is_empty() || prefix.contains('*') {
            return None;
        }
        self.prefix_suggester
            .get_or_init(|| {
                Suggester::new(
                    self.perm_ids_sorted
                        .iter()
                        .filter_map(|id| id.rsplit_once('.').map(|(a, _)| a)),
                )
            })
            .did_you_mean(prefix)
            .map(|s| format!("{s}{}", pattern.get(prefix.len()..).unwrap_or("")))
            .and_then(|s| self.relative(NameKind::Permission, &s))
    }

    #[expect(
        clippy::type_complexity,
        reason = "a private triple returned to one caller"
    )]
    fn collect_roles(
        &mut self,
        file: &PolicyFile,
    ) -> (
        Vec<Role>,
        HashMap<String, RoleId>,
        Vec<(RoleId, Span, PermId)>,
    ) {
        let mut roles: Vec<Role> = Vec::new();
        let mut index: HashMap<String, RoleId> = HashMap::new();
        let mut decls = Vec::new();
        for (section, item) in file.sections() {
            let Item::Role(decl) = item else { continue };
            self.enter(section, NameKind::Role, &decl.id);
            let scope = self.section.as_ref().map(|(id, _)| *id);
            let qualified = self.qualified(NameKind::Role, &decl.id.name);
            if let Some(prev) = index.get(&qualified) {
                let prev_span = roles.get(prev.index()).map(|r| r.span);
                let mut d = self
                    .diag(
                        Code::DuplicateRole,
                        format!("role `{}` is declared twice", decl.id.name),
                    )
                    .primary(decl.id.span, "declared again here")
                    .help("merge the two blocks into one, or rename one of the roles");
                if let Some(s) = prev_span {
                    d = d.secondary(s, "first declared here");
                }
                self.diags.push(d);
                continue;
            }
            let tiers = self.tier_set(decl.tiers.as_ref(), || format!("role `{}`", decl.id.name));
            let id = RoleId(roles.len() as u32);
            index.insert(qualified.clone(), id);
            roles.push(Role {
                id: qualified,
                scope,
                label: decl.label.value.clone(),
                description: decl.doc.as_ref().map(|d| d.text.clone()),
                tiers,
                tier_span: decl.tiers.as_ref().map(|c| self.clause_span(c.span)),
                assignable: None,
                assignable_span: None,
                parents: Vec::new(),
                grants: Vec::new(),
                exclusions: Vec::new(),
                span: decl.id.span,
            });
            decls.push((id, decl, section));
        }
        let role_suggester = OnceCell::new();
        let mut repeated = Vec::new();
        for (id, decl, section) in decls {
            self.enter(section, NameKind::Role, &decl.id);
            let mut parents: Vec<Parent> = Vec::new();
            let mut grants = Vec::new();
            let mut exclusions = Vec::new();
            let mut exact_granted: HashMap<PermId, Span> = HashMap::new();
            let mut assignable: Option<(TierSet, Span)> = None;
            for stmt in &decl.body {
                match stmt {
                    RoleStmt::Assignable { tiers, span } => {
                        // `assignable nowhere` selects no context.
                        let set = match tiers {
                            Some(c) => self.tier_set(Some(c), || {
                                format!("where role `{}` can be assigned", decl.id.name)
                            }),
                            None => TierSet::default(),
                        };
                        let span = self.clause_span(tiers.as_ref().map_or(*span, |c| c.span));
                        assignable = Some(match assignable {
                            Some((prev, first)) => (prev.union(set), first),
                            None => (set, span),
                        });
                    }
                    RoleStmt::Inherits { parents: names, .. }
                    | RoleStmt::ActsAs { roles: names, .. } => {
                        let acts_as = matches!(stmt, RoleStmt::ActsAs { .. });
                        for n in names {
                            let qualified = self.qualified(NameKind::Role, &n.name);
                            let Some(pid) = index.get(&qualified).copied() else {
                                self.unknown_role(n, &index, &role_suggester);
                                continue;
                            };
                            if !self.edge_between_levels(&roles, id, pid, n, acts_as) {
                                continue;
                            }
                            if let Some(prev) = parents.iter().find(|p| p.role == pid) {
                                let d = self
                                    .diag(
                                        Code::DuplicateParent,
                                        format!(
                                            "role `{}` {} `{}` twice",
                                            decl.id.name,
                                            if acts_as { "acts as" } else { "inherits from" },
                                            n.name
                                        ),
                                    )
                                    .primary(n.span, "inherited again here")
                                    .secondary(prev.span, "first inherited here")
                                    .help("remove the repeated parent");
                                self.diags.push(d);
                                continue;
                            }
                            parents.push(Parent {
                                role: pid,
                                acts_as,
                                span: n.span,
                            });
                        }
                    }
                    RoleStmt::Grants {
                        patterns,
                        tiers,
                        when,
                        doc,
                        ..
                    } => {
                        let set = self.tier_set(tiers.as_ref(), || {
                            format!("this grant of role `{}`", decl.id.name)
                        });
                        let when = self.when_set(when.as_ref());
                        for p in patterns {
                            let matches = self.resolve_pattern(p);
                            // A conditional grant is no repeat of an
                            // unconditional one (nor the reverse).
                            if !p.is_wildcard() && when.is_none() {
                                if let Some(&perm) = matches.first() {
                                    if let std::collections::hash_map::Entry::Vacant(e) =
                                        exact_granted.entry(perm)
                                    {
                                        e.insert(p.span);
                                    } else {
                                        repeated.push((id, p.span, perm));
                                    }
                                }
                            }
                            grants.push(Grant {
                                pattern: self.qualified(NameKind::Permission, &p.text),
                                span: p.span,
                                tiers: set,
                                tier_span: tiers.as_ref().map(|c| self.clause_span(c.span)),
                                when: when.map(|(w, _)| w).unwrap_or_default(),
                                when_span: when.map(|(_, s)| s),
                                matches,
                                doc: doc.as_ref().map(|d| d.text.clone()),
                            });
                        }
                    }
                    RoleStmt::Excludes {
                        patterns,
                        doc,
                        when,
                        ..
                    } => {
                        // Under an unknown condition (all bits, see
                        // `when_set`), it takes away always: fails closed.
                        let when = match self.when_set(when.as_ref()) {
                            Some((w, _)) if w.0 != u64::MAX => w,
                            _ => ConditionSet::default(),
                        };
                        for p in patterns {
                            let matches = self.resolve_pattern(p);
                            exclusions.push(Exclusion {
                                pattern: self.qualified(NameKind::Permission, &p.text),
                                span: p.span,
                                matches,
                                doc: doc.as_ref().map(|d| d.text.clone()),
                                when,
                            });
                        }
                    }
                }
            }
            // An exclusion wins over the role's own wildcard grants (applied
            // where sets are computed, `sets::compute`; a grant's `matches`
            // stay its pattern's expansion). Against an exact grant it is a
            // contradiction, whichever comes first: `P0307`.
            for (e, g) in exact_grant_conflicts(&grants, &exclusions) {
                let message = if e.pattern.contains('*') {
                    format!(
                        "role `{}` grants `{}` and excludes it through `{}`",
                        decl.id.name, g.pattern, e.pattern
                    )
                } else {
                    format!(
                        "role `{}` both grants and excludes `{}`",
                        decl.id.name, e.pattern
                    )
                };
                let d = self
                    .diag(Code::GrantExcludeConflict, message)
                    .primary(e.span, "excluded here")
                    .secondary(g.span, "granted here")
                    .help("an exclusion removes inherited permissions and those of the role's own wildcard grants, but an exact grant says the opposite; remove either the grant or the exclusion");
                self.diags.push(d);
            }
            if let Some((set, span)) = assignable {
                let available = roles
                    .get(id.index())
                    .map_or(TierSet::default(), |r| r.tiers);
                let set = self.assignable_within(
                    &decl.id.name,
                    decl.tiers.as_ref().map(|c| c.span),
                    available,
                    set,
                    span,
                );
                if let Some(r) = roles.get_mut(id.index()) {
                    r.assignable = Some(set);
                    r.assignable_span = Some(span);
                }
            }
            if let Some(r) = roles.get_mut(id.index()) {
                r.parents = parents;
                r.grants = grants;
                r.exclusions = exclusions;
            }
        }
        (roles, index, repeated)
    }
}

mod asserts;

pub(crate) use asserts::{AssertClaim, ResolvedAssert};
pub(crate) use scopes::empty_implications;
