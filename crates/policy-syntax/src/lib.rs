//! Parsing for the policyc policy language.
//!
//! [`parse`] turns a [`SourceFile`] into a [`PolicyFile`] (an AST whose
//! nodes carry byte [`Span`]s) plus every syntax error as a [`Diagnostic`].
//! This crate also owns the registry of stable diagnostic [`Code`]s shared by
//! all later stages, and the did-you-mean helper [`did_you_mean`].
#![deny(missing_docs)]

mod ast;
mod code;
mod diagnostic;
mod escape;
mod format;
pub mod keywords;
mod names;
mod parser;
mod project;
mod source;
mod suggest;
mod uri;

pub use ast::*;
pub use code::{Code, Severity};
pub use diagnostic::{
    sort_diagnostics, trim_line_ends, Counterexample, Diagnostic, Edit, Fix,
    Label as DiagnosticLabel,
};
pub use escape::escape_controls;
pub use format::{format, MAX_WIDTH};
pub use names::{
    file_names, item_names, on_other_level, qualify, NameKind, NameRef, OtherLevel,
    NON_NAMING_DECLARATIONS,
};
pub use parser::{
    is_identifier, is_label, is_permission_id, is_permission_pattern, parse, MAX_LINE_BYTES,
};
/// The largest file policyc reads by default, in bytes (16 MiB): the CLI's
/// `--max-file-size` default and the language server's document limit.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

pub use project::split_declarations;
pub use source::{line_starts, LineCol, Part, RenderSource, SourceFile, Span};
pub use suggest::{did_you_mean, Suggester, MAX_VISITS_PER_SUGGESTION};
pub use uri::{decode_uri_path, file_uri};
