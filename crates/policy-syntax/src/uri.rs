//! File names as URIs: the one encoding of a path into a `file://` URI (or
//! a relative URI reference) and back, shared by the CLI's SARIF report and
//! the language server. Pure string functions: nothing here touches a file.
//!
//! A path is percent-encoded byte by byte (UTF-8): every byte outside the
//! RFC 3986 unreserved set (`A-Z a-z 0-9 - . _ ~`) and `/` becomes `%XX`
//! with upper-case hex digits.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// The bytes a path segment keeps as they are: the unreserved set and `/`.
const ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// `name` as a URI reference: percent-encoded, and an absolute path (one
/// that starts with `/`) made a `file://` URI; a relative name stays a
/// relative reference (`policies/a%20b.policy`).
pub fn file_uri(name: &str) -> String {
    let encoded = utf8_percent_encode(name, ENCODED);
    if name.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded.to_string()
    }
}

/// The path that a URI's (percent-encoded) path component names, decoded;
/// `None` when the decoded bytes are not UTF-8. A `%` not followed by two
/// hex digits is kept as it is.
pub fn decode_uri_path(path: &str) -> Option<String> {
    percent_decode_str(path)
        .decode_utf8()
        .ok()
        .map(|p| p.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_percent_encoded_references() {
        assert_eq!(file_uri("policies/a b.policy"), "policies/a%20b.policy");
        assert_eq!(file_uri("<stdin>"), "%3Cstdin%3E");
        assert_eq!(file_uri("/tmp/x.policy"), "file:///tmp/x.policy");
        assert_eq!(file_uri("dir/é.policy"), "dir/%C3%A9.policy");
        assert_eq!(file_uri("a-b.c_d~e/f"), "a-b.c_d~e/f");
        assert_eq!(file_uri("%#?:@"), "%25%23%3F%3A%40");
    }

    #[test]
    fn every_byte_is_encoded_as_before() {
        // The hand-written encoding this module replaced, byte for byte.
        let by_hand = |name: &str| {
            let mut out = String::new();
            for b in name.bytes() {
                if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
                    out.push(char::from(b));
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            out
        };
        let all: String = (0u32..0x250).filter_map(char::from_u32).collect();
        assert_eq!(file_uri(&all), by_hand(&all));
        assert_eq!(decode_uri_path(&file_uri(&all)).as_deref(), Some(&*all));
    }

    #[test]
    fn decoding_keeps_stray_percents_and_refuses_bad_utf8() {
        assert_eq!(decode_uri_path("/a%20b/%C3%BC").as_deref(), Some("/a b/ü"));
        assert_eq!(decode_uri_path("/a%2x%").as_deref(), Some("/a%2x%"));
        assert_eq!(decode_uri_path("/a%2f%2F").as_deref(), Some("/a//"));
        assert_eq!(decode_uri_path("/%FF"), None);
    }
}
