//! Every YAML read and write of policyc goes through this module.
//!
//! `serde_yaml` is named by the project's design but is deprecated
//! upstream; keeping it behind one module means a maintained successor
//! replaces it here, in one place (docs/ARCHITECTURE.md).

pub use serde_yaml::{Deserializer, Error, Value};

/// Serializes `value` as a YAML document.
pub fn to_string<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    serde_yaml::to_string(value)
}

/// Serializes `value` as a YAML document to `out`, as it goes.
pub fn to_writer<W: std::io::Write, T: serde::Serialize + ?Sized>(
    out: W,
    value: &T,
) -> Result<(), Error> {
    serde_yaml::to_writer(out, value)
}

/// Parses a YAML document.
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    serde_yaml::from_str(text)
}

/// Converts a parsed YAML value.
pub fn from_value<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Error> {
    serde_yaml::from_value(value)
}
