//! Checking `assert` declarations exhaustively over tiers × roles × permissions.

use policy_syntax::{Code, Counterexample, Diagnostic};

use crate::explain::wording::label;
use crate::explain::{DenyReason, Facts, Step};
use crate::model::*;
use crate::resolve::{AssertClaim, ResolvedAssert};

/// A counterexample: (tier, role, permission, whether it should be
/// allowed, the role it was compared against for `includes`, the
/// condition it does without against an `only when`).
type Violation = (
    TierId,
    RoleId,
    PermId,
    bool,
    Option<RoleId>,
    Option<ConditionSet>,
);

/// Adds the derivation of an allowed (tier, role, perm) as labels; held
/// only under conditions, that of a way without the condition `without`
/// (if given), else the first.
fn label_derivation(
    policy: &Policy,
    mut d: Diagnostic,
    (t, r, p): (TierId, RoleId, PermId),
    without: Option<ConditionSet>,
) -> Diagnostic {
    // Held only under conditions: the conditional grant of that way.
    if !policy.allows(t, r, p) {
        let ways = policy.conditional_ways(t, r, p);
        let way = without
            .and_then(|l| ways.iter().find(|w| !l.is_subset(**w)))
            .or(ways.first())
            .copied();
        if let Some((w, (by, g))) =
            way.and_then(|w| Some((w, policy.conditional_grant(t, r, p, w)?)))
        {
            let when = policy.condition_names(w).join("` and `");
            return d.secondary(
                g.span,
                format!(
                    "{} when `{when}`",
                    label::granted(policy.role(by).map_or("?", |x| &x.id), &g.pattern)
                ),
            );
        }
    }
    for step in policy.derivation(t, r, p).unwrap_or_default() {
        d = match step {
            Step::Inherited { role, parent, span } => d.secondary(
                span,
                label::inherited(
                    policy.role(role).map_or("?", |x| &x.id),
                    policy.role(parent).map_or("?", |x| &x.id),
                    policy.acts_as(role, parent),
                ),
            ),
            Step::Granted {
                role,
                pattern,
                span,
                ..
            } => d.secondary(
                span,
                label::granted(policy.role(role).map_or("?", |x| &x.id), &pattern),
            ),
        };
    }
    d
}

fn label_denial(policy: &Policy, mut d: Diagnostic, t: TierId, r: RoleId, p: PermId) -> Diagnostic {
    let tier = policy.tier_name(t).to_string();
    // Held only under conditions: "can" asks for it whatever the facts.
    let way = policy.conditional_ways(t, r, p).first().copied();
    if let Some((w, (_, g))) = way.and_then(|w| Some((w, policy.conditional_grant(t, r, p, w)?))) {
        let when = policy.condition_names(w).join("` and `");
        return d.secondary(g.span, format!("granted only when `{when}`"));
    }
    match policy.why_not(t, r, p) {
        Some(DenyReason::RoleUnavailable { span: Some(s) }) => {
            d = d.secondary(s, label::role_unavailable(&tier));
        }
        Some(DenyReason::PermissionUnavailable { span: Some(s) }) => {
            d = d.secondary(s, label::permission_unavailable(&tier));
        }
        Some(DenyReason::Excluded { span, .. }) => d = d.secondary(span, label::excluded()),
        Some(DenyReason::GateClosed {
            span, tier_span, ..
        }) => {
            d = d.secondary(tier_span.unwrap_or(span), label::gate_closed(&tier));
        }
        _ => {
            if let Some(role) = policy.role(r) {
                d = d.secondary(role.span, label::not_granted());
            }
        }
    }
    d
}

/// Whether an assertion checks nothing: its pattern matches no permission,
/// it is about the roles below a role that inherits from none, or none of
/// its permissions exists on any tier it is asserted on (only `R can P`
/// still checks something there: that R holds P, which fails).
pub(crate) fn vacuous(policy: &Policy, a: &ResolvedAssert) -> bool {
    a.perms.is_empty()
        || matches!(a.kind, AssertClaim::NoneBelow(top) if policy.ancestors(top).is_empty())
        || (!matches!(a.kind, AssertClaim::Can(_)) && !exists_where_asserted(policy, a))
}

/// Whether one of the assertion's permissions exists on one of its tiers.
fn exists_where_asserted(policy: &Policy, a: &ResolvedAssert) -> bool {
    policy
        .tier_ids()
        .filter(|t| a.tiers.contains(*t))
        .any(|t| a.perms.iter().any(|&p| policy.perm_available(p, t)))
}

/// `` `a` `` or `` `a`, `b` and `c` `` (with `and` or `or` as `joiner`).
fn quoted_list(names: &[&str], joiner: &str) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            format!("{} {joiner} {last}", rest.join(", "))
        }
        _ => quoted.join(""),
    }
}

/// Reports every assertion that checks nothing as a `P0310` error: a
/// security invariant that holds vacuously is almost always a typo.
pub(crate) fn check_vacuous(
    policy: &Policy,
    asserts: &[ResolvedAssert],
    diags: &mut Vec<Diagnostic>,
) {
    for a in asserts {
        if a.perms.is_empty() {
            diags.push(
                Diagnostic::new(
                    Code::VacuousAssertion,
                    format!(
                        "assertion checks nothing: `{}` matches no declared permission",
                        a.pattern
                    ),
                )
                .with_source(policy.source())
                .primary(
                    a.pattern_span,
                    "matches nothing, so this assertion always holds",
                )
                .suggest(a.suggestion.clone())
                .help(match (&a.elsewhere, &a.suggestion) {
                    (Some(help), _) => help.clone(),
                    (None, Some(_)) => "fix the pattern so it names the permissions the assertion is about".to_string(),
                    (None, None) => "fix the pattern so it names the permissions the assertion is about; a `*` segment stands for one or more whole segments".to_string(),
                }),
            );
        } else if let Some(d) = unavailable_where_asserted(policy, a) {
            diags.push(d);
        } else if let AssertClaim::NoneBelow(top) = a.kind {
            if policy.ancestors(top).is_empty() {
                let name = policy.role(top).map_or("?", |r| r.id.as_str());
                diags.push(
                    Diagnostic::new(
                        Code::VacuousAssertion,
                        format!("assertion checks nothing: `{name}` inherits from no role"),
                    )
                    .with_source(policy.source())
                    .primary(a.span, format!("no role is below `{name}`"))
                    .help(format!(
                        "`no role below {name}` is about the roles `{name}` inherits from; name a role that inherits, or use `assert only {name} can {}`",
                        a.pattern
                    )),
                );
            }
        }
    }
}

/// The `P0310` of an assertion none of whose permissions exists on the
/// tiers it is asserted on: `cannot`, `only`, `no role`, `every` and
/// `includes` hold there only because there is nothing to hold.
fn unavailable_where_asserted(policy: &Policy, a: &ResolvedAssert) -> Option<Diagnostic> {
    if matches!(a.kind, AssertClaim::Can(_)) || exists_where_asserted(policy, a) {
        return None;
    }
    let asserted: Vec<&str> = policy
        .tier_ids()
        .filter(|t| a.tiers.contains(*t))
        .map(|t| policy.tier_name(t))
        .collect();
    let existing: Vec<&str> = policy
        .tier_ids()
        .filter(|&t| a.perms.iter().any(|&p| policy.perm_available(p, t)))
        .map(|t| policy.tier_name(t))
        .collect();
    let what = if a.pattern.contains('*') {
        format!("no permission `{}` matches exists", a.pattern)
    } else {
        format!("`{}` does not exist", a.pattern)
    };
    let help = match existing.first() {
        Some(lowest) => format!(
            "it exists only on {}; assert it on a tier where it exists (`on {lowest}`), or drop the assertion",
            quoted_list(&existing, "and")
        ),
        None => "it exists on no tier; make it available on some tier, or drop the assertion".to_string(),
    };
    Some(
        Diagnostic::new(
            Code::VacuousAssertion,
            format!(
                "assertion checks nothing: {what} on {}",
                quoted_list(&asserted, "or")
            ),
        )
        .with_source(policy.source())
        .primary(
            a.pattern_span,
            "not available where asserted, so this assertion always holds",
        )
        .help(help),
    )
}

/// At most this many counterexamples are named in a failure's help; JSON
/// output lists every one.
const NAMED_IN_HELP: usize = 3;

/// Checks every assertion; a failing one gives a `P0309` error with the
/// first counterexample (by tier, role, permission order) and its
/// derivation, the count of the others, and every counterexample attached
/// for JSON output.
///
/// The caller (`compile_file`) runs it only on a policy without errors: an
/// incomplete policy (names dropped, or no sets at all after `P0509`) would
/// give a verdict about another policy.
pub(crate) fn check(policy: &Policy, asserts: &[ResolvedAssert], diags: &mut Vec<Diagnostic>) {
    for a in asserts.iter().filter(|a| !vacuous(policy, a)) {
        let tiers: Vec<TierId> = policy.tier_ids().filter(|t| a.tiers.contains(*t)).collect();
        let role_name = |r: RoleId| policy.role(r).map_or("?".to_string(), |x| x.id.clone());
        let perm_name = |p: PermId| {
            policy
                .permission(p)
                .map_or("?".to_string(), |x| x.id.clone())
        };
        let tier_name =
            |t: TierId| (!policy.tiers().is_empty()).then(|| policy.tier_name(t).to_string());
        let on = |t: TierId| tier_name(t).map_or(String::new(), |n| format!(" on `{n}`"));
        // (tier, role, perm, should_be_allowed, the role it was compared
        // against for `includes`)
        let mut violations: Vec<Violation> = Vec::new();
        let all_roles: Vec<RoleId> = (0..policy.roles().len() as u32).map(RoleId).collect();
        // Whether `r` holds `p` on `t` for the claim: under the facts of
        // its `when` (the conditions named hold, the others do not);
        // without one, "can" is "whatever the facts" (held unconditionally)
        // and "cannot" is "never, whatever the facts" (a cell held under
        // any conditions is held).
        let facts = a.when.map(|w| Facts::exactly(w, policy.conditions().len()));
        let held = |t: TierId, r: RoleId, p: PermId, negative: bool| {
            policy.allows(t, r, p)
                || match facts {
                    Some(f) => policy.conditional_ways(t, r, p).iter().any(|c| f.meet(*c)),
                    None => negative && !policy.conditional_ways(t, r, p).is_empty(),
                }
        };
        // For `only when`: the first condition of the claim's `when` that
        // the role can do without (allowed when it fails: held always, or
        // under a way that does not need it).
        let needless = |t: TierId, r: RoleId, p: PermId| {
            let when = a.when.filter(|_| a.only)?;
            let ways = policy.conditional_ways(t, r, p);
            when.literals()
                .find(|&(i, h)| {
                    let l = ConditionSet::literal(i, h);
                    policy.allows(t, r, p) || ways.iter().any(|w| !l.is_subset(*w))
                })
                .map(|(i, h)| ConditionSet::literal(i, h))
        };
        let must_not = |roles: &[RoleId], violations: &mut Vec<_>| {
            for &t in &tiers {
                for &r in roles {
                    for &p in &a.perms {
                        if held(t, r, p, true) {
                            violations.push((t, r, p, false, None, None));
                        }
                    }
                }
            }
        };
        match &a.kind {
            AssertClaim::Only(allowed) => {
                let others: Vec<RoleId> = all_roles
                    .iter()
                    .copied()
                    .filter(|r| !allowed.contains(r))
                    .collect();
                must_not(&others, &mut violations);
            }
            AssertClaim::NoneBelow(top) => must_not(&policy.ancestors(*top), &mut violations),
            AssertClaim::NoRole => must_not(&all_roles, &mut violations),
            AssertClaim::Cannot(roles) => must_not(roles, &mut violations),
            AssertClaim::Can(roles) | AssertClaim::CanEvery(roles) => {
                let every = matches!(a.kind, AssertClaim::CanEvery(_));
                for &t in &tiers {
                    for &r in roles {
                        for &p in &a.perms {
                            if every && !policy.perm_available(p, t) {
                                continue;
                            }
                            if !held(t, r, p, false) {
                                violations.push((t, r, p, true, None, None));
                            } else if let Some(l) = needless(t, r, p) {
                                violations.push((t, r, p, false, None, Some(l)));
                            }
                        }
                    }
                }
            }
            AssertClaim::Includes(roles, others) => {
                for &t in &tiers {
                    for &r in roles {
                        for &p in &a.perms {
                            if held(t, r, p, false) {
                                continue;
                            }
                            // The first role on the right that holds it.
                            if let Some(&o) = others.iter().find(|&&o| held(t, o, p, false)) {
                                violations.push((t, r, p, true, Some(o), None));
                            }
                        }
                    }
                }
            }
        }
        let Some(&(t, r, p, should, compared, without)) = violations.first() else {
            continue;
        };
        let verb = if should { "cannot" } else { "can" };
        let total = violations.len();
        let more = match total - 1 {
            0 => String::new(),
            1 => " (and 1 more counterexample)".to_string(),
            n => format!(" (and {n} more counterexamples)"),
        };
        let about = match compared {
            Some(other) => format!("`{}`", role_name(other)),
            None => format!("`{}`", a.pattern),
        };
        // `R includes S` names `S`, the role `R` was compared against.
        let compared = compared.map_or(String::new(), |other| {
            format!(", which `{}` can", role_name(other))
        });
        // `only when own`: the condition it can do without.
        let without_text = |l: Option<ConditionSet>| {
            let Some((i, holds)) = l.and_then(|l| l.literals().next()) else {
                return String::new();
            };
            let id = policy.conditions().get(i).map_or("?", |c| c.id.as_str());
            match holds {
                true => format!(" even without `{id}`"),
                false => format!(" even when `{id}`"),
            }
        };
        let mut d = Diagnostic::new(
            Code::AssertionFailed,
            format!(
                "assertion failed: `{}` {verb} `{}`{}{}{compared}{more}",
                role_name(r),
                perm_name(p),
                without_text(without),
                on(t)
            ),
        )
        .with_source(policy.source())
        .primary(
            a.span,
            format!("this assertion about {about} does not hold"),
        );
        d = if should {
            label_denial(policy, d, t, r, p)
        } else {
            label_derivation(policy, d, (t, r, p), without)
        };
        let mut help = if should {
            "grant the permission to the role (or one it inherits), or correct the assertion"
                .to_string()
        } else {
            "remove the grant or inheritance that gives it, add an `excludes`, or correct the assertion"
                .to_string()
        };
        if total > 1 {
            let named: Vec<String> = violations
                .iter()
                .skip(1)
                .take(NAMED_IN_HELP)
                .map(|&(t, r, p, should, _, without)| {
                    let verb = if should { "cannot" } else { "can" };
                    format!(
                        "`{}` {verb} `{}`{}{}",
                        role_name(r),
                        perm_name(p),
                        without_text(without),
                        on(t)
                    )
                })
                .collect();
            let rest = total - 1 - named.len();
            let tail = if rest > 0 {
                format!(", … and {rest} more")
            } else {
                String::new()
            };
            help.push_str(&format!(
                "; {total} counterexamples in all (`--format json` lists every one): also {}{tail}",
                named.join(", ")
            ));
        }
        let counterexamples = violations
            .iter()
            .map(|&(t, r, p, should, _, _)| Counterexample {
                tier: tier_name(t),
                role: role_name(r),
                permission: perm_name(p),
                allowed: !should,
            })
            .collect();
        diags.push(d.help(help).with_counterexamples(counterexamples));
    }
}
