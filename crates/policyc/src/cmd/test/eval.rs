//! Running resolved test cases against the [`Evaluator`] a service loads,
//! with the derivation (for an allow) or the deny reason behind every
//! actual answer, worded as `policyc query` words them.

use std::collections::BTreeSet;

use policy_compiler::{PermId, RoleId, TierId};
use policy_eval::Evaluator;
use serde::Serialize;

use policy_eval::ReasonKind;

use super::schema::{Assignment, Case, Decision, Reason, TestFile, WhatCan, WhoCan};

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

/// The result of an `assignments` expectation.
#[derive(Debug, Serialize)]
pub struct AssignmentResult {
    /// The role.
    pub role: String,
    /// The tier, `null` for a tierless policy.
    pub tier: Option<String>,
    /// Whether the test file expects it assignable.
    pub expected: bool,
    /// Whether the policy says it is.
    pub actual: bool,
    /// Why, in the engine's words (`policyc assignable`'s message).
    pub why: String,
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
    /// Details of an assignment expectation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignment: Option<AssignmentResult>,
}

/// Runs every test of a file, in file order: cases, `who-can`, `what-can`.
/// Every answer comes from the [`Evaluator`] a service would load, and
/// every explanation from its [`Evaluator::explain`].
pub fn run(eval: &Evaluator, file: &TestFile) -> Vec<TestResult> {
    let mut out: Vec<TestResult> = file.cases.iter().map(|c| case(eval, c)).collect();
    out.extend(file.who_can.iter().map(|w| who_can(eval, w)));
    out.extend(file.what_can.iter().map(|w| what_can(eval, w)));
    out.extend(file.assignments.iter().map(|a| assignment(eval, a)));
    out
}

fn assignment(eval: &Evaluator, a: &Assignment) -> TestResult {
    let role = role_name(eval, a.role);
    let tier = tier_name(eval, a.tier);
    // The one answer of `policyc assignable` (and its words).
    let answer = policy_eval::wire::assignment(eval, &role, tier.as_deref(), None);
    let (actual, why) = match answer {
        Ok(w) => (w.assignable, w.message),
        Err(e) => (false, e.to_string()),
    };
    TestResult {
        kind: "assignment",
        index: a.index,
        name: format!(
            "{role} is {}assignable{}",
            if a.assignable { "" } else { "not " },
            tier.as_ref()
                .map_or_else(String::new, |t| format!(" on {t}"))
        ),
        passed: actual == a.assignable,
        location: None,
        decision: None,
        set: None,
        assignment: Some(AssignmentResult {
            role,
            tier,
            expected: a.assignable,
            actual,
            why,
        }),
    }
}

fn role_name(eval: &Evaluator, r: RoleId) -> String {
    eval.role_name(r)
        .map_or_else(|| "?".into(), |x| x.0.to_string())
}

fn perm_name(eval: &Evaluator, p: PermId) -> String {
    eval.perm_name(p)
        .map_or_else(|| "?".into(), |x| x.0.to_string())
}

fn tier_name(eval: &Evaluator, t: TierId) -> Option<String> {
    eval.tier_name(t).map(str::to_string)
}

/// The reason kind of one role's decision: the kind of the first reason
/// of its explanation (`granted` or `inherited` for an allow).
pub fn reason_kind(eval: &Evaluator, t: TierId, r: RoleId, p: PermId) -> Reason {
    let d = eval.explain(t, &[r], p);
    Reason(
        d.reasons
            .first()
            .map(|x| x.kind)
            .filter(|k| !k.is_nearest_miss())
            .unwrap_or(ReasonKind::NotGranted),
    )
}

/// One line per reason of the decision for `r` alone (the nearest miss
/// left out), each with `file:line:column` where it applies: the wording
/// of `policyc query`, which is the evaluator's.
pub fn explain(eval: &Evaluator, t: TierId, r: RoleId, p: PermId) -> Vec<String> {
    lines(eval, &eval.explain(t, &[r], p))
}

fn lines(eval: &Evaluator, d: &policy_eval::Decision) -> Vec<String> {
    d.reasons
        .iter()
        .filter(|x| !x.kind.is_nearest_miss())
        .map(|x| match x.location {
            Some(l) => format!(
                "{} ({}:{}:{})",
                x.message,
                eval.policy().file_name_of(&l),
                l.line,
                l.column
            ),
            None => x.message.clone(),
        })
        .collect()
}

fn case(eval: &Evaluator, c: &Case) -> TestResult {
    let roles: Vec<String> = c.roles.iter().map(|r| role_name(eval, *r)).collect();
    let action = perm_name(eval, c.action);
    // In a policy with conditional grants, every case is decided and
    // explained under its facts (`when:`), by the one engine.
    if eval.policy().has_conditional() {
        let weighed = eval.explain_with(c.tier, &c.roles, c.action, c.facts);
        let decision = match weighed.outcome_str() {
            "allow" => Decision::Allow,
            "conditional" => Decision::Conditional,
            _ => Decision::Deny,
        };
        let reason = weighed
            .reasons
            .iter()
            .find(|x| !x.kind.is_nearest_miss())
            .map(|x| Reason(x.kind));
        let passed = decision == c.expect && c.reason.is_none_or(|want| Some(want) == reason);
        return result(
            c,
            roles,
            action,
            eval,
            decision,
            reason,
            lines(eval, &weighed),
            passed,
        );
    }
    let deciding = c
        .roles
        .iter()
        .copied()
        .find(|r| eval.decide_one(c.tier, *r, c.action));
    let decision = if deciding.is_some() {
        Decision::Allow
    } else {
        Decision::Deny
    };
    let first = deciding.or_else(|| c.roles.first().copied());
    let reason = first.map(|r| reason_kind(eval, c.tier, r, c.action));
    let explanation = match (deciding, c.roles.as_slice()) {
        (Some(r), _) | (None, &[r]) => explain(eval, c.tier, r, c.action),
        (None, all) => all
            .iter()
            .flat_map(|r| {
                let kind = reason_kind(eval, c.tier, *r, c.action);
                explain(eval, c.tier, *r, c.action)
                    .into_iter()
                    .map(move |l| format!("{}: {l}", kind.as_str()))
            })
            .collect(),
    };
    let passed = decision == c.expect && c.reason.is_none_or(|want| Some(want) == reason);
    result(
        c,
        roles,
        action,
        eval,
        decision,
        reason,
        explanation,
        passed,
    )
}

/// The result of decision case `c`.
#[expect(
    clippy::too_many_arguments,
    reason = "the parts of one result, computed by two paths"
)]
fn result(
    c: &Case,
    roles: Vec<String>,
    action: String,
    eval: &Evaluator,
    decision: Decision,
    reason: Option<Reason>,
    explanation: Vec<String>,
    passed: bool,
) -> TestResult {
    let name = c.name.clone().unwrap_or_else(|| {
        format!("{} → {}{}", roles.join(" + "), action, {
            tier_name(eval, c.tier).map_or_else(String::new, |t| format!(" on {t}"))
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
            tier: tier_name(eval, c.tier),
            expected: Verdict {
                decision: c.expect.as_str(),
                reason: c.reason.map(Reason::as_str),
            },
            actual: Verdict {
                decision: decision.as_str(),
                reason: reason.map(Reason::as_str),
            },
            explanation,
        }),
        set: None,
        assignment: None,
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

fn who_can(eval: &Evaluator, w: &WhoCan) -> TestResult {
    let expected: BTreeSet<RoleId> = w.roles.iter().copied().collect();
    let actual: BTreeSet<RoleId> = eval.who_can(w.tier, w.action).into_iter().collect();
    let subject = perm_name(eval, w.action);
    let tier = tier_name(eval, w.tier);
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
            |r| role_name(eval, r),
            |r| explain(eval, w.tier, r, w.action),
        )),
        assignment: None,
    }
}

fn what_can(eval: &Evaluator, w: &WhatCan) -> TestResult {
    let expected: BTreeSet<PermId> = w.permissions.iter().copied().collect();
    let actual: BTreeSet<PermId> = eval.what_can(w.tier, w.role).into_iter().collect();
    let subject = role_name(eval, w.role);
    let tier = tier_name(eval, w.tier);
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
            |p| perm_name(eval, p),
            |p| explain(eval, w.tier, w.role, p),
        )),
        assignment: None,
    }
}
