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

/// The declarations of file `file` of the analysis (the document), in
/// source order.
pub fn symbols(analysis: &Analysis, file: usize) -> Vec<Symbol> {
    let text = &analysis.text;
    let mut out = Vec::new();
    let items = analysis.compiled.file.items.iter();
    for item in items.filter(|i| analysis.file_at(i.span().start) == file) {
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
            Item::Assert(d) => out.push(statement(text, d.doc.as_ref(), d.span, "assert")),
            Item::Offered(d) => out.push(statement(text, d.doc.as_ref(), d.span, "offered")),
            Item::Scope(d) => out.push(Symbol {
                kind: Some(NameKind::Scope),
                name: d.id.name.clone(),
                detail: Some(d.label.value.clone()),
                span: d.span,
                selection: d.id.span,
            }),
            Item::Condition(d) => out.push(Symbol {
                kind: Some(NameKind::Condition),
                name: d.id.name.clone(),
                detail: Some(d.label.value.clone()),
                span: d.span,
                selection: d.id.span,
            }),
        }
    }
    out
}

/// A declaration that declares no name (`assert`, `offered`), as a symbol
/// named by its own text (without its doc comment) on one line, selected
/// at its keyword.
fn statement(text: &str, doc: Option<&policy_syntax::Doc>, span: Span, keyword: &str) -> Symbol {
    let start = doc.map_or(span.start, |doc| doc.span.end);
    let body = text.get(start..span.end).unwrap_or("").trim();
    let name: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let kw = text
        .get(start..span.end)
        .and_then(|s| s.find(keyword))
        .map_or(start, |i| start + i);
    Symbol {
        kind: None,
        name,
        detail: None,
        span,
        selection: Span::new(kw, (kw + keyword.len()).min(span.end)),
    }
}

/// Why a rename was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameError(pub String);

/// The name a rename at `offset` renames, with its kind.
pub fn rename_target(analysis: &Analysis, offset: usize) -> Result<(NameKind, &str), RenameError> {
    let at = analysis.at(offset);
    let Some(target) = at.iter().find(|o| o.wildcard.is_none()) else {
        return Err(RenameError(if at.is_empty() {
            "no role, permission or tier here to rename".to_string()
        } else {
            "a wildcard pattern names no single permission; rename the permission at its declaration"
                .to_string()
        }));
    };
    Ok((target.kind, target.name.as_str()))
}

/// The edits renaming the name at `offset` to `new_name` everywhere in the
/// analysis (the document, or every file of its project). Refused when nothing renameable is there, when the new name is not
/// a valid name, when it collides with a declared name, or (permissions) when
/// it would change what a wildcard matches.
pub fn rename(
    analysis: &Analysis,
    offset: usize,
    new_name: &str,
) -> Result<Vec<Span>, RenameError> {
    let (kind, old) = rename_target(analysis, offset)?;
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
    engine::file_names(&analysis.compiled.file)
        .filter(|n| n.is_pattern())
        .map(|n| n.qualified().into_owned())
        .find(|p| engine::pattern_matches(p, old) != engine::pattern_matches(p, new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::position::Encoding;

    /// Uses every keyword of the grammar.
    const SRC: &str = "expect unheld-permission \"later\"\n\
                       permission zz \"Z\"\n\
                       tiers free < team\n\
                       permission a.b \"A\" on >= team\n\
                       permission a.c \"C\" label \"Cee\" on team\n\
                       role m \"M\" on free, team { grants a.* on team excludes a.c assignable on team }\n\
                       role r \"R\" { inherits m assignable nowhere }\n\
                       assert only r, m can a.b\n\
                       assert no role below r can a.c\n\
                       assert r includes m\n\
                       assert r can every a.b on team\n\
                       assert no role can a.c\n\
                       assert m cannot a.c on cloud and team or server\n\
                       dimension edition cloud | server\n\
                       offered on cloud\n\
                       scope s \"S\"\n\
                       role o \"O\" { acts as u.p }\n\
                       scope u \"U\" in s\n\
                       role p \"P\" {}\n\
                       condition own \"Own\"\n\
                       role q \"Q\" { grants u.p when own }\n";

    fn analysis() -> Analysis {
        Analysis::new("t.policy", SRC, Encoding::Utf8)
    }

    fn offset(word: &str) -> usize {
        SRC.find(word).unwrap()
    }

    /// No keyword of the grammar is a role or tier name: rename refuses it
    /// (the server's old keyword list missed `includes`, `every`, `expect`).
    #[test]
    fn rename_to_any_keyword_is_refused_for_roles_and_tiers() {
        let a = analysis();
        for kw in engine::keywords() {
            for (at, kind) in [("role m", "role"), ("tiers free", "tier")] {
                let at = offset(at) + at.len() - 1;
                assert_eq!(
                    rename(&a, at, kw),
                    Err(RenameError(format!("`{kw}` is not a valid {kind} name"))),
                    "{kind} renamed to `{kw}`"
                );
            }
        }
        // A permission id may be a keyword, as the grammar says.
        let at = offset("zz");
        for kw in engine::keywords() {
            assert_eq!(
                rename(&a, at, kw),
                Ok(vec![Span::new(at, at + 2)]),
                "`{kw}`"
            );
        }
    }

    /// Where a keyword is written, there is no name: nothing to hover as a
    /// name, define, or find references of.
    #[test]
    fn no_keyword_is_indexed_as_a_name() {
        let a = analysis();
        assert_eq!(a.compiled.file.items.len(), 20);
        for kw in engine::keywords() {
            let mut found = 0;
            let bytes = SRC.as_bytes();
            let word = |i: usize| bytes.get(i).is_some_and(|b| b.is_ascii_alphanumeric());
            for (i, _) in SRC.match_indices(kw) {
                if (i > 0 && word(i - 1)) || word(i + kw.len()) {
                    continue;
                }
                found += 1;
                let mid = i + kw.len() / 2;
                assert!(a.at(mid).is_empty(), "`{kw}` at {i} is indexed as a name");
                assert!(definition(&a, mid).is_empty(), "`{kw}` at {i}");
                assert!(references(&a, mid, true).is_empty(), "`{kw}` at {i}");
            }
            assert!(found > 0, "the test policy does not use keyword `{kw}`");
        }
    }
}
