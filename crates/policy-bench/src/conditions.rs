//! Conditions (issue 25): with [`Spec::conditions`], which `condition`
//! lines the policy declares and which roles' last grant holds only under
//! conditions (`grants res13.update when own`, `grants res7.* when
//! feature.export and mfa`).

use std::fmt::Write;

use super::{level_of, share, Spec, WILDCARD_EVERY};

/// The conditions a generated policy may declare: id and label, in
/// declaration order. Some ids are dotted, as a permission's.
pub(crate) const CONDITIONS: [(&str, &str); 8] = [
    ("own", "On items they created"),
    ("shared", "On items shared with them"),
    (
        "setting.public_channels",
        "The workspace allows public channels",
    ),
    ("setting.guest_access", "The workspace allows guests"),
    ("feature.export", "The export feature is enabled"),
    ("feature.audit_log", "The audit log is enabled"),
    ("mfa", "The user signed in with a second factor"),
    (
        "network.allowlisted",
        "The request comes from an allowed network",
    ),
];
/// Every how many roles one's last grant holds under one condition.
const WHEN_EVERY: usize = 9;
/// Every how many roles one's last grant holds under two conditions
/// (instead of one, where both rates meet).
const WHEN_BOTH_EVERY: usize = 31;
/// How far apart, in [`CONDITIONS`], the two conditions of a conjunction are.
const BOTH_APART: usize = 3;

/// The conditions (ids, in the order the `when` clause writes them) under
/// which role `i`'s last grant holds: with conditions, every ninth role's
/// one (counted round the eight conditions), every 31st role's two (`when
/// a and b`). Empty for the others, for a role with one permission (its
/// only grant stays unconditional), and for the first two roles of each
/// level (the assertions name them); always empty without conditions.
/// A role that grants its resource with a wildcard (`grants res10.*`)
/// makes the wildcard conditional; the others split their last
/// permission off into a grant of its own (with its `on enterprise`
/// clause, if it had one).
pub fn when_conditions(spec: &Spec, i: usize) -> Vec<&'static str> {
    let j = i - level_of(spec, i).1;
    if !spec.conditions || j < 2 || share(spec, i) < 2 {
        return Vec::new();
    }
    let id = |k: usize| CONDITIONS.get(k % CONDITIONS.len()).map_or("own", |c| c.0);
    if i % WHEN_BOTH_EVERY == 7 {
        let a = i / WHEN_BOTH_EVERY;
        vec![id(a), id(a + BOTH_APART)]
    } else if i % WHEN_EVERY == 4 {
        vec![id(i / WHEN_EVERY)]
    } else {
        Vec::new()
    }
}

/// The `when` clause of role `i`'s last grant (` when own and mfa`), or
/// the empty string.
pub(crate) fn when_clause(spec: &Spec, i: usize) -> String {
    let ids = when_conditions(spec, i);
    if ids.is_empty() {
        String::new()
    } else {
        format!(" when {}", ids.join(" and "))
    }
}

/// Whether role `i` grants its resource with a wildcard.
pub(crate) fn wildcard_role(i: usize) -> bool {
    i % WILDCARD_EVERY == 3
}

/// The `condition` lines of the conditions some grant of `roles` names,
/// in [`CONDITIONS`] order (an unused one would be warning P0319), after a
/// comment; nothing without conditions.
pub(crate) fn write_conditions(out: &mut String, spec: &Spec, roles: usize) {
    if !spec.conditions {
        return;
    }
    let mut used = [false; CONDITIONS.len()];
    for i in 0..roles {
        for id in when_conditions(spec, i) {
            if let Some(k) = CONDITIONS.iter().position(|c| c.0 == id) {
                if let Some(u) = used.get_mut(k) {
                    *u = true;
                }
            }
        }
    }
    if !used.contains(&true) {
        return;
    }
    out.push_str("// Facts a request may state; some grants hold only under them.\n");
    for ((id, label), _) in CONDITIONS.iter().zip(used).filter(|(_, u)| *u) {
        let _ = writeln!(out, "condition {id} \"{label}\"");
    }
    out.push('\n');
}
