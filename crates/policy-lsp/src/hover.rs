//! Hover: what a role ends up with, who holds a permission, where a tier
//! stands, whether an assertion holds.

use std::fmt::Write;

use crate::analysis::{Analysis, NameKind};
use crate::engine::{self, wording, Code, PermId, Policy, RoleId, Severity, Span, Step};

/// At most this many permissions (or roles) are listed per tier.
pub const MAX_LISTED: usize = 40;

/// Where `offset` is, as a listing says it, read from file `here`: its
/// line, and its file when that is another file of the project.
fn place(analysis: &Analysis, here: usize, offset: usize) -> wording::listing::At<'_> {
    let file = analysis.file_at(offset);
    wording::listing::At {
        line: analysis.line_of(offset) as usize,
        file: (file != here)
            .then(|| analysis.files.get(file).map(|f| f.name.as_str()))
            .flatten(),
    }
}

/// The Markdown hover text at byte `offset`, with the span it describes.
/// In a project, lines in another file than `offset`'s name their file.
pub fn hover(analysis: &Analysis, offset: usize) -> Option<(String, Span)> {
    let here = analysis.file_at(offset);
    let at = analysis.at(offset);
    if let Some(first) = at.first() {
        if let Some(pattern) = &first.wildcard {
            let names: Vec<&str> = at.iter().map(|o| o.name.as_str()).collect();
            let mut s = format!(
                "pattern `{pattern}` matches {}:\n",
                plural(names.len(), "permission")
            );
            for n in names.iter().take(MAX_LISTED) {
                let _ = writeln!(s, "- `{n}`");
            }
            more(&mut s, names.len());
            return Some((s, first.span));
        }
        let text = match first.kind {
            NameKind::Role => role(analysis, here, &first.name),
            NameKind::Permission => permission(analysis, &first.name),
            NameKind::Tier => tier(analysis, &first.name),
            NameKind::Scope => scope(analysis, &first.name),
            NameKind::Condition => condition(analysis, here, &first.name),
        }?;
        return Some((text, first.span));
    }
    let assert = analysis.assertion_at(offset)?;
    Some((assertion(analysis, assert.span), assert.span))
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn more(s: &mut String, n: usize) {
    if n > MAX_LISTED {
        let _ = writeln!(s, "- … and {} more", n - MAX_LISTED);
    }
}

fn role_name(policy: &Policy, r: RoleId) -> &str {
    policy.role(r).map_or("?", |r| r.id.as_str())
}

fn role(analysis: &Analysis, here: usize, name: &str) -> Option<String> {
    let eval = analysis.compiled.eval();
    let policy = eval.policy();
    let Some(id) = policy.role_id(name) else {
        return Some(format!("unknown role `{name}`"));
    };
    let r = policy.role(id)?;
    let mut s = format!("**{}** — role `{}`\n\n", r.label, r.id);
    if let Some(doc) = &r.description {
        let _ = write!(s, "{doc}\n\n");
    }
    s.push_str("Effective permissions:\n");
    for tier in policy.tier_ids() {
        let tname = engine::tier_name(policy, tier);
        if !policy.role_available(id, tier) {
            let on_line = r.tier_span.map(|sp| place(analysis, here, sp.start));
            let _ = write!(
                s,
                "\n**{tname}**: {}\n",
                wording::listing::role_unavailable(on_line)
            );
            continue;
        }
        let perms = engine::what_can(eval, tier, id);
        let _ = write!(
            s,
            "\n**{tname}** ({}):\n",
            plural(perms.len(), "permission")
        );
        if policy.role_kept_not_assignable(id, tier) {
            let _ = writeln!(s, "_{}_", wording::not_assignable(&r.id, tname));
        }
        // In a policy with levels, the permissions of each level the role
        // reaches are listed under that level, outermost first.
        let mut level = None;
        for p in by_level(policy, &perms).into_iter().take(MAX_LISTED) {
            let decl = policy.permission(p);
            let scope = decl.and_then(|d| d.scope);
            if scope != level {
                level = scope;
                if let Some(sc) = scope.and_then(|x| policy.scope(x)) {
                    let _ = writeln!(s, "_on `{}` ({})_:", sc.id, sc.label);
                }
            }
            let pname = decl.map_or("?", |p| p.id.as_str());
            let _ = writeln!(
                s,
                "- `{pname}` — {}",
                provenance(analysis, here, tier, id, p)
            );
        }
        more(&mut s, perms.len());
        // Held only under conditions: apart, with the conditions.
        let conditional = eval.conditional_perms(tier, id);
        for (p, ways) in conditional.iter().take(MAX_LISTED) {
            let pname = policy.permission(*p).map_or("?", |p| p.id.as_str());
            let _ = writeln!(s, "- `{pname}` — {}", wording::listing::only_when(ways));
        }
        more(&mut s, conditional.len());
        let excluded = engine::excluded(policy, tier, id);
        for (p, by, span) in excluded.iter().take(MAX_LISTED) {
            let pname = policy.permission(*p).map_or("?", |p| p.id.as_str());
            let whose = (*by != id).then(|| role_name(policy, *by));
            // The doc comment of the `excludes` line, as a grant's is quoted.
            let doc = policy
                .role(*by)
                .and_then(|r| r.exclusions.iter().find(|e| e.span == *span))
                .and_then(|e| e.doc.as_deref());
            let why = wording::listing::excluded(place(analysis, here, span.start), whose, doc);
            let _ = writeln!(s, "- ~~`{pname}`~~ — {why}");
        }
    }
    Some(s)
}

/// `perms` in the order of the levels they belong to (outermost first, in
/// declaration order), keeping their order within a level.
fn by_level(policy: &Policy, perms: &[PermId]) -> Vec<PermId> {
    let mut out = perms.to_vec();
    out.sort_by_key(|p| {
        policy
            .permission(*p)
            .and_then(|d| d.scope)
            .map(|s| s.index())
    });
    out
}

/// "granted at line N" or "inherited through `a` → `b`, granted at line N",
/// from the engine's derivation, worded by the one wording module.
fn provenance(
    analysis: &Analysis,
    here: usize,
    tier: engine::TierId,
    role: RoleId,
    perm: PermId,
) -> String {
    let policy = &analysis.compiled.policy;
    let Some(steps) = engine::derivation(policy, tier, role, perm) else {
        return wording::listing::held();
    };
    let mut through = Vec::new();
    for step in &steps {
        match step {
            Step::Inherited { role, parent, .. } => {
                let acts_as = policy
                    .role(*role)
                    .and_then(|r| r.parents.iter().find(|x| x.role == *parent))
                    .is_some_and(|x| x.acts_as);
                through.push((role_name(policy, *parent), acts_as));
            }
            Step::Granted {
                pattern, span, doc, ..
            } => {
                let pname = policy.permission(perm).map_or("", |p| p.id.as_str());
                return wording::listing::provenance(
                    &through,
                    place(analysis, here, span.start),
                    pattern,
                    pname,
                    doc.as_deref(),
                );
            }
        }
    }
    wording::listing::held()
}

fn permission(analysis: &Analysis, name: &str) -> Option<String> {
    let eval = analysis.compiled.eval();
    let policy = eval.policy();
    let Some(id) = policy.perm_id(name) else {
        return Some(format!("unknown permission `{name}`"));
    };
    let p = policy.permission(id)?;
    let mut s = format!("**{}** — permission `{}`\n\n", p.label, p.id);
    if let Some(doc) = &p.description {
        let _ = write!(s, "{doc}\n\n");
    }
    for l in &p.labels {
        let on: Vec<String> = l
            .tiers
            .iter()
            .map(|t| format!("`{}`", engine::tier_name(policy, t)))
            .collect();
        let _ = writeln!(s, "Labelled **{}** on {}\n", l.label, on.join(", "));
    }
    s.push_str("Who has it:\n");
    for tier in policy.tier_ids() {
        let tname = engine::tier_name(policy, tier);
        if !policy.perm_available(id, tier) {
            let _ = writeln!(
                s,
                "- **{tname}**: {}",
                wording::listing::permission_unavailable()
            );
            continue;
        }
        let roles = engine::who_can(eval, tier, id);
        let names: Vec<String> = roles
            .iter()
            .take(MAX_LISTED)
            .map(|r| format!("`{}`", role_name(policy, *r)))
            .collect();
        let extra = if roles.len() > MAX_LISTED {
            format!(" and {} more", roles.len() - MAX_LISTED)
        } else {
            String::new()
        };
        let list = if names.is_empty() {
            "nobody".to_string()
        } else {
            names.join(", ")
        };
        let _ = writeln!(s, "- **{tname}**: {list}{extra}");
    }
    Some(s)
}

/// A condition: its label and doc, and the grants that depend on it.
fn condition(analysis: &Analysis, here: usize, name: &str) -> Option<String> {
    let policy = &analysis.compiled.policy;
    let Some(i) = policy.condition_id(name) else {
        return Some(format!("unknown condition `{name}`"));
    };
    let c = policy.conditions().get(i)?;
    let mut out = format!(
        "**{}** — condition `{}`

",
        c.label, c.id
    );
    if let Some(doc) = &c.description {
        let _ = write!(
            out,
            "{doc}

"
        );
    }
    // Each grant and exclusion whose `when` names the condition, as a line.
    let uses: Vec<String> = policy
        .roles()
        .iter()
        .flat_map(|r| {
            let grants = r
                .grants
                .iter()
                .map(|g| ("grants", &g.pattern, g.when, g.span));
            let exclusions = r
                .exclusions
                .iter()
                .map(|e| ("excludes", &e.pattern, e.when, e.span));
            grants.chain(exclusions).map(move |line| (r, line))
        })
        .filter(|(_, (_, _, when, _))| when.literals().any(|(k, _)| k == i))
        .map(|(r, (verb, pattern, when, span))| {
            let when = policy.condition_names(when).join("` and `");
            format!(
                "- `{}` {verb} `{pattern}` when `{when}` ({})",
                r.id,
                place(analysis, here, span.start)
            )
        })
        .collect();
    if uses.is_empty() {
        out.push_str("No grant depends on it.\n");
    } else {
        out.push_str("Grants and exclusions that depend on it:\n");
        for u in uses.iter().take(MAX_LISTED) {
            let _ = writeln!(out, "{u}");
        }
        more(&mut out, uses.len());
    }
    Some(out)
}

/// A level: its label and doc, the levels around it, its roles, and the
/// outer roles that act as them.
fn scope(analysis: &Analysis, name: &str) -> Option<String> {
    let policy = &analysis.compiled.policy;
    let Some(id) = policy.scope_id(name) else {
        return Some(format!("unknown scope `{name}`"));
    };
    let s = policy.scope(id)?;
    let mut out = format!("**{}** — scope `{}`\n\n", s.label, s.id);
    if let Some(doc) = &s.description {
        let _ = write!(out, "{doc}\n\n");
    }
    match s.parent.and_then(|p| policy.scope(p)) {
        Some(p) => {
            let _ = writeln!(out, "Inside `{}`.", p.id);
        }
        None => out.push_str("An outermost level.\n"),
    }
    let own: Vec<&str> = policy
        .roles()
        .iter()
        .filter(|r| r.scope == Some(id))
        .map(|r| r.id.as_str())
        .collect();
    let acting: Vec<String> = policy
        .roles()
        .iter()
        .flat_map(|r| {
            r.parents
                .iter()
                .filter(|p| p.acts_as)
                .filter_map(move |p| Some((r, policy.role(p.role)?)))
        })
        .filter(|(_, to)| to.scope == Some(id))
        .map(|(from, to)| format!("`{}` acts as `{}`", from.id, to.id))
        .collect();
    let _ = write!(
        out,
        "\nRoles: {}\n",
        if own.is_empty() {
            "none".to_string()
        } else {
            own.iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    for a in acting.iter().take(MAX_LISTED) {
        let _ = writeln!(out, "- {a}");
    }
    more(&mut out, acting.len());
    Some(out)
}

fn tier(analysis: &Analysis, name: &str) -> Option<String> {
    let policy = &analysis.compiled.policy;
    // A value of a dimension: its place among the dimension's values.
    let dims = policy.dimensions();
    if dims.len() > 1 || dims.first().is_some_and(|d| d.name != "tier") {
        let Some(d) = dims.iter().find(|d| d.values.iter().any(|v| v.id == name)) else {
            return Some(format!("unknown value `{name}`"));
        };
        let sep = if d.unordered { " | " } else { " < " };
        let values: Vec<String> = d
            .values
            .iter()
            .map(|v| {
                if v.id == name {
                    format!("**{}**", v.id)
                } else {
                    v.id.clone()
                }
            })
            .collect();
        let kind = if d.unordered {
            "unordered"
        } else {
            "ordered, lowest first"
        };
        return Some(format!(
            "value `{name}` of dimension `{}` ({kind})\n\n{}",
            d.name,
            values.join(sep)
        ));
    }
    let Some(id) = policy.tier_id(name) else {
        return Some(format!("unknown tier `{name}`"));
    };
    let order: Vec<String> = policy
        .tiers()
        .iter()
        .map(|t| {
            if t.id == name {
                format!("**{}**", t.id)
            } else {
                t.id.clone()
            }
        })
        .collect();
    Some(format!(
        "tier `{name}`: {} of {}, lowest first\n\n{}",
        id.index() + 1,
        policy.tiers().len(),
        order.join(" < ")
    ))
}

fn assertion(analysis: &Analysis, span: Span) -> String {
    let diags = &analysis.compiled.diagnostics;
    let failed: Vec<&engine::Diagnostic> = diags
        .iter()
        .filter(|d| {
            d.code() == Code::AssertionFailed
                && d.primary_span()
                    .is_some_and(|p| p.start >= span.start && p.end <= span.end)
        })
        .collect();
    if let Some(d) = failed.first() {
        let mut s = format!("assertion **does not hold**: {}", d.message());
        if let Some(h) = d.help_text() {
            let _ = write!(s, "\n\n{h}");
        }
        return s;
    }
    let blocked = diags
        .iter()
        .any(|d| d.severity() == Severity::Error && d.code() != Code::AssertionFailed);
    if blocked {
        "assertion **not checked**: the policy has errors".to_string()
    } else {
        "assertion **holds** on every tier it covers".to_string()
    }
}
