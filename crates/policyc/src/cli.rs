//! The command-line interface, as clap types.

use clap::{Parser, Subcommand};

use crate::cmd;
use crate::global::ColorChoice;

/// policyc: a compiler, checker and evaluator for access-control policies.
#[derive(Debug, Parser)]
#[command(name = "policyc", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// When to colour output: `auto` (a terminal, and `NO_COLOR` unset), `always` or `never`.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: ColorChoice,
    /// Print only problems: no progress or all-clear lines (for hooks).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// The largest policy, artifact or test file read (and file `fmt` writes): bytes, or with a unit (`64MiB`, `100MB`). Default 16MiB.
    #[arg(long, global = true, value_name = "BYTES", value_parser = crate::files::parse_size)]
    pub max_file_size: Option<u64>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile policy files and report every problem (for editors, pre-commit and CI).
    Check(cmd::check::Args),
    /// Print the role × permission table of a policy for one tier.
    Matrix(cmd::matrix::Args),
    /// Write the resolved policy as a versioned, deterministic artifact.
    Compile(cmd::compile::Args),
    /// Print the documentation of a diagnostic code, e.g. `policyc explain P0201`.
    Explain(cmd::explain::Args),
    /// Run `*.test.yaml` files against their policies (exit 0 pass, 1 failures, 2 bad input).
    Test(cmd::test::Args),
    /// Print, check or update the effective-permission snapshot of a policy.
    #[command(
        override_usage = "policyc snapshot <FILE>\n       policyc snapshot <FILE> --check [SNAPSHOT]\n       policyc snapshot <FILE> --update [SNAPSHOT]"
    )]
    Snapshot(cmd::snapshot::Args),
    /// Ask whether roles may use a permission, and why (exit 0 allow, 1 deny).
    Query(cmd::query::Args),
    /// List the roles that may use a permission.
    WhoCan(cmd::who_can::Args),
    /// List the permissions a role may use.
    WhatCan(cmd::what_can::Args),
    /// Check that a role can be given in a context (exit 0 yes, 1 no, with the reason).
    Assignable(cmd::assignable::Args),
    /// Format policy files canonically, in place (or check that they are).
    Fmt(cmd::fmt::Args),
    /// Apply every machine-applicable fix (did-you-mean, missing `}`, `<` between tiers, redundant items), in place.
    Fix(cmd::fix::Args),
    /// Compare two versions of a policy by their effective permissions.
    Diff(cmd::diff::Args),
    /// Write the policy in another engine's own language (Cedar, Rego, Cerbos), or check that a committed export is current.
    Export(cmd::export::Args),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(cmd::completions::Args),
    /// Write man pages: `policyc.1` and one `policyc-COMMAND.1` per subcommand.
    Man(cmd::man::Args),
    /// Run the language server on stdin/stdout (for editors).
    #[cfg(feature = "lsp")]
    Lsp(cmd::lsp::LspArgs),
    /// Run the language server (not in this build: built without the `lsp` feature).
    #[cfg(not(feature = "lsp"))]
    #[command(disable_help_flag = true)]
    Lsp(cmd::unavailable::Args),
    /// Serve decisions over HTTP and as an Envoy ext_authz gRPC backend, with hot reload.
    #[cfg(feature = "serve")]
    Serve(cmd::serve::ServeArgs),
    /// Serve decisions (not in this build: built without the `serve` feature).
    #[cfg(not(feature = "serve"))]
    #[command(disable_help_flag = true)]
    Serve(cmd::unavailable::Args),
}
