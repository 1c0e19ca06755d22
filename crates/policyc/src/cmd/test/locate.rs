//! Finding a node of a `*.test.yaml` document by its path, for the spans
//! of diagnostics found after parsing (an unknown role, say): the document
//! is re-read with a visitor that fails on purpose at the node's path, and
//! the YAML parser attaches that node's mark to the error. Only problem
//! nodes are located, so the cost is one extra parse per reported problem.

use std::fmt;

use policy_syntax::Span;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// One segment of a path into the YAML document.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seg {
    /// A mapping key; any of the names (aliases) matches.
    Key(&'static [&'static str]),
    /// A sequence index.
    Index(usize),
}

pub(crate) const CASES: Seg = Seg::Key(&["cases"]);
pub(crate) const WHO_CAN: Seg = Seg::Key(&["who-can"]);
pub(crate) const WHAT_CAN: Seg = Seg::Key(&["what-can"]);
pub(crate) const ASSIGNMENTS: Seg = Seg::Key(&["assignments"]);

/// The span of the node at `path` in the YAML `text`, if it exists.
pub fn locate_entry(text: &str, section: &str, index: usize) -> Option<Span> {
    let seg = match section {
        "cases" => CASES,
        "who-can" => WHO_CAN,
        "assignments" => ASSIGNMENTS,
        _ => WHAT_CAN,
    };
    locate(text, &[seg, Seg::Index(index)])
}

/// The message of the deliberate error raised at the target node.
const FOUND: &str = "\u{0}policyc-locate";

pub(crate) fn locate(text: &str, path: &[Seg]) -> Option<Span> {
    let de = crate::yaml::Deserializer::from_str(text);
    let err = Locate { path: Some(path) }.deserialize(de).err()?;
    if !err.to_string().contains(FOUND) {
        return None;
    }
    let loc = err.location()?;
    let start = offset_of(text, loc.line(), loc.column());
    Some(Span::new(start, token_end(text, start)))
}

/// Walks any YAML value; fails with [`FOUND`] at the node `path` leads to.
/// `None` means "not on the path": walk without matching.
struct Locate<'p> {
    path: Option<&'p [Seg]>,
}

impl Locate<'_> {
    fn here(&self) -> bool {
        self.path.is_some_and(|p| p.is_empty())
    }
}

impl<'de> DeserializeSeed<'de> for Locate<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

macro_rules! scalar {
    ($($name:ident: $ty:ty),*) => {$(
        fn $name<E: de::Error>(self, _: $ty) -> Result<(), E> {
            if self.here() { Err(E::custom(FOUND)) } else { Ok(()) }
        }
    )*};
}

impl<'de> Visitor<'de> for Locate<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    scalar!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str, visit_i128: i128, visit_u128: u128);
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        if self.here() {
            Err(E::custom(FOUND))
        } else {
            Ok(())
        }
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.here() {
            return Err(de::Error::custom(FOUND));
        }
        let mut i = 0;
        loop {
            let sub = match self.path {
                Some([Seg::Index(n), rest @ ..]) if *n == i => Some(rest),
                _ => None,
            };
            if seq.next_element_seed(Locate { path: sub })?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.here() {
            return Err(de::Error::custom(FOUND));
        }
        while let Some(key) = map.next_key::<crate::yaml::Value>()? {
            let sub = match (self.path, key.as_str()) {
                (Some([Seg::Key(names), rest @ ..]), Some(k)) if names.contains(&k) => Some(rest),
                _ => None,
            };
            map.next_value_seed(Locate { path: sub })?;
        }
        Ok(())
    }
}

/// The byte offset of a 1-based line and column (in characters).
pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text.get(start..).and_then(|t| t.find('\n')) {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let rest = text.get(start..).unwrap_or("");
    let col = rest
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(rest.len(), |(i, _)| i);
    start + col
}

/// The end of the YAML token starting at `start`: a quoted scalar through
/// its closing quote, else up to the end of the line, a flow delimiter or
/// a comment; at least one character when the line is not empty.
pub(crate) fn token_end(text: &str, start: usize) -> usize {
    let rest = text.get(start..).unwrap_or("");
    let line = rest.split(['\n', '\r']).next().unwrap_or("");
    let end = match line.chars().next() {
        Some(q @ ('"' | '\'')) => line
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == q)
            .map_or(line.len(), |(i, _)| i + 1),
        Some('{' | '[') => line.len(),
        Some(_) => {
            let mut end = line.len();
            for pat in [",", "]", "}", " #", ": "] {
                if let Some(i) = line.find(pat) {
                    end = end.min(i);
                }
            }
            if line.ends_with(':') {
                end = end.min(line.len() - 1);
            }
            line.get(..end).map_or(0, |s| s.trim_end().len())
        }
        None => 0,
    };
    let end = if end == 0 {
        line.chars().next().map_or(0, char::len_utf8)
    } else {
        end
    };
    start + end
}
