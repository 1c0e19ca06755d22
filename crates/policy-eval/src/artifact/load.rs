//! Loading an artifact: what the grammar would have refused in source,
//! the tier sets, and the declarations with names resolved to ids.

use std::collections::HashMap;

use policy_compiler::{
    Declarations, Exclusion, Grant, Parent, Permission, Role, RoleId, Tier, TierId, TierSet,
};
use policy_syntax::{LineCol, Span};

use super::{Artifact, ArtifactSpan};
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
    for t in &a.tiers {
        if !policy_syntax::is_identifier(&t.id) {
            return bad(format!("tier id {:?} is not an identifier", t.id));
        }
    }
    for p in &a.permissions {
        if !policy_syntax::is_permission_id(&p.id) {
            return bad(format!("permission id {:?} is not a permission id", p.id));
        }
        label("permission", &p.id, &p.label)?;
    }
    for r in &a.roles {
        if !policy_syntax::is_identifier(&r.id) {
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
            .chain(r.excludes.iter().map(|e| &e.pattern))
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

/// The artifact's declarations with names resolved to ids.
pub(super) fn declarations(a: &Artifact) -> Result<Declarations, EvalError> {
    check_text(a)?;
    let mut locations: HashMap<Span, LineCol> = HashMap::new();
    let mut span = |s: &ArtifactSpan| {
        let sp = Span::new(s.start, s.end);
        locations.insert(
            sp,
            LineCol {
                line: s.line,
                column: s.column,
            },
        );
        sp
    };
    let sets = tier_sets(a)?;
    let mut used = vec![false; sets.len()];
    let mut tier_set = |k: usize, what: &dyn Fn() -> String| -> Result<TierSet, EvalError> {
        let set = sets.get(k).copied().ok_or_else(|| {
            EvalError::bad_artifact(format!(
                "{} names tier set {k}, but `tier_sets` has {} entries",
                what(),
                sets.len()
            ))
        })?;
        if let Some(u) = used.get_mut(k) {
            *u = true;
        }
        Ok(set)
    };
    let tiers = a
        .tiers
        .iter()
        .map(|t| Tier {
            id: t.id.clone(),
            span: span(&t.at),
        })
        .collect();
    let role_index: HashMap<&str, RoleId> = a
        .roles
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), RoleId(i as u32)))
        .collect();
    let mut permissions = Vec::with_capacity(a.permissions.len());
    for p in &a.permissions {
        permissions.push(Permission {
            id: p.id.clone(),
            label: p.label.clone(),
            description: p.description.clone(),
            tiers: tier_set(p.tier_set, &|| format!("permission `{}`", p.id))?,
            tier_span: p.on.as_ref().map(&mut span),
            span: span(&p.at),
        });
    }
    let mut roles = Vec::with_capacity(a.roles.len());
    for r in &a.roles {
        let mut parents = Vec::with_capacity(r.inherits.len());
        for p in &r.inherits {
            let role = role_index
                .get(p.role.as_str())
                .copied()
                .ok_or_else(|| EvalError::bad_artifact(format!("unknown role `{}`", p.role)))?;
            parents.push(Parent {
                role,
                span: span(&p.at),
            });
        }
        let mut grants = Vec::with_capacity(r.grants.len());
        for g in &r.grants {
            grants.push(Grant {
                pattern: g.pattern.clone(),
                span: span(&g.at),
                tiers: tier_set(g.tier_set, &|| {
                    format!("the grant `{}` of role `{}`", g.pattern, r.id)
                })?,
                tier_span: g.on.as_ref().map(&mut span),
                matches: Vec::new(),
                doc: None,
            });
        }
        let mut exclusions = Vec::with_capacity(r.excludes.len());
        for e in &r.excludes {
            exclusions.push(Exclusion {
                pattern: e.pattern.clone(),
                span: span(&e.at),
                matches: Vec::new(),
                // Artifacts carry no doc comments (nor do their grants).
                doc: None,
            });
        }
        roles.push(Role {
            id: r.id.clone(),
            label: r.label.clone(),
            description: r.description.clone(),
            tiers: tier_set(r.tier_set, &|| format!("role `{}`", r.id))?,
            tier_span: r.on.as_ref().map(&mut span),
            parents,
            grants,
            exclusions,
            span: span(&r.at),
        });
    }
    if let Some(k) = used.iter().position(|u| !u) {
        return Err(EvalError::bad_artifact(format!(
            "`tier_sets` entry {k} is named by no declaration"
        )));
    }
    Ok(Declarations {
        source_name: a.source.clone(),
        tiers,
        permissions,
        roles,
        locations,
    })
}

/// The artifact's `tier_sets` as sets: in a policy with tiers, each a
/// non-empty list of declared tiers, none named twice, and no list given
/// twice; in a policy without tiers, only the empty list (the implicit
/// tier).
fn tier_sets(a: &Artifact) -> Result<Vec<TierSet>, EvalError> {
    let bad = |what: String| EvalError::bad_artifact(what);
    let tier_index: HashMap<&str, TierId> = a
        .tiers
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), TierId(i as u32)))
        .collect();
    let mut seen: HashMap<TierSet, usize> = HashMap::new();
    let mut sets = Vec::with_capacity(a.tier_sets.len());
    for (k, names) in a.tier_sets.iter().enumerate() {
        let set = if a.tiers.is_empty() {
            if let Some(n) = names.first() {
                return Err(bad(format!(
                    "`tier_sets` entry {k} names tier `{n}` in a policy without tiers"
                )));
            }
            TierSet::all(1)
        } else {
            if names.is_empty() {
                // Source cannot state an empty `on` clause (the compiler
                // refuses it); a missing clause is every tier, written out.
                return Err(bad(format!(
                    "`tier_sets` entry {k} is an empty tier list: every declaration exists on at least one tier"
                )));
            }
            let mut set = TierSet::default();
            for n in names {
                let id = tier_index.get(n.as_str()).ok_or_else(|| {
                    bad(format!("`tier_sets` entry {k} names unknown tier `{n}`"))
                })?;
                if set.contains(*id) {
                    return Err(bad(format!("`tier_sets` entry {k} names tier `{n}` twice")));
                }
                set.insert(*id);
            }
            set
        };
        if let Some(first) = seen.insert(set, k) {
            return Err(bad(format!(
                "`tier_sets` entries {first} and {k} are the same tier list"
            )));
        }
        sets.push(set);
    }
    Ok(sets)
}
