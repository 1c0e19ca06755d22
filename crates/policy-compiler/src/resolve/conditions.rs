//! Conditions (`condition own "…"`) and the `when` clauses of grants:
//! duplicates (`P0216`), more than [`MAX_CONDITIONS`] (`P0217`), and
//! unknown names with a did-you-mean (`P0215`), a clause naming a
//! condition and its negation (`P0218`).

use std::collections::HashMap;

use policy_syntax::{Code, Item, PolicyFile, Span, Suggester, WhenClause};

use super::Resolver;
use crate::model::*;

impl Resolver<'_> {
    /// Collects the `condition` lines, in declaration order.
    pub(super) fn collect_conditions(&mut self, file: &PolicyFile) {
        for item in &file.items {
            let Item::Condition(d) = item else { continue };
            if let Some(&prev) = self.condition_index.get(&d.id.name) {
                let prev_span = self.conditions.get(prev).map(|c| c.span);
                let mut diag = self
                    .diag(
                        Code::DuplicateCondition,
                        format!("condition `{}` is declared twice", d.id.name),
                    )
                    .primary(d.id.span, "declared again here")
                    .help("declare each condition once; every `when` naming it refers to that one");
                if let Some(s) = prev_span {
                    diag = diag.secondary(s, "first declared here");
                }
                self.diags.push(diag);
                continue;
            }
            if self.conditions.len() == MAX_CONDITIONS {
                let d = self
                    .diag(
                        Code::TooManyConditions,
                        format!(
                            "more than {MAX_CONDITIONS} conditions: `{}` is one too many",
                            d.id.name
                        ),
                    )
                    .primary(d.id.span, "one condition too many")
                    .help(format!(
                        "a policy declares at most {MAX_CONDITIONS} conditions; conditions that always go together can be one"
                    ));
                self.diags.push(d);
                continue;
            }
            self.condition_index
                .insert(d.id.name.clone(), self.conditions.len());
            self.conditions.push(Condition {
                id: d.id.name.clone(),
                label: d.label.value.clone(),
                description: d.doc.as_ref().map(|x| x.text.clone()),
                span: d.id.span,
            });
        }
    }

    /// `P0319`: conditions no `when` clause names.
    pub(super) fn unused_conditions(&mut self, roles: &[Role]) {
        let used = roles.iter().fold(ConditionSet::default(), |acc, r| {
            let grants = r.grants.iter().map(|g| g.when);
            let exclusions = r.exclusions.iter().map(|e| e.when);
            grants.chain(exclusions).fold(acc, ConditionSet::union)
        });
        for (i, c) in self.conditions.clone().iter().enumerate() {
            if used.literals().any(|(j, _)| j == i) {
                continue;
            }
            let d = self
                .diag(
                    Code::UnusedCondition,
                    format!("no grant depends on condition `{}`", c.id),
                )
                .primary(c.span, "named by no `when`")
                .help(format!(
                    "make a grant depend on it (`grants PERMISSION when {}`), or remove it",
                    c.id
                ));
            self.diags.push(d);
        }
    }

    /// The conditions of a `when` clause, and the clause's span; each
    /// unknown name is reported (and left out, so the grant holds under
    /// fewer conditions only if another is named: with any unknown, the
    /// whole grant is dropped by the caller, failing closed).
    pub(super) fn when_set(&mut self, when: Option<&WhenClause>) -> Option<(ConditionSet, Span)> {
        let w = when?;
        let mut set = ConditionSet::default();
        let mut unknown = false;
        for c in &w.conditions {
            let (c, holds) = (&c.id, !c.negated);
            match self.condition_index.get(&c.name) {
                Some(&i) => set.insert_literal(i, holds),
                None => {
                    unknown = true;
                    let suggestion =
                        Suggester::new(self.conditions.iter().map(|x| &x.id)).did_you_mean(&c.name);
                    let help = if self.conditions.is_empty() {
                        format!(
                            "declare it with `condition {} \"Label\"`: a condition names a fact about the request",
                            c.name
                        )
                    } else {
                        format!(
                            "if `{}` is a new condition, declare it with `condition {} \"Label\"`",
                            c.name, c.name
                        )
                    };
                    let d = self
                        .diag(
                            Code::UnknownCondition,
                            format!("unknown condition `{}`", c.name),
                        )
                        .primary(c.span, "not a declared condition")
                        .suggest(suggestion)
                        .help(help);
                    self.diags.push(d);
                }
            }
        }
        // `when own and not own`: met by no request.
        if set.is_contradictory() && !unknown {
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for c in &w.conditions {
                let Some(&first) = seen.get(c.id.name.as_str()) else {
                    seen.insert(&c.id.name, c.id.span);
                    continue;
                };
                let d = self
                    .diag(
                        Code::ContradictoryConditions,
                        format!(
                            "`{0}` and `not {0}` cannot both hold: this clause is met by no request",
                            c.id.name
                        ),
                    )
                    .primary(c.id.span, "contradicts the other")
                    .secondary(first, "named here")
                    .help("keep one of the two; to cover both cases, write two lines");
                self.diags.push(d);
                break;
            }
            unknown = true;
        }
        // An unknown condition: the grant is kept under a condition no
        // request can meet (all bits), so it never allows.
        if unknown {
            set = ConditionSet(u64::MAX);
        }
        Some((set, self.clause_span(w.span)))
    }
}
