//! The bits of YAML the Cerbos files are written with: scalars plain when
//! every YAML reader takes them as the same string, quoted otherwise, and
//! sequences on one line when short.

/// Words a YAML 1.1 reader (Cerbos's among them) takes for a boolean or
/// null when plain.
const SPECIAL: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
];

/// `text` as a YAML scalar: plain when it is a policyc name (letters,
/// digits, `_`, `-`, `.` and `@`, starting with a letter or `_`) that no
/// reader takes for something else, else single-quoted.
pub(crate) fn scalar(text: &str) -> String {
    let mut chars = text.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'))
        && !SPECIAL.contains(&text.to_ascii_lowercase().as_str());
    if plain {
        text.to_string()
    } else {
        quoted(text)
    }
}

/// `text` single-quoted (a CEL expression, whose strings are in double
/// quotes, reads as written).
pub(crate) fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''").replace('\n', " "))
}

/// `items` (already scalars) as the value of a key taking `used` columns:
/// ` [a, b]`, or a block sequence indented by `indent` when the flow form
/// would pass 80 columns.
pub(crate) fn sequence(items: &[String], indent: usize, used: usize) -> String {
    let flow = format!(" [{}]", items.join(", "));
    if used + flow.len() <= 80 || items.is_empty() {
        return flow;
    }
    let pad = " ".repeat(indent);
    items.iter().map(|i| format!("\n{pad}- {i}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_unless_a_reader_would_take_them_for_something_else() {
        assert_eq!(scalar("files.manage"), "files.manage");
        assert_eq!(scalar("_x-y"), "_x-y");
        assert_eq!(scalar("member@28"), "member@28");
        assert_eq!(scalar("@x"), "'@x'");
        assert_eq!(scalar("on"), "'on'");
        assert_eq!(scalar("No"), "'No'");
        assert_eq!(scalar("free, own"), "'free, own'");
        assert_eq!(scalar(""), "''");
        assert_eq!(quoted("it's"), "'it''s'");
    }

    #[test]
    fn long_sequences_go_one_item_a_line() {
        let short = vec!["a".to_string(), "b".to_string()];
        assert_eq!(sequence(&short, 4, 10), " [a, b]");
        let long: Vec<String> = (0..30).map(|i| format!("item{i}")).collect();
        let text = sequence(&long, 4, 10);
        assert!(text.starts_with("\n    - item0\n    - item1"), "{text}");
    }
}
