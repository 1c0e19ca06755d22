//! Completion in context, from the text before the cursor.
//!
//! The text before the cursor is split into words, strings and punctuation
//! (comments skipped), so completion works on half-typed files that do not
//! parse. The word being typed is the prefix; what precedes it decides what
//! fits: roles after `inherits`, `only`, `below` and `assert`; permission ids
//! and patterns after `grants`, `excludes`, `can` and `cannot`; tiers after
//! `on` (and its comparison operators); keywords where a statement starts.

use std::collections::BTreeSet;

use crate::analysis::{Analysis, NameKind};
use crate::engine::{self, Span};

/// What a completion item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// A keyword.
    Keyword,
    /// A declared role, permission or tier.
    Name(NameKind),
    /// A wildcard pattern over declared permissions.
    Pattern,
}

/// One proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// The text inserted.
    pub label: String,
    /// What it is.
    pub kind: ItemKind,
    /// A label or short description.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    Word(&'a str),
    Str,
    Punct(&'a str),
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '*')
}

/// Tokens of `text` with the offset where each starts, and whether the text
/// ends inside a comment or an unterminated label.
fn lex(text: &str) -> (Vec<(usize, Tok<'_>)>, bool) {
    let mut out = Vec::new();
    let mut open = false;
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c.is_whitespace() || c == '\u{feff}' {
            continue;
        }
        if c == '/' && text.get(i + 1..).is_some_and(|r| r.starts_with('/')) {
            open = true;
            for (_, c) in it.by_ref() {
                if c == '\n' || c == '\r' {
                    open = false;
                    break;
                }
            }
            continue;
        }
        if c == '"' {
            let mut escaped = false;
            open = true;
            for (_, c) in it.by_ref() {
                if c == '\n' || c == '\r' || (c == '"' && !escaped) {
                    open = false;
                    break;
                }
                escaped = c == '\\' && !escaped;
            }
            out.push((i, Tok::Str));
            continue;
        }
        if is_word_char(c) {
            let mut end = i + c.len_utf8();
            while let Some((j, c)) = it.peek().copied() {
                if !is_word_char(c) {
                    break;
                }
                end = j + c.len_utf8();
                it.next();
            }
            out.push((i, Tok::Word(text.get(i..end).unwrap_or(""))));
            continue;
        }
        let end = if matches!(c, '<' | '>') && it.peek().is_some_and(|(_, c)| *c == '=') {
            it.next();
            i + 2
        } else {
            i + c.len_utf8()
        };
        out.push((i, Tok::Punct(text.get(i..end).unwrap_or(""))));
    }
    (out, open)
}

/// The span of the word being typed at `offset` (empty when none).
pub fn prefix_span(text: &str, offset: usize) -> Span {
    let before = text.get(..offset).unwrap_or("");
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word_char(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    Span::new(start, offset)
}

/// The keywords that start a top-level line: the grammar's declaration
/// keywords, then `expect` (the attribute before a declaration).
fn top_level() -> &'static [&'static str] {
    static WORDS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        let mut v = engine::declaration_keywords().to_vec();
        v.push("expect");
        v
    })
}

/// The keywords that start a statement in a role block.
const IN_BLOCK: &[&str] = &["inherits", "grants", "excludes", "assignable", "acts"];

enum Want {
    Roles,
    /// Roles after `inherits`, but not these (the role being declared, and
    /// the parents already listed).
    Parents(Vec<String>),
    /// Permissions and patterns, then these keywords.
    Permissions(&'static [&'static str]),
    Tiers,
    /// The levels, after `scope NAME "…" in`.
    Scopes,
    /// The conditions, after `when`, its `and` and `not`, with keywords
    /// (`not`).
    Conditions(&'static [&'static str]),
    Keywords(&'static [&'static str]),
    RolesAnd(&'static [&'static str]),
    Nothing,
}

fn context(text: &str, offset: usize) -> Want {
    let prefix = prefix_span(text, offset);
    let before = text.get(..prefix.start).unwrap_or("");
    let (toks, inside) = lex(before);
    if inside {
        return Want::Nothing;
    }
    let depth = toks.iter().fold(0i64, |d, (_, t)| match t {
        Tok::Punct("{") => d + 1,
        Tok::Punct("}") => (d - 1).max(0),
        _ => d,
    });
    let line_start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let at_line_start = before
        .get(line_start..)
        .is_some_and(|s| s.trim().is_empty());
    let statement_keywords: &'static [&'static str] =
        if depth > 0 { IN_BLOCK } else { top_level() };
    // Walk back over `item ,` pairs of a list.
    let mut i = toks.len();
    while i >= 2
        && matches!(toks.get(i - 1), Some((_, Tok::Punct(","))))
        && matches!(toks.get(i - 2), Some((_, Tok::Word(_))))
    {
        i -= 2;
    }
    let listed = i != toks.len();
    // The names listed after the keyword (`inherits a, b, `).
    let list: Vec<String> = toks
        .get(i..)
        .unwrap_or(&[])
        .iter()
        .filter_map(|(_, t)| match t {
            Tok::Word(w) => Some((*w).to_string()),
            _ => None,
        })
        .collect();
    let last = i
        .checked_sub(1)
        .and_then(|j| toks.get(j))
        .map(|(_, t)| t.clone());
    let prev = i
        .checked_sub(2)
        .and_then(|j| toks.get(j))
        .map(|(_, t)| t.clone());
    match last {
        None => Want::Keywords(top_level()),
        Some(Tok::Word("inherits")) => {
            // A role cannot inherit from itself, nor twice from one parent.
            let mut not = list;
            not.extend(enclosing_role(&toks));
            Want::Parents(not)
        }
        Some(Tok::Word("only" | "below")) => Want::Roles,
        Some(Tok::Word("acts")) => Want::Keywords(&["as"]),
        Some(Tok::Word("as")) if matches!(prev, Some(Tok::Word("acts"))) => Want::Roles,
        Some(Tok::Word("in")) if last_declaration(&toks) == Some("scope") => Want::Scopes,
        // `R can every P`: only the `can` right after an assertion's roles.
        Some(Tok::Word("can")) if can_takes_every(&toks, i - 1) => Want::Permissions(&["every"]),
        Some(Tok::Word("grants" | "excludes" | "can" | "cannot")) => Want::Permissions(&[]),
        Some(Tok::Word("every")) if matches!(prev, Some(Tok::Word("can"))) => {
            Want::Permissions(&[])
        }
        Some(Tok::Word("when")) => Want::Conditions(&["not"]),
        Some(Tok::Word("and")) if in_when_clause(&toks) => Want::Conditions(&["not"]),
        Some(Tok::Word("not")) if matches!(prev, Some(Tok::Word("when" | "and"))) => {
            Want::Conditions(&[])
        }
        Some(Tok::Word("on" | "and" | "or")) => Want::Tiers,
        Some(Tok::Punct(">=" | "<=" | ">" | "<")) => {
            if matches!(prev, Some(Tok::Word("on" | "and" | "or"))) || !listed {
                Want::Tiers
            } else {
                Want::Nothing
            }
        }
        Some(Tok::Word("assert")) => Want::RolesAnd(&["only", "no"]),
        Some(Tok::Word("assignable")) => Want::Keywords(&["on", "nowhere"]),
        Some(Tok::Word("offered")) => Want::Keywords(&["on"]),
        Some(Tok::Word("no")) => Want::Keywords(&["role"]),
        Some(Tok::Word("role")) if matches!(prev, Some(Tok::Word("no"))) => {
            Want::Keywords(&["below", "can"])
        }
        Some(Tok::Word("includes")) => Want::Roles,
        Some(Tok::Punct("{" | "}")) => Want::Keywords(statement_keywords),
        _ if listed => Want::Nothing,
        _ if at_line_start => Want::Keywords(statement_keywords),
        Some(Tok::Word(_)) if matches!(prev, Some(Tok::Word("assert"))) => {
            Want::Keywords(&["can", "cannot", "includes"])
        }
        Some(Tok::Word(_)) if matches!(prev, Some(Tok::Word("only"))) => {
            Want::Keywords(&["can", "cannot"])
        }
        // After a condition, another one.
        Some(Tok::Word(_)) if in_when_clause(&toks) => Want::Keywords(&["and"]),
        // After a term of an `on` clause, another term may follow (and in
        // a permission, a `label` clause; in a grant, its conditions).
        Some(Tok::Word(_)) if in_on_clause(&toks) => {
            if in_permission(&toks) {
                Want::Keywords(&["and", "or", "label"])
            } else if in_statement(&toks, "grants") {
                Want::Keywords(&["and", "or", "when"])
            } else {
                Want::Keywords(&["and", "or"])
            }
        }
        // After a grant's permissions: its `on` clause or its conditions.
        Some(Tok::Word(_)) if in_statement(&toks, "grants") => Want::Keywords(&["on", "when"]),
        // After an exclusion's permissions: its conditions.
        Some(Tok::Word(_)) if in_statement(&toks, "excludes") => Want::Keywords(&["when"]),
        // A level's label, then the level it is inside.
        Some(Tok::Str) if last_declaration(&toks) == Some("scope") => Want::Keywords(&["in"]),
        // A permission's label, then its `on` or a context's `label`.
        Some(Tok::Str) if in_permission(&toks) && !matches!(prev, Some(Tok::Word("label"))) => {
            Want::Keywords(&["on", "label"])
        }
        Some(Tok::Word(_) | Tok::Str) => Want::Keywords(&["on"]),
        _ => Want::Nothing,
    }
}

/// The keyword of the last declaration the tokens open (`None` inside or
/// right after a role block).
fn last_declaration<'a>(toks: &[(usize, Tok<'a>)]) -> Option<&'a str> {
    toks.iter().rev().find_map(|(_, t)| match t {
        Tok::Word(w) if engine::declaration_keywords().contains(w) => Some(Some(*w)),
        Tok::Punct("{" | "}") => Some(None),
        _ => None,
    })?
}

/// Whether the last declaration the tokens open is a `permission`.
fn in_permission(toks: &[(usize, Tok<'_>)]) -> bool {
    toks.iter()
        .rev()
        .find_map(|(_, t)| match t {
            Tok::Word(w) if engine::declaration_keywords().contains(w) => Some(*w == "permission"),
            Tok::Punct("{" | "}") => Some(false),
            _ => None,
        })
        .unwrap_or(false)
}

/// Whether the tokens end inside a `when` clause: back from the end, only
/// conditions and `and` until a `when`.
fn in_when_clause(toks: &[(usize, Tok<'_>)]) -> bool {
    for (_, t) in toks.iter().rev() {
        match t {
            Tok::Word("when") => return true,
            Tok::Word("and") => {}
            Tok::Word(w) if engine::is_keyword(w) => return false,
            Tok::Word(_) => {}
            _ => return false,
        }
    }
    false
}

/// Whether the tokens end inside a role statement opened by `keyword`
/// (`grants`): back from the end, no other statement keyword or brace.
fn in_statement(toks: &[(usize, Tok<'_>)], keyword: &str) -> bool {
    for (_, t) in toks.iter().rev() {
        match t {
            Tok::Word(w) if *w == keyword => return true,
            Tok::Word(w) if IN_BLOCK.contains(w) || engine::declaration_keywords().contains(w) => {
                return false
            }
            Tok::Punct("{" | "}") => return false,
            _ => {}
        }
    }
    false
}

/// Whether the tokens end inside an `on` clause: back from the end, only
/// values, `,`, comparisons and `and` until an `on`.
fn in_on_clause(toks: &[(usize, Tok<'_>)]) -> bool {
    for (_, t) in toks.iter().rev() {
        match t {
            Tok::Word("on") => return true,
            Tok::Word(w) if engine::is_keyword(w) && !matches!(*w, "and" | "or") => return false,
            Tok::Word(_) | Tok::Punct("," | ">=" | "<=" | ">" | "<") => {}
            _ => return false,
        }
    }
    false
}

/// Whether the `can` at index `at` of `toks` follows an assertion's role
/// list directly (`assert a, b can`), where `every` may come next; not the
/// `can` of `only a can`, `no role can` or `no role below r can`.
fn can_takes_every(toks: &[(usize, Tok<'_>)], at: usize) -> bool {
    let word = |k: usize| matches!(toks.get(k), Some((_, Tok::Word(_))));
    let Some(mut j) = at.checked_sub(1).filter(|k| word(*k)) else {
        return false;
    };
    while j >= 2 && matches!(toks.get(j - 1), Some((_, Tok::Punct(",")))) && word(j - 2) {
        j -= 2;
    }
    j.checked_sub(1)
        .is_some_and(|k| matches!(toks.get(k), Some((_, Tok::Word("assert")))))
}

/// The role whose block the tokens end inside: the name after the last
/// `role` at the top level before the open `{`.
fn enclosing_role(toks: &[(usize, Tok<'_>)]) -> Option<String> {
    let mut depth = 0i64;
    let (mut pending, mut current) = (None, None);
    for (k, (_, t)) in toks.iter().enumerate() {
        match t {
            Tok::Word("role") if depth == 0 => {
                if let Some((_, Tok::Word(name))) = toks.get(k + 1) {
                    pending = Some((*name).to_string());
                }
            }
            Tok::Punct("{") => {
                if depth == 0 {
                    current = pending.take();
                }
                depth += 1;
            }
            Tok::Punct("}") => {
                depth = (depth - 1).max(0);
                if depth == 0 {
                    current = None;
                }
            }
            _ => {}
        }
    }
    current.filter(|_| depth > 0)
}

/// The names declared in `text`, found lexically so that declarations the
/// parser dropped while the file is half-typed still complete: roles and
/// permissions with their labels, and tiers, in source order.
struct Declared {
    roles: Vec<(String, Option<String>)>,
    permissions: Vec<(String, Option<String>)>,
    tiers: Vec<String>,
    scopes: Vec<(String, Option<String>)>,
    conditions: Vec<(String, Option<String>)>,
}

fn label_of(text: &str, at: usize) -> Option<String> {
    let rest = text.get(at + 1..)?;
    let end = rest.find(['"', '\n', '\r'])?;
    rest.get(..end).map(str::to_string)
}

fn declared(text: &str) -> Declared {
    let (toks, _) = lex(text);
    let mut d = Declared {
        roles: Vec::new(),
        permissions: Vec::new(),
        tiers: Vec::new(),
        scopes: Vec::new(),
        conditions: Vec::new(),
    };
    let mut i = 0;
    while let Some((_, tok)) = toks.get(i) {
        let next = toks.get(i + 1).map(|(_, t)| t.clone());
        let label = match toks.get(i + 2) {
            Some((at, Tok::Str)) => Some(label_of(text, *at)),
            _ => None,
        };
        let kind = match tok {
            Tok::Word(w) => NameKind::declared_by(w),
            _ => None,
        };
        match (kind, next, label) {
            (Some(NameKind::Tier), _, _) => {
                // `dimension NAME a | b`: the name is not a value (and a
                // keyword is no name: `dimension` may be half-typed).
                let mut j = match (tok, toks.get(i + 1).map(|(_, t)| t)) {
                    (Tok::Word("dimension"), Some(Tok::Word(n)))
                        if NameKind::Tier.is_valid_name(n) =>
                    {
                        i + 2
                    }
                    (Tok::Word("dimension"), _) => usize::MAX,
                    _ => i + 1,
                };
                while let Some((_, Tok::Word(name))) = toks.get(j) {
                    if !NameKind::Tier.is_valid_name(name) {
                        break;
                    }
                    if !d.tiers.iter().any(|t| t == name) {
                        d.tiers.push((*name).to_string());
                    }
                    if !matches!(toks.get(j + 1), Some((_, Tok::Punct("<" | "|")))) {
                        break;
                    }
                    j += 2;
                }
            }
            (Some(kind), Some(Tok::Word(name)), Some(label)) if kind.is_valid_name(name) => {
                let list = match kind {
                    NameKind::Role => &mut d.roles,
                    NameKind::Scope => &mut d.scopes,
                    NameKind::Condition => &mut d.conditions,
                    _ => &mut d.permissions,
                };
                if !list.iter().any(|(n, _)| n == name) {
                    list.push((name.to_string(), label));
                }
            }
            _ => {}
        }
        i += 1;
    }
    d
}

/// The proposals at byte `offset`, sorted by label within each group.
pub fn complete(analysis: &Analysis, offset: usize) -> Vec<Proposal> {
    complete_in(analysis, analysis.file_at(offset), offset)
}

/// The proposals at byte `offset` of file `file` of the analysis: the
/// context is read in that file alone, the names are the whole project's.
pub fn complete_in(analysis: &Analysis, file: usize, offset: usize) -> Vec<Proposal> {
    let text = &analysis.text;
    let offset = offset.min(text.len());
    let start = analysis.files.get(file).map_or(0, |f| f.span.start);
    let want = context(analysis.file_text(file), offset.saturating_sub(start));
    if matches!(want, Want::Nothing | Want::Keywords(_)) {
        return match want {
            Want::Keywords(kws) => keyword_proposals(kws),
            _ => Vec::new(),
        };
    }
    let names = declared(text);
    let roles = || -> Vec<Proposal> {
        names
            .roles
            .iter()
            .map(|(id, label)| Proposal {
                label: id.clone(),
                kind: ItemKind::Name(NameKind::Role),
                detail: label.clone(),
            })
            .collect()
    };
    match want {
        Want::Roles => roles(),
        Want::Parents(not) => roles()
            .into_iter()
            .filter(|p| !not.contains(&p.label))
            .collect(),
        Want::RolesAnd(kws) => {
            let mut v = roles();
            v.extend(keyword_proposals(kws));
            v
        }
        Want::Tiers => names
            .tiers
            .iter()
            .enumerate()
            .map(|(i, t)| Proposal {
                label: t.clone(),
                kind: ItemKind::Name(NameKind::Tier),
                detail: Some(format!("tier {} of {}", i + 1, names.tiers.len())),
            })
            .collect(),
        Want::Permissions(kws) => {
            let mut v: Vec<Proposal> = names
                .permissions
                .iter()
                .map(|(id, label)| Proposal {
                    label: id.clone(),
                    kind: ItemKind::Name(NameKind::Permission),
                    detail: label.clone(),
                })
                .collect();
            let mut patterns = BTreeSet::new();
            for (id, _) in &names.permissions {
                let segs: Vec<&str> = id.split('.').collect();
                for n in 1..segs.len() {
                    if let Some(head) = segs.get(..n) {
                        patterns.insert(format!("{}.*", head.join(".")));
                    }
                }
                if let Some(last) = segs.last() {
                    if segs.len() > 1 {
                        patterns.insert(format!("*.{last}"));
                    }
                }
            }
            patterns.insert("*".to_string());
            v.extend(patterns.into_iter().map(|label| Proposal {
                label,
                kind: ItemKind::Pattern,
                detail: Some("pattern".to_string()),
            }));
            v.extend(keyword_proposals(kws));
            v
        }
        Want::Scopes => names
            .scopes
            .iter()
            .map(|(id, label)| Proposal {
                label: id.clone(),
                kind: ItemKind::Name(NameKind::Scope),
                detail: label.clone(),
            })
            .collect(),
        Want::Conditions(kws) => names
            .conditions
            .iter()
            .map(|(id, label)| Proposal {
                label: id.clone(),
                kind: ItemKind::Name(NameKind::Condition),
                detail: label.clone(),
            })
            .chain(keyword_proposals(kws))
            .collect(),
        Want::Keywords(kws) => keyword_proposals(kws),
        Want::Nothing => Vec::new(),
    }
}

fn keyword_proposals(kws: &[&str]) -> Vec<Proposal> {
    kws.iter()
        .map(|k| Proposal {
            label: (*k).to_string(),
            kind: ItemKind::Keyword,
            detail: Some("keyword".to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests;
