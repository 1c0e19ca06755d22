//! The context of a test entry: `tier:` or `on:`, through the policy's one
//! context lookup.

use policy_compiler::{context, TierId};
use policy_syntax::did_you_mean;
use serde::Deserialize;

use super::super::locate::Seg;
use super::{quoted, Resolver};

/// `on:` — a context as a mapping of dimension to value (`{edition:
/// cloud, plan: pro}`) or as text (`cloud+pro`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawContext {
    Text(String),
    Values(std::collections::BTreeMap<String, String>),
}

impl RawContext {
    /// As the text the one context lookup reads.
    fn text(&self) -> String {
        match self {
            RawContext::Text(t) => t.clone(),
            RawContext::Values(m) => m
                .iter()
                .map(|(d, v)| format!("{d}={v}"))
                .collect::<Vec<_>>()
                .join("+"),
        }
    }
}

impl Resolver<'_> {
    pub(super) fn tier(
        &mut self,
        at: &[Seg],
        tier: Option<&str>,
        on: Option<&RawContext>,
    ) -> Option<TierId> {
        let tiers: Vec<&str> = self.policy.tiers().iter().map(|t| t.id.as_str()).collect();
        let listed = quoted(&tiers);
        let on_text = on.map(RawContext::text);
        let (name, key): (Option<&str>, &'static [&'static str]) = match (tier, &on_text) {
            (Some(_), Some(_)) => {
                let mut path = at.to_vec();
                path.push(Seg::Key(&["on"]));
                self.problem(
                    &path,
                    "both `tier` and `on` name the context".to_string(),
                    "remove one",
                    None,
                    Some("`tier` is the short form of `on`; keep one of them".into()),
                );
                return None;
            }
            (Some(t), None) => (Some(t), &["tier"]),
            (None, Some(t)) => (Some(t.as_str()), &["on"]),
            (None, None) => (None, &["tier"]),
        };
        let dims = self.policy.dimensions();
        match name {
            None if tiers.is_empty() => Some(TierId(0)),
            None => {
                let (message, help) = if dims.len() > 1 {
                    (
                        format!(
                            "missing `on`: `{}` has several dimensions",
                            self.policy_name()
                        ),
                        format!(
                            "add `on:` with one value of each: {}",
                            context::describe_dimensions(dims)
                        ),
                    )
                } else {
                    (
                        format!("missing `tier`: `{}` declares tiers", self.policy_name()),
                        format!("add `tier:` with one of {listed}"),
                    )
                };
                self.problem(at, message, "this entry names no tier", None, Some(help));
                None
            }
            Some(name) => {
                let mut path = at.to_vec();
                path.push(Seg::Key(key));
                if tiers.is_empty() {
                    self.problem(
                        &path,
                        format!(
                            "`{}` declares no tiers, so `{}: {name}` cannot apply",
                            self.policy_name(),
                            key.first().copied().unwrap_or("tier")
                        ),
                        "remove this",
                        None,
                        Some(format!(
                            "leave out `{}`",
                            key.first().copied().unwrap_or("tier")
                        )),
                    );
                    return None;
                }
                if let Some(t) = self.policy.tier_id(name) {
                    return Some(t);
                }
                let error = match self.policy.context(name) {
                    Some(Ok(t)) => return Some(t),
                    Some(Err(e)) => e,
                    None => return None,
                };
                if dims.len() > 1 || matches!(error, context::ContextError::UnknownDimension { .. })
                {
                    let suggestion = error.suggestion().map(str::to_string);
                    self.problem(
                        &path,
                        error.to_string(),
                        &format!("not a context of `{}`", self.policy_name()),
                        suggestion,
                        Some(format!(
                            "name one value of each dimension: {}",
                            context::describe_dimensions(dims)
                        )),
                    );
                    return None;
                }
                let mut sorted = tiers.clone();
                sorted.sort_unstable();
                let suggestion = did_you_mean(name, sorted.iter().copied());
                self.problem(
                    &path,
                    format!("unknown tier `{name}`"),
                    &format!("not a tier of `{}`", self.policy_name()),
                    suggestion,
                    Some(format!("the tiers are {listed}")),
                );
                None
            }
        }
    }
}
