//! `policyc fix [PATH...] [--dry-run]`: applies every machine-applicable
//! fix the compiler offers (did-you-mean renames, a missing `}`, `<`
//! between tiers, removal of redundant grants, useless exclusions and
//! duplicate parents) — the edits the editor offers as quick fixes, from
//! the one list `Diagnostic::fixes` — and writes the file through the same
//! safe writer as `fmt`.
//!
//! Fixes are applied in rounds: each round compiles the text, takes every
//! fix whose edits touch no edit already taken, and applies them; the next
//! round sees the result (a fixed name can reveal the next problem). A
//! round that would leave more errors than it found is undone and ends the
//! file's fixing, so `fix` never makes a policy worse.

use std::io::Write;
use std::path::{Path, PathBuf};

use policy_syntax::{Diagnostic, Edit, Severity, SourceFile};

use crate::exit::{CmdError, Exit};
use crate::files::{self, LoadError};
use crate::output::plural;
use crate::render::{self, Format};

/// The most rounds of fixes for one file (each round fixes every problem
/// it can; new ones are revealed by the previous round's fixes only).
const MAX_ROUNDS: usize = 8;

/// `policyc fix`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories (searched recursively for `*.policy`). Defaults to `.`.
    pub paths: Vec<PathBuf>,
    /// Change nothing: print a diff of the fixes and exit 1 if there are any.
    #[arg(long)]
    pub dry_run: bool,
}

/// One applied fix, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// `file:line:col` of the first edit, in the file as it was read.
    pub location: String,
    /// The byte offset of the first edit in the file as it was read.
    pub offset: usize,
    /// The diagnostic's code.
    pub code: String,
    /// What the fix did.
    pub title: String,
}

/// What fixing one text came to.
#[derive(Debug)]
pub struct Outcome {
    /// The fixed text (the input when nothing applied).
    pub text: String,
    /// The fixes applied, in order.
    pub applied: Vec<Applied>,
    /// The diagnostics of the fixed text.
    pub remaining: Vec<Diagnostic>,
}

fn errors(diags: &[Diagnostic]) -> usize {
    diags
        .iter()
        .filter(|d| d.severity() == Severity::Error)
        .count()
}

/// Whether two edits cannot both be applied: their spans overlap, or they
/// insert at (or into) the same place.
fn conflict(a: &Edit, b: &Edit) -> bool {
    (a.span.start < b.span.end && b.span.start < a.span.end) || a.span.start == b.span.start
}

/// The offset in the original text of `offset` in the text after
/// `rounds` (each round's edits in source order, with spans in the text
/// that round started from). A position inside replaced text maps to the
/// start of what it replaced.
fn original_offset(rounds: &[Vec<Edit>], mut offset: usize) -> usize {
    for round in rounds.iter().rev() {
        let mut shift: isize = 0;
        let mut mapped = None;
        for e in round {
            let new_start = e.span.start.saturating_add_signed(shift);
            let new_end = new_start + e.text.len();
            if offset < new_start {
                break;
            }
            if offset < new_end {
                mapped = Some(e.span.start);
                break;
            }
            shift += e.text.len() as isize - (e.span.end - e.span.start) as isize;
        }
        offset = mapped.unwrap_or_else(|| offset.saturating_add_signed(-shift));
    }
    offset
}

/// Applies the fixes of `source`'s diagnostics until none is left (or
/// [`MAX_ROUNDS`]), never leaving more errors than a round found.
pub fn fix_text(source: &SourceFile) -> Outcome {
    let mut text = source.text().to_string();
    let mut applied = Vec::new();
    let mut diags = policy_compiler::compile(source).1;
    // The edits of each round applied so far, to map offsets back.
    let mut rounds: Vec<Vec<Edit>> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let mut taken: Vec<Edit> = Vec::new();
        let mut round = Vec::new();
        for d in &diags {
            for fix in d.fixes() {
                if fix.edits.iter().any(|e| {
                    e.span.end > text.len()
                        || !text.is_char_boundary(e.span.start)
                        || !text.is_char_boundary(e.span.end)
                        || taken.iter().any(|t| conflict(e, t))
                }) {
                    continue;
                }
                let Some(first) = fix.edits.first() else {
                    continue;
                };
                let offset = original_offset(&rounds, first.span.start);
                let lc = source.line_col(offset);
                round.push(Applied {
                    location: format!("{}:{}:{}", source.name(), lc.line, lc.column),
                    offset,
                    code: d.code().as_str().to_string(),
                    title: fix.title.clone(),
                });
                taken.extend(fix.edits.iter().cloned());
            }
        }
        if taken.is_empty() {
            break;
        }
        taken.sort_by_key(|e| std::cmp::Reverse(e.span.start));
        let mut next = text.clone();
        for e in &taken {
            next.replace_range(e.span.start..e.span.end, &e.text);
        }
        let next_source = SourceFile::new(source.name(), next.clone());
        let next_diags = policy_compiler::compile(&next_source).1;
        if errors(&next_diags) > errors(&diags) || next == text {
            break;
        }
        applied.extend(round);
        taken.reverse();
        rounds.push(taken);
        text = next;
        diags = next_diags;
    }
    applied.sort_by_key(|a| a.offset);
    Outcome {
        text,
        applied,
        remaining: diags,
    }
}

/// Runs the command: exit 0 when every file is free of errors afterwards
/// (and, with `--dry-run`, nothing would change), 1 when errors remain or
/// `--dry-run` found fixes, 2 when a file cannot be read or written.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    let files = files::discover_or_cwd(args.paths, &files::POLICY_FILES)
        .map_err(|d| CmdError::new(d, Format::Human))?;
    let color = render::stderr_color();
    let quiet = crate::global::quiet();
    let mut err = std::io::stderr().lock();
    let mut out = std::io::stdout().lock();
    let (mut fixes, mut fixed_files, mut errors_left, mut unreadable) = (0, 0, 0, false);
    for path in &files {
        let source = match files::load(path) {
            Ok(s) => s,
            Err(e) => {
                unreadable |= matches!(e, LoadError::Unreadable(_));
                errors_left += 1;
                let _ = write!(err, "{}", render::render_human(&e.into_diagnostic(), color));
                continue;
            }
        };
        let outcome = fix_text(&source);
        if !outcome.applied.is_empty() {
            if let Err(d) = write_or_show(path, &source, &outcome.text, args.dry_run, &mut out) {
                unreadable = true;
                let _ = write!(err, "{}", render::render_human(&d, color));
                continue;
            }
            fixed_files += 1;
            fixes += outcome.applied.len();
            if !quiet {
                let verb = if args.dry_run { "would fix" } else { "fixed" };
                for a in &outcome.applied {
                    let _ = writeln!(err, "{}: {verb} {}: {}", a.location, a.code, a.title);
                }
            }
        }
        for d in &outcome.remaining {
            if d.severity() == Severity::Error || !quiet {
                let _ = write!(err, "{}", render::render_human(d, color));
            }
        }
        errors_left += errors(&outcome.remaining);
    }
    let _ = out.flush();
    if !(quiet && errors_left == 0) {
        let verb = if args.dry_run { "would fix" } else { "fixed" };
        let mut summary = format!(
            "{verb} {} in {}",
            plural(fixes, "problem"),
            plural(fixed_files, "file")
        );
        if errors_left > 0 {
            summary.push_str(&format!(
                "; {} left to fix by hand",
                plural(errors_left, "error")
            ));
        }
        let _ = writeln!(err, "{summary}");
    }
    Ok(if unreadable {
        Exit::Error
    } else if errors_left > 0 || (args.dry_run && fixes > 0) {
        Exit::Failure
    } else {
        Exit::Ok
    })
}

/// Writes the fixed text (atomically, keeping the file's mode and
/// symlinks), or with `--dry-run` prints the diff instead.
fn write_or_show(
    path: &Path,
    source: &SourceFile,
    fixed: &str,
    dry_run: bool,
    out: &mut impl Write,
) -> Result<(), Diagnostic> {
    if fixed.len() as u64 > files::max_file_bytes() {
        return Err(files::too_large(&format!("the fixed `{}`", source.name())));
    }
    if dry_run {
        let _ = write!(
            out,
            "{}",
            crate::udiff::unified_diff(
                source.text(),
                fixed,
                source.name(),
                &format!("{} (fixed)", source.name()),
                None,
            )
        );
        Ok(())
    } else {
        files::write_atomic(path, fixed.as_bytes(), &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(text: &str) -> Outcome {
        fix_text(&SourceFile::new("p.policy", text))
    }

    #[test]
    fn applies_did_you_mean_tiers_commas_and_the_missing_brace_in_rounds() {
        let out = fixed(
            "tiers free, team\npermission billing.manage \"B\"\n\
             role admin \"Admin\" {\n  grants billing.manaje\n\
             role member \"Member\" {\n  inherits admn\n}\n",
        );
        assert_eq!(
            out.text,
            "tiers free < team\npermission billing.manage \"B\"\n\
             role admin \"Admin\" {\n  grants billing.manage\n}\n\
             role member \"Member\" {\n  inherits admin\n}\n"
        );
        assert_eq!(errors(&out.remaining), 0, "{:?}", out.remaining);
        let codes: Vec<&str> = out.applied.iter().map(|a| a.code.as_str()).collect();
        assert!(
            codes.contains(&"P0101") && codes.contains(&"P0201"),
            "{codes:?}"
        );
    }

    #[test]
    fn removes_redundant_items_and_leaves_a_clean_policy_alone() {
        let text = "permission a.b \"A\"\nrole r \"R\" {\n  grants a.b\n}\n\
                    role s \"S\" {\n  inherits r, r\n  grants a.b\n}\n";
        let out = fixed(text);
        assert_eq!(
            out.text,
            "permission a.b \"A\"\nrole r \"R\" {\n  grants a.b\n}\n\
             role s \"S\" {\n  inherits r\n}\n"
        );
        let again = fixed(&out.text);
        assert!(again.applied.is_empty());
        assert_eq!(again.text, out.text);
    }

    #[test]
    fn offsets_map_back_through_every_round() {
        let edit = |s: usize, e: usize, t: &str| Edit {
            span: policy_syntax::Span::new(s, e),
            text: t.to_string(),
        };
        // "abcdef" -> round 1: replace "b" with "XYZ" -> "aXYZcdef"
        // round 2: delete "cd" (4..6) -> "aXYZef"
        let rounds = vec![vec![edit(1, 2, "XYZ")], vec![edit(4, 6, "")]];
        assert_eq!(original_offset(&rounds, 0), 0);
        assert_eq!(original_offset(&rounds, 2), 1);
        assert_eq!(original_offset(&rounds, 4), 4);
        assert_eq!(original_offset(&rounds, 5), 5);
    }

    #[test]
    fn conflicting_edits_are_not_both_taken() {
        let edit = |s: usize, e: usize| Edit {
            span: policy_syntax::Span::new(s, e),
            text: String::new(),
        };
        assert!(conflict(&edit(0, 3), &edit(2, 5)));
        assert!(conflict(&edit(4, 4), &edit(4, 4)));
        assert!(conflict(&edit(3, 3), &edit(2, 5)));
        assert!(!conflict(&edit(0, 2), &edit(2, 4)));
    }
}
