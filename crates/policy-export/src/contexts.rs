//! Sets of contexts written as tests on a request's context: one test per
//! dimension where the set is a product of values (`plan in {pro,
//! enterprise}`), a disjunction by the first dimension where it is not.
//! The same decomposition serves every target; each target supplies its
//! syntax ([`Syntax`]).

use std::collections::{BTreeMap, BTreeSet};

use policy_compiler::{ConditionSet, Policy, TierId, TierSet};

/// A context as the index of its value of each dimension.
type Tuple = Vec<usize>;

/// How a target writes the pieces of a context test.
pub trait Syntax {
    /// The request's attribute holding a dimension's value or a
    /// condition's fact (`context.own`, `R.attr.own`).
    fn attr(&self, name: &str) -> String;
    /// Dimension `dim` takes one of `values` (at least one).
    fn dim_in(&self, dim: &str, values: &[&str]) -> String;
    /// Condition `name` holds (`holds`) or does not: `context.own`,
    /// `!context.own`.
    fn fact(&self, name: &str, holds: bool) -> String {
        if holds {
            self.attr(name)
        } else {
            format!("!{}", self.attr(name))
        }
    }
    /// Every part holds (at least two parts): `a && b`, a part with an
    /// `||` of its own in parentheses, as Cedar and CEL write it.
    fn and(&self, parts: &[String]) -> String {
        parts
            .iter()
            .map(|p| {
                if has_top_level_or(p) {
                    format!("({p})")
                } else {
                    p.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" && ")
    }
    /// Some part holds (at least two parts): `a || b`.
    fn or(&self, parts: &[String]) -> String {
        parts.join(" || ")
    }
}

/// A context test: always true, never true, or an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// Every context in question.
    Always,
    /// No context.
    Never,
    /// The contexts the expression selects.
    Expr(String),
}

/// The policy's contexts as value tuples, and the names of dimensions
/// and values.
#[derive(Debug, Clone)]
pub struct Contexts {
    /// Dimension names and their values, as declared.
    dims: Vec<(String, Vec<String>)>,
    /// The value tuple of each context (by `TierId`).
    tuples: Vec<Tuple>,
}

impl Contexts {
    /// The contexts of `policy`.
    pub fn new(policy: &Policy) -> Self {
        let dims: Vec<(String, Vec<String>)> = policy
            .dimensions()
            .iter()
            .map(|d| {
                (
                    d.name.clone(),
                    d.values.iter().map(|v| v.id.clone()).collect(),
                )
            })
            .collect();
        let space = policy.context_space();
        let tuples = (0..policy.tier_count() as u32)
            .map(|c| {
                (0..dims.len())
                    .map(|d| space.value_of(TierId(c), d).unwrap_or(0))
                    .collect()
            })
            .collect();
        Contexts { dims, tuples }
    }

    /// The dimensions and their values, as declared.
    pub fn dimensions(&self) -> &[(String, Vec<String>)] {
        &self.dims
    }

    /// The dimensions' names, as declared.
    pub fn dimension_names(&self) -> impl Iterator<Item = &str> {
        self.dims.iter().map(|(n, _)| n.as_str())
    }

    /// The names of the contexts of `set`, as policyc writes them: the
    /// value of each dimension joined by `+` (empty without dimensions).
    pub fn names(&self, set: TierSet) -> Vec<String> {
        set.iter()
            .filter_map(|t| self.tuples.get(t.index()))
            .map(|tuple| {
                tuple
                    .iter()
                    .zip(&self.dims)
                    .filter_map(|(v, (_, values))| values.get(*v).map(String::as_str))
                    .collect::<Vec<_>>()
                    .join("+")
            })
            .collect()
    }

    /// The value of each dimension in context `t`, as (dimension, value).
    pub fn values(&self, t: TierId) -> Vec<(&str, &str)> {
        let Some(tuple) = self.tuples.get(t.index()) else {
            return Vec::new();
        };
        tuple
            .iter()
            .zip(&self.dims)
            .filter_map(|(v, (d, values))| Some((d.as_str(), values.get(*v)?.as_str())))
            .collect()
    }

    /// Every context, as a set.
    pub fn all(&self) -> TierSet {
        TierSet::all(self.tuples.len())
    }

    /// Whether some value combination is not a context (`offered` lines).
    pub fn restricted(&self) -> bool {
        let product: usize = self.dims.iter().map(|(_, v)| v.len().max(1)).product();
        product != self.tuples.len()
    }

    /// A test selecting the contexts of `set`, where the contexts outside
    /// `care` may be selected or not (a caller that already tests for
    /// `care` passes it to get a shorter test).
    pub fn test(&self, set: TierSet, care: TierSet, syntax: &dyn Syntax) -> Test {
        let pick = |s: TierSet| -> BTreeSet<Tuple> {
            s.iter()
                .filter_map(|t| self.tuples.get(t.index()).cloned())
                .collect()
        };
        let care_t = pick(care.union(set));
        self.render(&pick(set), &care_t, 0, syntax)
    }

    /// A test selecting exactly the contexts, among every combination of
    /// values: what the `offered` lines allow.
    pub fn offered_test(&self, syntax: &dyn Syntax) -> Test {
        let mut every: BTreeSet<Tuple> = BTreeSet::from([Vec::new()]);
        for (_, values) in &self.dims {
            every = every
                .into_iter()
                .flat_map(|t| {
                    (0..values.len()).map(move |v| {
                        let mut t = t.clone();
                        t.push(v);
                        t
                    })
                })
                .collect();
        }
        let set: BTreeSet<Tuple> = self.tuples.iter().cloned().collect();
        self.render(&set, &every, 0, syntax)
    }

    /// `set` (tuples, all within `care`) from dimension `d` on.
    fn render(
        &self,
        set: &BTreeSet<Tuple>,
        care: &BTreeSet<Tuple>,
        d: usize,
        syntax: &dyn Syntax,
    ) -> Test {
        if set.is_empty() {
            return Test::Never;
        }
        if set == care {
            return Test::Always;
        }
        // A product of per-dimension values: one test per dimension that
        // narrows.
        let projections: Vec<BTreeSet<usize>> = (d..self.dims.len())
            .map(|i| set.iter().filter_map(|t| t.get(i).copied()).collect())
            .collect();
        let product: BTreeSet<Tuple> = care
            .iter()
            .filter(|t| {
                projections
                    .iter()
                    .enumerate()
                    .all(|(k, p)| t.get(d + k).is_some_and(|v| p.contains(v)))
            })
            .cloned()
            .collect();
        if &product == set {
            let parts: Vec<String> = projections
                .iter()
                .enumerate()
                .filter(|(k, p)| {
                    let cared: BTreeSet<usize> =
                        care.iter().filter_map(|t| t.get(d + k).copied()).collect();
                    !cared.is_subset(p)
                })
                .map(|(k, p)| self.dim_in(d + k, p, syntax))
                .collect();
            return joined(parts, |p| syntax.and(p));
        }
        // Otherwise by the values of dimension `d`: values whose remaining
        // sets are equal share one alternative.
        let mut by_rest: BTreeMap<Vec<Tuple>, BTreeSet<usize>> = BTreeMap::new();
        let values: BTreeSet<usize> = care.iter().filter_map(|t| t.get(d).copied()).collect();
        for v in values {
            let rest: Vec<Tuple> = set
                .iter()
                .filter(|t| t.get(d) == Some(&v))
                .cloned()
                .collect();
            if !rest.is_empty() {
                by_rest.entry(rest).or_default().insert(v);
            }
        }
        let mut alternatives: Vec<(usize, String)> = Vec::new();
        for (rest, vs) in by_rest {
            let sub_care: BTreeSet<Tuple> = care
                .iter()
                .filter(|t| t.get(d).is_some_and(|v| vs.contains(v)))
                .cloned()
                .collect();
            let rest_set: BTreeSet<Tuple> = rest.into_iter().collect();
            let head = self.dim_in(d, &vs, syntax);
            let first = vs.first().copied().unwrap_or(0);
            let text = match self.render(&rest_set, &sub_care, d + 1, syntax) {
                Test::Always => head,
                Test::Never => continue,
                Test::Expr(e) => syntax.and(&[head, e]),
            };
            alternatives.push((first, text));
        }
        alternatives.sort();
        joined(alternatives.into_iter().map(|(_, t)| t).collect(), |p| {
            syntax.or(p)
        })
    }

    /// The test that dimension `d` takes one of `values`.
    fn dim_in(&self, d: usize, values: &BTreeSet<usize>, syntax: &dyn Syntax) -> String {
        let Some((name, names)) = self.dims.get(d) else {
            return String::new();
        };
        let vs: Vec<&str> = values
            .iter()
            .filter_map(|v| names.get(*v).map(String::as_str))
            .collect();
        syntax.dim_in(name, &vs)
    }
}

/// The literals of a `when` clause, one test each.
pub(crate) fn when_parts(policy: &Policy, when: ConditionSet, syntax: &dyn Syntax) -> Vec<String> {
    when.literals()
        .filter_map(|(i, holds)| Some(syntax.fact(&policy.conditions().get(i)?.id, holds)))
        .collect()
}

/// Any of `terms` (conjunctions of facts), as one test: `context.own ||
/// !context.archived`; `false` for none.
pub(crate) fn any_facts(policy: &Policy, terms: &[ConditionSet], syntax: &dyn Syntax) -> String {
    let parts: Vec<String> = terms
        .iter()
        .map(|t| match when_parts(policy, *t, syntax).as_slice() {
            [one] => one.clone(),
            lits => syntax.and(lits),
        })
        .collect();
    match parts.as_slice() {
        [] => "false".into(),
        [one] => one.clone(),
        _ => syntax.or(&parts),
    }
}

/// `text` as a string literal of Cedar and of CEL (both read `\"`, `\\`
/// and `\n`).
pub(crate) fn string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `expr` has an `||` outside parentheses, brackets and strings
/// (and so needs parentheses as an operand of `&&`).
pub(crate) fn has_top_level_or(expr: &str) -> bool {
    let (mut depth, mut quoted, mut escaped) = (0i32, false, false);
    let mut prev = ' ';
    for c in expr.chars() {
        if quoted {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            '|' if prev == '|' && depth == 0 => return true,
            _ => {}
        }
        prev = c;
    }
    false
}

/// `parts` as one test: none is always, one is itself, more are joined.
fn joined(parts: Vec<String>, join: impl Fn(&[String]) -> String) -> Test {
    match parts.as_slice() {
        [] => Test::Always,
        [one] => Test::Expr(one.clone()),
        _ => Test::Expr(join(&parts)),
    }
}
