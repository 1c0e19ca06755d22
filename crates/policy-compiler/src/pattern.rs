//! Permission patterns: `*` stands for one or more whole segments.

use std::collections::HashMap;

use crate::decl::{PermId, Permission};

/// The permissions indexed by their first and by their last segment, so a
/// wildcard with a literal end tests only its candidates. The one
/// expansion of a pattern: name resolution (`resolve.rs`) and
/// [`crate::assemble`] (a compiled artifact, which does not store
/// expansions) both go through [`PatternIndex::expand`].
#[derive(Debug, Clone, Default)]
pub(crate) struct PatternIndex {
    exact: HashMap<String, PermId>,
    by_first: HashMap<String, Vec<PermId>>,
    by_last: HashMap<String, Vec<PermId>>,
}

impl PatternIndex {
    /// Indexes `permissions` (ids are positions; a repeated id keeps its
    /// first position).
    pub(crate) fn new(permissions: &[Permission]) -> Self {
        let mut index = PatternIndex::default();
        for (i, p) in permissions.iter().enumerate() {
            let id = PermId(i as u32);
            index.exact.entry(p.id.clone()).or_insert(id);
            let first = p.id.split('.').next().unwrap_or_default();
            let last = p.id.rsplit('.').next().unwrap_or_default();
            index
                .by_first
                .entry(first.to_string())
                .or_default()
                .push(id);
            index.by_last.entry(last.to_string()).or_default().push(id);
        }
        index
    }

    /// The permissions `pattern` matches, in declaration order:
    /// `permissions` must be the slice the index was built from. A literal
    /// pattern is one lookup; a wildcard with a literal first segment tests
    /// only the permissions indexed under it (likewise the last); a pattern
    /// with `*` at both ends tests them all.
    pub(crate) fn expand(&self, pattern: &str, permissions: &[Permission]) -> Vec<PermId> {
        if !pattern.contains('*') {
            return self.exact.get(pattern).copied().into_iter().collect();
        }
        let first = pattern.split('.').next().unwrap_or("*");
        let last = pattern.rsplit('.').next().unwrap_or("*");
        let test = |id: &PermId| {
            permissions
                .get(id.index())
                .is_some_and(|perm| matches(pattern, &perm.id))
        };
        let bucket = if first != "*" {
            self.by_first.get(first)
        } else if last != "*" {
            self.by_last.get(last)
        } else {
            return (0..permissions.len() as u32)
                .map(PermId)
                .filter(test)
                .collect();
        };
        bucket
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .copied()
            .filter(test)
            .collect()
    }
}

/// Whether permission id `id` is matched by `pattern`.
///
/// Both are dot-separated. A `*` segment matches one or more segments, so
/// `deployments.*` matches `deployments.create` and
/// `deployments.prompt.create`, `*.view` matches every id whose last
/// segment is `view`, and `*` matches everything. Runs in
/// O(segments(pattern) × segments(id)), so adversarial patterns cannot blow up.
pub fn matches(pattern: &str, id: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == id;
    }
    let pat: Vec<&str> = pattern.split('.').collect();
    let ids: Vec<&str> = id.split('.').collect();
    // reach[j]: the first i pattern segments can match the first j id segments.
    let mut reach = vec![false; ids.len() + 1];
    if let Some(r) = reach.first_mut() {
        *r = true;
    }
    for seg in &pat {
        let mut next = vec![false; ids.len() + 1];
        if *seg == "*" {
            // one or more: next[j] = exists k < j with reach[k]
            let mut any = false;
            for j in 1..=ids.len() {
                any |= reach.get(j - 1).copied().unwrap_or(false);
                if let Some(n) = next.get_mut(j) {
                    *n = any;
                }
            }
        } else {
            for j in 1..=ids.len() {
                let ok = reach.get(j - 1).copied().unwrap_or(false)
                    && ids.get(j - 1).is_some_and(|s| s == seg);
                if let Some(n) = next.get_mut(j) {
                    *n = ok;
                }
            }
        }
        reach = next;
    }
    reach.last().copied().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::matches;

    fn check(pattern: &str, id: &str, expect: bool) {
        assert_eq!(matches(pattern, id), expect, "{pattern} vs {id}");
    }

    #[test]
    fn exact() {
        check("billing.manage", "billing.manage", true);
        check("billing.manage", "billing.view", false);
        check("billing", "billing.manage", false);
    }

    #[test]
    fn trailing_star_matches_one_or_more_segments() {
        check("deployments.*", "deployments.create", true);
        check("deployments.*", "deployments.prompt.create", true);
        check("deployments.*", "deployments", false);
        check("deployments.*", "deploymentsx.create", false);
    }

    #[test]
    fn leading_and_middle_stars() {
        check("*.view", "workspace.view", true);
        check("*.view", "a.b.view", true);
        check("*.view", "view", false);
        check("a.*.c", "a.b.c", true);
        check("a.*.c", "a.c", false);
        check("*", "anything.at.all", true);
    }

    #[test]
    fn adversarial_pattern_is_fast() {
        let pat = vec!["*"; 500].join(".");
        let id = vec!["x"; 499].join(".");
        check(&pat, &id, false);
    }
}
