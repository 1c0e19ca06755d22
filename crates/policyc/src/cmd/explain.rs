//! `policyc explain CODE`: print the documentation of a diagnostic code.

use policy_syntax::{did_you_mean, Code, Diagnostic};

use crate::exit::{CmdError, Exit};
use crate::render::Format;

/// `policyc explain`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A diagnostic code such as `P0201`.
    pub code: String,
}

/// Runs the command.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    match Code::parse(&args.code) {
        Some(code) => {
            print!("{}", code.explanation());
            Ok(Exit::Ok)
        }
        None => {
            let all: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
            let upper = args.code.trim().to_ascii_uppercase();
            let d = Diagnostic::new(
                Code::UnknownCode,
                format!("unknown diagnostic code `{}`", args.code),
            )
            .suggest(did_you_mean(&upper, all.iter().copied()))
            .help(format!("known codes: {}", all.join(", ")));
            Err(CmdError::new(d, Format::Human))
        }
    }
}
