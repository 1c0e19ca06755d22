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
//! (`cloud+pro`); [`parse_context`] also takes them in any order, as
//! `dimension=value`, and separated by `,` or a space (what a `+` in a URL
//! query string decodes to).

use crate::decl::{Dimension, Tier, TierId, TierSet};

/// How contexts are written: the values of each dimension, in dimension
/// order, joined by this.
pub const CONTEXT_SEPARATOR: char = '+';

/// How many contexts `dims` combine into: the product of their sizes (0
/// when it overflows), or 1 (the implicit context) when there are none.
pub fn context_count(dims: &[Dimension]) -> usize {
    dims.iter()
        .try_fold(1usize, |n, d| n.checked_mul(d.values.len()))
        .unwrap_or(0)
}

/// The stride of dimension `d` in a context id (the product of the sizes
/// of the dimensions after it).
fn stride(dims: &[Dimension], d: usize) -> usize {
    dims.iter()
        .skip(d + 1)
        .map(|x| x.values.len().max(1))
        .product()
}

/// The index of the value dimension `d` takes in `context`.
pub fn value_of(dims: &[Dimension], context: TierId, d: usize) -> Option<usize> {
    let dim = dims.get(d)?;
    let len = dim.values.len().max(1);
    Some(context.index() / stride(dims, d) % len)
}

/// The context whose value of each dimension is `values[d]`.
pub fn context_of(dims: &[Dimension], values: &[usize]) -> TierId {
    let id = dims
        .iter()
        .zip(values)
        .fold(0usize, |acc, (dim, &v)| acc * dim.values.len().max(1) + v);
    TierId(id as u32)
}

/// The contexts `dims` combine into, named by their values (see the
/// module documentation); empty when there are no dimensions. A context's
/// span is that of its first dimension's value.
pub fn contexts(dims: &[Dimension]) -> Vec<Tier> {
    if dims.is_empty() {
        return Vec::new();
    }
    let n = context_count(dims);
    (0..n as u32)
        .map(TierId)
        .map(|ctx| {
            let mut id = String::new();
            let mut span = None;
            for (d, dim) in dims.iter().enumerate() {
                let Some(value) = value_of(dims, ctx, d).and_then(|v| dim.values.get(v)) else {
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
pub(crate) fn select(dims: &[Dimension], d: usize, keep: impl Fn(usize) -> bool) -> TierSet {
    let mut set = TierSet::default();
    for ctx in (0..context_count(dims) as u32).map(TierId) {
        if value_of(dims, ctx, d).is_some_and(&keep) {
            set.insert(ctx);
        }
    }
    set
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
            ContextError::UnknownValue { .. } | ContextError::UnknownDimension { .. }
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

/// The context `text` names: one value of each dimension, as `value` or
/// `dimension=value`, joined by `+` or `,` in any order. Only for a policy
/// with dimensions; the one parser of contexts, behind every command's
/// `--on`/`--tier`, test files and the server.
pub fn parse_context(dims: &[Dimension], text: &str) -> Result<TierId, ContextError> {
    let chosen = parse_values(dims, text)?;
    let mut values = Vec::with_capacity(dims.len());
    for (dim, c) in dims.iter().zip(&chosen) {
        match c {
            Some(v) => values.push(*v),
            None => {
                return Err(ContextError::Missing {
                    dimension: dim.name.clone(),
                })
            }
        }
    }
    Ok(context_of(dims, &values))
}

/// The contexts that have every value `text` names, where `text` may
/// leave dimensions out (`plan=pro`: every edition's `pro`), for the
/// listings that show several contexts. Lowest first.
pub fn matching_contexts(dims: &[Dimension], text: &str) -> Result<Vec<TierId>, ContextError> {
    let chosen = parse_values(dims, text)?;
    Ok((0..context_count(dims) as u32)
        .map(TierId)
        .filter(|&ctx| {
            chosen
                .iter()
                .enumerate()
                .all(|(d, c)| c.is_none_or(|v| value_of(dims, ctx, d) == Some(v)))
        })
        .collect())
}

/// The value `text` gives each dimension, if any (see [`parse_context`]).
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
        let names: Vec<String> = contexts(&two()).into_iter().map(|t| t.id).collect();
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
        let names: Vec<String> = contexts(&one).into_iter().map(|t| t.id).collect();
        assert_eq!(names, ["free", "team"], "one dimension: its values");
        assert!(contexts(&[]).is_empty());
        assert_eq!(context_count(&[]), 1);
    }

    #[test]
    fn every_context_parses_back_from_its_name_and_from_any_spelling() {
        let dims = two();
        for (i, t) in contexts(&dims).iter().enumerate() {
            assert_eq!(parse_context(&dims, &t.id), Ok(TierId(i as u32)));
            let (e, p) = t.id.split_once('+').unwrap_or_default();
            let spelled = format!("plan={p}, edition={e}");
            assert_eq!(parse_context(&dims, &spelled), Ok(TierId(i as u32)));
            let decoded = t.id.replace('+', " ");
            assert_eq!(parse_context(&dims, &decoded), Ok(TierId(i as u32)));
            for d in 0..dims.len() {
                let v = value_of(&dims, TierId(i as u32), d).unwrap_or(usize::MAX);
                assert_eq!(dims[d].values[v].id, if d == 0 { e } else { p });
            }
        }
    }

    #[test]
    fn a_context_must_name_one_known_value_of_each_dimension() {
        let dims = two();
        assert_eq!(
            parse_context(&dims, "cloud"),
            Err(ContextError::Missing {
                dimension: "plan".into()
            })
        );
        assert!(matches!(
            parse_context(&dims, "cloud+free+pro"),
            Err(ContextError::Twice { .. })
        ));
        let e = parse_context(&dims, "clod+free").unwrap_err();
        assert_eq!(e.suggestion(), Some("cloud"));
        assert!(e.is_unknown_name());
        let e = parse_context(&dims, "plan=cloud+free").unwrap_err();
        assert_eq!(e.to_string(), "dimension `plan` has no value `cloud`");
        let e = parse_context(&dims, "plna=pro+cloud").unwrap_err();
        assert_eq!(e.suggestion(), Some("plan"));
    }

    #[test]
    fn a_partial_context_matches_every_context_with_its_values() {
        let dims = two();
        let names = |ids: Vec<TierId>| -> Vec<String> {
            let all = contexts(&dims);
            ids.iter().map(|c| all[c.index()].id.clone()).collect()
        };
        assert_eq!(
            names(matching_contexts(&dims, "plan=pro").unwrap_or_default()),
            ["cloud+pro", "server+pro", "dedicated+pro"]
        );
        assert_eq!(
            names(matching_contexts(&dims, "server+free").unwrap_or_default()),
            ["server+free"]
        );
        assert_eq!(matching_contexts(&dims, "").map(|v| v.len()), Ok(6));
        assert!(matching_contexts(&dims, "plan=cloud").is_err());
    }

    #[test]
    fn select_keeps_the_contexts_whose_value_passes() {
        let dims = two();
        let pro = select(&dims, 1, |v| v >= 1);
        let names: Vec<String> = pro
            .iter()
            .filter_map(|c| contexts(&dims).get(c.index()).map(|t| t.id.clone()))
            .collect();
        assert_eq!(names, ["cloud+pro", "server+pro", "dedicated+pro"]);
    }
}
