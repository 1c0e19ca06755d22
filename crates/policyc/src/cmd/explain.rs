//! `policyc explain CODE`: print the documentation of a diagnostic code.

use policy_syntax::{did_you_mean, Code, Diagnostic};

use crate::cli::ExplainArgs;
use crate::exit::{CmdError, Exit};
use crate::render::Format;

/// Runs the command.
pub fn run(args: ExplainArgs) -> Result<Exit, CmdError> {
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
