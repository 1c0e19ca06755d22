//! The command-line interface, as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// policyc: a compiler, checker and evaluator for access-control policies.
#[derive(Debug, Parser)]
#[command(name = "policyc", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile policy files and report every problem (for editors, pre-commit and CI).
    Check(CheckArgs),
    /// Print the role × permission table of a policy for one tier.
    Matrix(MatrixArgs),
    /// Write the resolved policy as a versioned, deterministic artifact.
    Compile(CompileArgs),
    /// Print the documentation of a diagnostic code, e.g. `policyc explain P0201`.
    Explain(ExplainArgs),
}

/// Output format of diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DiagFormat {
    /// Rendered reports against the source (colour on a terminal unless NO_COLOR is set).
    #[default]
    Human,
    /// One JSON document on stdout.
    Json,
}

/// `policyc check`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories (searched recursively for `*.policy`). Defaults to `.`.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: DiagFormat,
    /// Exit 1 when there are warnings, not only errors (for CI).
    #[arg(long)]
    pub deny_warnings: bool,
}

/// Format of `policyc matrix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum MatrixFormat {
    /// A Markdown table, like a product's documentation.
    #[default]
    Markdown,
    /// The JSON contract documented in docs/cli.md.
    Json,
    /// Comma-separated values with a header row.
    Csv,
}

/// `policyc matrix`
#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// The policy file.
    pub file: PathBuf,
    /// The tier to show (default: the highest tier).
    #[arg(long)]
    pub tier: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: MatrixFormat,
}

/// Format of `policyc compile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ArtifactFormat {
    /// JSON.
    #[default]
    Json,
    /// YAML.
    Yaml,
}

/// `policyc compile`
#[derive(Debug, Args)]
pub struct CompileArgs {
    /// The policy file.
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: ArtifactFormat,
    /// Write to this file (atomically) instead of stdout.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

/// `policyc explain`
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A diagnostic code such as `P0201`.
    pub code: String,
}
