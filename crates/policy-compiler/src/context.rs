//! Dimensions and the contexts they combine into.
//!
//! A product is sold along dimensions: ordered ones (`dimension plan free <
//! pro < enterprise`; `tiers` is the one named `tier`) and unordered ones
//! (`dimension edition cloud | server`). A *context* is one value of each
//! dimension, and every decision is made in a context. The contexts are the
//! combinations in mixed radix, the first dimension most significant, so a
//! policy with one dimension has its values, in order, as its contexts (its
//! tiers), and everything that computed per tier computes per context.
//!
//! A context is written as its values joined by `+` in dimension order
//! (`cloud+pro`); [`ContextSpace::parse`] also takes them in any order, as
//! `dimension=value`, and separated by `,` or a space (what a `+` in a URL
//! query string decodes to).

use crate::decl::{Dimension, Tier, TierId, TierSet};

/// How contexts are written: the values of each dimension, in dimension
/// order, joined by this.
pub const CONTEXT_SEPARATOR: char = '+';

/// How many combinations `dims` make: the product of their sizes (0
/// when it overflows), or 1 (the implicit context) when there are none.
/// With `offered` lines, a policy's contexts are some of these
/// ([`ContextSpace::count`]).
pub fn context_count(dims: &[Dimension]) -> usize {
    dims.iter()
        .try_fold(1usize, |n, d| n.checked_mul(d.values.len()))
        .unwrap_or(0)
}

/// The stride of dimension `d` in a combination's id (the product of the
/// sizes of the dimensions after it).
fn stride(dims: &[Dimension], d: usize) -> usize {
    dims.iter()
        .skip(d + 1)
        .map(|x| x.values.len().max(1))
        .product()
}

/// The combination whose value of each dimension is `values[d]`, as its
/// mixed-radix id.
fn combination_of(dims: &[Dimension], values: &[usize]) -> usize {
    dims.iter()
        .zip(values)
        .fold(0usize, |acc, (dim, &v)| acc * dim.values.len().max(1) + v)
}

/// A policy's contexts: the combinations of one value of each dimension,
/// in mixed radix (the first dimension most significant), or only those
/// its `offered` lines select. A context's [`TierId`] is its position
/// among the contexts, so every per-tier table has one entry per context
/// the product sells. The one mapping between contexts and values.
#[derive(Debug, Clone, Copy)]
pub struct ContextSpace<'a> {
    dims: &'a [Dimension],
    /// The mixed-radix id of each offered combination, ascending; `None`:
    /// every combination is a context.
    offered: Option<&'a [u32]>,
}

impl<'a> ContextSpace<'a> {
    /// The contexts of `dims`, restricted to the combinations `offered`
    /// names (mixed-radix ids, ascending) when it is given.
    pub fn new(dims: &'a [Dimension], offered: Option<&'a [u32]>) -> Self {
        ContextSpace { dims, offered }
    }

    /// The dimensions.
    pub fn dimensions(&self) -> &'a [Dimension] {
        self.dims
    }

    /// Whether `offered` lines restrict the combinations.
    pub fn is_restricted(&self) -> bool {
        self.offered.is_some()
    }

    /// How many contexts there are (0 when the dimensions overflow), or 1
    /// (the implicit context) when there are no dimensions.
    pub fn count(&self) -> usize {
        match self.offered {
            Some(o) => o.len(),
            None => context_count(self.dims),
        }
    }

    /// The mixed-radix id of context `ctx`.
    fn combination(&self, ctx: TierId) -> Option<usize> {
        match self.offered {
            Some(o) => o.get(ctx.index()).map(|&c| c as usize),
            None => Some(ctx.index()),
        }
    }

    /// The context that is combination `c`, if it is one (offered).
    fn context_at(&self, c: usize) -> Option<TierId> {
        match self.offered {
            Some(o) => o.binary_search(&(c as u32)).ok().map(|i| TierId(i as u32)),
            None => (c < context_count(self.dims)).then_some(TierId(c as u32)),
        }
    }

    /// The index of the value dimension `d` takes in `context`.
    pub fn value_of(&self, context: TierId, d: usize) -> Option<usize> {
        let dim = self.dims.get(d)?;
        let len = dim.values.len().max(1);
        let c = self.combination(context)?;
        Some(c / stride(self.dims, d) % len)
    }

    /// The context whose value of each dimension is `values[d]`, if the
    /// product offers it.
    pub fn context_of(&self, values: &[usize]) -> Option<TierId> {
        self.context_at(combination_of(self.dims, values))
    }

    /// The contexts, named by their values (see the module documentation);
    /// empty when there are no dimensions. A context's span is that of its
    /// first dimension's value.
    pub fn contexts(&self) -> Vec<Tier> {
        if self.dims.is_empty() {
            return Vec::new();
        }
        (0..self.count() as u32)
            .map(TierId)
            .map(|ctx| {
                let mut id = String::new();
                let mut span = None;
                for (d, dim) in self.dims.iter().enumerate() {
                    let Some(value) = self.value_of(ctx, d).and_then(|v| dim.values.get(v)) else {
                        continue;
                    };
                    if !id.is_empty() {
                        id.push(CONTEXT_SEPARATOR);
                    }
                    id.push_str(&value.id);
                    span.get_or_insert(value.span);
                }
                Tier {
                    id,
                    span: span.unwrap_or_default(),
                }
            })
            .collect()
    }

    /// The contexts in which dimension `d`'s value satisfies `keep` (by index).
    pub(crate) fn select(&self, d: usize, keep: impl Fn(usize) -> bool) -> TierSet {
        let mut set = TierSet::default();
        for ctx in (0..self.count() as u32).map(TierId) {
            if self.value_of(ctx, d).is_some_and(&keep) {
                set.insert(ctx);
            }
        }
        set
    }

    /// The context `text` names: one value of each dimension, as `value` or
    /// `dimension=value`, joined by `+` or `,` in any order. Only for a
    /// policy with dimensions; the one parser of contexts, behind every
    /// command's `--on`/`--tier`, test files and the server.
    pub fn parse(&self, text: &str) -> Result<TierId, ContextError> {
        let chosen = parse_values(self.dims, text)?;
        let mut values = Vec::with_capacity(self.dims.len());
        for (dim, c) in self.dims.iter().zip(&chosen) {
            match c {
                Some(v) => values.push(*v),
                None => {
                    return Err(ContextError::Missing {
                        dimension: dim.name.clone(),
                    })
                }
            }
        }
        self.context_of(&values)
            .ok_or_else(|| ContextError::NotOffered {
                context: self
                    .dims
                    .iter()
                    .zip(&values)
                    .filter_map(|(d, &v)| d.values.get(v).map(|x| x.id.as_str()))
                    .collect::<Vec<_>>()
                    .join(&CONTEXT_SEPARATOR.to_string()),
                offered: self.contexts().into_iter().map(|t| t.id).collect(),
            })
    }

    /// The contexts that have every value `text` names, where `text` may
    /// leave dimensions out (`plan=pro`: every edition's `pro`), for the
    /// listings that show several contexts. Lowest first.
    pub fn matching(&self, text: &str) -> Result<Vec<TierId>, ContextError> {
        let chosen = parse_values(self.dims, text)?;
        Ok((0..self.count() as u32)
            .map(TierId)
            .filter(|&ctx| {
                chosen
                    .iter()
                    .enumerate()
                    .all(|(d, c)| c.is_none_or(|v| self.value_of(ctx, d) == Some(v)))
            })
            .collect())
    }
}

/// Why a context's text names no context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextError {
    /// A value no dimension has (or not of the dimension named before `=`).
    UnknownValue {
        /// The value as given.
        value: String,
        /// The dimension it was given for, if named (`plan=x`).
        dimension: Option<String>,
        /// The closest value, if one is close enough.
        suggestion: Option<String>,
    },
    /// A dimension the policy does not declare (before `=`).
    UnknownDimension {
        /// The name as given.
        name: String,
        /// The closest dimension, if one is close enough.
        suggestion: Option<String>,
    },
    /// No value is given for a dimension.
    Missing {
        /// The dimension.
        dimension: String,
    },
    /// A combination the product does not offer (its `offered` lines
    /// leave it out).
    NotOffered {
        /// The combination, named as a context.
        context: String,
        /// The contexts the product offers.
        offered: Vec<String>,
    },
    /// Two values are given for one dimension.
    Twice {
        /// The dimension.
        dimension: String,
        /// The first value given.
        first: String,
        /// The second.
        second: String,
    },
}

impl ContextError {
    /// The did-you-mean suggestion, if any.
    pub fn suggestion(&self) -> Option<&str> {
        match self {
            ContextError::UnknownValue { suggestion, .. }
            | ContextError::UnknownDimension { suggestion, .. } => suggestion.as_deref(),
            _ => None,
        }
    }

    /// Whether the text named something that does not exist (`P0401`),
    /// rather than too few or too many values (`P0402`).
    pub fn is_unknown_name(&self) -> bool {
        matches!(
            self,
            ContextError::UnknownValue { .. }
                | ContextError::UnknownDimension { .. }
                | ContextError::NotOffered { .. }
        )
    }
}

impl std::fmt::Display for ContextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContextError::UnknownValue {
                value,
                dimension: Some(d),
                ..
            } => write!(f, "dimension `{d}` has no value `{value}`"),
            ContextError::UnknownValue { value, .. } => {
                write!(f, "no dimension has the value `{value}`")
            }
            ContextError::UnknownDimension { name, .. } => write!(f, "unknown dimension `{name}`"),
            ContextError::NotOffered { context, .. } => {
                write!(f, "the product does not offer context `{context}`")
            }
            ContextError::Missing { dimension } => {
                write!(f, "the context names no value of dimension `{dimension}`")
            }
            ContextError::Twice {
                dimension,
                first,
                second,
            } => write!(
                f,
                "the context names two values of dimension `{dimension}`: `{first}` and `{second}`"
            ),
        }
    }
}

/// The dimensions as help text: `` `edition` (`cloud` | `server`), `plan` (`free` < `pro`) ``.
pub fn describe_dimensions(dims: &[Dimension]) -> String {
    dims.iter()
        .map(|d| {
            let sep = if d.unordered { " | " } else { " < " };
            let values: Vec<String> = d.values.iter().map(|v| format!("`{}`", v.id)).collect();
            format!("`{}` ({})", d.name, values.join(sep))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The value `text` gives each dimension, if any (see [`ContextSpace::parse`]).
fn parse_values(dims: &[Dimension], text: &str) -> Result<Vec<Option<usize>>, ContextError> {
    let mut chosen: Vec<Option<(usize, &str)>> = vec![None; dims.len()];
    // A space separates too: `+` in a URL's query string arrives as one.
    for part in text
        .split([CONTEXT_SEPARATOR, ',', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (dim_name, value) = match part.split_once('=') {
            Some((d, v)) => (Some(d.trim()), v.trim()),
            None => (None, part),
        };
        let d = match dim_name {
            Some(name) => match dims.iter().position(|x| x.name == name) {
                Some(d) => Some(d),
                None => {
                    return Err(ContextError::UnknownDimension {
                        name: name.to_string(),
                        suggestion: policy_syntax::did_you_mean(
                            name,
                            dims.iter().map(|x| x.name.as_str()),
                        ),
                    })
                }
            },
            None => None,
        };
        let found = dims.iter().enumerate().find_map(|(i, dim)| {
            if d.is_some_and(|d| d != i) {
                return None;
            }
            dim.values
                .iter()
                .position(|v| v.id == value)
                .map(|v| (i, v))
        });
        let Some((i, v)) = found else {
            let candidates: Vec<&str> = dims
                .iter()
                .enumerate()
                .filter(|(i, _)| d.is_none_or(|d| d == *i))
                .flat_map(|(_, x)| x.values.iter().map(|v| v.id.as_str()))
                .collect();
            return Err(ContextError::UnknownValue {
                value: value.to_string(),
                dimension: d.and_then(|d| dims.get(d)).map(|x| x.name.clone()),
                suggestion: policy_syntax::did_you_mean(value, candidates),
            });
        };
        let Some(slot) = chosen.get_mut(i) else {
            continue;
        };
        if let Some((_, first)) = slot {
            return Err(ContextError::Twice {
                dimension: dims.get(i).map_or_else(String::new, |x| x.name.clone()),
                first: first.to_string(),
                second: value.to_string(),
            });
        }
        *slot = Some((v, value));
    }
    Ok(chosen.into_iter().map(|c| c.map(|(v, _)| v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy_syntax::Span;

    fn dim(name: &str, unordered: bool, values: &[&str]) -> Dimension {
        Dimension {
            name: name.to_string(),
            unordered,
            values: values
                .iter()
                .map(|v| Tier {
                    id: v.to_string(),
                    span: Span::default(),
                })
                .collect(),
            span: None,
        }
    }

    fn two() -> Vec<Dimension> {
        vec![
            dim("edition", true, &["cloud", "server", "dedicated"]),
            dim("plan", false, &["free", "pro"]),
        ]
    }

    #[test]
    fn contexts_are_every_combination_first_dimension_most_significant() {
        let names: Vec<String> = ContextSpace::new(&two(), None)
            .contexts()
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(
            names,
            [
                "cloud+free",
                "cloud+pro",
                "server+free",
                "server+pro",
                "dedicated+free",
                "dedicated+pro"
            ]
        );
        let one = vec![dim("tier", false, &["free", "team"])];
        let names: Vec<String> = ContextSpace::new(&one, None)
            .contexts()
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(names, ["free", "team"], "one dimension: its values");
        assert!(ContextSpace::new(&[], None).contexts().is_empty());
        assert_eq!(context_count(&[]), 1);
    }

    #[test]
    fn every_context_parses_back_from_its_name_and_from_any_spelling() {
        let dims = two();
        let space = ContextSpace::new(&dims, None);
        for (i, t) in space.contexts().iter().enumerate() {
            assert_eq!(space.parse(&t.id), Ok(TierId(i as u32)));
            let (e, p) = t.id.split_once('+').unwrap_or_default();
            let spelled = format!("plan={p}, edition={e}");
            assert_eq!(space.parse(&spelled), Ok(TierId(i as u32)));
            let decoded = t.id.replace('+', " ");
            assert_eq!(space.parse(&decoded), Ok(TierId(i as u32)));
            for (d, dim) in dims.iter().enumerate() {
                let v = space.value_of(TierId(i as u32), d).unwrap_or(usize::MAX);
                assert_eq!(dim.values[v].id, if d == 0 { e } else { p });
            }
        }
    }

    #[test]
    fn a_context_must_name_one_known_value_of_each_dimension() {
        let dims = two();
        let space = ContextSpace::new(&dims, None);
        assert_eq!(
            space.parse("cloud"),
            Err(ContextError::Missing {
                dimension: "plan".into()
            })
        );
        assert!(matches!(
            space.parse("cloud+free+pro"),
            Err(ContextError::Twice { .. })
        ));
        let e = space.parse("clod+free").unwrap_err();
        assert_eq!(e.suggestion(), Some("cloud"));
        assert!(e.is_unknown_name());
        let e = space.parse("plan=cloud+free").unwrap_err();
        assert_eq!(e.to_string(), "dimension `plan` has no value `cloud`");
        let e = space.parse("plna=pro+cloud").unwrap_err();
        assert_eq!(e.suggestion(), Some("plan"));
    }

    #[test]
    fn a_partial_context_matches_every_context_with_its_values() {
        let dims = two();
        let space = ContextSpace::new(&dims, None);
        let names = |ids: Vec<TierId>| -> Vec<String> {
            let all = space.contexts();
            ids.iter().map(|c| all[c.index()].id.clone()).collect()
        };
        assert_eq!(
            names(space.matching("plan=pro").unwrap_or_default()),
            ["cloud+pro", "server+pro", "dedicated+pro"]
        );
        assert_eq!(
            names(space.matching("server+free").unwrap_or_default()),
            ["server+free"]
        );
        assert_eq!(space.matching("").map(|v| v.len()), Ok(6));
        assert!(space.matching("plan=cloud").is_err());
    }

    #[test]
    fn select_keeps_the_contexts_whose_value_passes() {
        let dims = two();
        let space = ContextSpace::new(&dims, None);
        let pro = space.select(1, |v| v >= 1);
        let names: Vec<String> = pro
            .iter()
            .filter_map(|c| space.contexts().get(c.index()).map(|t| t.id.clone()))
            .collect();
        assert_eq!(names, ["cloud+pro", "server+pro", "dedicated+pro"]);
    }

    #[test]
    fn offered_contexts_are_numbered_densely_and_the_others_are_refused() {
        let dims = two();
        // cloud+free, cloud+pro, server+pro: the combinations 0, 1, 3.
        let offered = [0u32, 1, 3];
        let space = ContextSpace::new(&dims, Some(&offered));
        let names: Vec<String> = space.contexts().into_iter().map(|t| t.id).collect();
        assert_eq!(names, ["cloud+free", "cloud+pro", "server+pro"]);
        assert_eq!(space.count(), 3);
        assert_eq!(space.parse("pro+server"), Ok(TierId(2)));
        let e = space.parse("server+free").unwrap_err();
        assert!(e.is_unknown_name());
        assert_eq!(
            e.to_string(),
            "the product does not offer context `server+free`"
        );
        assert_eq!(space.matching("plan=pro"), Ok(vec![TierId(1), TierId(2)]));
        assert_eq!(space.matching("dedicated"), Ok(vec![]));
        let pro = space.select(1, |v| v >= 1);
        assert_eq!(pro.iter().collect::<Vec<_>>(), [TierId(1), TierId(2)]);
        assert_eq!(space.value_of(TierId(2), 0), Some(1), "server");
        assert_eq!(
            space.context_of(&[2, 0]),
            None,
            "dedicated+free is not offered"
        );
    }
}
