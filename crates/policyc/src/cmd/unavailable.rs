//! `policyc lsp` and `policyc serve` in a build without their feature
//! (`cargo install --no-default-features`, the pre-commit hooks): the
//! command stays in `--help`, so a user who reaches for it learns how to
//! get it instead of meeting "unrecognized subcommand".

use std::ffi::OsString;

use clap::Args as ClapArgs;
use policy_syntax::{Code, Diagnostic};

use crate::exit::{CmdError, Exit};
use crate::render::Format;

/// Whatever follows the command: it is not read.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Ignored: the command is not in this build.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<OsString>,
}

/// Fails with P0561 naming the feature that brings `command` in.
pub fn run(command: &str) -> Result<Exit, CmdError> {
    Err(CmdError::new(
        Diagnostic::new(
            Code::NotInThisBuild,
            format!("`policyc {command}` is not in this build of policyc"),
        )
        .help(format!(
            "this policyc was built without the `{command}` feature; install the full CLI with \
             `cargo install --locked --path crates/policyc` (default features) or add \
             `--features {command}`"
        )),
        Format::Human,
    ))
}
