//! The compiled-policy artifact written by `policyc compile`. The types
//! live in `policy-eval`, which also loads them from JSON; this module adds
//! the YAML form (all YAML goes through [`crate::yaml`]).

pub use policy_eval::Artifact;
use policy_eval::{EvalError, Evaluator};

use crate::yaml;

/// Loads `policyc compile --format yaml` output: the schema version is read
/// first (another version is `P0570`), then the artifact, which is checked
/// and assembled like a JSON one.
pub fn evaluator_from_yaml(text: &str) -> Result<Evaluator, EvalError> {
    let bad = |e: yaml::Error| EvalError::bad_artifact(format!("not a compiled policy: {e}"));
    let value: yaml::Value = yaml::from_str(text).map_err(bad)?;
    let version = value
        .get("schema_version")
        .and_then(yaml::Value::as_u64)
        .map(|v| u32::try_from(v).unwrap_or(u32::MAX));
    policy_eval::check_version(version)?;
    let artifact: Artifact = yaml::from_value(value).map_err(bad)?;
    Evaluator::from_artifact(&artifact)
}

/// The artifact as YAML.
pub fn to_yaml(artifact: &Artifact) -> Result<String, yaml::Error> {
    yaml::to_string(artifact)
}

/// The artifact as JSON: indented like `serde_json`'s pretty form, except
/// that an array of scalars (a span `[start, end]`, a tier list, the line
/// table) stays on one line, so a position costs a few bytes, not a line
/// per number.
pub fn to_json(artifact: &Artifact) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Compact::default());
    serde::Serialize::serialize(artifact, &mut ser)?;
    out.push(b'\n');
    // serde_json writes UTF-8 only.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// How an array is laid out, decided by its first element.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Not known yet (no element written).
    Open,
    /// Elements on one line: `[1, 2]`.
    Inline,
    /// An element per line, indented.
    Block,
}

/// `serde_json::ser::PrettyFormatter` with arrays of scalars inline.
#[derive(Default)]
struct Compact {
    indent: usize,
    /// The layout of every open array (objects push nothing).
    arrays: Vec<Layout>,
    /// An array element is about to be written: `Some(first)`.
    pending: Option<bool>,
}

impl Compact {
    fn newline<W: ?Sized + std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.indent {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    /// Before a value: lays out the array element it is, if one is due.
    fn element<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        nested: bool,
    ) -> std::io::Result<()> {
        let Some(first) = self.pending.take() else {
            return Ok(());
        };
        let layout = match self.arrays.last_mut() {
            Some(l) if *l == Layout::Open => {
                *l = if nested {
                    Layout::Block
                } else {
                    Layout::Inline
                };
                *l
            }
            Some(l) => *l,
            None => Layout::Block,
        };
        if !first {
            w.write_all(b",")?;
        }
        match layout {
            Layout::Inline if !first => w.write_all(b" "),
            Layout::Inline => Ok(()),
            _ => self.newline(w),
        }
    }
}

macro_rules! scalar {
    ($($name:ident: $t:ty),*) => {$(
        fn $name<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: $t) -> std::io::Result<()> {
            self.element(w, false)?;
            serde_json::ser::CompactFormatter.$name(w, v)
        }
    )*};
}

impl serde_json::ser::Formatter for Compact {
    scalar!(write_bool: bool, write_i8: i8, write_i16: i16, write_i32: i32, write_i64: i64,
        write_u8: u8, write_u16: u16, write_u32: u32, write_u64: u64, write_f32: f32,
        write_f64: f64, write_number_str: &str);

    fn write_null<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.element(w, false)?;
        w.write_all(b"null")
    }

    fn begin_string<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.element(w, false)?;
        w.write_all(b"\"")
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.element(w, true)?;
        self.arrays.push(Layout::Open);
        self.indent += 1;
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.indent -= 1;
        if self.arrays.pop() == Some(Layout::Block) {
            self.newline(w)?;
        }
        w.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        _w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.pending = Some(first);
        Ok(())
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.element(w, true)?;
        self.indent += 1;
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.indent -= 1;
        self.newline(w)?;
        w.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.newline(w)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_of_scalars_stay_on_one_line() {
        let src = policy_syntax::SourceFile::new(
            "p.policy",
            "tiers free < team\npermission a.b \"A\"\nrole r \"R\" { grants a.* on team }\nrole s \"S\" { inherits r }\n",
        );
        let artifact = Artifact::from_policy(&policy_compiler::compile(&src).0);
        let text = to_json(&artifact).unwrap();
        assert!(text.contains("\"at\": [6, 10]"), "{text}");
        assert!(
            text.contains("\"line_lengths\": [18, 19, 34, 26]"),
            "{text}"
        );
        assert!(
            text.contains("\"tier_sets\": [\n    [\"free\", \"team\"],\n    [\"team\"]\n  ]"),
            "{text}"
        );
        assert!(text.contains("\"inherits\": [],"), "{text}");
        assert!(text.contains("\"wide_chars\": []\n"), "{text}");
        // The same document as the pretty form.
        let pretty: serde_json::Value =
            serde_json::from_str(&serde_json::to_string_pretty(&artifact).unwrap()).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            pretty
        );
    }
}
