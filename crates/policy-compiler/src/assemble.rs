//! Building a [`Policy`] from declarations that were resolved elsewhere —
//! a compiled artifact — through the same ordering (`graph.rs`) and set
//! computation (`sets.rs`) as [`crate::compile`]. Everything that can be
//! re-derived is: a pattern's `matches` are expanded from the pattern by
//! the compiler's one pattern index (`pattern.rs`), so an artifact stores
//! patterns, not expansions; and what the declarations say must hold:
//! names are unique, literal patterns name declared permissions,
//! references are in range and inheritance is acyclic.

use std::collections::{HashMap, HashSet};
use std::fmt;

use policy_syntax::{SourceFile, Span};

use crate::lines::LineTable;
use crate::model::*;
use crate::{context, graph, pattern, sets};

/// Resolved declarations, as a compiled artifact carries them (the
/// artifact is these, serialized: see `decl.rs`).
#[derive(Debug, Clone, Default)]
pub struct Declarations {
    /// The name of the source file they were compiled from.
    pub source_name: String,
    /// The dimensions (a `tiers` line is the one named `tier`); the tiers
    /// (contexts) are derived from them.
    pub dimensions: Vec<Dimension>,
    /// The combinations the product offers (`offered` lines), as
    /// mixed-radix ids, ascending; `None`: every combination
    /// ([`context::ContextSpace`]).
    pub offered: Option<Vec<u32>>,
    /// The levels (`scope` lines), in declaration order; empty for a
    /// policy without levels.
    pub scopes: Vec<Scope>,
    /// The permissions, in declaration order.
    pub permissions: Vec<Permission>,
    /// The roles, in declaration order. Their grants' and exclusions'
    /// `matches` are ignored: [`assemble`] expands each pattern.
    pub roles: Vec<Role>,
    /// The conditions (`condition` lines), in declaration order; a grant's
    /// `when` indexes into them.
    pub conditions: Vec<Condition>,
    /// Where the source's lines are: the line and column of every span
    /// above.
    pub lines: LineTable,
}

/// Declarations that contradict themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssembleError {
    /// What is wrong, for people.
    pub message: String,
}

impl fmt::Display for AssembleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AssembleError {}

fn err<T>(message: impl Into<String>) -> Result<T, AssembleError> {
    Err(AssembleError {
        message: message.into(),
    })
}

/// Checks `decls` and builds the policy they describe.
pub fn assemble(decls: Declarations) -> Result<Policy, AssembleError> {
    let Declarations {
        source_name,
        dimensions,
        offered,
        scopes,
        permissions,
        mut roles,
        conditions,
        lines,
    } = decls;
    check_levels(&scopes, &permissions, &roles)?;
    let combinations = context::context_count(&dimensions);
    if combinations == 0 || combinations > MAX_TIERS {
        return err(format!(
            "its dimensions combine into more than {MAX_TIERS} contexts, or a dimension has no value"
        ));
    }
    if let Some(o) = &offered {
        let ascending = o.windows(2).all(|w| w.first() < w.get(1));
        if o.is_empty() || !ascending || o.iter().any(|&c| c as usize >= combinations) {
            return err(
                "its offered contexts are empty, repeated, out of order, or not combinations of its dimensions",
            );
        }
    }
    let tier_count = context::ContextSpace::new(&dimensions, offered.as_deref()).count();
    unique(
        dimensions.iter().map(|d| d.name.as_str()),
        "dimension",
        |i| i,
    )?;
    unique(
        dimensions
            .iter()
            .flat_map(|d| d.values.iter().map(|v| v.id.as_str())),
        "tier",
        TierId,
    )?;
    let all = TierSet::all(tier_count);
    let perm_index = unique(
        permissions.iter().map(|p| p.id.as_str()),
        "permission",
        PermId,
    )?;
    let role_index = unique(roles.iter().map(|r| r.id.as_str()), "role", RoleId)?;
    unique(conditions.iter().map(|c| c.id.as_str()), "condition", |i| i)?;
    if conditions.len() > MAX_CONDITIONS {
        return err(format!(
            "it declares more than {MAX_CONDITIONS} conditions (P0217 in source)"
        ));
    }
    // Every `when` names declared conditions.
    let declared = (0..conditions.len()).fold(ConditionSet::default(), |mut set, i| {
        set.insert_literal(i, true);
        set.insert_literal(i, false);
        set
    });
    let usable = |when: ConditionSet| when.is_subset(declared) && !when.is_contradictory();
    // Every declaration exists somewhere: source cannot state an empty
    // `on` clause (`P0305`); only `assignable nowhere` is an empty set.
    let in_range = |set: TierSet| set.is_subset(all) && !set.is_empty();
    for p in &permissions {
        if !in_range(p.tiers) {
            return err(format!(
                "permission `{}` names a tier that does not exist, or none",
                p.id
            ));
        }
        // The rules source is held to (`P0314`).
        let mut taken = 0u64;
        for l in &p.labels {
            if !l.tiers.is_subset(p.tiers) || l.tiers.0 & taken != 0 || l.tiers.is_empty() {
                return err(format!(
                    "a label of permission `{}` overlaps another or selects where it does not exist (P0314 in source)",
                    p.id
                ));
            }
            if !policy_syntax::is_label(&l.label) {
                return err(format!(
                    "a label of permission `{}` holds a line break, which no policy can write",
                    p.id
                ));
            }
            taken |= l.tiers.0;
        }
    }
    let index = pattern::PatternIndex::new(&permissions);
    let mut expanded: HashMap<String, Vec<PermId>> = HashMap::new();
    let mut expand = |pat: &str, what: &str, role: &str| -> Result<Vec<PermId>, AssembleError> {
        if let Some(found) = expanded.get(pat) {
            return Ok(found.clone());
        }
        let found = index.expand(pat, &permissions);
        if found.is_empty() && !pat.contains('*') {
            return err(format!(
                "the {what} `{pat}` of role `{role}` names a permission that is not declared"
            ));
        }
        expanded.insert(pat.to_string(), found.clone());
        Ok(found)
    };
    let role_count = roles.len();
    for r in &mut roles {
        if !in_range(r.tiers) {
            return err(format!(
                "role `{}` names a tier that does not exist, or none",
                r.id
            ));
        }
        // The rule source is held to (`P0313`).
        if r.assignable.is_some_and(|a| !a.is_subset(r.tiers)) {
            return err(format!(
                "role `{}` is assignable where it does not exist (P0313 in source)",
                r.id
            ));
        }
        let mut parents = HashSet::new();
        for p in &r.parents {
            if p.role.index() >= role_count || !parents.insert(p.role) {
                return err(format!(
                    "role `{}` inherits from an unknown or repeated role",
                    r.id
                ));
            }
        }
        for g in &mut r.grants {
            if !in_range(g.tiers) {
                return err(format!(
                    "a grant of role `{}` names a tier that does not exist, or none",
                    r.id
                ));
            }
            if !usable(g.when) {
                return err(format!(
                    "a grant of role `{}` depends on a condition that is not declared",
                    r.id
                ));
            }
            g.matches = expand(&g.pattern, "grant", &r.id)?;
        }
        for e in &mut r.exclusions {
            if !usable(e.when) {
                return err(format!(
                    "an exclusion of role `{}` depends on a condition that is not declared",
                    r.id
                ));
            }
            e.matches = expand(&e.pattern, "exclusion", &r.id)?;
        }
        // The rule source is held to (`P0307`), by the same function.
        if let Some((e, g)) = exact_grant_conflicts(&r.grants, &r.exclusions).next() {
            return err(format!(
                "role `{}` grants `{}` and excludes it through `{}` (P0307 in source)",
                r.id, g.pattern, e.pattern
            ));
        }
    }
    let source = SourceFile::new(source_name, "");
    let mut cycle = Vec::new();
    // The lints that fall out of the computation were reported when the
    // policy was compiled; they are not a property of the artifact.
    let mut lints = Vec::new();
    let indexed = Indexed {
        dimensions,
        offered,
        scopes,
        permissions,
        roles,
        perm_index,
        role_index,
        conditions,
    };
    let (policy, too_large) = build(source, indexed, &[], 0, Some(lines), &mut cycle, &mut lints);
    if !cycle.is_empty() || policy.order.len() != policy.roles.len() {
        return err("roles inherit from each other in a cycle");
    }
    if too_large.is_some() {
        return err("its permission sets are larger than policyc computes");
    }
    Ok(policy)
}

/// Declarations with their name indexes: what resolution (from source) or
/// the artifact's checks (in [`assemble`]) produce, and what [`build`]
/// turns into a [`Policy`].
pub(crate) struct Indexed {
    pub dimensions: Vec<Dimension>,
    pub offered: Option<Vec<u32>>,
    pub scopes: Vec<Scope>,
    pub permissions: Vec<Permission>,
    pub roles: Vec<Role>,
    pub perm_index: HashMap<String, PermId>,
    pub role_index: HashMap<String, RoleId>,
    pub conditions: Vec<Condition>,
}

/// The one constructor of [`Policy`], for source (`compile_file`) and
/// artifacts ([`assemble`]) alike: orders the roles parents first (a cycle
/// is reported into `diags` and its edges removed), computes the sets (the
/// lints that fall out go to `lints`), and puts the policy together. Gives
/// the bound the computation stopped at, if any: then the policy has no
/// sets and every decision is a deny.
pub(crate) fn build(
    source: SourceFile,
    mut d: Indexed,
    repeated_grants: &[(RoleId, Span, PermId)],
    asserts: usize,
    lines: Option<LineTable>,
    diags: &mut Vec<policy_syntax::Diagnostic>,
    lints: &mut Vec<policy_syntax::Diagnostic>,
) -> (Policy, Option<sets::TooLarge>) {
    let order = graph::order_roles(&mut d.roles, &source, diags);
    let tiers = context::ContextSpace::new(&d.dimensions, d.offered.as_deref()).contexts();
    let tier_index = tiers
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.clone(), TierId(i as u32)))
        .collect();
    let sets = sets::compute(
        tiers.len().max(1),
        &d.permissions,
        &d.roles,
        repeated_grants,
        &order,
        &source,
        lints,
    );
    let mut policy = Policy {
        source,
        dimensions: d.dimensions,
        offered: d.offered,
        scopes: d.scopes,
        tiers,
        permissions: d.permissions,
        roles: d.roles,
        role_index: d.role_index,
        perm_index: d.perm_index,
        tier_index,
        sets: sets.sets,
        slots: sets.slots,
        perm_avail: sets.perm_avail,
        asserts,
        order,
        lines,
        conditions: d.conditions,
        conditional: Default::default(),
    };
    policy.conditional = ConditionalSets::compute(
        policy.tiers.len().max(1),
        &policy.roles,
        &policy.order,
        |t, r, p| policy.holds_raw(t, r, p),
        |t, r, p| policy.role_available(r, t) && policy.perm_available(p, t),
    );
    crate::conditional::refine_lints(&policy, lints);
    (policy, sets.too_large)
}

/// The rules of levels that source is held to: unique level ids nesting
/// without a cycle (`P0213`, `P0315`); with levels, every permission and
/// role on one, its id qualified by the level's (`P0214`); `inherits` on
/// one level and `acts as` into an inner one (`P0316`); without levels,
/// no `acts as`.
fn check_levels(
    scopes: &[Scope],
    permissions: &[Permission],
    roles: &[Role],
) -> Result<(), AssembleError> {
    unique(scopes.iter().map(|s| s.id.as_str()), "scope", ScopeId)?;
    let outer_of = |s: ScopeId| scopes.get(s.index()).and_then(|x| x.parent);
    for (i, s) in scopes.iter().enumerate() {
        let mut at = s.parent;
        for _ in 0..=scopes.len() {
            match at {
                Some(p) if p.index() >= scopes.len() || p.index() == i => {
                    return err(format!(
                        "scope `{}` is inside an unknown level, or inside itself",
                        s.id
                    ))
                }
                Some(p) => at = outer_of(p),
                None => break,
            }
        }
        if at.is_some() {
            return err("scopes are nested in a cycle (P0315 in source)");
        }
    }
    let inside = |inner: Option<ScopeId>, outer: Option<ScopeId>| matches!((inner, outer), (Some(i), Some(o)) if scope_inside(scopes, i, o));
    let qualified = |id: &str, scope: Option<ScopeId>| match scope {
        None => scopes.is_empty(),
        Some(s) => scopes.get(s.index()).is_some_and(|x| {
            id.strip_prefix(x.id.as_str())
                .is_some_and(|rest| rest.len() > 1 && rest.starts_with('.'))
        }),
    };
    for p in permissions {
        if !qualified(&p.id, p.scope) {
            return err(format!(
                "permission `{}` is not on a level of the policy, or its id is not the level's (P0214 in source)",
                p.id
            ));
        }
    }
    for r in roles {
        if !qualified(&r.id, r.scope) {
            return err(format!(
                "role `{}` is not on a level of the policy, or its id is not the level's (P0214 in source)",
                r.id
            ));
        }
        for p in &r.parents {
            let to = roles.get(p.role.index()).and_then(|x| x.scope);
            let fits = if p.acts_as {
                inside(to, r.scope)
            } else {
                to == r.scope
            };
            if !fits {
                return err(format!(
                    "role `{}` inherits or acts as a role across levels the wrong way (P0316 in source)",
                    r.id
                ));
            }
        }
    }
    Ok(())
}

/// Indexes names by position, refusing a repeated one.
fn unique<'a, I>(
    names: impl Iterator<Item = &'a str>,
    kind: &str,
    id: impl Fn(u32) -> I,
) -> Result<HashMap<String, I>, AssembleError> {
    let mut index = HashMap::new();
    for (i, n) in names.enumerate() {
        if index.insert(n.to_string(), id(i as u32)).is_some() {
            return err(format!("{kind} `{n}` is listed twice"));
        }
    }
    Ok(index)
}
