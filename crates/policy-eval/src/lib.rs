//! The policyc evaluator: answers access queries against a compiled policy
//! and explains every decision.
//!
//! An [`Evaluator`] is built from a [`policy_compiler::Policy`] or from the
//! versioned [`Artifact`] that `policyc compile` writes (JSON; or YAML,
//! parsed by the caller), which is the resolved policy itself, so both give
//! the same decisions, the same explanations and the same
//! [`Evaluator::content_hash`]. Every allow bit comes from the evaluator's
//! decision table; explanations are built around that verdict by the
//! compiler's one resolution ([`policy_compiler::Policy::explain_by`]). It
//! offers three ways to ask:
//!
//! - **by interned ids** — [`Evaluator::decide`]`(tier, &[role], perm) -> bool`:
//!   resolve names once ([`Evaluator::role_id`], [`Evaluator::perm_id`],
//!   [`Evaluator::tier_id`]), then each decision is one load and a mask per
//!   role in the interned effective sets (a short chunk directory, one word),
//!   with no allocation;
//! - **by name** — [`Evaluator::decide_by_name`]: resolves through hash maps;
//!   an unknown name is an [`EvalError`] (code `P0401`, with a did-you-mean),
//!   never an allow;
//! - **authorized** — [`Evaluator::authorize`] (a [`Request`] by name) is
//!   the one query engine: it resolves every name once, decides from the
//!   table and returns a [`Verdict`], whose [`Verdict::explain`] (like
//!   [`Evaluator::explain`] by ids) gives a [`Decision`]: for an allow the shortest
//!   derivation (inheritance steps, then the grant and the pattern that
//!   matched); for a deny the decisive reason per role (role or permission
//!   not available on the tier, an exclusion, a closed tier gate, or no
//!   grant) and the nearest miss (who has it here, and on which tiers the
//!   role would).
//!
//! ```
//! use policy_eval::{Evaluator, Request};
//! use policy_syntax::SourceFile;
//!
//! let src = SourceFile::new("demo.policy", r#"
//!     tiers free < team
//!     permission billing.manage "Manage billing" on team
//!     role admin "Admin" { grants billing.* }
//! "#);
//! let eval = Evaluator::from_policy(&policy_compiler::compile(&src).0);
//! let req = Request { roles: vec!["admin".into()], action: "billing.manage".into(), tier: Some("free".into()) };
//! let d = eval.authorize(&req).unwrap().explain();
//! assert!(!d.allowed);
//! assert_eq!(d.reasons[0].message, "permission `billing.manage` does not exist on tier `free`");
//! ```
#![deny(missing_docs)]

mod artifact;
mod cond_index;
mod conditions;
mod error;
mod explain;
mod model;
mod name_index;
pub mod wire;

pub use artifact::*;
pub use conditions::parse_fact;
pub use error::{EvalError, NameKind};
pub use explain::{Request, Verdict};
pub use model::{Evaluator, DENSE_MAX_BYTES};
pub use policy_compiler::{Decider, Decision, Facts, Location, Outcome, Reason, ReasonKind};
pub use policy_compiler::{PermId, RoleId, TierId};
