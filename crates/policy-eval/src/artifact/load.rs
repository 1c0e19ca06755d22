//! Loading an artifact: what the grammar would have refused in source,
//! the tier sets, and the declarations with their tier-set indices
//! resolved.

use std::collections::HashMap;

use policy_compiler::{context, for_each_tier_set, Declarations, TierId, TierSet, MAX_TIERS};

use super::Artifact;
use crate::error::EvalError;

/// Checks what the grammar would have refused in source: ids, patterns,
/// labels and the source name are what a `.policy` file can write.
fn check_text(a: &Artifact) -> Result<(), EvalError> {
    let bad = |what: String| Err(EvalError::bad_artifact(what));
    if a.source.chars().any(char::is_control) {
        return bad(format!(
            "its `source` {:?} holds a control character",
            a.source
        ));
    }
    let label = |what: &str, id: &str, label: &str| -> Result<(), EvalError> {
        if policy_syntax::is_label(label) {
            Ok(())
        } else {
            bad(format!(
                "the label of {what} `{id}` holds a line break, which no policy can write"
            ))
        }
    };
    for d in &a.dimensions {
        if !policy_syntax::is_identifier(&d.name) {
            return bad(format!("dimension name {:?} is not an identifier", d.name));
        }
        if d.values.is_empty() {
            return bad(format!("dimension `{}` has no value", d.name));
        }
        for t in &d.values {
            if !policy_syntax::is_identifier(&t.id) {
                return bad(format!("tier id {:?} is not an identifier", t.id));
            }
        }
    }
    for p in &a.permissions {
        if !policy_syntax::is_permission_id(&p.id) {
            return bad(format!("permission id {:?} is not a permission id", p.id));
        }
        label("permission", &p.id, &p.label)?;
    }
    for c in &a.conditions {
        if !policy_syntax::is_permission_id(&c.id) {
            return bad(format!("condition id {:?} is not a condition id", c.id));
        }
        label("condition", &c.id, &c.label)?;
    }
    for s in &a.scopes {
        if !policy_syntax::is_identifier(&s.id) {
            return bad(format!("scope id {:?} is not an identifier", s.id));
        }
        label("scope", &s.id, &s.label)?;
    }
    for r in &a.roles {
        // On a level, `level.role` (that the level is the role's own is
        // the compiler's check, `assemble`).
        let local = match r.id.split_once('.') {
            Some((level, local)) if policy_syntax::is_identifier(level) => local,
            _ => r.id.as_str(),
        };
        if !policy_syntax::is_identifier(local) {
            return bad(format!(
                "role id {:?} is not an identifier (a keyword, or not a name)",
                r.id
            ));
        }
        label("role", &r.id, &r.label)?;
        for pattern in r
            .grants
            .iter()
            .map(|g| &g.pattern)
            .chain(r.exclusions.iter().map(|e| &e.pattern))
        {
            if !policy_syntax::is_permission_pattern(pattern) {
                return bad(format!(
                    "role `{}` has the pattern {pattern:?}, which is not a permission pattern",
                    r.id
                ));
            }
        }
    }
    Ok(())
}

/// The artifact's declarations, each tier-set index replaced by the set
/// it names (what `assemble` checks and builds the policy from).
pub(super) fn declarations(a: &Artifact) -> Result<Declarations, EvalError> {
    check_text(a)?;
    if context::context_count(&a.dimensions) > MAX_TIERS {
        return Err(EvalError::bad_artifact(format!(
            "its dimensions combine into more than {MAX_TIERS} contexts"
        )));
    }
    let offered = offered(a)?;
    let sets = tier_sets(
        a,
        context::ContextSpace::new(&a.dimensions, offered.as_deref()),
    )?;
    let mut used = vec![false; sets.len()];
    let mut permissions = a.permissions.clone();
    let mut roles = a.roles.clone();
    for_each_tier_set(&mut permissions, &mut roles, |set, what| {
        let k = usize::try_from(set.0).unwrap_or(usize::MAX);
        *set = sets.get(k).copied().ok_or_else(|| {
            EvalError::bad_artifact(format!(
                "{} names tier set {k}, but `tier_sets` has {} entries",
                what(),
                sets.len()
            ))
        })?;
        if let Some(u) = used.get_mut(k) {
            *u = true;
        }
        Ok(())
    })?;
    if let Some(k) = used.iter().position(|u| !u) {
        return Err(EvalError::bad_artifact(format!(
            "`tier_sets` entry {k} is named by no declaration"
        )));
    }
    Ok(Declarations {
        source_name: a.source.clone(),
        lines: a.lines.clone(),
        dimensions: a.dimensions.clone(),
        offered,
        scopes: a.scopes.clone(),
        permissions,
        roles,
        conditions: a.conditions.clone(),
    })
}

/// The artifact's `offered` contexts as mixed-radix ids (each a
/// context's name, lowest first, none twice), or `None` without the field.
fn offered(a: &Artifact) -> Result<Option<Vec<u32>>, EvalError> {
    let Some(names) = &a.offered else {
        return Ok(None);
    };
    let bad = |what: String| Err(EvalError::bad_artifact(what));
    if a.dimensions.is_empty() || names.is_empty() {
        return bad(
            "its `offered` list is empty, or names contexts of a policy without dimensions"
                .to_string(),
        );
    }
    let every = context::ContextSpace::new(&a.dimensions, None).contexts();
    let mut out: Vec<u32> = Vec::with_capacity(names.len());
    for n in names {
        let Some(c) = every.iter().position(|t| &t.id == n) else {
            return bad(format!("its `offered` list names unknown context `{n}`"));
        };
        let c = c as u32;
        if out.last().is_some_and(|&last| last >= c) {
            return bad(format!(
                "its `offered` list names `{n}` twice or out of order (lowest first)"
            ));
        }
        out.push(c);
    }
    Ok(Some(out))
}

/// The artifact's `tier_sets` as sets of the contexts of `space`: each a
/// list of its contexts (the implicit one of a policy without dimensions
/// is named `""`), none named twice, and no list given twice. The empty
/// list is the empty set (`assignable nowhere`).
fn tier_sets(a: &Artifact, space: context::ContextSpace<'_>) -> Result<Vec<TierSet>, EvalError> {
    let bad = |what: String| EvalError::bad_artifact(what);
    let tiers = space.contexts();
    let mut tier_index: HashMap<&str, TierId> = tiers
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), TierId(i as u32)))
        .collect();
    if tiers.is_empty() {
        tier_index.insert("", TierId(0));
    }
    let mut seen: HashMap<TierSet, usize> = HashMap::new();
    let mut sets = Vec::with_capacity(a.tier_sets.len());
    for (k, names) in a.tier_sets.iter().enumerate() {
        let mut set = TierSet::default();
        for n in names {
            let id = tier_index
                .get(n.as_str())
                .ok_or_else(|| bad(format!("`tier_sets` entry {k} names unknown context `{n}`")))?;
            if set.contains(*id) {
                return Err(bad(format!(
                    "`tier_sets` entry {k} names context `{n}` twice"
                )));
            }
            set.insert(*id);
        }
        if let Some(first) = seen.insert(set, k) {
            return Err(bad(format!(
                "`tier_sets` entries {first} and {k} are the same tier list"
            )));
        }
        sets.push(set);
    }
    Ok(sets)
}
