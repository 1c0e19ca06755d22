//! The policy as Cerbos policies: a resource policy (`NAME.yaml`, resource
//! kind `NAME`), the derived roles it imports (`NAME_roles.yaml`) and a
//! test suite of every cell as policyc decides it (`NAME_test.yaml`,
//! [`suite`]). See `docs/integrations.md`.
//!
//! Roles are the principal's roles; the hierarchy is a derived role per
//! set of roles a `grants` line reaches: `member` is active for a user
//! holding `member` or any role that inherits it, and where a role below
//! excludes some of the line's permissions, `member.except.owner` leaves
//! out that role and the roles reached only through it. A derived role's
//! condition keeps out, in each context, the roles that do not exist
//! there. One `EFFECT_ALLOW` rule per `grants` line (split when its
//! permissions reach different roles); exclusions under conditions split
//! it further, one rule per set of roles, under the facts that give that
//! set. Permissions and contexts that do not exist are `EFFECT_DENY` rules
//! for every role. Because every rule names the very roles that hold it, a
//! user holding several roles is decided as policyc decides too.
//!
//! The request: the resource's attributes hold the value of each
//! dimension and whether each condition holds (`R.attr.plan`,
//! `R.attr.own`).

mod rules;
pub(crate) mod suite;
mod yaml;

use std::fmt::Write as _;

use policy_compiler::{PermId, Policy, RoleId, TierSet};
use policy_syntax::{Code, Diagnostic};

use crate::contexts::{string, Contexts, Syntax, Test};
use crate::plan::existence;
use crate::{header_lines, source_line, ExportFile, Header};
use rules::{allow_rules, AllowRule, DerivedRoles};
use yaml::{quoted, scalar, sequence};

/// CEL's reserved words, which cannot follow `R.attr.`.
const RESERVED: &[&str] = &[
    "as",
    "break",
    "const",
    "continue",
    "else",
    "false",
    "for",
    "function",
    "if",
    "import",
    "in",
    "let",
    "loop",
    "package",
    "namespace",
    "null",
    "return",
    "true",
    "var",
    "void",
    "while",
];

/// The resource attribute `name`: `R.attr.plan`, or `R.attr["my-plan"]`
/// for a name CEL cannot write after a dot.
fn attr(name: &str) -> String {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&name);
    if plain {
        format!("R.attr.{name}")
    } else {
        format!("R.attr[{}]", string(name))
    }
}

/// Context tests in CEL.
pub(crate) struct Cel;

impl Syntax for Cel {
    fn attr(&self, name: &str) -> String {
        attr(name)
    }

    fn dim_in(&self, dim: &str, values: &[&str]) -> String {
        match values {
            [one] => format!("{} == {}", attr(dim), string(one)),
            _ => {
                let vs: Vec<String> = values.iter().map(|v| string(v)).collect();
                format!("{} in [{}]", attr(dim), vs.join(", "))
            }
        }
    }
}

/// The files: the resource policy, the derived roles (when some line
/// grants anything) and the test suite (unless it would pass
/// [`suite::MAX_SUITE_DECISIONS`]; see [`notes`]).
pub fn files(policy: &Policy, header: &Header) -> Vec<ExportFile> {
    let contexts = Contexts::new(policy);
    let (rules, derived) = allow_rules(policy, &contexts);
    let roles_name = roles_name(header.name);
    let [resource, roles, test] = paths(header.name);
    let mut files = vec![ExportFile {
        path: resource,
        text: resource_policy(policy, &contexts, header, &rules, &roles_name, &derived),
    }];
    // Cerbos refuses a derived roles policy without definitions.
    if !derived.list.is_empty() {
        files.push(ExportFile {
            path: roles,
            text: derived_roles(policy, &contexts, header, &roles_name, &derived),
        });
    }
    if suite::decisions(policy) <= suite::MAX_SUITE_DECISIONS {
        files.push(ExportFile {
            path: test,
            text: suite::text(policy, &contexts, header),
        });
    }
    files
}

/// The name of the derived roles policy (and of its file, `.yaml` added).
fn roles_name(name: &str) -> String {
    format!("{name}_roles")
}

/// Every file an export named `name` may write: the resource policy, the
/// derived roles and the test suite (the last two not always).
pub(crate) fn paths(name: &str) -> [String; 3] {
    [
        format!("{name}.yaml"),
        format!("{}.yaml", roles_name(name)),
        format!("{name}_test.yaml"),
    ]
}

/// The warnings of an export to Cerbos: the suite left out (`P0602`).
pub(crate) fn notes(policy: &Policy, header: &Header) -> Vec<Diagnostic> {
    let n = suite::decisions(policy);
    if n <= suite::MAX_SUITE_DECISIONS {
        return Vec::new();
    }
    vec![Diagnostic::new(
        Code::ExportSuiteLeftOut,
        format!(
            "the Cerbos test suite `{}_test.yaml` is left out: it would hold {n} decisions \
             (roles × permissions × contexts × fact assignments), more than {}",
            header.name,
            suite::MAX_SUITE_DECISIONS
        ),
    )
    .help(
        "the policies are exported in full; test them with a suite of your own \
         (`cerbos compile` runs every `*_test.yaml`), or ask policyc (`policyc query`)",
    )]
}

/// The header comment of every file.
fn comment_header(header: &Header) -> String {
    header_lines(header, "cerbos")
        .iter()
        .map(|l| format!("# {l}\n"))
        .collect()
}

/// A `condition:` block at `indent` for `parts` (all must hold).
fn condition(parts: &[String], indent: usize, any: bool) -> String {
    let pad = " ".repeat(indent);
    match parts {
        [] => String::new(),
        [one] => format!(
            "{pad}condition:\n{pad}  match:\n{pad}    expr: {}\n",
            quoted(one)
        ),
        _ => {
            let mut out = format!(
                "{pad}condition:\n{pad}  match:\n{pad}    {}:\n{pad}      of:\n",
                if any { "any" } else { "all" }
            );
            for p in parts {
                let _ = writeln!(out, "{pad}        - expr: {}", quoted(p));
            }
            out
        }
    }
}

fn names(policy: &Policy, roles: &[RoleId]) -> Vec<String> {
    roles
        .iter()
        .filter_map(|&r| policy.role(r))
        .map(|r| scalar(&r.id))
        .collect()
}

fn derived_roles(
    policy: &Policy,
    contexts: &Contexts,
    header: &Header,
    roles_name: &str,
    derived: &DerivedRoles,
) -> String {
    let mut out = comment_header(header);
    out.push_str(
        "#\n# A derived role per set of roles a `grants` line reaches: `member` is a user\n\
         # holding `member` or any role that inherits it (`inherits`, `acts as`);\n\
         # `member.except.owner` leaves out `owner`, which excludes some of the\n\
         # line's permissions, and the roles reached only through it. The condition\n\
         # keeps out a role where it does not exist.\n",
    );
    let _ = write!(
        out,
        "apiVersion: api.cerbos.dev/v1\nderivedRoles:\n  name: {}\n  definitions:\n",
        scalar(roles_name)
    );
    for (name, roles) in &derived.list {
        let parents = names(policy, roles);
        let _ = write!(
            out,
            "    - name: {}\n      parentRoles:{}\n",
            scalar(name),
            sequence(&parents, 8, 19)
        );
        // The roles by the contexts they exist in, first come first.
        let mut by_contexts: Vec<(TierSet, Vec<RoleId>)> = Vec::new();
        for &r in roles {
            let tiers = policy.role(r).map_or(TierSet(0), |r| r.tiers);
            match by_contexts.iter_mut().find(|(t, _)| *t == tiers) {
                Some((_, list)) => list.push(r),
                None => by_contexts.push((tiers, vec![r])),
            }
        }
        let test = |t: TierSet| contexts.test(t, contexts.all(), &Cel);
        if let [(tiers, _)] = by_contexts.as_slice() {
            match test(*tiers) {
                Test::Always => {}
                Test::Never => out.push_str(&condition(&["false".into()], 6, false)),
                Test::Expr(e) => out.push_str(&condition(&[e], 6, false)),
            }
            continue;
        }
        let parts: Vec<String> = by_contexts
            .iter()
            .filter_map(|(tiers, list)| {
                let held = format!(
                    "hasIntersection(P.roles, [{}])",
                    list.iter()
                        .filter_map(|&r| policy.role(r))
                        .map(|r| string(&r.id))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                match test(*tiers) {
                    Test::Always => Some(held),
                    Test::Never => None,
                    Test::Expr(e) => Some(Cel.and(&[held, e])),
                }
            })
            .collect();
        out.push_str(&condition(&parts, 6, true));
    }
    out
}

fn actions(policy: &Policy, perms: &[PermId], used: usize) -> String {
    let list: Vec<String> = perms
        .iter()
        .filter_map(|&p| policy.permission(p))
        .map(|p| scalar(&p.id))
        .collect();
    sequence(&list, 8, used)
}

/// The tests that a request is malformed, one per attribute: a dimension
/// missing or with a value it does not have, a condition missing or not a
/// boolean (each guarded by `has`, so that a missing attribute makes the
/// test true rather than an error).
fn request_checks(policy: &Policy, contexts: &Contexts) -> Vec<String> {
    let has = |name: &str| {
        let a = attr(name);
        match a.strip_prefix("R.attr.") {
            Some(_) => format!("has({a})"),
            None => format!("({} in R.attr)", string(name)),
        }
    };
    let mut out: Vec<String> = contexts
        .dimensions()
        .iter()
        .map(|(d, values)| {
            let vs: Vec<String> = values.iter().map(|v| string(v)).collect();
            format!("!{} || !({} in [{}])", has(d), attr(d), vs.join(", "))
        })
        .collect();
    out.extend(
        policy
            .conditions()
            .iter()
            .map(|c| format!("!{} || !({} in [true, false])", has(&c.id), attr(&c.id))),
    );
    out
}

/// A rule's name: `member@28` (`role_x@28` for a role `_x`: a name
/// starts with a letter), `.2` added when taken.
fn rule_name(role: &str, line: usize, taken: &mut std::collections::HashSet<String>) -> String {
    let stem = if role.starts_with(|c: char| c.is_ascii_alphabetic()) {
        format!("{role}@{line}")
    } else {
        format!("role{role}@{line}")
    };
    let mut name = stem.clone();
    let mut n = 1;
    while !taken.insert(name.clone()) {
        n += 1;
        name = format!("{stem}.{n}");
    }
    name
}

fn resource_policy(
    policy: &Policy,
    contexts: &Contexts,
    header: &Header,
    rules: &[AllowRule],
    roles_name: &str,
    derived: &DerivedRoles,
) -> String {
    let mut out = comment_header(header);
    out.push_str(
        "#\n# One EFFECT_ALLOW rule per `grants` line, for the derived role of the roles\n\
         # it reaches (split where its permissions reach different roles, or do\n\
         # under different facts); the derived roles are in NAME_roles.yaml.\n\
         # The resource's attributes are the request's context: the value of each\n\
         # dimension and whether each condition holds.\n"
            .replace("NAME", header.name)
            .as_str(),
    );
    let _ = write!(
        out,
        "apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  version: default\n  resource: {}\n",
        scalar(header.name)
    );
    if !derived.list.is_empty() {
        let _ = writeln!(out, "  importDerivedRoles: [{}]", scalar(roles_name));
    }
    out.push_str("  rules:");
    let mut body = String::new();
    let shape = request_checks(policy, contexts);
    if !shape.is_empty() {
        let _ = write!(
            body,
            "\n    # A request gives each dimension one of its values and each condition a\n    # fact (true or false); else it is denied, as by policyc.\n    - name: request\n      actions: ['*']\n      effect: EFFECT_DENY\n      roles: ['*']\n{}",
            condition(&shape, 6, true)
        );
    }
    if contexts.restricted() {
        if let Test::Expr(e) = contexts.offered_test(&Cel) {
            let _ = write!(
                body,
                "\n    # Only the offered contexts exist.\n    - name: offered\n      actions: ['*']\n      effect: EFFECT_DENY\n      roles: ['*']\n{}",
                condition(&[format!("!({e})")], 6, false)
            );
        }
    }
    for ex in existence(policy) {
        let first = ex
            .perms
            .first()
            .and_then(|&p| policy.permission(p))
            .map_or("", |p| p.id.as_str());
        let test = match contexts.test(ex.contexts, contexts.all(), &Cel) {
            Test::Expr(e) => condition(&[format!("!({e})")], 6, false),
            _ => String::new(),
        };
        let _ = write!(
            body,
            "\n    # {} exist{} only where declared.\n    - name: {}\n      actions:{}\n      effect: EFFECT_DENY\n      roles: ['*']\n{test}",
            ex.perms
                .iter()
                .filter_map(|&p| policy.permission(p))
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if ex.perms.len() == 1 { "s" } else { "" },
            scalar(&format!("exists.{first}")),
            actions(policy, &ex.perms, 15)
        );
    }
    let mut taken = std::collections::HashSet::new();
    for rule in rules {
        let role = policy.role(rule.role).map_or("", |r| r.id.as_str());
        let at = policy.location(rule.span);
        let _ = write!(
            body,
            "\n    # {role}, {}:{}: {}\n    - name: {}\n      actions:{}\n      effect: EFFECT_ALLOW\n      derivedRoles: [{}]\n{}",
            policy.file_name_of(&at),
            at.line,
            source_line(policy, rule.span),
            scalar(&rule_name(role, at.line, &mut taken)),
            actions(policy, &rule.perms, 15),
            scalar(&rule.derived),
            condition(&rule.conditions, 6, false)
        );
    }
    if body.is_empty() {
        out.push_str(" []\n");
    } else {
        out.push_str(&body);
    }
    out
}
