//! Lint control: `expect LINT "reason"` lines before a declaration.
//!
//! A warning whose primary span lies in the declaration an `expect` line
//! precedes, and whose code the line names (by lint name or code), is
//! taken out of the diagnostics and returned as an [`Expected`] with the
//! line's reason. A lint the line names that does not fire there is the
//! warning `P0311`; a name that is no expectable lint is the error `P0208`;
//! a lint the line names again (by name or code) is the warning `P0312`,
//! with a fix that removes the repetition, and is otherwise ignored.

use policy_syntax::{did_you_mean, Code, Diagnostic, Edit, Fix, Ident, PolicyFile, Severity, Span};

/// A warning an `expect` line expected: not reported, not counted by
/// `--deny-warnings`, but shown with its reason in JSON and SARIF output.
#[derive(Debug, Clone)]
pub struct Expected {
    /// The warning that was expected.
    pub diagnostic: Diagnostic,
    /// The reason written on the `expect` line.
    pub reason: String,
    /// Where the `expect` line is.
    pub span: Span,
}

/// Takes the expected warnings out of `diags` and reports the `expect`
/// lines that are wrong (`P0208`) or, when `lints_ran`, that expected a
/// warning which does not occur (`P0311`).
pub(crate) fn apply(
    file: &PolicyFile,
    lints_ran: bool,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Expected> {
    let source = &file.source;
    let mut expected = Vec::new();
    let mut new_diags = Vec::new();
    for e in &file.expectations {
        // The lints this line has named so far, with where.
        let mut named: Vec<(Code, &Ident)> = Vec::new();
        for (i, lint) in e.lints.iter().enumerate() {
            let Some(code) = Code::from_lint(&lint.name) else {
                new_diags.push(unknown_lint(source, lint));
                continue;
            };
            if let Some((_, first)) = named.iter().find(|(c, _)| *c == code) {
                // The first one matches (or is unfulfilled); this one is only
                // a repetition.
                let previous = i.checked_sub(1).and_then(|p| e.lints.get(p));
                new_diags.push(repeated(source, lint, first, previous));
                continue;
            }
            named.push((code, lint));
            let inside = |d: &Diagnostic| {
                d.code() == code
                    && d.severity() == Severity::Warning
                    && d.primary_span()
                        .is_some_and(|s| s.start >= e.target.start && s.end <= e.target.end)
            };
            let before = expected.len();
            let mut kept = Vec::with_capacity(diags.len());
            for d in diags.drain(..) {
                if inside(&d) {
                    expected.push(Expected {
                        diagnostic: d,
                        reason: e.reason.value.clone(),
                        span: e.span,
                    });
                } else {
                    kept.push(d);
                }
            }
            *diags = kept;
            if expected.len() == before && lints_ran {
                new_diags.push(
                    Diagnostic::new(
                        Code::UnfulfilledExpectation,
                        format!(
                            "`{}` was expected on this declaration but does not occur",
                            lint.name
                        ),
                    )
                    .with_source(source)
                    .primary(lint.span, format!("no `{}` warning here", code.as_str()))
                    .secondary(e.reason.span, "the reason given")
                    .help(format!(
                        "the {} warning is gone; remove `{}` from the `expect` line (or the whole line)",
                        code.as_str(),
                        lint.name
                    )),
                );
            }
        }
    }
    diags.extend(new_diags);
    expected
}

/// The `P0312` warning on `lint`, which names the lint `first` named
/// earlier on the same line; `previous` is the name just before it, whose
/// end the removal starts from (taking the comma).
fn repeated(
    source: &policy_syntax::SourceFile,
    lint: &Ident,
    first: &Ident,
    previous: Option<&Ident>,
) -> Diagnostic {
    let message = if lint.name == first.name {
        format!("`{}` is named twice on this `expect` line", lint.name)
    } else {
        format!(
            "`{}` names the same lint as `{}` on this `expect` line",
            lint.name, first.name
        )
    };
    let d = Diagnostic::new(Code::RepeatedExpectation, message)
        .with_source(source)
        .primary(lint.span, "repeated")
        .secondary(first.span, "named here first")
        .help(format!(
            "an `expect` line names each lint once; remove `{}`",
            lint.name
        ));
    match previous {
        Some(prev) => d.with_fix(Fix {
            title: format!("remove the repeated `{}`", lint.name),
            edits: vec![Edit {
                span: Span::new(prev.span.end, lint.span.end),
                text: String::new(),
            }],
        }),
        None => d,
    }
}

fn unknown_lint(source: &policy_syntax::SourceFile, lint: &Ident) -> Diagnostic {
    let d = Diagnostic::new(
        Code::UnknownLint,
        format!("`{}` is not a lint that `expect` can name", lint.name),
    )
    .with_source(source);
    let names = Code::lint_names();
    let list = names.join(", ");
    if let Some(code) = Code::parse(&lint.name) {
        let why = if code.severity() == Severity::Error {
            format!("`{code}` is an error, and errors cannot be expected; fix the policy")
        } else {
            format!("`{code}` is not about one declaration, so it cannot be expected on one")
        };
        return d
            .primary(lint.span, "not an expectable warning")
            .help(format!("{why}; the lints are {list}"));
    }
    let mut candidates: Vec<&str> = names.clone();
    candidates.sort_unstable();
    let suggestion = did_you_mean(&lint.name, candidates.iter().copied());
    d.primary(lint.span, "unknown lint")
        .suggest(suggestion)
        .help(format!(
            "name a warning by its lint name or code; the lints are {list}"
        ))
}

#[cfg(test)]
mod tests {
    use policy_syntax::{Code, SourceFile};

    fn codes(text: &str) -> Vec<Code> {
        let (_, diags) = crate::compile(&SourceFile::new("p.policy", text));
        diags.iter().map(|d| d.code()).collect()
    }

    #[test]
    fn a_lint_named_twice_is_one_warning_not_a_false_unfulfilled_one() {
        for lints in [
            "empty-role, empty-role",
            "empty-role, P0306",
            "p0306, P0306",
        ] {
            let text = format!("permission a.b \"A\"\nexpect {lints} \"x\"\nrole r \"R\" {{}}\nrole s \"S\" {{ grants a.b }}\n");
            assert_eq!(codes(&text), vec![Code::RepeatedExpectation], "{lints}");
        }
        // Repeated and stale: the first is unfulfilled, the second repeated.
        let text = "permission a.b \"A\"\nexpect empty-role, empty-role \"x\"\nrole r \"R\" { grants a.b }\n";
        assert_eq!(
            codes(text),
            vec![Code::UnfulfilledExpectation, Code::RepeatedExpectation]
        );
    }
}
