//! The pest binding and the AST builder.

use pest::iterators::Pair;
use pest::Parser as _;

use crate::ast::*;
use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::keywords;
use crate::source::{SourceFile, Span};

mod clauses;
mod error;

/// The longest line the parser accepts, in bytes.
pub const MAX_LINE_BYTES: usize = 4096;
/// The most syntax errors reported for one file.
const MAX_SYNTAX_ERRORS: usize = 50;

#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/policy.pest"]
struct PolicyParser;

/// Whether `text`, whole, is what grammar rule `rule` accepts.
fn matches_rule(rule: Rule, text: &str) -> bool {
    PolicyParser::parse(rule, text)
        .ok()
        .and_then(|mut pairs| pairs.next())
        .is_some_and(|p| p.as_span().end() == text.len())
}

/// Whether `text` is a role or tier identifier as the grammar's `ident`
/// rule says (a name that is not a keyword): what a compiled artifact's
/// ids are checked against, so that it cannot hold what no source can.
pub fn is_identifier(text: &str) -> bool {
    matches_rule(Rule::ident, text)
}

/// Whether `text` is a permission id as the grammar's `perm_id` rule says.
pub fn is_permission_id(text: &str) -> bool {
    matches_rule(Rule::perm_id, text)
}

/// Whether `text` is a permission pattern as the grammar's `perm_pattern`
/// rule says.
pub fn is_permission_pattern(text: &str) -> bool {
    matches_rule(Rule::perm_pattern, text)
}

/// Whether `text` can be a label (unescaped) as a source can write it: the
/// grammar's `string` holds no line break. (A NUL is refused when a file is
/// read, `P0503`, but text compiled through the library may hold one, so
/// its artifact must load back.)
pub fn is_label(text: &str) -> bool {
    !text.contains(['\n', '\r'])
}

/// Parses a policy file into its declarations.
///
/// Never fails as a whole: every declaration that parses is returned, and
/// every syntax error is reported as a [`Diagnostic`] (code `P0101`, or
/// `P0102` for an over-long line). After an error, parsing resumes at the
/// next line that starts a declaration, so one file reports all of its
/// syntax errors.
pub fn parse(source: &SourceFile) -> (PolicyFile, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let text = source.text();
    if let Some(d) = check_line_lengths(source) {
        diags.push(d);
        return (
            PolicyFile {
                source: source.clone(),
                items: Vec::new(),
                expectations: Vec::new(),
            },
            diags,
        );
    }
    let mut items = Vec::new();
    let mut expectations = Vec::new();
    // Each file of a project alone (one range for one file).
    for (lo, hi) in source.file_ranges() {
        let Some(file_text) = text.get(lo..hi) else {
            continue;
        };
        let (kept_items, kept_expectations) = (items.len(), expectations.len());
        if parse_chunk(source, file_text, lo, &mut items, &mut expectations).is_ok() {
            continue;
        }
        items.truncate(kept_items);
        expectations.truncate(kept_expectations);
        for (start, end) in chunks(file_text) {
            let chunk = file_text.get(start..end).unwrap_or("");
            if let Err(d) = parse_chunk(source, chunk, lo + start, &mut items, &mut expectations) {
                if diags.len() >= MAX_SYNTAX_ERRORS {
                    break;
                }
                diags.push(*d);
            }
        }
    }
    (
        PolicyFile {
            source: source.clone(),
            items,
            expectations,
        },
        diags,
    )
}

fn check_line_lengths(source: &SourceFile) -> Option<Diagnostic> {
    // Fast path: no run of bytes between line breaks is over the limit (a
    // `\r\n` splits into a line and an empty piece, which is no longer).
    let too_long = source
        .text()
        .as_bytes()
        .split(|b| matches!(b, b'\n' | b'\r'))
        .any(|l| l.len() > MAX_LINE_BYTES);
    if !too_long {
        return None;
    }
    let (index, line) = crate::source::lines(source.text())
        .enumerate()
        .find(|(_, l)| l.len() > MAX_LINE_BYTES)?;
    Some(
        Diagnostic::new(
            Code::LineTooLong,
            format!(
                "line {} of `{}` is {} bytes long; the limit is {MAX_LINE_BYTES}",
                index + 1,
                source.name(),
                line.len()
            ),
        )
        .with_source(source)
        .help("break the line up; no name or label needs to be this long"),
    )
}

/// Splits text into byte ranges that each start at a line opening a
/// declaration (with its doc comment and `expect` lines, and any `//`
/// comment lines between them), for error recovery.
fn chunks(text: &str) -> Vec<(usize, usize)> {
    let mut starts = vec![0usize];
    let mut offset = 0usize;
    let mut doc_run_start: Option<usize> = None;
    for line in crate::source::lines_inclusive(text) {
        let trimmed = line.trim_start_matches([' ', '\t', '\u{feff}']);
        let is_doc = (trimmed.starts_with("///") && !trimmed.starts_with("////"))
            || keywords::starts_with_word(trimmed, "expect");
        let is_comment = !is_doc && trimmed.starts_with("//");
        if is_doc {
            doc_run_start.get_or_insert(offset);
        } else if keywords::declaration_keyword(trimmed).is_some() {
            let start = doc_run_start.unwrap_or(offset);
            if start > 0 {
                starts.push(start);
            }
            doc_run_start = None;
        } else if !is_comment && !trimmed.trim().is_empty() {
            // A plain comment or a blank line between a doc comment and its
            // declaration keeps them together, as the grammar does.
            doc_run_start = None;
        }
        offset += line.len();
    }
    starts.dedup();
    let mut out = Vec::with_capacity(starts.len());
    for (i, s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).copied().unwrap_or(text.len());
        out.push((*s, e));
    }
    out
}

fn parse_chunk(
    source: &SourceFile,
    chunk: &str,
    base: usize,
    items: &mut Vec<Item>,
    expectations: &mut Vec<Expectation>,
) -> Result<(), Box<Diagnostic>> {
    let pairs = PolicyParser::parse(Rule::file, chunk)
        .map_err(|e| Box::new(error::syntax_error(source, chunk, base, &e)))?;
    let b = Builder { base };
    for file in pairs {
        let mut doc = None;
        let mut pending: Vec<Expectation> = Vec::new();
        for pair in file.into_inner() {
            match pair.as_rule() {
                Rule::doc => doc = Some(b.doc(pair)),
                Rule::expect_attr => pending.extend(b.expectation(pair)),
                _ => {
                    let item = b.item(pair, doc.take());
                    let target = item.as_ref().map(Item::span);
                    for mut e in pending.drain(..) {
                        if let Some(t) = target {
                            e.target = t;
                            expectations.push(e);
                        }
                    }
                    items.extend(item);
                }
            }
        }
    }
    Ok(())
}

/// Where a pair's last token ends. pest keeps the whitespace and comments
/// it skipped before a trailing optional or repetition that matched nothing
/// (`ident ~ (comma ~ ident)*`), so a declaration's span would otherwise run
/// on to the next declaration, and labels on it would cover several lines.
///
/// Atomic rules skip nothing, so their own end is exact; a compound rule
/// ends where its last child does (`next_back`, not a walk over all of them).
fn content_end(pair: &Pair<'_, Rule>) -> usize {
    if matches!(
        pair.as_rule(),
        Rule::string
            | Rule::ident
            | Rule::role_ref
            | Rule::perm_id
            | Rule::cond_id
            | Rule::perm_pattern
            | Rule::doc_line
    ) {
        return pair.as_span().end();
    }
    match pair.clone().into_inner().next_back() {
        Some(last) => content_end(&last),
        None => pair.as_span().end(),
    }
}

struct Builder {
    base: usize,
}

impl Builder {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.base + s.start(), self.base + content_end(pair))
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn pattern(&self, pair: Pair<'_, Rule>) -> Pattern {
        Pattern {
            text: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn label(&self, pair: Pair<'_, Rule>) -> Label {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().map(|p| p.as_str()).unwrap_or("");
        let mut value = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(n) = chars.next() {
                    value.push(n);
                }
            } else {
                value.push(c);
            }
        }
        Label { value, span }
    }

    fn doc(&self, pair: Pair<'_, Rule>) -> Doc {
        let span = self.span(&pair);
        let lines: Vec<&str> = pair
            .into_inner()
            .map(|l| {
                let t = l.as_str().trim_end_matches('\r');
                let t = t.strip_prefix("///").unwrap_or(t);
                t.strip_prefix(' ').unwrap_or(t).trim_end()
            })
            .collect();
        Doc {
            text: lines.join("\n"),
            span,
        }
    }

    /// Builds a declaration; `doc` is the doc comment just before it, which
    /// the declaration's span then includes.
    fn item(&self, pair: Pair<'_, Rule>, doc: Option<Doc>) -> Option<Item> {
        let mut span = self.span(&pair);
        if let Some(d) = &doc {
            span = Span::new(d.span.start, span.end);
        }
        let rule = pair.as_rule();
        let mut idents = Vec::new();
        let mut perm_id = None;
        let mut label = None;
        let mut tiers = None;
        let mut body = Vec::new();
        let mut assertion = None;
        let mut stmt_doc = None;
        let mut when = None;
        let mut only_when = false;
        let (mut first_lt, mut first_bar) = (None, None);
        let mut labels = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => idents.push(self.ident(p)),
                Rule::lt => first_lt = first_lt.or(Some(self.span(&p))),
                Rule::bar => first_bar = first_bar.or(Some(self.span(&p))),
                Rule::perm_id | Rule::cond_id => perm_id = Some(self.ident(p)),
                Rule::string => label = Some(self.label(p)),
                Rule::tier_clause => tiers = self.tier_constraint(p),
                Rule::when_clause => when = Some(self.when_clause(p)),
                // `only` directly in an assertion: `… only when own`.
                Rule::kw_only => only_when = true,
                Rule::label_clause => labels.extend(self.context_label(p)),
                Rule::doc => stmt_doc = Some(self.doc(p)),
                Rule::inherits_clause
                | Rule::grants_clause
                | Rule::excludes_clause
                | Rule::assignable_clause
                | Rule::acts_clause => {
                    body.extend(self.role_stmt(p, stmt_doc.take()));
                }
                Rule::assert_only
                | Rule::assert_none_below
                | Rule::assert_no_role
                | Rule::assert_includes
                | Rule::assert_can => {
                    assertion = self.assertion(p);
                }
                _ => {}
            }
        }
        Some(match rule {
            Rule::tiers_decl => Item::Tiers(TiersDecl {
                doc,
                dimension: None,
                tiers: idents,
                first_lt,
                first_bar,
                span,
            }),
            Rule::dimension_decl => {
                let mut idents = idents.into_iter();
                Item::Tiers(TiersDecl {
                    doc,
                    dimension: Some(idents.next()?),
                    tiers: idents.collect(),
                    first_lt,
                    first_bar,
                    span,
                })
            }
            Rule::permission_decl => Item::Permission(PermissionDecl {
                doc,
                id: perm_id?,
                label: label?,
                tiers,
                labels,
                span,
            }),
            Rule::role_decl => Item::Role(RoleDecl {
                doc,
                id: idents.into_iter().next()?,
                label: label?,
                tiers,
                body,
                span,
            }),
            Rule::assert_decl => Item::Assert(AssertDecl {
                doc,
                kind: assertion?,
                tiers,
                when,
                only_when,
                span,
            }),
            Rule::offered_decl => Item::Offered(OfferedDecl {
                doc,
                tiers: tiers?,
                span,
            }),
            Rule::condition_decl => Item::Condition(ConditionDecl {
                doc,
                id: perm_id?,
                label: label?,
                span,
            }),
            Rule::scope_decl => {
                let mut idents = idents.into_iter();
                Item::Scope(ScopeDecl {
                    doc,
                    id: idents.next()?,
                    label: label?,
                    parent: idents.next(),
                    span,
                })
            }
            _ => return None,
        })
    }

    /// Builds an `expect` line; its target is set by the caller.
    fn expectation(&self, pair: Pair<'_, Rule>) -> Option<Expectation> {
        let span = self.span(&pair);
        let mut lints = Vec::new();
        let mut reason = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => lints.push(self.ident(p)),
                Rule::string => reason = Some(self.label(p)),
                _ => {}
            }
        }
        Some(Expectation {
            lints,
            reason: reason?,
            span,
            target: span,
        })
    }

    /// A `label "…" on …` clause of a permission.
    fn context_label(&self, pair: Pair<'_, Rule>) -> Option<ContextLabel> {
        let span = self.span(&pair);
        let mut label = None;
        let mut tiers = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::string => label = Some(self.label(p)),
                Rule::tier_clause => tiers = self.tier_constraint(p),
                _ => {}
            }
        }
        Some(ContextLabel {
            label: label?,
            tiers: tiers?,
            span,
        })
    }

    /// Builds a role statement; `doc` is the doc comment just before it.
    fn role_stmt(&self, pair: Pair<'_, Rule>, doc: Option<Doc>) -> Option<RoleStmt> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut idents = Vec::new();
        let mut patterns = Vec::new();
        let mut tiers = None;
        let mut when = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident | Rule::role_ref => idents.push(self.ident(p)),
                Rule::perm_pattern => patterns.push(self.pattern(p)),
                Rule::tier_clause => tiers = self.tier_constraint(p),
                Rule::when_clause => when = Some(self.when_clause(p)),
                _ => {}
            }
        }
        Some(match rule {
            Rule::inherits_clause => RoleStmt::Inherits {
                parents: idents,
                span,
            },
            Rule::grants_clause => RoleStmt::Grants {
                doc,
                patterns,
                tiers,
                when,
                span,
            },
            Rule::excludes_clause => RoleStmt::Excludes {
                doc,
                patterns,
                when,
                span,
            },
            Rule::assignable_clause => RoleStmt::Assignable { tiers, span },
            Rule::acts_clause => RoleStmt::ActsAs {
                roles: idents,
                span,
            },
            _ => return None,
        })
    }

    fn assertion(&self, pair: Pair<'_, Rule>) -> Option<AssertKind> {
        let rule = pair.as_rule();
        let mut idents = Vec::new();
        let mut pattern = None;
        let mut negated = false;
        let mut every = false;
        // The names after `includes`, for `R, ... includes S, ...`.
        let mut others: Option<Vec<Ident>> = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident | Rule::role_ref => match others.as_mut() {
                    Some(o) => o.push(self.ident(p)),
                    None => idents.push(self.ident(p)),
                },
                Rule::kw_includes => others = Some(Vec::new()),
                Rule::perm_pattern => pattern = Some(self.pattern(p)),
                Rule::kw_cannot => negated = true,
                Rule::can_every => every = true,
                _ => {}
            }
        }
        if rule == Rule::assert_includes {
            let others = others.filter(|o| !o.is_empty())?;
            if idents.is_empty() {
                return None;
            }
            return Some(AssertKind::Includes {
                roles: idents,
                others,
            });
        }
        let pattern = pattern?;
        Some(match rule {
            Rule::assert_only => AssertKind::Only {
                roles: idents,
                pattern,
            },
            Rule::assert_none_below => AssertKind::NoneBelow {
                role: idents.into_iter().next()?,
                pattern,
            },
            Rule::assert_no_role => AssertKind::NoRole { pattern },
            _ => AssertKind::Can {
                roles: idents,
                pattern,
                negated,
                every,
            },
        })
    }
}
