//! One module per subcommand.

pub mod check;
pub mod compile;
pub mod completions;
pub mod diff;
pub mod explain;
pub mod fmt;
pub mod lsp;
pub mod man;
pub mod matrix;
pub mod query;
pub mod serve;
pub mod snapshot;
pub mod test;
pub mod what_can;
pub mod who_can;
