//! Permission patterns: `*` stands for one or more whole segments.

use std::collections::HashMap;

use crate::decl::{PermId, Permission};

/// The permissions indexed by id (sorted) and by their last segment, so a
/// wildcard with a literal start or end tests only its candidates: the ids
/// that start with the pattern's literal segments before its first `*`
/// (`team.res12.` for `team.res12.*`: one range of the sorted ids, however
/// many permissions share the first segment, as all of a level's do), or
/// that end with its last segment. The one expansion of a pattern: name
/// resolution (`resolve.rs`) and [`crate::assemble`] (a compiled artifact,
/// which does not store expansions) both go through [`PatternIndex::expand`].
#[derive(Debug, Clone, Default)]
pub(crate) struct PatternIndex {
    exact: HashMap<String, PermId>,
    /// Every position, ordered by the permission's id.
    sorted: Vec<PermId>,
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
            let last = p.id.rsplit('.').next().unwrap_or_default();
            index.by_last.entry(last.to_string()).or_default().push(id);
        }
        index.sorted = (0..permissions.len() as u32).map(PermId).collect();
        let id_of = |id: &PermId| permissions.get(id.index()).map_or("", |p| p.id.as_str());
        index.sorted.sort_by(|a, b| id_of(a).cmp(id_of(b)));
        index
    }

    /// The permissions `pattern` matches, in declaration order:
    /// `permissions` must be the slice the index was built from. A literal
    /// pattern is one lookup; a wildcard with literal first segments tests
    /// only the permissions whose ids start with them (else, with a literal
    /// last segment, those that end with it); a pattern with `*` at both
    /// ends tests them all.
    pub(crate) fn expand(&self, pattern: &str, permissions: &[Permission]) -> Vec<PermId> {
        if !pattern.contains('*') {
            return self.exact.get(pattern).copied().into_iter().collect();
        }
        let id_of = |id: &PermId| permissions.get(id.index()).map_or("", |p| p.id.as_str());
        let test = |id: &PermId| matches(pattern, id_of(id));
        // The literal segments before the first `*`, with their dot.
        let prefix_len = pattern
            .split('.')
            .take_while(|s| *s != "*")
            .map(|s| s.len() + 1)
            .sum::<usize>();
        if let Some(prefix) = pattern.get(..prefix_len).filter(|p| !p.is_empty()) {
            let from = self.sorted.partition_point(|id| id_of(id) < prefix);
            let mut out: Vec<PermId> = self
                .sorted
                .get(from..)
                .unwrap_or_default()
                .iter()
                .take_while(|id| id_of(id).starts_with(prefix))
                .copied()
                .filter(test)
                .collect();
            out.sort_unstable();
            return out;
        }
        let last = pattern.rsplit('.').next().unwrap_or("*");
        if last == "*" {
            return (0..permissions.len() as u32)
                .map(PermId)
                .filter(test)
                .collect();
        }
        self.by_last
            .get(last)
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
