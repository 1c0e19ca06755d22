//! CI output formats of `check`: SARIF and GitHub workflow commands. Each
//! maps the same [`policy_syntax::Diagnostic`]s that the human and JSON
//! outputs render. (JUnit XML, for `test`, lives with the test results it
//! renders: `cmd::test::junit`.)

pub mod github;
pub mod sarif;

use policy_syntax::Diagnostic;

/// What `check` found in one input, for the writers that need every file
/// before they can print (SARIF, GitHub).
#[derive(Debug)]
pub struct Checked {
    /// The file as displayed (empty for a problem with no file).
    pub name: String,
    /// Its diagnostics.
    pub diagnostics: Vec<Diagnostic>,
    /// The warnings `expect` lines expected (not counted), with their reasons.
    pub expected: Vec<policy_compiler::Expected>,
    /// Whether it could not be read at all (exit 2; a SARIF notification).
    pub unreadable: bool,
    /// How many policy files it is: a project's files, else 1 (0 for a
    /// problem with no file).
    pub files: usize,
}
