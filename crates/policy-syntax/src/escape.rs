//! Text that is safe to print on a terminal.
//!
//! A label, a doc comment or a line of source can hold control characters
//! (an escape sequence `ESC [ 3 1 m`, a bell, a backspace): printed as they
//! are, they recolour, move or rewrite the reader's terminal. Every human
//! output of policyc (diagnostics, listings, tables, diffs) shows them
//! escaped instead; JSON output keeps them, escaped by JSON itself.

use std::borrow::Cow;

/// Whether `c` is shown escaped: a C0 control other than tab and line
/// feed, DEL, or a C1 control.
fn escaped(c: char) -> bool {
    c.is_control() && c != '\t' && c != '\n'
}

/// `text` with every control character but tab and line feed written as a
/// Rust-style escape (`\u{1b}`), so printing it cannot drive a terminal.
/// Borrowed when there is nothing to escape.
///
/// ```
/// use policy_syntax::escape_controls;
/// assert_eq!(escape_controls("Admin"), "Admin");
/// assert_eq!(escape_controls("A\u{1b}[31mB\u{7}"), "A\\u{1b}[31mB\\u{7}");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escaped(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` with every control character but tab and line breaks replaced
/// by `?`, one per byte, so byte offsets into it stay valid: what a source
/// snippet shows.
pub(crate) fn mask_controls(text: &str) -> Cow<'_, str> {
    let masked = |c: char| escaped(c) && c != '\r';
    if !text.chars().any(masked) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if masked(c) {
            for _ in 0..c.len_utf8() {
                out.push('?');
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_but_tab_and_newline_is_escaped() {
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let text = format!("a{c}b");
            let shown = escape_controls(&text);
            if c == '\t' || c == '\n' {
                assert_eq!(shown, text);
            } else {
                assert!(!shown.chars().any(char::is_control), "{c:?} → {shown:?}");
                assert!(shown.contains(&format!("{:x}", u32::from(c))), "{shown:?}");
            }
        }
        assert!(matches!(escape_controls("Ünïcode · ok"), Cow::Borrowed(_)));
    }

    #[test]
    fn masking_keeps_every_byte_offset() {
        let text = "a\u{1b}[31m\u{85}b\r\n\tc\u{7f}";
        let masked = mask_controls(text);
        assert_eq!(masked.len(), text.len());
        assert_eq!(masked, "a?[31m??b\r\n\tc?");
        for (i, _) in text.char_indices() {
            assert!(masked.is_char_boundary(i));
        }
    }
}
