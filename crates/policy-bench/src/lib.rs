//! Benchmark support for policyc: a deterministic generator of large,
//! valid policies.
//!
//! [`generate`] writes the text of a policy with a given number of roles
//! and permissions, arranged in inheritance chains of bounded depth, with
//! the language's features mixed in at fixed rates: role availability
//! (`on enterprise`, `on >= team`), permission availability, tier-gated
//! grants, wildcard grants (`res12.*` and one `*.view`), exclusions,
//! diamond inheritance, doc comments and assertions. The same [`Spec`]
//! always gives the same bytes, and the policy compiles with no errors and
//! no warnings.
//!
//! ```
//! use policy_bench::{generate, Spec};
//! use policy_syntax::SourceFile;
//!
//! let text = generate(&Spec::new(100, 500, 20));
//! let (policy, diags) = policy_compiler::compile(&SourceFile::new("gen.policy", text));
//! assert!(diags.is_empty());
//! assert_eq!(policy.roles().len(), 100);
//! assert_eq!(policy.permissions().len(), 500);
//! ```
//!
//! With [`Spec::with_levels`] the policy has three levels, `organization`
//! ▸ `team` ▸ `project` (issue 24): each level's section holds its share of
//! the roles and their permissions, chains of inheritance stay on one
//! level, and some roles `acts as` roles of the levels inside their own.
//!
//! ```
//! use policy_bench::{generate, Spec};
//! use policy_syntax::SourceFile;
//!
//! let text = generate(&Spec::new(100, 500, 20).with_levels());
//! let (policy, diags) = policy_compiler::compile(&SourceFile::new("gen.policy", text));
//! assert!(diags.is_empty());
//! assert!(policy.role_id("team.r10").is_some());
//! assert!(policy.perm_id("project.res40.view").is_some());
//! ```
//!
//! With [`Spec::with_conditions`] the policy declares some of eight
//! conditions (issue 25) and some roles' last grant holds only under one
//! or two of them (`grants res13.update when own`), so that some cells
//! are *conditional*.
//!
//! ```
//! use policy_bench::{generate, Spec};
//! use policy_syntax::SourceFile;
//!
//! let text = generate(&Spec::new(100, 500, 20).with_conditions());
//! let (policy, diags) = policy_compiler::compile(&SourceFile::new("gen.policy", text));
//! assert!(diags.is_empty());
//! assert!(policy.condition_id("setting.public_channels").is_some());
//! assert!(policy.has_conditional());
//! ```
//!
//! [`Shape`] adds the adversarial shapes of issue 13 (a long inheritance
//! chain, each role inheriting all earlier ones, many typos, wildcard-heavy
//! grants, a 15 MB file).
#![deny(missing_docs)]

use std::fmt::Write;

mod conditions;
pub use conditions::when_conditions;
use conditions::{when_clause, wildcard_role, write_conditions};
mod levels;
pub use levels::{acts_as, permission_ids, role_id};
use levels::{level_of, level_ranges, write_level_assertions, LEVELS};
mod peers;
pub use peers::{cedar_policies, cedar_statements, flattened, TierPerms};
mod project;
pub use project::split;
mod shapes;
pub use shapes::Shape;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Number of roles (at least 1).
    pub roles: usize,
    /// Number of permissions (raised to `roles` if smaller: every role owns
    /// at least one permission).
    pub permissions: usize,
    /// Longest inheritance chain, in roles (at least 1).
    pub depth: usize,
    /// Whether to declare the tiers `free < team < enterprise` and use tier
    /// constraints; without them the policy has one implicit tier.
    pub tiers: bool,
    /// Whether to declare a second, unordered dimension `edition cloud |
    /// server | dedicated` (with tiers: 9 contexts) and join edition terms
    /// to the gated roles, grants and permissions with `and`.
    pub editions: bool,
    /// Whether to divide the policy into three levels, `scope organization`
    /// ▸ `team` ▸ `project` (see [`Spec::with_levels`]); `roles` is then
    /// raised to 3, one per level.
    pub levels: bool,
    /// Whether to declare conditions and make some grants conditional
    /// (see [`Spec::with_conditions`]).
    pub conditions: bool,
}

impl Spec {
    /// `roles` roles, `permissions` permissions, chains up to `depth`, with tiers.
    pub fn new(roles: usize, permissions: usize, depth: usize) -> Self {
        Spec {
            roles,
            permissions,
            depth,
            tiers: true,
            editions: false,
            levels: false,
            conditions: false,
        }
    }

    /// The same with a second dimension, `edition` (see [`Spec::editions`]).
    pub fn with_editions(self) -> Self {
        Spec {
            editions: true,
            ..self
        }
    }

    /// The same on three levels (see [`Spec::levels`]): the first 10% of
    /// the roles (at least one) are the organization's, the next 30% (at
    /// least one) the team's, the rest the project's; each role's
    /// permissions are on its level, so the permissions split the same
    /// way. Chains of inheritance start again at each level. Every fourth
    /// organization and team role (the first of the level included) acts
    /// as a role of the next level inside, and every twentieth
    /// organization role also as a project role. Ids are qualified by the
    /// level: `organization.r0`, `team.res100.view` ([`role_id`],
    /// [`permission_ids`]).
    pub fn with_levels(self) -> Self {
        Spec {
            levels: true,
            ..self
        }
    }

    /// The same with conditions (see [`Spec::conditions`]): every ninth
    /// role's last grant holds only under one condition, every 31st role's
    /// under two (`when feature.export and mfa`), except in roles with one
    /// permission and the first two roles of each level; the policy
    /// declares the conditions these name, out of eight, some dotted
    /// (`setting.public_channels`). See [`when_conditions`].
    pub fn with_conditions(self) -> Self {
        Spec {
            conditions: true,
            ..self
        }
    }

    /// The same without tiers.
    pub fn without_tiers(self) -> Self {
        Spec {
            tiers: false,
            ..self
        }
    }
}

/// The actions of each resource, in order; beyond these, `a7`, `a8`, ...
const ACTIONS: [&str; 7] = [
    "view", "create", "update", "delete", "manage", "export", "share",
];

/// Every how many roles one grants its whole resource with a wildcard.
const WILDCARD_EVERY: usize = 7;
/// Every how many roles (not first in a chain) one excludes an inherited permission.
const EXCLUDE_EVERY: usize = 11;
/// Every how many roles one is available only on `enterprise`.
const ENTERPRISE_ONLY_EVERY: usize = 13;
/// Every how many roles one is available only on `>= team`.
const TEAM_UP_EVERY: usize = 17;
/// Every how many roles one gates its last permission to `enterprise`.
const GATED_GRANT_EVERY: usize = 29;
/// Every how many resources the `create` permission exists only on `>= team`.
const GATED_PERMISSION_EVERY: usize = 10;
/// Every how many roles (position ≥ 1 in a chain) one also inherits from the previous chain.
const DIAMOND_EVERY: usize = 23;

/// The name of role `i` as its declaration writes it (`r{i}`; with levels,
/// unqualified: see [`role_id`]).
pub fn role_name(i: usize) -> String {
    format!("r{i}")
}

/// How many roles `spec` generates: `spec.roles`, at least 1 (with
/// levels, at least 3: one per level).
pub fn role_count(spec: &Spec) -> usize {
    spec.roles.max(if spec.levels { 3 } else { 1 })
}

/// The action name of the `k`-th permission of a resource.
fn action(k: usize) -> String {
    ACTIONS
        .get(k)
        .map_or_else(|| format!("a{k}"), |a| (*a).to_string())
}

/// How many permissions role `i` owns: an even share, the remainder
/// going to the first roles.
fn share(spec: &Spec, i: usize) -> usize {
    let n = role_count(spec);
    let m = spec.permissions.max(n);
    m / n + usize::from(i < m % n)
}

/// The permission ids of role `i`'s resource, in order.
pub fn role_permissions(spec: &Spec, i: usize) -> Vec<String> {
    (0..share(spec, i))
        .map(|k| format!("res{i}.{}", action(k)))
        .collect()
}

/// The parents of role `i`: the previous role in its chain, and for some
/// roles the role one position up in the previous chain. Chains are cut
/// every `depth` roles, counted from the first role of the level.
pub fn parents(spec: &Spec, i: usize) -> Vec<usize> {
    let d = spec.depth.max(1);
    let j = i - level_of(spec, i).1;
    let pos = j % d;
    let mut out = Vec::new();
    if pos > 0 {
        out.push(i - 1);
    }
    // Position `pos - 1` of the previous chain: the depth stays `pos + 1`.
    if pos >= 2 && i % DIAMOND_EVERY == 0 && j > d {
        out.push(i - d - 1);
    }
    out
}

/// Whether role `i` is available on some tiers only.
fn gated_role(spec: &Spec, i: usize) -> bool {
    let j = i - level_of(spec, i).1;
    spec.tiers && j > 0 && (i % ENTERPRISE_ONLY_EVERY == 0 || i % TEAM_UP_EVERY == 0)
}

/// The policy text for `spec`.
pub fn generate(spec: &Spec) -> String {
    let n = role_count(spec);
    let d = spec.depth.max(1);
    let mut out = String::with_capacity(n * 200);
    let levels = if spec.levels {
        ", on three levels (organization, team, project)"
    } else {
        ""
    };
    let conditions = if spec.conditions {
        ", with conditions"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "// Generated by policy-bench: {n} roles, {} permissions, inheritance depth up to {d}{levels}{conditions}.\n",
        (0..n).map(|i| share(spec, i)).sum::<usize>()
    );
    if spec.tiers {
        out.push_str("/// Plans, lowest first.\ntiers free < team < enterprise\n\n");
    }
    if spec.editions {
        out.push_str("/// Editions.\ndimension edition cloud | server | dedicated\n\n");
    }
    write_conditions(&mut out, spec, n);
    if !spec.levels {
        write_section(&mut out, spec, 0, n);
        // Assertions that hold by construction.
        let _ = writeln!(out, "assert r0 can res0.view");
        if n > 1 && d > 1 && 1 % EXCLUDE_EVERY != 0 {
            let _ = writeln!(out, "assert r1 can res0.view");
        }
        // `r1` inherits `r0`, which holds only its own `res0` permissions. (A
        // `no role below` the root of a chain would check nothing: P0310.)
        if n > 1 && d > 1 {
            let _ = writeln!(out, "assert no role below r1 can res1.*");
        }
        return out;
    }
    for (l, ((id, label, outer), roles)) in LEVELS.iter().zip(level_ranges(spec)).enumerate() {
        let (start, end) = (roles.start, roles.end);
        let _ = writeln!(
            out,
            "/// Level {} of 3: roles r{start} to r{} and their permissions.",
            l + 1,
            end - 1
        );
        let inside = outer.map_or_else(String::new, |o| format!(" in {o}"));
        let _ = writeln!(out, "scope {id} \"{label}\"{inside}\n");
        write_section(&mut out, spec, start, end);
        write_level_assertions(&mut out, spec, start, end);
        if l + 1 < LEVELS.len() {
            out.push('\n');
        }
    }
    out
}

/// The permissions, then the roles, `start..end`.
fn write_section(out: &mut String, spec: &Spec, start: usize, end: usize) {
    // With editions, the gates of permissions, roles and grants also name
    // some editions.
    let ed = |term: &'static str| if spec.editions { term } else { "" };
    for i in start..end {
        for (k, p) in role_permissions(spec, i).iter().enumerate() {
            let gate = if spec.tiers && k == 1 && i % GATED_PERMISSION_EVERY == 0 {
                " on >= team"
            } else {
                ""
            };
            let edition = if gate.is_empty() {
                ""
            } else {
                ed(" and cloud, dedicated")
            };
            let _ = writeln!(
                out,
                "permission {p} \"{} resource {i}\"{gate}{edition}",
                action(k)
            );
        }
    }
    out.push('\n');
    for i in start..end {
        write_role(out, spec, i);
    }
}

fn write_role(out: &mut String, spec: &Spec, i: usize) {
    let d = spec.depth.max(1);
    // The position in the level, and in the chain.
    let j = i - level_of(spec, i).1;
    let pos = j % d;
    if i % 5 == 0 {
        let _ = writeln!(
            out,
            "/// Role {i}: position {pos} of its inheritance chain."
        );
    }
    let on = if !spec.tiers {
        ""
    } else if i % ENTERPRISE_ONLY_EVERY == 0 && j > 0 {
        if spec.editions {
            " on enterprise and server, dedicated"
        } else {
            " on enterprise"
        }
    } else if i % TEAM_UP_EVERY == 0 && j > 0 {
        " on >= team"
    } else {
        ""
    };
    let _ = writeln!(out, "role r{i} \"Role {i}\"{on} {{");
    let ps = parents(spec, i);
    if !ps.is_empty() {
        let names: Vec<String> = ps.iter().map(|p| role_name(*p)).collect();
        let _ = writeln!(out, "  inherits {}", names.join(", "));
    }
    let inner = acts_as(spec, i);
    if !inner.is_empty() {
        let names: Vec<String> = inner.iter().map(|r| role_id(spec, *r)).collect();
        let _ = writeln!(out, "  acts as {}", names.join(", "));
    }
    let perms = role_permissions(spec, i);
    // One broad wildcard, in the last role (which no role inherits from, so
    // no exact grant below it is redundant): every `*.view` permission
    // (with levels, every one of the project level).
    let viewer = i + 1 == role_count(spec);
    if viewer {
        let _ = writeln!(out, "  grants *.view");
    }
    // With conditions, the last grant of some roles holds only under them.
    let when = when_clause(spec, i);
    if wildcard_role(i) {
        let _ = writeln!(out, "  grants res{i}.*{when}");
    } else {
        let gated = spec.tiers && i % GATED_GRANT_EVERY == 5 && perms.len() > 1;
        let (open, last) = if gated || !when.is_empty() {
            perms.split_at(perms.len() - 1)
        } else {
            (perms.as_slice(), &[][..])
        };
        // The last role gets its `view` through `*.view` above.
        let open: Vec<&String> = open
            .iter()
            .filter(|p| !(viewer && p.ends_with(".view")))
            .collect();
        if !open.is_empty() {
            let list: Vec<&str> = open.iter().map(|s| s.as_str()).collect();
            let _ = writeln!(out, "  grants {}", list.join(", "));
        }
        if let Some(p) = last.first() {
            let on = match (gated, spec.editions) {
                (false, _) => "",
                (true, false) => " on enterprise",
                (true, true) => " on enterprise and cloud",
            };
            let _ = writeln!(out, "  grants {p}{on}{when}");
        }
    }
    // Exclude a permission the parent itself owns and grants on every tier.
    if let Some(&parent) = ps.first() {
        if i % EXCLUDE_EVERY == 0 {
            if let Some(p) = role_permissions(spec, parent).first() {
                let _ = writeln!(out, "  excludes {p}");
            }
        }
    }
    out.push_str("}\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy_compiler::{compile, has_errors};
    use policy_syntax::SourceFile;

    fn check(spec: Spec) -> policy_compiler::Policy {
        let text = generate(&spec);
        let (policy, diags) = compile(&SourceFile::new("gen.policy", text));
        assert!(!has_errors(&diags), "{spec:?}: {:?}", diags.first());
        assert!(diags.is_empty(), "{spec:?}: warning {:?}", diags.first());
        let n = role_count(&spec);
        assert_eq!(policy.roles().len(), n);
        assert_eq!(policy.permissions().len(), spec.permissions.max(n));
        policy
    }

    fn max_depth(spec: &Spec) -> usize {
        let mut depth = vec![0usize; role_count(spec)];
        for i in 0..role_count(spec) {
            let d = parents(spec, i)
                .iter()
                .map(|p| depth[*p])
                .max()
                .map_or(1, |m| m + 1);
            depth[i] = d;
        }
        depth.into_iter().max().unwrap_or(0)
    }

    #[test]
    fn small_sizes_compile_cleanly() {
        for roles in [1, 2, 3, 12, 30, 100] {
            for perms in [1, roles, roles * 5 + 3] {
                for depth in [1, 2, 7, 100] {
                    check(Spec::new(roles, perms, depth));
                    check(Spec::new(roles, perms, depth).without_tiers());
                    let p = check(Spec::new(roles, perms, depth).with_editions());
                    assert_eq!(p.tiers().len(), 9, "3 tiers × 3 editions");
                }
            }
        }
    }

    #[test]
    fn hundred_roles() {
        let spec = Spec::new(100, 500, 20);
        check(spec);
        assert_eq!(max_depth(&spec), 20);
    }

    #[test]
    fn thousand_roles() {
        let spec = Spec::new(1_000, 5_000, 50);
        let policy = check(spec);
        assert_eq!(max_depth(&spec), 50);
        // Inheritance really passes permissions down the chain.
        let enterprise = policy.tier_id("enterprise").unwrap();
        let r49 = policy.role_id("r49").unwrap();
        let p = policy.perm_id("res1.view").unwrap();
        assert!(policy.allows(enterprise, r49, p));
    }

    #[test]
    fn ten_thousand_roles() {
        let spec = Spec::new(10_000, 50_000, 100);
        check(spec);
        assert_eq!(max_depth(&spec), 100);
    }

    #[test]
    fn deterministic() {
        let spec = Spec::new(300, 1_000, 30);
        assert_eq!(generate(&spec), generate(&spec));
        let spec = spec.with_levels();
        assert_eq!(generate(&spec), generate(&spec));
        let spec = spec.with_conditions();
        assert_eq!(generate(&spec), generate(&spec));
    }

    #[test]
    fn uses_every_feature() {
        let text = generate(&Spec::new(100, 500, 20));
        for needle in [
            "tiers free < team < enterprise",
            " on enterprise {",
            " on >= team {",
            "\" on >= team\n",
            "grants *.view",
            ".*\n",
            " on enterprise\n",
            "excludes ",
            "inherits r",
            ", r",
            "///",
            "assert ",
        ] {
            assert!(text.contains(needle), "generated policy lacks `{needle}`");
        }
    }
}
