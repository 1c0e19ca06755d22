//! Conditions by name: the facts a request states (`--when own`,
//! `"when": {"own": true}`), resolved against the policy's `condition`
//! lines, and decisions weighed with them.

use policy_compiler::{ConditionSet, Decision, Facts, Outcome, PermId, RoleId, TierId};

use crate::error::EvalError;
use crate::model::Evaluator;

impl Evaluator {
    /// The facts `given` states, each a condition's id and whether it
    /// holds; an unknown condition is an error with a did-you-mean (never
    /// ignored: a misspelt fact must not turn a deny into an allow or the
    /// reverse).
    pub fn facts<S: AsRef<str>>(&self, given: &[(S, bool)]) -> Result<Facts, EvalError> {
        let mut facts = Facts::default();
        for (name, value) in given {
            let name = name.as_ref();
            let Some(i) = self.policy.condition_id(name) else {
                return Err(EvalError::UnknownName {
                    kind: crate::NameKind::Condition,
                    name: name.to_string(),
                    suggestion: crate::model::suggest(
                        name,
                        self.policy.conditions().iter().map(|c| c.id.as_str()),
                    ),
                });
            };
            facts.set(i, *value);
        }
        Ok(facts)
    }

    /// The outcome of a request by ids under `facts`: the decision table
    /// decides what is allowed whatever the facts; what only conditions
    /// allow is weighed against them, from the evaluator's index of the
    /// conditional cells (the same as [`policy_compiler::Policy::outcome`]).
    ///
    /// For one role, a permission no role holds under conditions is the
    /// table's alone, as [`Evaluator::decide`]; for one that some role
    /// does, the index is looked at first (a cell it holds is one the
    /// table does not allow), so that a conditional decision costs one
    /// lookup, and an unconditional one the index's (usually one load),
    /// then the table's.
    #[inline(always)]
    pub fn outcome(&self, tier: TierId, roles: &[RoleId], perm: PermId, facts: Facts) -> Outcome {
        let ways = match roles {
            [role] if self.conditional.has_perm(perm) => {
                match self.conditional.find(&self.policy, tier, *role, perm) {
                    Some(ways) => ways,
                    None if self.decide_one(tier, *role, perm) => {
                        return Outcome::Allow {
                            when: ConditionSet::default(),
                        }
                    }
                    None => return Outcome::Deny,
                }
            }
            [role] if self.decide_one(tier, *role, perm) => {
                return Outcome::Allow {
                    when: ConditionSet::default(),
                }
            }
            [_] => return Outcome::Deny,
            _ if self.decide(tier, roles, perm) => {
                return Outcome::Allow {
                    when: ConditionSet::default(),
                }
            }
            _ => return self.weigh(tier, roles, perm, facts),
        };
        // One role, held under conditions, the usual way (one): weighed
        // here as `Outcome::weigh` would (a way allows, or a failing fact
        // denies).
        match ways {
            [way] if facts.meet(*way) => Outcome::Allow { when: *way },
            [way] if facts.contradict(*way) => Outcome::Deny,
            _ => self.weigh(tier, roles, perm, facts),
        }
    }

    /// The outcome of a request the table does not allow: every role's
    /// ways, weighed ([`Outcome::weigh`]). Kept out of line, so that the
    /// usual request's path stays short.
    #[cold]
    #[inline(never)]
    fn weigh(&self, tier: TierId, roles: &[RoleId], perm: PermId, facts: Facts) -> Outcome {
        Outcome::weigh(
            roles
                .iter()
                .map(|&r| self.conditional.ways(&self.policy, tier, r, perm)),
            facts,
        )
    }

    /// [`Evaluator::explain`] under `facts`: an allow that rests on
    /// conditions, or the third outcome, *conditional*, with the ways that
    /// would allow it.
    pub fn explain_with(
        &self,
        tier: TierId,
        roles: &[RoleId],
        perm: PermId,
        facts: Facts,
    ) -> Decision {
        self.policy.explain_with(self, tier, roles, perm, facts)
    }
}

impl Evaluator {
    /// Ways as condition ids: each way the list of its conditions.
    pub fn way_names(&self, ways: &[policy_compiler::ConditionSet]) -> Vec<Vec<String>> {
        ways.iter()
            .map(|w| self.policy.condition_names(*w))
            .collect()
    }

    /// The roles that may use `perm` on `tier` only under conditions, in
    /// declaration order, with their ways (the listing beside `who_can`).
    pub fn conditional_roles(&self, tier: TierId, perm: PermId) -> Vec<(RoleId, Vec<Vec<String>>)> {
        if !self.policy.has_conditional() {
            return Vec::new();
        }
        (0..self.role_count() as u32)
            .map(RoleId)
            .filter_map(|r| {
                let ways = self.policy.conditional_ways(tier, r, perm);
                (!ways.is_empty()).then(|| (r, self.way_names(ways)))
            })
            .collect()
    }

    /// The permissions `role` may use on `tier` only under conditions, in
    /// declaration order, with their ways (the listing beside `what_can`).
    pub fn conditional_perms(&self, tier: TierId, role: RoleId) -> Vec<(PermId, Vec<Vec<String>>)> {
        if !self.policy.has_conditional() {
            return Vec::new();
        }
        (0..self.perm_count() as u32)
            .map(PermId)
            .filter_map(|p| {
                let ways = self.policy.conditional_ways(tier, role, p);
                (!ways.is_empty()).then(|| (p, self.way_names(ways)))
            })
            .collect()
    }
}

/// Reads one `--when` argument: `own` or `own=true` (the condition holds),
/// `own=false` or `not own` (it does not), as a `when` clause writes it.
pub fn parse_fact(text: &str) -> Result<(String, bool), String> {
    let negated = text
        .strip_prefix("not")
        .filter(|rest| rest.starts_with(char::is_whitespace))
        .map(str::trim_start);
    let (name, value) = match (negated, text.split_once('=')) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "`{text}`: write `not CONDITION` or `CONDITION=false`, not both"
            ))
        }
        (Some(name), None) => (name, false),
        (None, None) => (text, true),
        (None, Some((n, "true"))) => (n, true),
        (None, Some((n, "false"))) => (n, false),
        (None, Some((_, v))) => {
            return Err(format!(
                "`{text}`: a fact is `CONDITION`, `CONDITION=true`, `CONDITION=false` or `not CONDITION`, not `={v}`"
            ))
        }
    };
    if name.is_empty() {
        return Err(format!("`{text}` names no condition"));
    }
    Ok((name.to_string(), value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy_syntax::SourceFile;

    fn eval() -> Evaluator {
        let text = "condition own \"Own\"\ncondition public \"Public\"\n\
                    permission items.delete \"Delete\"\n\
                    role guest \"Guest\" {\n  grants items.delete when own and public\n}\n\
                    role admin \"Admin\" { grants items.delete }\n";
        let (p, d) = policy_compiler::compile(&SourceFile::new("c.policy", text));
        assert!(d.is_empty(), "{d:?}");
        Evaluator::from_policy(&p)
    }

    #[test]
    fn three_outcomes_from_the_facts_given() {
        let e = eval();
        let (t, guest, admin, del) = (TierId(0), RoleId(0), RoleId(1), PermId(0));
        let f = |given: &[(&str, bool)]| e.facts(given).unwrap();
        let both = policy_compiler::ConditionSet(3);
        assert_eq!(
            e.outcome(t, &[guest], del, f(&[])),
            Outcome::Conditional { ways: vec![both] }
        );
        assert_eq!(
            e.outcome(t, &[guest], del, f(&[("own", true)])),
            Outcome::Conditional {
                ways: vec![policy_compiler::ConditionSet(2)]
            }
        );
        assert_eq!(
            e.outcome(t, &[guest], del, f(&[("own", true), ("public", true)])),
            Outcome::Allow { when: both }
        );
        assert_eq!(
            e.outcome(t, &[guest], del, f(&[("public", false)])),
            Outcome::Deny
        );
        assert_eq!(
            e.outcome(t, &[admin], del, f(&[("own", false)])),
            Outcome::Allow {
                when: policy_compiler::ConditionSet::default()
            }
        );
        // The table alone never allows a conditional cell.
        assert!(!e.decide(t, &[guest], del));
        let d = e.explain_with(t, &[guest], del, f(&[("own", true)]));
        assert_eq!(d.outcome_str(), "conditional");
        assert_eq!(d.conditional, [["public"]]);
        assert_eq!(d.reasons[0].kind, policy_compiler::ReasonKind::Conditional);
        let d = e.explain_with(t, &[guest], del, f(&[("own", true), ("public", true)]));
        assert_eq!(
            (d.outcome_str(), d.when.as_slice()),
            ("allow", &["own".to_string(), "public".to_string()][..])
        );
    }

    #[test]
    fn an_unknown_fact_is_an_error_with_a_did_you_mean() {
        let e = eval();
        let err = e.facts(&[("onw", true)]).unwrap_err();
        assert_eq!(err.suggestion(), Some("own"));
        assert_eq!(parse_fact("own"), Ok(("own".to_string(), true)));
        assert_eq!(parse_fact("a.b=false"), Ok(("a.b".to_string(), false)));
        assert!(parse_fact("own=maybe").is_err());
        assert!(parse_fact("=true").is_err());
    }

    #[test]
    fn a_fact_reads_as_a_when_clause_writes_it() {
        let ok = |t: &str| parse_fact(t).unwrap();
        assert_eq!(ok("own"), ("own".to_string(), true));
        assert_eq!(ok("own=true"), ("own".to_string(), true));
        assert_eq!(ok("own=false"), ("own".to_string(), false));
        assert_eq!(ok("not own"), ("own".to_string(), false));
        assert_eq!(ok("not  setting.x"), ("setting.x".to_string(), false));
        // `not` alone, or glued to a name, is a condition's name.
        assert_eq!(ok("notify"), ("notify".to_string(), true));
        assert_eq!(ok("not"), ("not".to_string(), true));
        assert!(parse_fact("not own=false").is_err());
        assert!(parse_fact("not ").is_err());
        assert!(parse_fact("own=yes").is_err());
        assert!(parse_fact("=true").is_err());
    }
}
