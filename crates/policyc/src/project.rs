//! Policy projects: a directory whose `policyc.toml` makes its `.policy`
//! files one policy. The manifest is read by the shared reader
//! ([`policy_files::project`], which the language server uses too); every
//! command that reads a policy reads a project given its directory or its
//! manifest ([`load_policy`]).

pub use policy_files::project::{load_policy, manifest_of, MANIFEST};

#[cfg(feature = "serve")]
pub use policy_files::project::watched;
