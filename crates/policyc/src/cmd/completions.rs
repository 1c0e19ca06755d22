//! `policyc completions SHELL`: a shell completion script on stdout,
//! generated from the same clap definitions the parser uses.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::exit::{CmdError, Exit};
use crate::output;

/// `policyc completions`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "policyc", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs the command.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    output::print_text(&script(args.shell));
    Ok(Exit::Ok)
}
