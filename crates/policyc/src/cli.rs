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
    /// Run `*.test.yaml` files against their policies (exit 0 pass, 1 failures, 2 bad input).
    Test(TestArgs),
    /// Print, check or update the effective-permission snapshot of a policy.
    Snapshot(SnapshotArgs),
    /// Ask whether roles may use a permission, and why (exit 0 allow, 1 deny).
    Query(QueryArgs),
    /// List the roles that may use a permission.
    WhoCan(WhoCanArgs),
    /// List the permissions a role may use.
    WhatCan(WhatCanArgs),
    /// Format policy files canonically, in place (or check that they are).
    Fmt(FmtArgs),
    /// Compare two versions of a policy by their effective permissions.
    Diff(DiffArgs),
    /// Serve decisions over HTTP and as an Envoy ext_authz gRPC backend, with hot reload.
    Serve(crate::cmd::serve::ServeArgs),
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

/// Output format of `policyc query`, `who-can` and `what-can`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum QueryFormat {
    /// A verdict line, and the explanation rendered against the policy source.
    #[default]
    Human,
    /// The JSON contract documented in docs/cli.md.
    Json,
}

/// `policyc query`
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The policy: a `.policy` source, or a compiled artifact (`.json`, `.yaml`, `.yml`).
    pub file: PathBuf,
    /// A role the user holds; repeat for several (their union applies).
    #[arg(long = "role", value_name = "ROLE", required_unless_present = "batch")]
    pub roles: Vec<String>,
    /// The permission asked for.
    #[arg(long, value_name = "PERMISSION", required_unless_present = "batch")]
    pub action: Option<String>,
    /// The tier (required when the policy declares tiers).
    #[arg(long)]
    pub tier: Option<String>,
    /// Explain an allow too (a deny is always explained).
    #[arg(long)]
    pub explain: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: QueryFormat,
    /// Answer many requests: JSON Lines or a YAML list, `-` for stdin; one JSON decision per line.
    #[arg(long, value_name = "REQUESTS", conflicts_with_all = ["roles", "action", "tier", "explain"])]
    pub batch: Option<PathBuf>,
}

/// `policyc who-can`
#[derive(Debug, Args)]
pub struct WhoCanArgs {
    /// The policy: a `.policy` source or a compiled artifact.
    pub file: PathBuf,
    /// The permission.
    pub action: String,
    /// Only this tier (default: every tier).
    #[arg(long)]
    pub tier: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: QueryFormat,
}

/// `policyc what-can`
#[derive(Debug, Args)]
pub struct WhatCanArgs {
    /// The policy: a `.policy` source or a compiled artifact.
    pub file: PathBuf,
    /// The role.
    pub role: String,
    /// Only this tier (default: every tier).
    #[arg(long)]
    pub tier: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: QueryFormat,
}

/// `policyc test`
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Test files or directories (searched recursively for `*.test.yaml`). Defaults to `.`.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: DiagFormat,
}

/// `policyc snapshot`
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// The policy file.
    pub file: PathBuf,
    /// Compare with a committed snapshot (default `NAME.snapshot.yaml` beside the policy); exit 1 with a diff when it differs.
    #[arg(long, value_name = "SNAPSHOT", num_args = 0..=1, conflicts_with = "update")]
    pub check: Option<Option<PathBuf>>,
    /// Rewrite the snapshot file atomically (default `NAME.snapshot.yaml` beside the policy).
    #[arg(long, value_name = "SNAPSHOT", num_args = 0..=1)]
    pub update: Option<Option<PathBuf>>,
}

/// `policyc fmt`
#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Files or directories (searched recursively for `*.policy`); `-` formats stdin to stdout. Defaults to `.`.
    pub paths: Vec<PathBuf>,
    /// Change nothing: print a diff of what would change and exit 1 if anything would.
    #[arg(long)]
    pub check: bool,
    /// Read a policy from stdin and write it formatted to stdout (same as `-`).
    #[arg(long)]
    pub stdin: bool,
}

/// Output format of `policyc diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DiffFormat {
    /// Plain text for a terminal.
    #[default]
    Human,
    /// Markdown, ready to paste in a pull-request comment.
    Markdown,
    /// The JSON contract documented in docs/cli.md.
    Json,
}

/// `policyc diff`
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// OLD and NEW: files or `REV:PATH` git revisions. With `--git REV`, the one PATH to compare.
    #[arg(value_name = "OLD NEW | PATH")]
    pub versions: Vec<String>,
    /// Compare PATH at git revision REV (old) with the working tree (new): `--git REV -- PATH`.
    #[arg(long, value_name = "REV")]
    pub git: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: DiffFormat,
    /// Exit 1 when there is any effective change (0 otherwise).
    #[arg(long)]
    pub exit_code: bool,
}
