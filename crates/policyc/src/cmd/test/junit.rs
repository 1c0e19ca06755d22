//! `policyc test --format junit`: JUnit XML, as CI systems read it.
//!
//! One `<testsuite>` per test file (named by its path), one `<testcase>`
//! per case or set expectation; a failed case carries a `<failure>` whose
//! message is `expected X, actual Y` and whose text is the same block the
//! human output prints. A file that could not be run is a suite with one
//! `<error>` test case whose text names each diagnostic's `file:line:col`;
//! `--snapshots` adds a `snapshots` suite.

use policy_syntax::Diagnostic;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::eval::TestResult;
use super::snapshots::SnapshotResult;

/// Where a diagnostic points, `file:line:col` (just `file` without a span,
/// nothing without a file), then `: `.
fn place(d: &Diagnostic) -> String {
    d.location().map(|at| format!("{at}: ")).unwrap_or_default()
}

/// One diagnostic on one line, `file:line:col: CODE: message`.
fn headline(d: &Diagnostic) -> String {
    format!("{}{}: {}", place(d), d.code(), d.message())
}

/// Every diagnostic as `file:line:col: severity[CODE]: message`, with its
/// help on the next line.
fn listing(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| {
            let mut line = format!(
                "{}{}[{}]: {}",
                place(d),
                d.severity().as_str(),
                d.code(),
                d.message()
            );
            if let Some(help) = d.help_text() {
                line.push_str(&format!("\n  help: {help}"));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A JUnit report being assembled.
pub struct Junit {
    report: Report,
}

/// `expected X, actual Y` for a failed test.
fn summary(r: &TestResult) -> String {
    if let Some(d) = &r.decision {
        let v = |v: &super::eval::Verdict| match v.reason {
            Some(reason) => format!("{} ({reason})", v.decision),
            None => v.decision.to_string(),
        };
        return format!("expected {}, actual {}", v(&d.expected), v(&d.actual));
    }
    if let Some(a) = &r.assignment {
        let word = |b: bool| if b { "assignable" } else { "not assignable" };
        return format!("expected {}, actual {}", word(a.expected), word(a.actual));
    }
    if let Some(s) = &r.set {
        let list = |v: &[String]| {
            if v.is_empty() {
                "(none)".to_string()
            } else {
                v.join(", ")
            }
        };
        return format!("expected {}, actual {}", list(&s.expected), list(&s.actual));
    }
    "failed".to_string()
}

impl Junit {
    /// An empty report named `policyc test`.
    pub fn new() -> Self {
        Junit {
            report: Report::new("policyc test"),
        }
    }

    /// The suite of one test file that ran; `describe` renders a failure's details.
    pub fn file(
        &mut self,
        file: &str,
        results: &[TestResult],
        describe: impl Fn(&TestResult) -> String,
    ) {
        let mut suite = TestSuite::new(file);
        for r in results {
            let status = if r.passed {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(summary(r));
                s.set_type(r.kind);
                s.set_description(describe(r));
                s
            };
            let mut case = TestCase::new(r.name.as_str(), status);
            case.set_classname(file);
            suite.add_test_case(case);
        }
        self.report.add_test_suite(suite);
    }

    /// The suite of a test file that could not be run: one errored case.
    pub fn not_run(&mut self, file: &str, diagnostics: &[Diagnostic]) {
        let mut suite = TestSuite::new(file);
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(diagnostics.first().map_or_else(String::new, headline));
        status.set_type("not run");
        status.set_description(listing(diagnostics));
        let mut case = TestCase::new("load", status);
        case.set_classname(file);
        suite.add_test_case(case);
        self.report.add_test_suite(suite);
    }

    /// The `snapshots` suite: one case per committed snapshot.
    pub fn snapshots(&mut self, results: &[SnapshotResult]) {
        let mut suite = TestSuite::new("snapshots");
        for r in results {
            let status = if r.passed {
                TestCaseStatus::success()
            } else if let Some(diff) = &r.diff {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!(
                    "`{}` does not match the effective permissions of `{}`",
                    r.path, r.policy
                ));
                s.set_type("snapshot");
                s.set_description(diff.as_str());
                s
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(r.diagnostics.first().map_or_else(String::new, headline));
                s.set_type("not run");
                s.set_description(listing(&r.diagnostics));
                s
            };
            let mut case = TestCase::new(r.path.as_str(), status);
            case.set_classname("snapshots");
            suite.add_test_case(case);
        }
        self.report.add_test_suite(suite);
    }

    /// The XML document.
    pub fn render(&self) -> String {
        let mut text = self
            .report
            .to_string()
            .unwrap_or_else(|e| format!("<!-- cannot write the JUnit report: {e} -->"));
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    }
}
