//! The one place where reasons are put into words. Explanations (`query`,
//! `test`, the evaluator) and the labels of failed assertions take their
//! text from here, so a reason reads the same wherever it is shown.

/// Ways of conditions as words: each way its conditions quoted and joined
/// by "and", the ways joined by `or` (`` `own` and `x` or when `y` ``).
fn ways_text(ways: &[Vec<String>], or: &str) -> String {
    ways.iter()
        .map(|w| {
            w.iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .collect::<Vec<_>>()
        .join(or)
}

fn quoted(items: &[impl AsRef<str>]) -> String {
    items
        .iter()
        .map(|t| format!("`{}`", t.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `` `admin` inherits `developer` ``, or across levels
/// `` `organization.manager` acts as `team.admin` ``.
pub fn inherited(role: &str, parent: &str, acts_as: bool) -> String {
    if acts_as {
        format!("`{role}` acts as `{parent}`")
    } else {
        format!("`{role}` inherits `{parent}`")
    }
}

/// `` `admin` grants `billing.manage` `` or, through a wildcard,
/// `` `admin` grants `billing.*`, which matches `billing.manage` ``.
pub fn granted(role: &str, pattern: &str, perm: &str) -> String {
    if pattern == perm {
        format!("`{role}` grants `{perm}`")
    } else {
        format!("`{role}` grants `{pattern}`, which matches `{perm}`")
    }
}

/// A conditional grant: `` `guest` can use `items.delete` when `own` (On
/// items they created) ``, through another role's grant `` (`guest`'s
/// grant of `items.*`) ``; `allowed`: the facts say the conditions hold.
pub fn conditional(
    role: &str,
    by: Option<&str>,
    pattern: &str,
    perm: &str,
    conditions: &[(String, &str)],
    allowed: bool,
) -> String {
    // A negated condition is named without its label (which says what
    // holds): "`not archived`".
    let when: Vec<String> = conditions
        .iter()
        .map(|(id, label)| match id.starts_with("not ") {
            true => format!("`{id}`"),
            false => format!("`{id}` ({label})"),
        })
        .collect();
    let grant = match (by, pattern == perm) {
        (None, true) => String::new(),
        (None, false) => format!(", by its grant of `{pattern}`"),
        (Some(b), true) => format!(", by `{b}`'s grant"),
        (Some(b), false) => format!(", by `{b}`'s grant of `{pattern}`"),
    };
    let verb = if allowed { "can use" } else { "could use" };
    format!(
        "`{role}` {verb} `{perm}` when {}{grant}",
        when.join(" and ")
    )
}

/// The exclusion under conditions behind a way, after the grant:
/// ", unless `archived` (`excludes items.delete when archived`)", naming
/// the role (`by`) when it is not the one asked about.
pub fn unless(when: &[String], by: Option<&str>, pattern: &str, doc: Option<&str>) -> String {
    let when = when.join(" and ");
    let whose = by.map(|b| format!("`{b}`'s ")).unwrap_or_default();
    let line = with_doc(format!("`excludes {pattern} when {when}`"), doc);
    format!(", unless `{when}` ({whose}{line})")
}

/// A conditional grant whose conditions the facts say do not all hold.
pub fn condition_failed(conditional: &str) -> String {
    format!("{conditional}, but the facts given say a condition does not hold")
}

/// A reason followed by the doc comment of the line it points at, if any
/// (its lines joined by spaces): "`admin` grants `x` — Admins pay."
pub fn with_doc(reason: String, doc: Option<&str>) -> String {
    match doc.map(|d| d.split_whitespace().collect::<Vec<_>>().join(" ")) {
        Some(d) if !d.is_empty() => format!("{reason} — {d}"),
        _ => reason,
    }
}

/// "on tier `team`", or with several dimensions "in context `cloud+pro`".
pub fn on_tier(tier: &str) -> String {
    if tier.contains(crate::context::CONTEXT_SEPARATOR) {
        format!("in context `{tier}`")
    } else {
        format!("on tier `{tier}`")
    }
}

/// The role cannot be assigned on the tier.
pub fn role_unavailable(role: &str, tier: &str) -> String {
    format!("role `{role}` is not available {}", on_tier(tier))
}

/// The role exists on the tier but is no longer given there.
pub fn not_assignable(role: &str, tier: &str) -> String {
    format!(
        "role `{role}` can no longer be assigned {}; its holders keep it",
        on_tier(tier)
    )
}

/// The role can be newly given on the tier (`None`: a tierless policy).
pub fn assignable(role: &str, tier: Option<&str>) -> String {
    match tier {
        Some(t) => format!("role `{role}` can be assigned {}", on_tier(t)),
        None => format!("role `{role}` can be assigned"),
    }
}

/// The permission does not exist on the tier.
pub fn permission_unavailable(perm: &str, tier: &str) -> String {
    format!("permission `{perm}` does not exist {}", on_tier(tier))
}

/// `role` loses `perm` to an exclusion: its own (`by` is `None`) or an
/// ancestor's; `pattern` is the exclusion as written, `when` its
/// conditions (`excludes items.delete when archived`).
pub fn excluded(
    role: &str,
    by: Option<&str>,
    perm: &str,
    pattern: &str,
    when: &[String],
) -> String {
    let mut how = if pattern == perm {
        String::new()
    } else {
        format!(" through `{pattern}`")
    };
    if !when.is_empty() {
        how.push_str(&format!(" when `{}`", when.join("` and `")));
    }
    match by {
        None => format!("role `{role}` excludes `{perm}`{how}"),
        Some(by) => format!("role `{role}` inherits from `{by}`, which excludes `{perm}`{how}"),
    }
}

/// `by` grants `pattern` only on the tiers `on`, not on `tier`.
pub fn gate_closed(by: &str, pattern: &str, on: &[&str], tier: &str) -> String {
    format!(
        "`{by}` grants `{pattern}` only on {}, not on `{tier}`",
        quoted(on)
    )
}

/// Nothing grants the permission to the role or its ancestors.
pub fn not_granted(perm: &str, role: &str) -> String {
    format!("nothing grants `{perm}` to role `{role}`")
}

/// The nearest miss: which roles can use the permission (on the tier).
pub fn other_roles(others: &[String], perm: &str, tier: Option<&str>) -> String {
    let on = tier.map(|t| format!(" on `{t}`")).unwrap_or_default();
    if others.is_empty() {
        format!("no role can use `{perm}`{on}")
    } else {
        format!("{} can use `{perm}`{on}", quoted(others))
    }
}

/// The nearest miss: the tiers on which the role would have the permission.
pub fn other_tiers(role: &str, perm: &str, tiers: &[String]) -> String {
    format!("`{role}` would have `{perm}` on {}", quoted(tiers))
}

/// A decision about ids the policy does not have.
pub fn nothing_known() -> String {
    "the query names no role or permission of this policy".to_string()
}

/// Labels on a failed assertion's source spans: short, since the span
/// says which declaration.
pub mod label {
    /// An inheritance step of the counterexample's derivation.
    pub fn inherited(role: &str, parent: &str, acts_as: bool) -> String {
        super::inherited(role, parent, acts_as)
    }

    /// The grant of the counterexample's derivation.
    pub fn granted(role: &str, pattern: &str) -> String {
        format!("`{role}` is granted `{pattern}` here")
    }

    /// The role's `on` clause shuts it out of the tier.
    pub fn role_unavailable(tier: &str) -> String {
        format!("the role is not available on `{tier}`")
    }

    /// The permission's `on` clause shuts it out of the tier.
    pub fn permission_unavailable(tier: &str) -> String {
        format!("the permission does not exist on `{tier}`")
    }

    /// The decisive exclusion.
    pub fn excluded() -> String {
        "excluded here".to_string()
    }

    /// The closed gate of a grant.
    pub fn gate_closed(tier: &str) -> String {
        format!("this grant does not hold on `{tier}`")
    }

    /// Nothing grants it.
    pub fn not_granted() -> String {
        "nothing grants it to this role".to_string()
    }
}

/// Short forms for listings of what a role holds (the language server's
/// hover), where the line number stands in for the source location.
pub mod listing {
    /// Where a listing's line is: "line 12", or, in a policy project, when
    /// the line is in another file than the one being read, "line 12 of
    /// `billing.policy`".
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct At<'a> {
        /// The 1-based line, in its own file.
        pub line: usize,
        /// The file, when it is not the one being read.
        pub file: Option<&'a str>,
    }

    impl std::fmt::Display for At<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self.file {
                Some(file) => write!(f, "line {} of `{file}`", self.line),
                None => write!(f, "line {}", self.line),
            }
        }
    }

    /// Where a held permission comes from: "granted at line N" (with "by
    /// `pattern`" when a wildcard matched), after "inherited through `a` →
    /// `b`, " when the grant is an ancestor's; the grant's doc comment last.
    ///
    /// `through` holds each role passed, with whether it was reached by an
    /// `acts as` line (said "acts as `team.admin`").
    pub fn provenance(
        through: &[(&str, bool)],
        at: At<'_>,
        pattern: &str,
        perm: &str,
        doc: Option<&str>,
    ) -> String {
        let granted = if pattern == perm {
            format!("granted at {at}")
        } else {
            format!("granted at {at} by `{pattern}`")
        };
        let granted = super::with_doc(granted, doc);
        let chain: Vec<String> = through
            .iter()
            .map(|(r, acts_as)| {
                if *acts_as {
                    format!("acts as `{r}`")
                } else {
                    format!("`{r}`")
                }
            })
            .collect();
        match through.first() {
            None => granted,
            Some((_, true)) => format!("{}, {granted}", chain.join(" → ")),
            Some((_, false)) => format!("inherited through {}, {granted}", chain.join(" → ")),
        }
    }

    /// The mark of a role kept but no longer assignable in a listing
    /// (`who-can`).
    pub fn kept_mark() -> String {
        "(no longer assignable here; holders keep it)".to_string()
    }

    /// The mark of an entry held only under conditions in a listing
    /// (`who-can`, `what-can`): "(only when `own` and `x`, or when `y`)".
    pub fn only_when(ways: &[Vec<String>]) -> String {
        format!("(only when {})", super::ways_text(ways, ", or when "))
    }

    /// The legend of a role kept but no longer assignable (`matrix`).
    pub fn kept_not_assignable() -> String {
        "no longer assignable here: its holders keep it, but it cannot be given".to_string()
    }

    /// A held permission without a derivation (not expected to happen).
    pub fn held() -> String {
        "held".to_string()
    }

    /// A permission an exclusion takes away: at `at`, in ancestor `by`
    /// (`None` for the role's own), with the `excludes` line's doc comment.
    pub fn excluded(at: At<'_>, by: Option<&str>, doc: Option<&str>) -> String {
        let whose = by.map(|b| format!(" in `{b}`")).unwrap_or_default();
        super::with_doc(format!("excluded at {at}{whose}"), doc)
    }

    /// The role cannot be assigned on a tier; `on_line` is its `on` clause.
    pub fn role_unavailable(on_line: Option<At<'_>>) -> String {
        let at = on_line
            .map(|l| format!(" (`on` clause at {l})"))
            .unwrap_or_default();
        format!("not available{at}")
    }

    /// The permission does not exist on a tier.
    pub fn permission_unavailable() -> String {
        "does not exist on this tier".to_string()
    }

    /// A tier of a `what-can` listing where the role may use nothing:
    /// `(nothing)`, or `(nothing: why)`.
    pub fn nothing(why: Option<&str>) -> String {
        match why {
            Some(w) => format!("(nothing: {w})"),
            None => "(nothing)".to_string(),
        }
    }

    /// Why a listing is empty everywhere: the policy has no permissions.
    pub fn no_permissions() -> String {
        "the policy declares no permissions".to_string()
    }
}

/// The lines of `policyc query`'s report around the reasons.
pub mod report {
    /// The one-line verdict: "allowed: `a`, `b` can use `x` on tier `t`"
    /// or "denied: … cannot use …".
    pub fn verdict(allowed: bool, roles: &[String], action: &str, tier: Option<&str>) -> String {
        let on = tier
            .map(|t| format!(" {}", super::on_tier(t)))
            .unwrap_or_default();
        let roles = super::quoted(roles);
        if allowed {
            format!("allowed: {roles} can use `{action}`{on}")
        } else {
            format!("denied: {roles} cannot use `{action}`{on}")
        }
    }

    /// The verdict of the third outcome: "conditional: `guest` can use
    /// `items.delete` only when `own`" (ways joined by "or when").
    pub fn conditional_verdict(
        roles: &[String],
        action: &str,
        tier: Option<&str>,
        ways: &[Vec<String>],
    ) -> String {
        let on = tier
            .map(|t| format!(" {}", super::on_tier(t)))
            .unwrap_or_default();
        format!(
            "conditional: {} can use `{action}`{on} only when {}",
            super::quoted(roles),
            super::ways_text(ways, " or when ")
        )
    }

    /// The conditions an allow rests on: "(when `own`)".
    pub fn when(conditions: &[String]) -> String {
        let c: Vec<String> = conditions.iter().map(|c| format!("`{c}`")).collect();
        format!("(when {})", c.join(" and "))
    }

    /// The headline of an allow's derivation through several roles.
    pub fn derivation_chain(chain: &[String], action: &str) -> String {
        let chain: Vec<String> = chain.iter().map(|r| format!("`{r}`")).collect();
        format!("derivation: {}, which grants `{action}`", chain.join(" → "))
    }

    /// The headline of a one-reason explanation.
    pub fn because(reason: &str) -> String {
        format!("because {reason}")
    }

    /// The headline of an allow's derivation in one role.
    pub fn derivation() -> String {
        "derivation".to_string()
    }

    /// The headline of a deny with one reason per role.
    pub fn because_of(count: usize) -> String {
        format!("because of {count} reasons")
    }

    /// The label on the `on` clause of a closed tier gate.
    pub fn gate_holds_here() -> String {
        "the grant holds only here".to_string()
    }
}

/// The words of a snapshot's cells.
pub mod snapshot {
    /// A role that cannot be assigned on the tier.
    pub const NOT_AVAILABLE: &str = "not available";

    /// A permission held only under conditions: `when own`, or with
    /// several ways `when own and x, or when y`.
    pub fn when(ways: &[String]) -> String {
        format!("when {}", ways.join(", or when "))
    }

    /// Where a role's effective permission comes from: `granted`,
    /// `inherited from a, b` or `granted, also inherited from a`.
    pub fn source<'a>(granted: bool, from: impl Iterator<Item = &'a str>) -> String {
        let mut text = String::from(if granted {
            "granted"
        } else {
            "inherited from "
        });
        for (k, role) in from.enumerate() {
            text.push_str(match (k, granted) {
                (0, false) => "",
                (0, true) => ", also inherited from ",
                _ => ", ",
            });
            text.push_str(role);
        }
        text
    }
}
