//! Keeping syntax errors from cascading into name-resolution errors.
//!
//! When a declaration does not parse, the parser drops it and carries on, so
//! every reference to it would be reported as unknown (`P0201`–`P0203`) and
//! wildcards may match nothing (`P0207`), although the real problem is the
//! syntax error already reported. After syntax errors, those follow-on
//! diagnostics are dropped when the text still declares the name.

use std::collections::BTreeSet;

use policy_syntax::{Code, Diagnostic, SourceFile};

/// Names that lines of `text` appear to declare, by kind: `role NAME`,
/// `permission NAME`, and every name in a `tiers` line. Built in one pass.
fn declared_names(text: &str) -> BTreeSet<(&'static str, &str)> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut words = code
            .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .filter(|w| !w.is_empty());
        match words.next() {
            Some("role") => {
                if let Some(name) = words.next() {
                    out.insert(("role", name));
                }
            }
            Some("permission") => {
                if let Some(name) = words.next() {
                    out.insert(("permission", name));
                }
            }
            Some("tiers") => {
                for name in words {
                    out.insert(("tier", name));
                }
            }
            _ => {}
        }
    }
    out
}

/// Drops the diagnostics that only follow from declarations lost to syntax
/// errors. Call only when the parser reported errors.
pub(crate) fn drop_cascades(source: &SourceFile, diags: &mut Vec<Diagnostic>) {
    let kind = |code: Code| match code {
        Code::UnknownRole => Some("role"),
        Code::UnknownPermission => Some("permission"),
        Code::UnknownTier => Some("tier"),
        _ => None,
    };
    if !diags
        .iter()
        .any(|d| kind(d.code()).is_some() || d.code() == Code::WildcardMatchesNothing)
    {
        return;
    }
    let declared = declared_names(source.text());
    diags.retain(|d| {
        if d.code() == Code::WildcardMatchesNothing {
            return false;
        }
        let Some(kind) = kind(d.code()) else {
            return true;
        };
        let name = d.primary_span().map_or("", |s| source.slice(s));
        !declared.contains(&(kind, name))
    });
}
