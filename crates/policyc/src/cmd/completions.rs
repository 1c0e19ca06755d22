//! `policyc completions SHELL`: a shell completion script on stdout,
//! generated from the same clap definitions the parser uses.

use clap_complete::Shell;

use crate::exit::{CmdError, Exit};
use crate::output;

/// `policyc completions`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script of the command line `cli` for `shell`.
pub fn script(shell: Shell, mut cmd: clap::Command) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "policyc", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs the command; `cli` is policyc's whole command line (passed in, so
/// this module does not depend on the one that lists it).
pub fn run(args: Args, cli: clap::Command) -> Result<Exit, CmdError> {
    output::print_text(&script(args.shell, cli));
    Ok(Exit::Ok)
}
