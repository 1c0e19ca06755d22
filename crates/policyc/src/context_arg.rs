//! The context of a query on the command line: `--tier T`, or `--on` once
//! per dimension (`--on edition=cloud --on plan=pro`), and the level the
//! names are given on (`--scope team`), shared by every command that
//! decides in a context.

/// `--tier` / `--on`, flattened into a command's arguments.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ContextArgs {
    /// The tier; with several dimensions, the context as values joined by
    /// `+` (`cloud+pro`). The short form of `--on`.
    #[arg(long, conflicts_with = "on")]
    pub tier: Option<String>,
    /// A value of one dimension, as `DIMENSION=VALUE` or `VALUE`; repeat
    /// once per dimension (`--on edition=cloud --on plan=pro`).
    #[arg(long = "on", value_name = "DIMENSION=VALUE")]
    pub on: Vec<String>,
    /// In a policy with levels, the level the names are given on:
    /// `--scope team --role admin` is the role `team.admin`, and the
    /// permission is the team's; a role of an outer level is written in
    /// full (`organization.owner`). Without it, names are full ids.
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<String>,
}

impl ContextArgs {
    /// The context as text, for the evaluator's one context lookup
    /// (`Evaluator::resolve_tier`); `None` when neither flag is given.
    pub fn text(&self) -> Option<String> {
        match (&self.tier, self.on.is_empty()) {
            (Some(t), _) => Some(t.clone()),
            (None, true) => None,
            (None, false) => Some(self.on.join("+")),
        }
    }
}
