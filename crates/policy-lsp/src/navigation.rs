//! Go to definition, find references, document symbols and rename.

use crate::analysis::{Analysis, NameKind, Occurrence};
use crate::engine::{self, Item, Span};

/// The declarations of the name(s) at `offset`. A wildcard pattern leads to
/// every permission it matches.
pub fn definition(analysis: &Analysis, offset: usize) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    for o in analysis.at(offset) {
        for d in analysis.declarations(o.kind, &o.name) {
            if !out.contains(&d.span) {
                out.push(d.span);
            }
        }
    }
    out
}

/// Every place the name at `offset` is written or matched by a wildcard.
pub fn references(analysis: &Analysis, offset: usize, include_declaration: bool) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    for o in analysis.at(offset) {
        for r in analysis.occurrences_of(o.kind, &o.name) {
            if (include_declaration || !r.declaration) && !out.contains(&r.span) {
                out.push(r.span);
            }
        }
    }
    out.sort();
    out
}

/// A declaration as a document symbol: what, name, detail, whole span, name span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// The namespace, or `None` for an assertion.
    pub kind: Option<NameKind>,
    /// The name shown.
    pub name: String,
    /// The label or other detail.
    pub detail: Option<String>,
    /// The whole declaration.
    pub span: Span,
    /// The declared name.
    pub selection: Span,
}

/// The declarations of the document, in source order.
pub fn symbols(analysis: &Analysis) -> Vec<Symbol> {
    let text = &analysis.text;
    let mut out = Vec::new();
    for item in &analysis.compiled.file.items {
        match item {
            Item::Tiers(d) => {
                for t in &d.tiers {
                    out.push(Symbol {
                        kind: Some(NameKind::Tier),
                        name: t.name.clone(),
                        detail: Some("tier".to_string()),
                        span: t.span,
                        selection: t.span,
                    });
                }
            }
            Item::Permission(d) => out.push(Symbol {
                kind: Some(NameKind::Permission),
                name: d.id.name.clone(),
                detail: Some(d.label.value.clone()),
                span: d.span,
                selection: d.id.span,
            }),
            Item::Role(d) => out.push(Symbol {
                kind: Some(NameKind::Role),
                name: d.id.name.clone(),
                detail: Some(d.label.value.clone()),
                span: d.span,
                selection: d.id.span,
            }),
            Item::Assert(d) => {
                // The assertion's own text (without its doc comment), on one line.
                let start = d.doc.as_ref().map_or(d.span.start, |doc| doc.span.end);
                let body = text.get(start..d.span.end).unwrap_or("").trim();
                let name: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
                let kw = text
                    .get(start..d.span.end)
                    .and_then(|s| s.find("assert"))
                    .map_or(start, |i| start + i);
                out.push(Symbol {
                    kind: None,
                    name,
                    detail: None,
                    span: d.span,
                    selection: Span::new(kw, (kw + "assert".len()).min(d.span.end)),
                });
            }
        }
    }
    out
}

/// Why a rename was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameError(pub String);

/// The edits renaming the name at `offset` to `new_name` everywhere in the
/// file. Refused when nothing renameable is there, when the new name is not
/// a valid name, when it collides with a declared name, or (permissions) when
/// it would change what a wildcard matches.
pub fn rename(
    analysis: &Analysis,
    offset: usize,
    new_name: &str,
) -> Result<Vec<Span>, RenameError> {
    let at = analysis.at(offset);
    let Some(target) = at.iter().find(|o| o.wildcard.is_none()) else {
        return Err(RenameError(if at.is_empty() {
            "no role, permission or tier here to rename".to_string()
        } else {
            "a wildcard pattern names no single permission; rename the permission at its declaration"
                .to_string()
        }));
    };
    let kind = target.kind;
    let old = target.name.as_str();
    if !kind.is_valid_name(new_name) {
        return Err(RenameError(format!(
            "`{new_name}` is not a valid {} name",
            kind.as_str()
        )));
    }
    if new_name == old {
        return Ok(Vec::new());
    }
    if !analysis.declarations(kind, new_name).is_empty() {
        return Err(RenameError(format!(
            "a {} named `{new_name}` is already declared",
            kind.as_str()
        )));
    }
    let all: Vec<&Occurrence> = analysis.occurrences_of(kind, old);
    if kind == NameKind::Permission {
        let changed = wildcard_change(analysis, old, new_name);
        if let Some(p) = changed {
            return Err(RenameError(format!(
                "renaming `{old}` to `{new_name}` would change what `{p}` matches"
            )));
        }
    }
    let mut spans: Vec<Span> = all
        .iter()
        .filter(|o| o.wildcard.is_none())
        .map(|o| o.span)
        .collect();
    spans.sort();
    spans.dedup();
    Ok(spans)
}

/// A wildcard pattern in the file whose match of `old` and `new` differs.
fn wildcard_change(analysis: &Analysis, old: &str, new: &str) -> Option<String> {
    analysis
        .compiled
        .file
        .items
        .iter()
        .flat_map(engine::item_names)
        .filter(|n| n.is_pattern())
        .map(|n| n.name)
        .find(|p| engine::pattern_matches(p, old) != engine::pattern_matches(p, new))
        .map(str::to_string)
}
