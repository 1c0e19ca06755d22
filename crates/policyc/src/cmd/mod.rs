//! One module per subcommand.

pub mod assignable;
pub mod check;
pub mod compile;
pub mod completions;
pub mod diff;
pub mod explain;
pub mod export;
pub mod fix;
pub mod fmt;
#[cfg(feature = "lsp")]
pub mod lsp;
pub mod man;
pub mod matrix;
pub mod query;
#[cfg(feature = "serve")]
pub mod serve;
pub mod snapshot;
pub mod test;
#[cfg(not(all(feature = "lsp", feature = "serve")))]
pub mod unavailable;
pub mod what_can;
pub mod who_can;
