//! `policyc check --format sarif`: one SARIF 2.1.0 log on stdout.
//!
//! One run; `tool.driver.rules` has one rule per diagnostic code that has
//! a result (in code order), summarised from the same `docs/errors/` pages
//! `policyc explain` prints; each diagnostic is a result with a region in
//! Unicode code points (`columnKind: unicodeCodePoints`, end column
//! exclusive), its secondary labels as related locations, and its
//! machine-applicable fixes (the ones `policyc fix` applies). A warning an `expect` line
//! expected is a result too, with an `inSource` suppression whose
//! `justification` is the line's reason. A path that could not be read is
//! a tool execution notification (and `executionSuccessful: false`), so the
//! log stays valid whatever happens. The shape is documented in docs/cli.md.

use policy_syntax::{file_uri, Code, Diagnostic, Fix, Severity, SourceFile, Span};
use serde_json::{json, Value};

use super::Checked;

/// The `$schema` every log names.
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The "What it means" section of a code's page, as one paragraph.
fn what_it_means(doc: &str) -> String {
    one_line(section(doc))
}

/// The text of the "What it means" section of a code's page.
fn section(doc: &str) -> &str {
    doc.split("## What it means")
        .nth(1)
        .map(|rest| rest.split("\n## ").next().unwrap_or(rest))
        .unwrap_or("")
}

/// `text` with its whitespace runs (line breaks too) made single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The short help of a rule: the first paragraph of "What it means", then
/// where the whole page is (its address under `docs_url`, and
/// `policyc explain CODE`). Plain text and Markdown.
fn short_help(code: Code, docs_url: Option<&str>) -> (String, String) {
    let summary = one_line(
        section(code.explanation())
            .trim()
            .split("\n\n")
            .next()
            .unwrap_or(""),
    );
    let explain = format!("policyc explain {code}");
    match docs_url {
        Some(base) => {
            let url = code.doc_url(base);
            (
                format!("{summary}\n\nThe whole page, with an example and how to fix it: {url} (or `{explain}`)."),
                format!("{summary}\n\nThe whole page, with an example and how to fix it: [{code}]({url}) (or `{explain}`)."),
            )
        }
        None => {
            let text = format!(
                "{summary}\n\nThe whole page, with an example and how to fix it: `{explain}`."
            );
            (text.clone(), text)
        }
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The rule of `code`; `helpUri` only when a documentation base is known.
fn rule(code: Code, docs_url: Option<&str>) -> Value {
    let (help, markdown) = short_help(code, docs_url);
    let mut rule = json!({
        "id": code.as_str(),
        "shortDescription": { "text": code.title() },
        "fullDescription": { "text": what_it_means(code.explanation()) },
        "help": { "text": help, "markdown": markdown },
        "defaultConfiguration": { "level": level(code.severity()) },
    });
    if let (Some(base), Some(obj)) = (docs_url, rule.as_object_mut()) {
        obj.insert("helpUri".to_string(), json!(code.doc_url(base)));
    }
    rule
}

fn region(source: &SourceFile, span: Span) -> Value {
    let start = source.line_col(span.start);
    let end = source.line_col(span.end);
    json!({
        "startLine": start.line,
        "startColumn": start.column,
        "endLine": end.line,
        "endColumn": end.column,
    })
}

fn location(file: &str, source: Option<&SourceFile>, span: Option<Span>) -> Value {
    // In a project, the file the span is in.
    let file = match (source, span) {
        (Some(src), Some(span)) => src.file_name_at(span.start),
        _ => file,
    };
    let mut physical = json!({ "artifactLocation": { "uri": file_uri(file) } });
    if let (Some(src), Some(span), Some(obj)) = (source, span, physical.as_object_mut()) {
        obj.insert("region".to_string(), region(src, span));
    }
    json!({ "physicalLocation": physical })
}

fn message(d: &Diagnostic) -> String {
    match d.help_text() {
        Some(help) => format!("{}\nhelp: {help}", d.message()),
        None => d.message().to_string(),
    }
}

/// A machine-applicable fix of the diagnostic ([`Diagnostic::fixes`], the
/// list the language server's quick fixes and `policyc fix` use) as a
/// SARIF `fix`.
fn fix(file: &str, source: &SourceFile, fix: &Fix) -> Value {
    let file = fix
        .edits
        .first()
        .map_or(file, |e| source.file_name_at(e.span.start));
    let replacements: Vec<Value> = fix
        .edits
        .iter()
        .map(|e| {
            json!({
                "deletedRegion": region(source, e.span),
                "insertedContent": { "text": e.text },
            })
        })
        .collect();
    json!({
        "description": { "text": fix.title },
        "artifactChanges": [{
            "artifactLocation": { "uri": file_uri(file) },
            "replacements": replacements,
        }],
    })
}

/// The result of one diagnostic; `rules` are the codes of the log's rules,
/// in order (`ruleIndex` points into them).
fn result(file: &str, d: &Diagnostic, rules: &[Code]) -> Value {
    let src = d.source_file();
    let file = d.file_name().unwrap_or(file);
    let mut r = json!({
        "ruleId": d.code().as_str(),
        "ruleIndex": rules.iter().position(|c| *c == d.code()).unwrap_or(0),
        "level": level(d.severity()),
        "message": { "text": message(d) },
        "locations": [location(file, src, d.primary_span())],
    });
    let primary = d.primary_span();
    let related: Vec<Value> = d
        .labels()
        .iter()
        .filter(|l| !l.primary && Some(l.span) != primary)
        .enumerate()
        .map(|(i, l)| {
            let mut loc = location(file, src, Some(l.span));
            if let Some(obj) = loc.as_object_mut() {
                obj.insert("id".to_string(), json!(i));
                obj.insert("message".to_string(), json!({ "text": l.message }));
            }
            loc
        })
        .collect();
    if let (false, Some(obj)) = (related.is_empty(), r.as_object_mut()) {
        obj.insert("relatedLocations".to_string(), Value::Array(related));
    }
    let fixes = d.fixes();
    if let (Some(src), false, Some(obj)) = (src, fixes.is_empty(), r.as_object_mut()) {
        let fixes: Vec<Value> = fixes.iter().map(|f| fix(file, src, f)).collect();
        obj.insert("fixes".to_string(), Value::Array(fixes));
    }
    r
}

fn notification(file: &str, d: &Diagnostic) -> Value {
    let mut n = json!({
        "level": "error",
        "message": { "text": message(d) },
        "descriptor": { "id": d.code().as_str() },
    });
    if let (false, Some(obj)) = (file.is_empty(), n.as_object_mut()) {
        obj.insert("locations".to_string(), json!([location(file, None, None)]));
    }
    n
}

/// The SARIF log of a `check` run, pretty-printed, with a trailing newline.
/// `docs_url` is the documentation base (`POLICYC_DOCS_URL`): with it, the
/// driver's `informationUri` and each rule's `helpUri` point into it;
/// without it they are left out.
pub fn render(checked: &[Checked], docs_url: Option<&str>) -> String {
    // One rule per code that has a result, in code order.
    let mut rules: Vec<Code> = checked
        .iter()
        .filter(|c| !c.unreadable)
        .flat_map(|c| {
            c.diagnostics
                .iter()
                .chain(c.expected.iter().map(|e| &e.diagnostic))
                .map(Diagnostic::code)
        })
        .collect();
    rules.sort_unstable();
    rules.dedup();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for c in checked {
        for d in &c.diagnostics {
            if c.unreadable {
                notifications.push(notification(&c.name, d));
            } else {
                results.push(result(&c.name, d, &rules));
            }
        }
        // An expected warning is a result with an in-source suppression,
        // whose justification is the `expect` line's reason.
        for e in &c.expected {
            let mut r = result(&c.name, &e.diagnostic, &rules);
            if let Some(obj) = r.as_object_mut() {
                let src = e.diagnostic.source_file();
                let file = e.diagnostic.file_name().unwrap_or(c.name.as_str());
                obj.insert(
                    "suppressions".to_string(),
                    json!([{
                        "kind": "inSource",
                        "status": "accepted",
                        "justification": e.reason,
                        "location": location(file, src, Some(e.span)),
                    }]),
                );
            }
            results.push(r);
        }
    }
    let mut driver = json!({
        "name": "policyc",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": rules.iter().map(|c| rule(*c, docs_url)).collect::<Vec<_>>(),
    });
    if let (Some(base), Some(obj)) = (docs_url, driver.as_object_mut()) {
        obj.insert("informationUri".to_string(), json!(base));
    }
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded_references() {
        assert_eq!(file_uri("policies/a b.policy"), "policies/a%20b.policy");
        assert_eq!(file_uri("<stdin>"), "%3Cstdin%3E");
        assert_eq!(file_uri("/tmp/x.policy"), "file:///tmp/x.policy");
        assert_eq!(file_uri("dir/é.policy"), "dir/%C3%A9.policy");
    }

    #[test]
    fn full_description_is_the_what_it_means_section() {
        let doc = "# P0000: t\n\n## What it means\n\nA thing\nhappens.\n\n## Example\n\nx\n";
        assert_eq!(what_it_means(doc), "A thing happens.");
        let real = what_it_means(Code::UnknownRole.explanation());
        assert!(real.starts_with("A role name is used"), "{real}");
    }

    #[test]
    fn short_help_is_the_first_paragraph_and_where_the_page_is() {
        let (text, markdown) = short_help(Code::UnknownRole, None);
        assert_eq!(text, markdown);
        assert!(text.starts_with("A role name is used that no `role` declaration defines"));
        assert!(
            !text.contains("An `assert` that names"),
            "only the first paragraph: {text}"
        );
        assert!(text.ends_with("`policyc explain P0201`."), "{text}");
        let (text, markdown) = short_help(Code::UnknownRole, Some("file:///opt/policyc"));
        assert!(
            text.contains("file:///opt/policyc/docs/errors/P0201.md (or `policyc explain P0201`)")
        );
        assert!(markdown.contains("[P0201](file:///opt/policyc/docs/errors/P0201.md)"));
    }
}
