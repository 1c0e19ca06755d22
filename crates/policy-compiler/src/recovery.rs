//! Keeping syntax errors from cascading into name-resolution errors.
//!
//! When a declaration does not parse, the parser drops it and carries on, so
//! every reference to it would be reported as unknown (`P0201`–`P0203`) and
//! wildcards may match nothing (`P0207`), although the real problem is the
//! syntax error already reported. After syntax errors, those follow-on
//! diagnostics are dropped when the text still declares the name.

use policy_syntax::keywords::{declared_names, NameKind};
use policy_syntax::{Code, Diagnostic, SourceFile};

/// Drops the diagnostics that only follow from declarations lost to syntax
/// errors. Call only when the parser reported errors.
pub(crate) fn drop_cascades(source: &SourceFile, diags: &mut Vec<Diagnostic>) {
    let kind = |code: Code| match code {
        Code::UnknownRole => Some(NameKind::Role),
        Code::UnknownPermission => Some(NameKind::Permission),
        Code::UnknownTier => Some(NameKind::Tier),
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
        !declared.contains(&(kind, name.to_string()))
    });
}
