//! The one naive reference model of the policy language and the one
//! random-policy generator, shared by every differential and property test
//! (the compiler's, the evaluator's and the CLI's).
//!
//! A generated policy is a [`Spec`]: the structure (tiers, levels,
//! permissions with their tiers, roles with their tiers, parents, grants
//! and exclusions) together with the policy text it was written as, so the
//! reference never parses. On levels, ids and patterns are stored in full
//! (`l1.a.view`, `l1.*`), and a role's parents include the roles of deeper
//! levels it acts as (`acts as` is an inheritance edge for decisions). The
//! reference is written from the language definition alone and shares no
//! code with the compiler:
//!
//! ```text
//! raw(t, r)  = (⋃ raw(t, parent) − excluded(r))
//!              ∪ exact grants of r active on t
//!              ∪ (wildcard grants of r active on t − excluded(r))
//! allowed    = role available on t ∧ permission available on t ∧ p ∈ raw(t, r)
//! ```
//!
//! It walks the inheritance graph recursively for every question and has
//! its own pattern matcher ([`matches_id`]).
//!
//! ```
//! use policy_testkit::{build, GateRaw, PatRaw, PolicyRaw, RoleRaw};
//! let spec = build(&PolicyRaw {
//!     tiers: 0,
//!     perms: vec![(0, GateRaw::None)],
//!     roles: vec![RoleRaw {
//!         grants: vec![(vec![PatRaw::Exact(0)], GateRaw::None)],
//!         ..RoleRaw::default()
//!     }],
//!     ..PolicyRaw::default()
//! });
//! assert!(spec.allows(0, 0, 0));
//! assert!(spec.text.contains("grants a.view"));
//! ```

mod generate;
mod spec;

pub use generate::{
    build, clean_policy, padded_policy, policy, GateRaw, PatRaw, PolicyRaw, RoleRaw, PERM_POOL,
    WILD_POOL,
};
pub use spec::{level_name, matches_id, role_name, tier_name, Spec, SpecGrant, SpecPerm, SpecRole};
