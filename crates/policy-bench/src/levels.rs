//! Levels (issue 24): with [`Spec::levels`], which roles are on which of
//! the three levels `organization` ▸ `team` ▸ `project`, their full ids,
//! the `acts as` links between levels, and the assertions each level's
//! section ends with.

use std::fmt::Write;
use std::ops::Range;

use super::{gated_role, role_count, role_name, role_permissions, Spec, EXCLUDE_EVERY};

/// With levels: each level's scope id, label, and the level it is in, outermost first.
pub(crate) const LEVELS: [(&str, &str, Option<&str>); 3] = [
    ("organization", "Organization", None),
    ("team", "Team", Some("organization")),
    ("project", "Project", Some("team")),
];
/// With levels: the percentage of the roles on the organization level.
const ORGANIZATION_PERCENT: usize = 10;
/// With levels: the percentage of the roles on the team level (the rest are the project's).
const TEAM_PERCENT: usize = 30;
/// With levels: every how many roles of an outer level (counted from the
/// level's first) one acts as a role of the next level inside.
const ACTS_AS_EVERY: usize = 4;
/// With levels: every how many organization roles one also acts as a project role.
const ACTS_AS_PROJECT_EVERY: usize = 20;

/// The roles of each level, outermost first. Without levels, the first
/// holds them all.
pub(crate) fn level_ranges(spec: &Spec) -> [Range<usize>; 3] {
    let n = role_count(spec);
    if !spec.levels {
        return [0..n, n..n, n..n];
    }
    let org = (n * ORGANIZATION_PERCENT / 100).max(1);
    let team = org + (n * TEAM_PERCENT / 100).max(1);
    [0..org, org..team, team..n]
}

/// The level of role `i` (0 without levels) and the first role of that level.
pub(crate) fn level_of(spec: &Spec, i: usize) -> (usize, usize) {
    level_ranges(spec)
        .into_iter()
        .enumerate()
        .find(|(_, roles)| roles.contains(&i))
        .map_or((0, 0), |(l, roles)| (l, roles.start))
}

/// The scope id of role `i`'s level (`None` without levels).
fn scope_of(spec: &Spec, i: usize) -> Option<&'static str> {
    if !spec.levels {
        return None;
    }
    LEVELS.get(level_of(spec, i).0).map(|l| l.0)
}

/// The full id of role `i`, as queries name it: `r{i}`, or with levels
/// `organization.r{i}`, `team.r{i}`, `project.r{i}`.
pub fn role_id(spec: &Spec, i: usize) -> String {
    match scope_of(spec, i) {
        Some(s) => format!("{s}.r{i}"),
        None => role_name(i),
    }
}

/// The full ids of role `i`'s permissions, as queries name them: with
/// levels, [`role_permissions`] qualified by the role's level
/// (`project.res512.view`).
pub fn permission_ids(spec: &Spec, i: usize) -> Vec<String> {
    let perms = role_permissions(spec, i);
    match scope_of(spec, i) {
        Some(s) => perms.into_iter().map(|p| format!("{s}.{p}")).collect(),
        None => perms,
    }
}

/// The roles (indices, as for [`role_id`]) that role `i` acts as, with
/// levels: every fourth role of the organization and team levels, counted
/// from the level's first, acts as one of the next level's, and every
/// twentieth organization role also as a project role. Without levels,
/// none.
pub fn acts_as(spec: &Spec, i: usize) -> Vec<usize> {
    if !spec.levels {
        return Vec::new();
    }
    let ranges = level_ranges(spec);
    let (level, start) = level_of(spec, i);
    let j = i - start;
    // The `k`-th role of level `l`, counted round.
    let role = |l: usize, k: usize| {
        ranges
            .get(l)
            .filter(|r| !r.is_empty())
            .map(|r| r.start + k % r.len())
    };
    let mut out = Vec::new();
    if level < 2 && j % ACTS_AS_EVERY == 0 {
        out.extend(role(level + 1, j * 3));
        if level == 0 && j % ACTS_AS_PROJECT_EVERY == 0 {
            out.extend(role(2, j * 7));
        }
    }
    out
}

/// Assertions that hold by construction on the level of roles
/// `start..end`, as in a policy without levels, and one across levels.
pub(crate) fn write_level_assertions(out: &mut String, spec: &Spec, start: usize, end: usize) {
    let _ = writeln!(out, "assert r{start} can res{start}.view");
    let second = start + 1;
    if end - start > 1 && spec.depth > 1 {
        // `r{second}` inherits `r{start}`, unless it is gated (it would not
        // have it on every tier) or excludes it.
        if second % EXCLUDE_EVERY != 0 && !gated_role(spec, second) {
            let _ = writeln!(out, "assert r{second} can res{start}.view");
        }
        let _ = writeln!(out, "assert no role below r{second} can res{second}.*");
    }
    if let Some(&inner) = acts_as(spec, start).first() {
        let _ = writeln!(out, "assert r{start} includes {}", role_id(spec, inner));
    }
}
