//! The one unified diff of policyc (`fmt --check`, `snapshot --check`,
//! `test --snapshots`), bounded in time and size.
//!
//! A small text gets similar's exact (Myers) line diff. A large one would
//! make Myers cost O((N + M) × D) — 326 s and 1.49 GB on a 15 MB file — so
//! its diff is anchored instead: the common prefix and suffix are trimmed,
//! the lines that occur exactly once on each side are matched in order (a
//! longest increasing subsequence, O(n log n)), and only the gaps between
//! those anchors are diffed, with Myers when a gap is small and as one
//! replacement when it is not. Both are deterministic (no deadline).
//! Either way at most [`MAX_HUNKS`] hunks are printed, then a line saying
//! how many more there are. A caller may name the section each hunk is in
//! after its `@@ … @@` header, as git's function context does.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Range;

use similar::algorithms::{myers, Capture};
use similar::udiff::UnifiedHunkHeader;
use similar::{group_diff_ops, DiffOp};

/// The most hunks printed for one file.
pub const MAX_HUNKS: usize = 100;

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// Up to this many lines on both sides together, the exact diff.
const EXACT_LINES: usize = 20_000;

/// A gap between anchors with at most this many lines on both sides
/// together is diffed exactly; a larger one is shown as one replacement.
const GAP_LINES: usize = 400;

/// The text after a hunk's `@@ … @@` header: given the lines of the side
/// the hunk's first change is in (the new text for an insertion, the old
/// one otherwise) and that change's index, the section it belongs to
/// (empty for none).
pub type Section<'a> = &'a dyn Fn(&[&str], usize) -> String;

/// A unified diff from `old` to `new`, under `--- {old_label}` and
/// `+++ {new_label}` (printed only when there is a difference); with
/// `section`, each hunk header names the section of its first change.
pub fn unified_diff(
    old: &str,
    new: &str,
    old_label: &str,
    new_label: &str,
    section: Option<Section<'_>>,
) -> String {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = if old_lines.len() + new_lines.len() <= EXACT_LINES {
        similar::TextDiff::from_lines(old, new).ops().to_vec()
    } else {
        anchored_ops(&old_lines, &new_lines)
    };
    let groups = group_diff_ops(ops, CONTEXT);
    let hidden = groups.len().saturating_sub(MAX_HUNKS);
    let mut out = String::new();
    for (i, group) in groups.iter().take(MAX_HUNKS).enumerate() {
        if group.is_empty() {
            continue;
        }
        if i == 0 {
            let _ = writeln!(out, "--- {old_label}");
            let _ = writeln!(out, "+++ {new_label}");
        }
        let context = section
            .and_then(|section| {
                group.iter().find_map(|op| match *op {
                    DiffOp::Equal { .. } => None,
                    DiffOp::Insert { new_index, .. } => Some(section(&new_lines, new_index)),
                    DiffOp::Delete { old_index, .. } | DiffOp::Replace { old_index, .. } => {
                        Some(section(&old_lines, old_index))
                    }
                })
            })
            .filter(|c| !c.is_empty());
        match context {
            Some(c) => {
                let _ = writeln!(out, "{} {c}", UnifiedHunkHeader::new(group));
            }
            None => {
                let _ = writeln!(out, "{}", UnifiedHunkHeader::new(group));
            }
        }
        for op in group {
            match *op {
                DiffOp::Equal { old_index, len, .. } => {
                    lines(&mut out, ' ', &old_lines, old_index..old_index + len);
                }
                DiffOp::Delete {
                    old_index, old_len, ..
                } => lines(&mut out, '-', &old_lines, old_index..old_index + old_len),
                DiffOp::Insert {
                    new_index, new_len, ..
                } => lines(&mut out, '+', &new_lines, new_index..new_index + new_len),
                DiffOp::Replace {
                    old_index,
                    old_len,
                    new_index,
                    new_len,
                } => {
                    lines(&mut out, '-', &old_lines, old_index..old_index + old_len);
                    lines(&mut out, '+', &new_lines, new_index..new_index + new_len);
                }
            }
        }
    }
    more(&mut out, hidden);
    out
}

/// The line saying how many hunks were not printed.
fn more(out: &mut String, hidden: usize) {
    match hidden {
        0 => {}
        1 => out.push_str("… 1 more hunk\n"),
        n => {
            let _ = writeln!(out, "… {n} more hunks");
        }
    }
}

/// Prints `range` of `text` with `tag`, as similar does (a last line
/// without a newline gets the usual hint).
fn lines(out: &mut String, tag: char, text: &[&str], range: Range<usize>) {
    for line in text.get(range).unwrap_or(&[]) {
        out.push(tag);
        out.push_str(line);
        if !line.ends_with('\n') {
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
}

/// The edit script of a large diff: prefix and suffix trimmed, unique
/// lines matched in order as anchors, each gap diffed on its own.
fn anchored_ops(old: &[&str], new: &[&str]) -> Vec<DiffOp> {
    let prefix = old
        .iter()
        .zip(new.iter())
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = old
        .get(prefix..)
        .unwrap_or(&[])
        .iter()
        .rev()
        .zip(new.get(prefix..).unwrap_or(&[]).iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_mid = prefix..old.len() - suffix;
    let new_mid = prefix..new.len() - suffix;
    let mut ops = Vec::new();
    push_equal(&mut ops, 0, 0, prefix);
    // Lines that occur once in each middle part, in old order.
    let mut seen: HashMap<&str, (u32, u32, usize, usize)> = HashMap::new();
    for i in old_mid.clone() {
        if let Some(l) = old.get(i) {
            let e = seen.entry(l).or_insert((0, 0, i, 0));
            e.0 += 1;
        }
    }
    for j in new_mid.clone() {
        if let Some(l) = new.get(j) {
            if let Some(e) = seen.get_mut(l) {
                e.1 += 1;
                e.3 = j;
            }
        }
    }
    let mut pairs: Vec<(usize, usize)> = seen
        .values()
        .filter(|e| e.0 == 1 && e.1 == 1)
        .map(|e| (e.2, e.3))
        .collect();
    pairs.sort_unstable();
    let anchors = increasing_by_new(&pairs);
    let (mut i, mut j) = (old_mid.start, new_mid.start);
    for (ai, aj) in anchors {
        gap(&mut ops, old, new, i..ai, j..aj);
        push_equal(&mut ops, ai, aj, 1);
        (i, j) = (ai + 1, aj + 1);
    }
    gap(&mut ops, old, new, i..old_mid.end, j..new_mid.end);
    push_equal(&mut ops, old_mid.end, new_mid.end, suffix);
    ops
}

/// The longest subsequence of `pairs` (sorted by old index) whose new
/// indexes increase: patience sorting, O(n log n).
fn increasing_by_new(pairs: &[(usize, usize)]) -> Vec<(usize, usize)> {
    // tails[k]: index into `pairs` of the smallest tail of a run of length k + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut prev: Vec<Option<usize>> = vec![None; pairs.len()];
    for (idx, &(_, nj)) in pairs.iter().enumerate() {
        let pos = tails.partition_point(|&t| pairs.get(t).is_some_and(|p| p.1 < nj));
        if pos > 0 {
            if let (Some(p), Some(&t)) = (prev.get_mut(idx), tails.get(pos - 1)) {
                *p = Some(t);
            }
        }
        if pos == tails.len() {
            tails.push(idx);
        } else if let Some(t) = tails.get_mut(pos) {
            *t = idx;
        }
    }
    let mut out = Vec::with_capacity(tails.len());
    let mut cur = tails.last().copied();
    while let Some(idx) = cur {
        if let Some(&p) = pairs.get(idx) {
            out.push(p);
        }
        cur = prev.get(idx).copied().flatten();
    }
    out.reverse();
    out
}

/// Diffs one gap between anchors: exactly when it is small, else as one
/// deletion and one insertion.
fn gap(ops: &mut Vec<DiffOp>, old: &[&str], new: &[&str], o: Range<usize>, n: Range<usize>) {
    if o.is_empty() && n.is_empty() {
        return;
    }
    if o.len() + n.len() <= GAP_LINES {
        let mut capture = Capture::new();
        // Capture never fails.
        let _ = myers::diff(&mut capture, old, o, new, n);
        for op in capture.into_ops() {
            if let DiffOp::Equal {
                old_index,
                new_index,
                len,
            } = op
            {
                push_equal(ops, old_index, new_index, len);
            } else {
                ops.push(op);
            }
        }
        return;
    }
    if !o.is_empty() {
        ops.push(DiffOp::Delete {
            old_index: o.start,
            old_len: o.len(),
            new_index: n.start,
        });
    }
    if !n.is_empty() {
        ops.push(DiffOp::Insert {
            old_index: o.end,
            new_index: n.start,
            new_len: n.len(),
        });
    }
}

/// Appends an equal run, merged with the previous one when adjacent (so
/// the grouping into hunks trims context as for one run).
fn push_equal(ops: &mut Vec<DiffOp>, old_index: usize, new_index: usize, len: usize) {
    if len == 0 {
        return;
    }
    if let Some(DiffOp::Equal {
        old_index: oi,
        new_index: ni,
        len: l,
    }) = ops.last_mut()
    {
        if *oi + *l == old_index && *ni + *l == new_index {
            *l += len;
            return;
        }
    }
    ops.push(DiffOp::Equal {
        old_index,
        new_index,
        len,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies the hunks of the anchored diff to `old`: must give `new`.
    fn check(old: &str, new: &str) {
        let o: Vec<&str> = old.split_inclusive('\n').collect();
        let n: Vec<&str> = new.split_inclusive('\n').collect();
        let ops = anchored_ops(&o, &n);
        let mut rebuilt = String::new();
        let mut covered_old = 0;
        for op in &ops {
            assert_eq!(op.old_range().start, covered_old, "{ops:?}");
            covered_old = op.old_range().end;
            for j in op.new_range() {
                rebuilt.push_str(n[j]);
            }
            if let DiffOp::Equal {
                old_index,
                new_index,
                len,
            } = *op
            {
                assert_eq!(o[old_index..old_index + len], n[new_index..new_index + len]);
            }
        }
        assert_eq!(covered_old, o.len());
        assert_eq!(rebuilt, new);
    }

    #[test]
    fn anchored_ops_rebuild_the_new_text() {
        check("a\nb\nc\n", "a\nB\nc\n");
        check("", "x\n");
        check("x\n", "");
        check("a\n}\nb\n}\nc", "a\n  }\nb\n}\nc\nd\n");
        let old: String = (0..5000)
            .map(|i| format!("role r{i} {{ grants a.b }}\n"))
            .collect();
        let new: String = (0..5000)
            .map(|i| {
                if i % 7 == 0 {
                    format!("role r{i} {{\n  grants a.b\n}}\n")
                } else {
                    format!("role r{i} {{ grants a.b }}\n")
                }
            })
            .collect();
        check(&old, &new);
        check(&old, &old.to_uppercase());
    }

    #[test]
    fn small_inputs_keep_the_exact_diff() {
        let (old, new) = ("a\nb\nc\n", "a\nB\nc\n");
        let exact = similar::TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(3)
            .header("p", "p (formatted)")
            .to_string();
        assert_eq!(unified_diff(old, new, "p", "p (formatted)", None), exact);
    }

    #[test]
    fn hunks_past_the_cap_are_counted() {
        let old: String = (0..1500).map(|i| format!("line {i}\n")).collect();
        let new: String = (0..1500)
            .map(|i| {
                if i % 10 == 0 {
                    format!("LINE {i}\n")
                } else {
                    format!("line {i}\n")
                }
            })
            .collect();
        let d = unified_diff(&old, &new, "p", "p", None);
        assert_eq!(
            d.lines().filter(|l| l.starts_with("@@ ")).count(),
            MAX_HUNKS
        );
        assert!(d.ends_with(&format!("… {} more hunks\n", 150 - MAX_HUNKS)));
    }
}
