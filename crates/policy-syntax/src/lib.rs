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
mod format;
pub mod keywords;
mod parser;
mod source;
mod suggest;

pub use ast::*;
pub use code::{Code, Severity};
pub use diagnostic::{sort_diagnostics, Counterexample, Diagnostic, Label as DiagnosticLabel};
pub use format::{format, MAX_WIDTH};
pub use parser::{parse, MAX_LINE_BYTES};
pub use source::{LineCol, RenderSource, SourceFile, Span};
pub use suggest::{did_you_mean, Suggester, MAX_VISITS_PER_SUGGESTION};
