//! The `*.test.yaml` format: parsing with serde_yaml, then resolving every
//! name against the policy. Every problem is a `P0508` diagnostic with a
//! span into the YAML.
//!
//! serde_yaml reports where a structural error is (line and column). For
//! semantic errors (an unknown role, say) found after parsing, the node's
//! position is recovered by [`locate`]: it re-reads the document with a
//! visitor that fails on purpose at the node's path, and serde_yaml attaches
//! that node's mark to the error. Only problem nodes are located, so the
//! cost is one extra parse per reported problem.

use std::fmt;

use policy_compiler::{PermId, Policy, ReasonKind, RoleId, TierId};
use policy_syntax::{did_you_mean, Code, Diagnostic, SourceFile, Span};
use serde::de::{self, Deserializer, SeqAccess, Visitor};

pub use super::locate::locate_entry;
use super::locate::{locate, offset_of, token_end, Seg, ASSIGNMENTS, CASES, WHAT_CAN, WHO_CAN};
use on::RawContext;
use serde::Deserialize;

/// At most this many semantic problems are reported per test file.
const MAX_PROBLEMS: usize = 50;

/// `allow`, `deny` or `conditional`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The request is allowed.
    Allow,
    /// The request is denied.
    Deny,
    /// Allowed only under conditions the case's facts leave unknown.
    Conditional,
}

impl Decision {
    /// `"allow"`, `"deny"` or `"conditional"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
            Decision::Conditional => "conditional",
        }
    }
}

/// The reason kind a case expects: the engine's one [`ReasonKind`],
/// spelled as test files spell it ([`ReasonKind::as_test_str`],
/// `role-unavailable`) and limited to the kinds that explain a decision
/// ([`ReasonKind::DECISIVE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason(pub ReasonKind);

impl Reason {
    /// The kind as written in test files.
    pub fn as_str(self) -> &'static str {
        self.0.as_test_str()
    }

    /// The decision this kind explains.
    pub fn decision(self) -> Decision {
        if self.0.is_allow() {
            Decision::Allow
        } else if self.0 == ReasonKind::Conditional {
            Decision::Conditional
        } else {
            Decision::Deny
        }
    }
}

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const NAMES: &[&str] = &[
            "granted",
            "inherited",
            "role-unavailable",
            "permission-unavailable",
            "excluded",
            "gate-closed",
            "not-granted",
            "conditional",
        ];
        let name = String::deserialize(d)?;
        ReasonKind::DECISIVE
            .into_iter()
            .find(|k| k.as_test_str() == name)
            .map(Reason)
            .ok_or_else(|| de::Error::unknown_variant(&name, NAMES))
    }
}

/// One name, or a list of names.
#[derive(Debug, Clone)]
struct OneOrMany {
    names: Vec<String>,
    /// Written as a single scalar rather than a list.
    scalar: bool,
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a role name or a list of role names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany {
                    names: vec![v.to_string()],
                    scalar: true,
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut names = Vec::new();
                while let Some(n) = seq.next_element::<String>()? {
                    names.push(n);
                }
                Ok(OneOrMany {
                    names,
                    scalar: false,
                })
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    policy: Option<String>,
    #[serde(default)]
    cases: Vec<RawCase>,
    #[serde(default, rename = "who-can")]
    who_can: Vec<RawWhoCan>,
    #[serde(default, rename = "what-can")]
    what_can: Vec<RawWhatCan>,
    #[serde(default)]
    assignments: Vec<RawAssignment>,
}

/// `assignments:` entry: whether `role` can be newly given in a context.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssignment {
    role: String,
    tier: Option<String>,
    on: Option<RawContext>,
    assignable: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: Option<String>,
    #[serde(alias = "role")]
    roles: OneOrMany,
    action: String,
    tier: Option<String>,
    on: Option<RawContext>,
    when: Option<std::collections::BTreeMap<String, bool>>,
    expect: Decision,
    reason: Option<Reason>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWhoCan {
    action: String,
    tier: Option<String>,
    on: Option<RawContext>,
    roles: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWhatCan {
    role: String,
    tier: Option<String>,
    on: Option<RawContext>,
    permissions: Vec<String>,
}

/// A test file as written, before names are resolved: only the `policy`
/// key is read, so the policy can be found.
pub struct Parsed {
    raw: RawFile,
}

impl Parsed {
    /// The `policy:` path as written, if any.
    pub fn policy(&self) -> Option<&str> {
        self.raw.policy.as_deref()
    }
}

/// A decision test case with resolved names.
pub struct Case {
    /// Its position in `cases` (0-based).
    pub index: usize,
    /// The `name:` given, if any.
    pub name: Option<String>,
    /// The roles the user holds (at least one).
    pub roles: Vec<RoleId>,
    /// The permission asked for.
    pub action: PermId,
    /// The tier.
    pub tier: TierId,
    /// The facts the case states about conditions (`when:`).
    pub facts: policy_compiler::Facts,
    /// The expected decision.
    pub expect: Decision,
    /// The expected reason kind, if given.
    pub reason: Option<Reason>,
}

/// An expected `who-can` set.
pub struct WhoCan {
    /// Its position in `who-can`.
    pub index: usize,
    /// The permission.
    pub action: PermId,
    /// The tier.
    pub tier: TierId,
    /// Exactly the roles expected to hold it.
    pub roles: Vec<RoleId>,
}

/// An expected `what-can` set.
pub struct WhatCan {
    /// Its position in `what-can`.
    pub index: usize,
    /// The role.
    pub role: RoleId,
    /// The tier.
    pub tier: TierId,
    /// Exactly the permissions expected.
    pub permissions: Vec<PermId>,
}

/// A test file with every name resolved.
pub struct TestFile {
    /// The decision cases.
    pub cases: Vec<Case>,
    /// The `who-can` expectations.
    pub who_can: Vec<WhoCan>,
    /// The `what-can` expectations.
    pub what_can: Vec<WhatCan>,
    /// The `assignments` expectations.
    pub assignments: Vec<Assignment>,
}

/// An `assignments:` entry, resolved.
pub struct Assignment {
    /// Its index in `assignments`.
    pub index: usize,
    /// The role.
    pub role: RoleId,
    /// The tier.
    pub tier: TierId,
    /// Whether the role should be assignable there.
    pub assignable: bool,
}

impl TestFile {
    /// How many tests the file holds.
    pub fn len(&self) -> usize {
        self.cases.len() + self.who_can.len() + self.what_can.len() + self.assignments.len()
    }
}

fn bad(source: &SourceFile, span: Span, message: String, label: &str) -> Diagnostic {
    Diagnostic::new(Code::BadTestFile, message)
        .with_source(source)
        .primary(span, label)
}

/// Parses the YAML structure. Errors point at the offending node.
pub fn parse(source: &SourceFile) -> Result<Parsed, Diagnostic> {
    let text = source.text();
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
    {
        return Err(
            Diagnostic::new(Code::BadTestFile, format!("`{}` is empty", source.name()))
                .with_source(source)
                .help(
                    "add `cases:`, `who-can:`, `what-can:` or `assignments:` (see `policyc explain P0508`)",
                ),
        );
    }
    match crate::yaml::from_str::<RawFile>(text) {
        Ok(raw) => {
            if raw.cases.is_empty()
                && raw.who_can.is_empty()
                && raw.what_can.is_empty()
                && raw.assignments.is_empty()
            {
                return Err(bad(
                    source,
                    Span::new(0, token_end(text, 0)),
                    format!("`{}` holds no tests", source.name()),
                    "no `cases`, `who-can`, `what-can` or `assignments` entries",
                )
                .help("a test file with no tests would pass without checking anything"));
            }
            Ok(Parsed { raw })
        }
        Err(e) => {
            let (span, message) = match e.location() {
                Some(loc) => {
                    let start = offset_of(text, loc.line(), loc.column());
                    let suffix = format!(" at line {} column {}", loc.line(), loc.column());
                    let msg = e.to_string();
                    let msg = msg.replacen(&suffix, "", 1);
                    (Span::new(start, token_end(text, start)), msg)
                }
                None => (Span::new(0, 0), e.to_string()),
            };
            let message = message.replace('\n', " ");
            Err(bad(
                source,
                span,
                format!("invalid test file: {message}"),
                "here",
            )
            .help("see the test file format in docs/cli.md (`policyc explain P0508`)"))
        }
    }
}

/// Resolves every name against `policy`. Unknown names, a missing or
/// superfluous tier, or a reason that contradicts the decision are errors,
/// all reported (fail closed: a file with any error runs no test).
pub fn resolve(
    source: &SourceFile,
    parsed: Parsed,
    policy: &Policy,
) -> Result<TestFile, Vec<Diagnostic>> {
    let mut r = Resolver {
        source,
        policy,
        problems: Vec::new(),
    };
    let raw = parsed.raw;
    let mut out = TestFile {
        cases: Vec::new(),
        who_can: Vec::new(),
        what_can: Vec::new(),
        assignments: Vec::new(),
    };
    for (i, c) in raw.cases.into_iter().enumerate() {
        let at = [CASES, Seg::Index(i)];
        let mut roles = Vec::new();
        if c.roles.names.is_empty() {
            r.problem(
                &[CASES, Seg::Index(i), Seg::Key(&["roles", "role"])],
                "a case needs at least one role".into(),
                "empty list",
                None,
                None,
            );
        }
        for (j, name) in c.roles.names.iter().enumerate() {
            let path: Vec<Seg> = if c.roles.scalar {
                vec![CASES, Seg::Index(i), Seg::Key(&["roles", "role"])]
            } else {
                vec![
                    CASES,
                    Seg::Index(i),
                    Seg::Key(&["roles", "role"]),
                    Seg::Index(j),
                ]
            };
            roles.extend(r.role(&path, name));
        }
        let action = r.perm(&[CASES, Seg::Index(i), Seg::Key(&["action"])], &c.action);
        let tier = r.tier(&at, c.tier.as_deref(), c.on.as_ref());
        let facts = r.facts(&at, c.when.as_ref());
        if let Some(reason) = c.reason {
            if reason.decision() != c.expect {
                r.problem(
                    &[CASES, Seg::Index(i), Seg::Key(&["reason"])],
                    format!(
                        "reason `{}` explains `{}`, but the case expects `{}`",
                        reason.as_str(),
                        reason.decision().as_str(),
                        c.expect.as_str()
                    ),
                    "contradicts `expect`",
                    None,
                    None,
                );
            }
        }
        if let (Some(action), Some(tier), Some(facts)) = (action, tier, facts) {
            if roles.len() == c.roles.names.len() && !roles.is_empty() {
                out.cases.push(Case {
                    index: i,
                    name: c.name,
                    roles,
                    action,
                    tier,
                    facts,
                    expect: c.expect,
                    reason: c.reason,
                });
            }
        }
    }
    for (i, w) in raw.who_can.into_iter().enumerate() {
        let at = [WHO_CAN, Seg::Index(i)];
        let action = r.perm(&[WHO_CAN, Seg::Index(i), Seg::Key(&["action"])], &w.action);
        let tier = r.tier(&at, w.tier.as_deref(), w.on.as_ref());
        let mut roles = Vec::new();
        for (j, name) in w.roles.iter().enumerate() {
            roles.extend(r.role(
                &[WHO_CAN, Seg::Index(i), Seg::Key(&["roles"]), Seg::Index(j)],
                name,
            ));
        }
        if let (Some(action), Some(tier), true) = (action, tier, roles.len() == w.roles.len()) {
            out.who_can.push(WhoCan {
                index: i,
                action,
                tier,
                roles,
            });
        }
    }
    for (i, w) in raw.what_can.into_iter().enumerate() {
        let at = [WHAT_CAN, Seg::Index(i)];
        let role = r.role(&[WHAT_CAN, Seg::Index(i), Seg::Key(&["role"])], &w.role);
        let tier = r.tier(&at, w.tier.as_deref(), w.on.as_ref());
        let mut perms = Vec::new();
        for (j, name) in w.permissions.iter().enumerate() {
            perms.extend(r.perm(
                &[
                    WHAT_CAN,
                    Seg::Index(i),
                    Seg::Key(&["permissions"]),
                    Seg::Index(j),
                ],
                name,
            ));
        }
        if let (Some(role), Some(tier), true) = (role, tier, perms.len() == w.permissions.len()) {
            out.what_can.push(WhatCan {
                index: i,
                role,
                tier,
                permissions: perms,
            });
        }
    }
    for (i, a) in raw.assignments.into_iter().enumerate() {
        let at = [ASSIGNMENTS, Seg::Index(i)];
        let role = r.role(&[ASSIGNMENTS, Seg::Index(i), Seg::Key(&["role"])], &a.role);
        let tier = r.tier(&at, a.tier.as_deref(), a.on.as_ref());
        if let (Some(role), Some(tier)) = (role, tier) {
            out.assignments.push(Assignment {
                index: i,
                role,
                tier,
                assignable: a.assignable,
            });
        }
    }
    if r.problems.is_empty() {
        Ok(out)
    } else {
        Err(r.problems)
    }
}

struct Resolver<'a> {
    source: &'a SourceFile,
    policy: &'a Policy,
    problems: Vec<Diagnostic>,
}

impl Resolver<'_> {
    fn problem(
        &mut self,
        path: &[Seg],
        message: String,
        label: &str,
        suggestion: Option<String>,
        help: Option<String>,
    ) {
        if self.problems.len() >= MAX_PROBLEMS {
            return;
        }
        let span = locate(self.source.text(), path).unwrap_or_default();
        let mut d = bad(self.source, span, message, label).suggest(suggestion);
        if let Some(h) = help {
            d = d.help(h);
        }
        self.problems.push(d);
    }

    fn policy_name(&self) -> String {
        self.policy.source().name().to_string()
    }

    fn role(&mut self, path: &[Seg], name: &str) -> Option<RoleId> {
        if let Some(id) = self.policy.role_id(name) {
            return Some(id);
        }
        let mut names: Vec<&str> = self.policy.roles().iter().map(|r| r.id.as_str()).collect();
        names.sort_unstable();
        let suggestion = did_you_mean(name, names.iter().copied());
        let listed = quoted(&names);
        self.problem(
            path,
            format!("unknown role `{name}`"),
            &format!("not a role of `{}`", self.policy_name()),
            suggestion,
            Some(format!("the roles are {listed}")),
        );
        None
    }

    fn perm(&mut self, path: &[Seg], name: &str) -> Option<PermId> {
        if let Some(id) = self.policy.perm_id(name) {
            return Some(id);
        }
        let mut names: Vec<&str> = self
            .policy
            .permissions()
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        names.sort_unstable();
        let suggestion = did_you_mean(name, names.iter().copied());
        self.problem(
            path,
            format!("unknown permission `{name}`"),
            &format!("not a permission of `{}`", self.policy_name()),
            suggestion,
            Some("tests name exact permission ids, not patterns".into()),
        );
        None
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

mod on;
mod when;

#[cfg(test)]
mod tests {
    use super::*;

    /// One enum: every kind a case may expect reads as the engine's kind,
    /// in the documented test-file spelling only.
    #[test]
    fn reasons_are_the_engines_kinds_in_the_test_file_spelling() {
        for k in ReasonKind::DECISIVE {
            assert_eq!(k.as_test_str(), k.as_str().replace('_', "-"));
            let r: Reason = serde_json::from_value(serde_json::json!(k.as_test_str())).unwrap();
            assert_eq!(r.0, k);
        }
        for bad in ["role_unavailable", "other-roles", "other-tiers", "maybe"] {
            let e = serde_json::from_value::<Reason>(serde_json::json!(bad)).unwrap_err();
            assert!(e.to_string().contains("expected one of `granted`"), "{e}");
        }
    }
}
