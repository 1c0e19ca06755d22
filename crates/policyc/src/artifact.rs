//! The compiled-policy artifact written by `policyc compile`. The types
//! live in `policy-eval`, which also loads them from JSON; this module adds
//! the YAML form (all YAML goes through [`crate::yaml`]).

pub use policy_eval::Artifact;
use policy_eval::{EvalError, Evaluator};

use crate::yaml;

/// Loads `policyc compile --format yaml` output: the schema version is read
/// first (another version is `P0570`), then the artifact, which is checked
/// and assembled like a JSON one.
pub fn evaluator_from_yaml(text: &str) -> Result<Evaluator, EvalError> {
    let bad = |e: yaml::Error| EvalError::bad_artifact(format!("not a compiled policy: {e}"));
    let value: yaml::Value = yaml::from_str(text).map_err(bad)?;
    let version = value
        .get("schema_version")
        .and_then(yaml::Value::as_u64)
        .map(|v| u32::try_from(v).unwrap_or(u32::MAX));
    policy_eval::check_version(version)?;
    let artifact: Artifact = yaml::from_value(value).map_err(bad)?;
    Evaluator::from_artifact(&artifact)
}

/// The artifact as YAML.
pub fn to_yaml(artifact: &Artifact) -> Result<String, yaml::Error> {
    yaml::to_string(artifact)
}
