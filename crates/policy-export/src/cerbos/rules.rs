//! The allow rules of a Cerbos export: each `grants` line split by the
//! roles it reaches and the facts under which it does (`split.rs`), and
//! the derived roles those sets of roles become.

use std::collections::HashMap;

use policy_compiler::{PermId, Policy, RoleId};

use super::Cel;
use crate::contexts::{any_facts, when_parts, Contexts, Test};
use crate::flow::{lines, role_set, Hierarchy};
use crate::split::{exclusion_conditions, split_line, MAX_EXCLUSION_CONDITIONS};

/// The derived roles: one per set of roles some line reaches.
#[derive(Default)]
pub(crate) struct DerivedRoles {
    /// Each one's name and roles (parents first).
    pub(crate) list: Vec<(String, Vec<RoleId>)>,
    /// Where each set of roles is in `list`.
    index: HashMap<Vec<RoleId>, usize>,
}

impl DerivedRoles {
    /// The name of the derived role for `reached` (a line of `g` reaching
    /// it; `below`: `g` and every role that inherits it).
    fn name(&mut self, policy: &Policy, g: RoleId, below: &[RoleId], reached: &[RoleId]) -> String {
        if let Some((name, _)) = self.index.get(reached).and_then(|&i| self.list.get(i)) {
            return name.clone();
        }
        let id = |r: RoleId| policy.role(r).map_or("", |r| r.id.as_str());
        let mut name = id(g).to_string();
        if reached.len() < below.len() {
            // The roles that exclude: not reached, with a parent reached.
            let hit = role_set(policy, reached);
            let cut = below.iter().filter(|s| {
                !hit.contains(s.index())
                    && policy
                        .role(**s)
                        .is_some_and(|r| r.parents.iter().any(|p| hit.contains(p.role.index())))
            });
            name.push_str(".except");
            for &s in cut {
                name.push('.');
                name.push_str(id(s));
            }
        }
        self.index.insert(reached.to_vec(), self.list.len());
        self.list.push((name.clone(), reached.to_vec()));
        name
    }
}

/// One `EFFECT_ALLOW` rule.
pub(crate) struct AllowRule {
    /// The role whose line it is.
    pub(crate) role: RoleId,
    /// Where the line's first pattern is.
    pub(crate) span: policy_syntax::Span,
    /// The permissions.
    pub(crate) perms: Vec<PermId>,
    /// The derived role it is for.
    pub(crate) derived: String,
    /// Its conditions, all of which must hold.
    pub(crate) conditions: Vec<String>,
}

/// The allow rules of every line, and the derived roles they name.
pub(crate) fn allow_rules(policy: &Policy, contexts: &Contexts) -> (Vec<AllowRule>, DerivedRoles) {
    let h = Hierarchy::new(policy);
    let mut derived = DerivedRoles::default();
    let mut rules = Vec::new();
    for g in (0..policy.roles().len() as u32).map(RoleId) {
        let below = h.below(g);
        let k = exclusion_conditions(policy, &below);
        if k.len() > MAX_EXCLUSION_CONDITIONS {
            continue;
        }
        for line in lines(policy, g) {
            let gate = match contexts.test(line.gate, contexts.all(), &Cel) {
                Test::Always => None,
                Test::Never => continue,
                Test::Expr(e) => Some(e),
            };
            for part in split_line(policy, &below, g, &line, &k) {
                let mut conditions: Vec<String> = gate.iter().cloned().collect();
                conditions.extend(when_parts(policy, line.when, &Cel));
                if let Some(terms) = &part.facts {
                    conditions.push(any_facts(policy, terms, &Cel));
                }
                rules.push(AllowRule {
                    role: g,
                    span: line.span,
                    perms: part.perms,
                    derived: derived.name(policy, g, &below, &part.reached),
                    conditions,
                });
            }
        }
    }
    (rules, derived)
}
