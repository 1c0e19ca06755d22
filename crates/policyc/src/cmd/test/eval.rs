//! Running resolved test cases against a compiled policy, with the
//! derivation (for an allow) or the deny reason behind every actual answer.

use std::collections::BTreeSet;

use policy_compiler::{DenyReason, PermId, Policy, RoleId, Step, TierId};
use policy_syntax::Span;
use serde::Serialize;

use super::schema::{Case, Decision, ReasonKind, TestFile, WhatCan, WhoCan};

/// A decision with its reason kind.
#[derive(Debug, Serialize)]
pub struct Verdict {
    /// `allow` or `deny`.
    pub decision: &'static str,
    /// The reason kind, when known (always for actual verdicts).
    pub reason: Option<&'static str>,
}

/// The result of a decision case.
#[derive(Debug, Serialize)]
pub struct DecisionResult {
    /// The roles the user holds.
    pub roles: Vec<String>,
    /// The permission asked for.
    pub action: String,
    /// The tier, `null` for a tierless policy.
    pub tier: Option<String>,
    /// What the test file expects.
    pub expected: Verdict,
    /// What the policy says.
    pub actual: Verdict,
    /// The derivation of an allow, or the reason of a deny, one line each.
    pub explanation: Vec<String>,
}

/// An entry of a set that differs from the expectation, with why.
#[derive(Debug, Serialize)]
pub struct Explained {
    /// The role or permission id.
    pub name: String,
    /// Why the policy says so.
    pub why: Vec<String>,
}

/// The result of a `who-can` or `what-can` expectation.
#[derive(Debug, Serialize)]
pub struct SetResult {
    /// The permission (`who-can`) or the role (`what-can`).
    pub subject: String,
    /// The tier, `null` for a tierless policy.
    pub tier: Option<String>,
    /// The expected set, sorted.
    pub expected: Vec<String>,
    /// The actual set, sorted.
    pub actual: Vec<String>,
    /// Expected but not in the policy, with the deny reason.
    pub missing: Vec<Explained>,
    /// In the policy but not expected, with the derivation.
    pub extra: Vec<Explained>,
}

/// A 1-based position in the test file.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Position {
    /// Line.
    pub line: usize,
    /// Column (characters).
    pub column: usize,
}

/// One test's outcome.
#[derive(Debug, Serialize)]
pub struct TestResult {
    /// `decision`, `who-can` or `what-can`.
    pub kind: &'static str,
    /// Its index in its section of the test file.
    pub index: usize,
    /// The case's `name`, or a generated title.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Where it is written (filled in for failed tests only).
    pub location: Option<Position>,
    /// Details of a decision case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionResult>,
    /// Details of a set expectation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set: Option<SetResult>,
}

/// Runs every test of a file, in file order: cases, `who-can`, `what-can`.
pub fn run(policy: &Policy, file: &TestFile) -> Vec<TestResult> {
    let mut out: Vec<TestResult> = file.cases.iter().map(|c| case(policy, c)).collect();
    out.extend(file.who_can.iter().map(|w| who_can(policy, w)));
    out.extend(file.what_can.iter().map(|w| what_can(policy, w)));
    out
}

fn role_name(policy: &Policy, r: RoleId) -> String {
    policy.role(r).map_or_else(|| "?".into(), |x| x.id.clone())
}

fn perm_name(policy: &Policy, p: PermId) -> String {
    policy
        .permission(p)
        .map_or_else(|| "?".into(), |x| x.id.clone())
}

fn tier_name(policy: &Policy, t: TierId) -> Option<String> {
    policy.tier(t).map(|x| x.id.clone())
}

fn on(policy: &Policy, t: TierId) -> String {
    tier_name(policy, t).map_or_else(String::new, |t| format!(" on `{t}`"))
}

fn at(policy: &Policy, span: Span) -> String {
    let lc = policy.source().line_col(span.start);
    format!("{}:{}:{}", policy.source().name(), lc.line, lc.column)
}

/// The reason kind of one role's decision.
pub fn reason_kind(policy: &Policy, t: TierId, r: RoleId, p: PermId) -> ReasonKind {
    if policy.allows(t, r, p) {
        return match policy.derivation(t, r, p).as_deref() {
            Some([Step::Granted { .. }, ..]) => ReasonKind::Granted,
            _ => ReasonKind::Inherited,
        };
    }
    match policy.why_not(t, r, p) {
        Some(DenyReason::RoleUnavailable { .. }) => ReasonKind::RoleUnavailable,
        Some(DenyReason::PermissionUnavailable { .. }) => ReasonKind::PermissionUnavailable,
        Some(DenyReason::Excluded { .. }) => ReasonKind::Excluded,
        Some(DenyReason::GateClosed { .. }) => ReasonKind::GateClosed,
        _ => ReasonKind::NotGranted,
    }
}

/// One line per step: why `r` holds `p` on `t`, or why it may not.
pub fn explain(policy: &Policy, t: TierId, r: RoleId, p: PermId) -> Vec<String> {
    let role = role_name(policy, r);
    let perm = perm_name(policy, p);
    let tier = on(policy, t);
    if policy.allows(t, r, p) {
        return policy
            .derivation(t, r, p)
            .unwrap_or_default()
            .into_iter()
            .map(|step| match step {
                Step::Inherited { role, parent, span } => format!(
                    "`{}` inherits `{}` ({})",
                    role_name(policy, role),
                    role_name(policy, parent),
                    at(policy, span)
                ),
                Step::Granted {
                    role,
                    pattern,
                    span,
                } => format!(
                    "`{}` grants `{pattern}`{tier} ({})",
                    role_name(policy, role),
                    at(policy, span)
                ),
            })
            .collect();
    }
    let line = match policy.why_not(t, r, p) {
        Some(DenyReason::RoleUnavailable { span }) => format!(
            "`{role}` cannot be assigned{tier}{}",
            span.map_or_else(String::new, |s| format!(" ({})", at(policy, s)))
        ),
        Some(DenyReason::PermissionUnavailable { span }) => format!(
            "`{perm}` does not exist{tier}{}",
            span.map_or_else(String::new, |s| format!(" ({})", at(policy, s)))
        ),
        Some(DenyReason::Excluded { role: by, span }) => format!(
            "`{}` excludes `{perm}` ({})",
            role_name(policy, by),
            at(policy, span)
        ),
        Some(DenyReason::GateClosed {
            role: by,
            span,
            tier_span,
        }) => format!(
            "`{}` grants `{perm}`, but not{tier} ({})",
            role_name(policy, by),
            at(policy, tier_span.unwrap_or(span))
        ),
        _ => format!("nothing grants `{perm}` to `{role}` or a role it inherits"),
    };
    vec![line]
}

fn case(policy: &Policy, c: &Case) -> TestResult {
    let roles: Vec<String> = c.roles.iter().map(|r| role_name(policy, *r)).collect();
    let action = perm_name(policy, c.action);
    let deciding = c
        .roles
        .iter()
        .copied()
        .find(|r| policy.allows(c.tier, *r, c.action));
    let decision = if deciding.is_some() {
        Decision::Allow
    } else {
        Decision::Deny
    };
    let first = deciding.or_else(|| c.roles.first().copied());
    let reason = first.map(|r| reason_kind(policy, c.tier, r, c.action));
    let explanation = match (deciding, c.roles.as_slice()) {
        (Some(r), _) | (None, &[r]) => explain(policy, c.tier, r, c.action),
        (None, all) => all
            .iter()
            .flat_map(|r| {
                let kind = reason_kind(policy, c.tier, *r, c.action);
                explain(policy, c.tier, *r, c.action)
                    .into_iter()
                    .map(move |l| format!("{}: {l}", kind.as_str()))
            })
            .collect(),
    };
    let passed = decision == c.expect && c.reason.is_none_or(|want| Some(want) == reason);
    let name = c.name.clone().unwrap_or_else(|| {
        format!("{} → {}{}", roles.join(" + "), action, {
            tier_name(policy, c.tier).map_or_else(String::new, |t| format!(" on {t}"))
        })
    });
    TestResult {
        kind: "decision",
        index: c.index,
        name,
        passed,
        location: None,
        decision: Some(DecisionResult {
            roles,
            action,
            tier: tier_name(policy, c.tier),
            expected: Verdict {
                decision: c.expect.as_str(),
                reason: c.reason.map(ReasonKind::as_str),
            },
            actual: Verdict {
                decision: decision.as_str(),
                reason: reason.map(ReasonKind::as_str),
            },
            explanation,
        }),
        set: None,
    }
}

/// Compares an expected and an actual set of roles or permissions: both
/// sorted by name, and every difference explained by `why`.
fn compare_sets<T: Ord + Copy>(
    subject: String,
    tier: Option<String>,
    expected: &BTreeSet<T>,
    actual: &BTreeSet<T>,
    name: impl Fn(T) -> String,
    why: impl Fn(T) -> Vec<String>,
) -> SetResult {
    let names = |s: &BTreeSet<T>| -> Vec<String> {
        let mut v: Vec<String> = s.iter().map(|x| name(*x)).collect();
        v.sort();
        v
    };
    let explained = |diff: Vec<&T>| -> Vec<Explained> {
        let mut v: Vec<Explained> = diff
            .into_iter()
            .map(|x| Explained {
                name: name(*x),
                why: why(*x),
            })
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    };
    SetResult {
        subject,
        tier,
        expected: names(expected),
        actual: names(actual),
        missing: explained(expected.difference(actual).collect()),
        extra: explained(actual.difference(expected).collect()),
    }
}

fn who_can(policy: &Policy, w: &WhoCan) -> TestResult {
    let expected: BTreeSet<RoleId> = w.roles.iter().copied().collect();
    let actual: BTreeSet<RoleId> = policy.who_can(w.tier, w.action).into_iter().collect();
    let subject = perm_name(policy, w.action);
    let tier = tier_name(policy, w.tier);
    TestResult {
        kind: "who-can",
        index: w.index,
        name: format!(
            "who can {subject}{}",
            tier.as_ref()
                .map_or_else(String::new, |t| format!(" on {t}"))
        ),
        passed: expected == actual,
        location: None,
        decision: None,
        set: Some(compare_sets(
            subject,
            tier,
            &expected,
            &actual,
            |r| role_name(policy, r),
            |r| explain(policy, w.tier, r, w.action),
        )),
    }
}

fn what_can(policy: &Policy, w: &WhatCan) -> TestResult {
    let expected: BTreeSet<PermId> = w.permissions.iter().copied().collect();
    let actual: BTreeSet<PermId> = policy.effective(w.tier, w.role).into_iter().collect();
    let subject = role_name(policy, w.role);
    let tier = tier_name(policy, w.tier);
    TestResult {
        kind: "what-can",
        index: w.index,
        name: format!(
            "what can {subject} do{}",
            tier.as_ref()
                .map_or_else(String::new, |t| format!(" on {t}"))
        ),
        passed: expected == actual,
        location: None,
        decision: None,
        set: Some(compare_sets(
            subject,
            tier,
            &expected,
            &actual,
            |p| perm_name(policy, p),
            |p| explain(policy, w.tier, w.role, p),
        )),
    }
}
