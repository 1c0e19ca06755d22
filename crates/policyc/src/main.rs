//! `policyc`: check, query and review access-control policies.
//!
//! `main.rs` only parses the command line and dispatches; each subcommand
//! lives in `cmd/`. This is the only crate that reads or writes files,
//! talks to the terminal, or knows about clap.
#![deny(missing_docs)]

#[cfg(test)]
mod agreement_tests;
mod artifact;
mod cli;
mod cmd;
mod context_arg;
mod exit;
mod files;
mod global;
mod load;
mod output;
mod project;
mod render;
mod report;
mod snapshot_text;
mod stdin;
mod udiff;
mod yaml;

use clap::{CommandFactory as _, Parser};

use crate::cli::{Cli, Command};
use crate::exit::Exit;

fn main() -> Exit {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                Exit::Error
            } else {
                Exit::Ok
            };
            let _ = e.print();
            return code;
        }
    };
    global::set(cli.color, cli.quiet);
    if let Some(limit) = cli.max_file_size {
        files::set_max_file_bytes(limit);
    }
    let result = match cli.command {
        Command::Check(args) => cmd::check::run(args),
        Command::Matrix(args) => cmd::matrix::run(args),
        Command::Compile(args) => cmd::compile::run(args),
        Command::Explain(args) => cmd::explain::run(args),
        Command::Test(args) => cmd::test::run(args),
        Command::Snapshot(args) => cmd::snapshot::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Query(args) => cmd::query::run(args),
        Command::WhoCan(args) => cmd::who_can::run(args),
        Command::Assignable(args) => cmd::assignable::run(args),
        Command::WhatCan(args) => cmd::what_can::run(args),
        Command::Fmt(args) => cmd::fmt::run(args),
        Command::Fix(args) => cmd::fix::run(args),
        Command::Diff(args) => cmd::diff::run(args),
        Command::Completions(args) => cmd::completions::run(args, Cli::command()),
        Command::Man(args) => cmd::man::run(args, Cli::command()),
        #[cfg(feature = "lsp")]
        Command::Lsp(args) => cmd::lsp::run(args),
        #[cfg(not(feature = "lsp"))]
        Command::Lsp(_) => cmd::unavailable::run("lsp"),
        #[cfg(feature = "serve")]
        Command::Serve(args) => cmd::serve::run(args),
        #[cfg(not(feature = "serve"))]
        Command::Serve(_) => cmd::unavailable::run("serve"),
    };
    result.unwrap_or_else(|e| e.report())
}
