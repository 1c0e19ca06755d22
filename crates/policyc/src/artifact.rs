//! The compiled-policy artifact written by `policyc compile`. The types live
//! in `policy-eval`, which also loads them; this module re-exports them.

pub use policy_eval::Artifact;
