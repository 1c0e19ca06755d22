//! The global options every subcommand shares: `--color` and `--quiet`,
//! and the documentation base from the environment (`POLICYC_DOCS_URL`).
//!
//! They are parsed once in `main` and set here, so that the commands and
//! renderers read them without threading them through every `Args`.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::OnceLock;

/// The environment variable naming where the documentation lives.
pub const DOCS_URL_VAR: &str = "POLICYC_DOCS_URL";

/// The base address of the documentation, from `POLICYC_DOCS_URL` (read
/// once): error pages are `{base}/docs/errors/CODE.md`
/// (`policy_syntax::Code::doc_url`). `None` when it is unset, empty or not
/// UTF-8: then no output links to a page, and help points at
/// `policyc explain CODE`.
pub fn docs_url() -> Option<&'static str> {
    static BASE: OnceLock<Option<String>> = OnceLock::new();
    BASE.get_or_init(|| {
        std::env::var(DOCS_URL_VAR)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    })
    .as_deref()
}

/// When to colour output (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is unset or empty.
    Auto,
    /// Always colour (overrides `NO_COLOR`, as an explicit flag should).
    Always,
    /// Never colour.
    Never,
}

static COLOR: AtomicU8 = AtomicU8::new(0);
static QUIET: AtomicBool = AtomicBool::new(false);

/// Records the global options (called once, by `main`).
pub fn set(color: ColorChoice, quiet: bool) {
    let c = match color {
        ColorChoice::Auto => 0,
        ColorChoice::Always => 1,
        ColorChoice::Never => 2,
    };
    COLOR.store(c, Ordering::Relaxed);
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given: print only problems.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Whether to colour a stream that is (or is not) a terminal.
pub fn color(is_terminal: bool) -> bool {
    match COLOR.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => decide_auto(std::env::var_os("NO_COLOR").as_deref(), is_terminal),
    }
}

/// `--color auto`: a terminal, and `NO_COLOR` unset or empty (no-color.org).
fn decide_auto(no_color: Option<&std::ffi::OsStr>, is_terminal: bool) -> bool {
    no_color.is_none_or(|v| v.is_empty()) && is_terminal
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn auto_honours_no_color_and_the_terminal() {
        assert!(decide_auto(None, true));
        assert!(decide_auto(Some(OsStr::new("")), true));
        assert!(!decide_auto(Some(OsStr::new("1")), true));
        assert!(!decide_auto(None, false));
    }
}
