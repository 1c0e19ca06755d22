//! The canonical formatter behind `policyc fmt`.
//!
//! The formatter never reorders anything: it re-lays out the tokens of a
//! file that parses cleanly, keeping every comment and doc comment.
//!
//! The rules:
//! - one declaration, `expect` line or role statement per line; the statements of a role
//!   block are indented by two spaces and the closing `}` has a line of its
//!   own (an empty block stays `{}`);
//! - one space between tokens, none before `,`;
//! - a statement longer than [`MAX_WIDTH`] columns is wrapped after a comma,
//!   continuation lines indented four spaces deeper than the statement; the
//!   tier list of an `on` clause is never split;
//! - a blank line in the source between two lines is kept as exactly one
//!   blank line, except right after `{` or right before `}`; blank lines at
//!   the start and end of the file are dropped;
//! - a comment on the same line as the end of a statement stays there,
//!   after one space; a comment on a line of its own stays on a line of its
//!   own, indented like the statement that follows it; a comment written in
//!   the middle of a statement is moved to a line of its own just before it;
//! - trailing whitespace is removed and the file ends with one line break;
//! - a file whose first line ends in CRLF is written with CRLF, otherwise
//!   with LF; a leading byte-order mark is kept.

use crate::ast::{Item, RoleStmt};
use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::parser::parse;
use crate::source::SourceFile;
use std::collections::BTreeSet;

/// The column at which long statements are wrapped after a comma.
pub const MAX_WIDTH: usize = 100;

const INDENT: &str = "  ";
const CONTINUATION: &str = "    ";

/// Formats a policy file canonically (see the module documentation for the rules).
///
/// Returns the syntax errors instead when the file does not parse; the
/// formatter never guesses at broken input.
pub fn format(source: &SourceFile) -> Result<String, Vec<Diagnostic>> {
    let (file, diags) = parse(source);
    if !diags.is_empty() {
        return Err(diags);
    }
    let text = source.text();
    let tokens = lex(text);
    let mut starts = BTreeSet::new();
    for item in &file.items {
        let (span, body) = match item {
            Item::Tiers(d) => (d.span, None),
            Item::Permission(d) => (d.span, None),
            Item::Role(d) => (d.span, Some(&d.body)),
            Item::Assert(d) => (d.span, None),
            Item::Offered(d) => (d.span, None),
            Item::Scope(d) => (d.span, None),
            Item::Condition(d) => (d.span, None),
        };
        // The keyword is the first word of the item (its span starts at the doc comment, if any).
        if let Some(t) = first_word_from(&tokens, span.start) {
            starts.insert(t.start);
        }
        for stmt in body.into_iter().flatten() {
            let s = match stmt {
                RoleStmt::Inherits { span, .. }
                | RoleStmt::Grants { span, .. }
                | RoleStmt::Excludes { span, .. }
                | RoleStmt::Assignable { span, .. }
                | RoleStmt::ActsAs { span, .. } => span.start,
            };
            starts.insert(s);
        }
    }
    // An `expect` line is a statement of its own, and so is what follows it.
    for e in &file.expectations {
        starts.insert(e.span.start);
        if let Some(t) = first_word_from(&tokens, e.span.end) {
            starts.insert(t.start);
        }
    }
    let mut f = Formatter::default();
    for tok in &tokens {
        f.token(tok, &starts);
    }
    f.flush();

    let crlf = text
        .find('\n')
        .is_some_and(|i| i > 0 && text.as_bytes().get(i - 1) == Some(&b'\r'));
    let newline = if crlf { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(text.len());
    if text.starts_with('\u{feff}') {
        out.push('\u{feff}');
    }
    for line in &f.out {
        out.push_str(line.trim_end());
        out.push_str(newline);
    }
    // A guard against formatter bugs: the output must parse as well.
    let check = SourceFile::new(source.name(), out.clone());
    let (_, again) = parse(&check);
    if let Some(first) = again.into_iter().next() {
        return Err(vec![Diagnostic::new(
            Code::Syntax,
            format!(
                "formatting `{}` would produce invalid text ({}); the file was left as it is",
                source.name(),
                first.message()
            ),
        )
        .with_source(source)
        .help("this is a bug in policyc fmt; please report it with the file")]);
    }
    Ok(out)
}

/// The first word token at or after byte `at`: a binary search (tokens are
/// in source order), so finding every declaration's keyword stays linear
/// in the file rather than quadratic.
fn first_word_from<'t, 'a>(tokens: &'t [Token<'a>], at: usize) -> Option<&'t Token<'a>> {
    let from = tokens.partition_point(|t| t.start < at);
    tokens
        .get(from..)?
        .iter()
        .find(|t| matches!(t.kind, Kind::Word))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word,
    Str,
    Punct,
    Doc,
    Comment,
}

#[derive(Debug)]
struct Token<'a> {
    kind: Kind,
    text: &'a str,
    start: usize,
    /// Line breaks between the previous token and this one.
    newlines: usize,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'*')
}

/// Splits source text into tokens, comments and doc comment lines.
fn lex(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut newlines = 0;
    while let Some(c) = text.get(i..).and_then(|s| s.chars().next()) {
        let start = i;
        let rest = text.get(i..).unwrap_or("");
        let (kind, len) = if c == '\n' {
            newlines += 1;
            i += 1;
            continue;
        } else if c.is_whitespace() || c == '\u{feff}' {
            i += c.len_utf8();
            continue;
        } else if rest.starts_with("//") {
            let len = rest.find('\n').unwrap_or(rest.len());
            let doc = rest.starts_with("///") && !rest.starts_with("////");
            (if doc { Kind::Doc } else { Kind::Comment }, len)
        } else if c == '"' {
            let mut j = 1;
            while let Some(&b) = bytes.get(i + j) {
                j += 1;
                if b == b'\\' {
                    j += 1;
                } else if b == b'"' {
                    break;
                }
            }
            (Kind::Str, j.min(rest.len()))
        } else if c.is_ascii() && is_word_byte(c as u8) {
            let len = rest
                .bytes()
                .position(|b| !is_word_byte(b))
                .unwrap_or(rest.len());
            (Kind::Word, len)
        } else if rest.starts_with(">=") || rest.starts_with("<=") {
            (Kind::Punct, 2)
        } else {
            (Kind::Punct, c.len_utf8())
        };
        let tok_text = rest.get(..len).unwrap_or(rest);
        let tok_text = match kind {
            Kind::Doc | Kind::Comment => tok_text.trim_end(),
            _ => tok_text,
        };
        out.push(Token {
            kind,
            text: tok_text,
            start,
            newlines,
        });
        newlines = 0;
        i += len.max(1);
    }
    out
}

/// A statement being laid out.
#[derive(Default)]
struct Stmt {
    depth: usize,
    blank_before: bool,
    tokens: Vec<String>,
    /// A comment on the same line as the statement's last token so far.
    trailing: Option<String>,
    /// Comments from inside the statement, moved before it.
    hoisted: Vec<String>,
    /// The statement is a closing `}`.
    close: bool,
}

#[derive(Default)]
struct Formatter {
    out: Vec<String>,
    depth: usize,
    stmt: Option<Stmt>,
    /// Own-line comments seen while a statement was open: (text, blank line before).
    pending: Vec<(String, bool)>,
    /// The index of the last output line when it is a block header ending in `{`.
    open_header: Option<usize>,
    /// The last output line opens a block (no blank line may follow it).
    after_open: bool,
}

impl Formatter {
    fn emit(&mut self, depth: usize, text: &str, blank_before: bool) {
        if blank_before && !self.out.is_empty() && !self.after_open {
            self.out.push(String::new());
        }
        self.out.push(format!("{}{text}", INDENT.repeat(depth)));
        self.open_header = None;
        self.after_open = false;
    }

    fn start(&mut self, depth: usize, blank_before: bool, first: &str, close: bool) {
        self.flush();
        self.stmt = Some(Stmt {
            depth,
            blank_before,
            tokens: vec![first.to_string()],
            close,
            ..Stmt::default()
        });
    }

    fn token(&mut self, tok: &Token<'_>, starts: &BTreeSet<usize>) {
        let blank = tok.newlines >= 2;
        match tok.kind {
            Kind::Doc => {
                self.flush();
                self.emit(self.depth, tok.text, blank);
            }
            Kind::Comment => match &mut self.stmt {
                Some(stmt) if tok.newlines == 0 && self.pending.is_empty() => {
                    if let Some(old) = stmt.trailing.replace(tok.text.to_string()) {
                        stmt.hoisted.push(old);
                    }
                }
                Some(_) => self.pending.push((tok.text.to_string(), blank)),
                None => self.emit(self.depth, tok.text, blank),
            },
            Kind::Punct if tok.text == "}" => {
                self.flush();
                self.depth = self.depth.saturating_sub(1);
                self.start(self.depth, false, "}", true);
            }
            Kind::Word if starts.contains(&tok.start) => {
                self.start(self.depth, blank, tok.text, false);
            }
            _ => {
                if tok.text == "{" {
                    self.depth += 1;
                }
                let pending = std::mem::take(&mut self.pending);
                match &mut self.stmt {
                    Some(stmt) => {
                        stmt.hoisted.extend(stmt.trailing.take());
                        stmt.hoisted.extend(pending.into_iter().map(|(c, _)| c));
                        stmt.tokens.push(tok.text.to_string());
                    }
                    // Unreachable for a file that parsed; keep the token anyway.
                    None => self.start(self.depth, blank, tok.text, false),
                }
            }
        }
    }

    /// Writes out the open statement and the comments that followed it.
    fn flush(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        if let Some(stmt) = self.stmt.take() {
            self.write_stmt(stmt);
        }
        for (comment, blank) in pending {
            self.emit(self.depth, &comment, blank);
        }
    }

    fn write_stmt(&mut self, stmt: Stmt) {
        let mut blank = stmt.blank_before;
        for c in &stmt.hoisted {
            self.emit(stmt.depth, c, blank);
            blank = false;
        }
        let trailing = stmt
            .trailing
            .as_deref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        if stmt.close && stmt.hoisted.is_empty() {
            if let Some(i) = self.open_header {
                if let Some(line) = self.out.get_mut(i) {
                    line.push('}');
                    line.push_str(&trailing);
                    self.open_header = None;
                    // The block is closed: a blank line may follow it.
                    self.after_open = false;
                    return;
                }
            }
        }
        // Segments end after each comma: the only places a line may break.
        // An `on` list (always last, before any `{`) is kept on one line.
        let mut segments: Vec<String> = Vec::new();
        let mut cur = String::new();
        let mut in_on = false;
        for t in &stmt.tokens {
            in_on |= t == "on";
            if t == "," {
                cur.push(',');
                if !in_on {
                    segments.push(std::mem::take(&mut cur));
                }
            } else {
                if !cur.is_empty() {
                    cur.push(' ');
                }
                cur.push_str(t);
            }
        }
        if !cur.is_empty() {
            segments.push(cur);
        }
        let indent = INDENT.repeat(stmt.depth);
        let mut lines: Vec<String> = Vec::new();
        let mut line = String::new();
        for seg in segments {
            if line.is_empty() {
                line = format!("{indent}{seg}");
            } else if line.chars().count() + 1 + seg.chars().count() > MAX_WIDTH {
                lines.push(std::mem::take(&mut line));
                line = format!("{indent}{CONTINUATION}{seg}");
            } else {
                line.push(' ');
                line.push_str(&seg);
            }
        }
        line.push_str(&trailing);
        lines.push(line);
        let opens = stmt.tokens.last().is_some_and(|t| t == "{");
        for (i, l) in lines.into_iter().enumerate() {
            self.emit(0, &l, blank && i == 0);
        }
        if opens {
            self.after_open = true;
            if stmt.trailing.is_none() {
                self.open_header = self.out.len().checked_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests;
