//! Building the clauses shared by declarations and statements: `on`
//! clauses (tier constraints) and `when` clauses.

use pest::iterators::Pair;

use super::{Builder, Rule};
use crate::ast::*;

impl Builder {
    pub(super) fn tier_constraint(&self, pair: Pair<'_, Rule>) -> Option<TierConstraint> {
        let span = self.span(&pair);
        let mut terms: Vec<TierSelector> = Vec::new();
        let mut or_at = Vec::new();
        for p in pair.into_inner() {
            if p.as_rule() == Rule::kw_or {
                or_at.push(terms.len());
            } else {
                terms.extend(self.tier_term(p));
            }
        }
        if terms.is_empty() || or_at.last().is_some_and(|&k| k >= terms.len()) {
            return None;
        }
        Some(TierConstraint { terms, or_at, span })
    }

    /// One `and`-joined term of an `on` clause (`None` for the keywords).
    pub(super) fn tier_term(&self, sel: Pair<'_, Rule>) -> Option<TierSelector> {
        Some(match sel.as_rule() {
            Rule::tier_range => {
                let mut op = CmpOp::Ge;
                let mut tier = None;
                for p in sel.into_inner() {
                    match p.as_rule() {
                        Rule::cmp_op => {
                            op = match p.as_str() {
                                ">" => CmpOp::Gt,
                                "<=" => CmpOp::Le,
                                "<" => CmpOp::Lt,
                                _ => CmpOp::Ge,
                            }
                        }
                        Rule::ident => tier = Some(self.ident(p)),
                        _ => {}
                    }
                }
                TierSelector::Range { op, tier: tier? }
            }
            Rule::tier_list => TierSelector::List(
                sel.into_inner()
                    .filter(|p| p.as_rule() == Rule::ident)
                    .map(|p| self.ident(p))
                    .collect(),
            ),
            _ => return None,
        })
    }

    /// Builds a `when` clause.
    pub(super) fn when_clause(&self, pair: Pair<'_, Rule>) -> WhenClause {
        let span = self.span(&pair);
        let mut conditions = Vec::new();
        let mut negated = false;
        for c in pair.into_inner() {
            match c.as_rule() {
                Rule::negation => negated = true,
                Rule::cond_id => conditions.push(CondRef {
                    id: self.ident(c),
                    negated: std::mem::take(&mut negated),
                }),
                _ => {}
            }
        }
        WhenClause { conditions, span }
    }
}
