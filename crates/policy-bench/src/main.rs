//! `policy-bench`: writes generated policies and measures one compilation.
//!
//! ```text
//! policy-bench gen ROLES PERMISSIONS DEPTH [--no-tiers]   # policy text on stdout
//! policy-bench gen --shape SHAPE [N]                       # an adversarial shape (issue 13)
//! policy-bench mem ROLES PERMISSIONS DEPTH [--no-tiers]   # compile once: time and peak memory
//! policy-bench mem --shape SHAPE [N]
//! ```
//!
//! Shapes: `chain`, `all-earlier`, `typos`, `wildcards`, `big` (see
//! `policy_bench::Shape`); `N` defaults to the size issue 13 measures.
//!
//! `mem` reports the wall time of one `policy_compiler::compile` and the
//! process's peak resident set (`VmHWM` from `/proc/self/status`, Linux
//! only) before and after it, so the compiler's share can be told apart
//! from the generated text's.
#![deny(missing_docs)]

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use policy_bench::{generate, Shape, Spec};
use policy_syntax::SourceFile;

const USAGE: &str = "usage: policy-bench gen|mem ROLES PERMISSIONS DEPTH [--no-tiers]
       policy-bench gen|mem --shape chain|all-earlier|typos|wildcards|big [N]";

/// A line of `/proc/self/status`, in KiB (`VmHWM`, `VmRSS`).
fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "n/a".to_string(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

fn number(arg: &str) -> Option<usize> {
    arg.replace('_', "").parse::<usize>().ok()
}

/// What the arguments after the command ask for.
enum Input {
    Spec(Spec),
    Shape(Shape, usize),
}

impl Input {
    fn text(&self) -> String {
        match self {
            Input::Spec(spec) => generate(spec),
            Input::Shape(shape, n) => shape.generate(*n),
        }
    }
}

fn parse_input(args: &[String]) -> Option<Input> {
    if args.first().map(String::as_str) == Some("--shape") {
        let shape = Shape::from_name(args.get(1)?)?;
        let n = match args.get(2) {
            None => shape.default_size(),
            Some(a) => number(a)?,
        };
        return (args.len() <= 3).then_some(Input::Shape(shape, n));
    }
    let num = |i: usize| number(args.get(i)?);
    let spec = Spec::new(num(0)?, num(1)?, num(2)?);
    match args.get(3).map(String::as_str) {
        None => Some(Input::Spec(spec)),
        Some("--no-tiers") if args.len() == 4 => Some(Input::Spec(spec.without_tiers())),
        Some(_) => None,
    }
}

/// Writes `text` to stdout; a closed pipe (`policy-bench gen … | head`) is
/// not an error.
fn print_text(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("policy-bench: cannot write: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(cmd), Some(input)) = (args.first(), args.get(1..).and_then(parse_input)) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match cmd.as_str() {
        "gen" => print_text(&input.text()),
        "mem" => {
            let text = input.text();
            let bytes = text.len();
            let source = SourceFile::new("generated.policy", text);
            let before = status_kib("VmHWM:");
            let start = Instant::now();
            let (policy, diags) = policy_compiler::compile(&source);
            let elapsed = start.elapsed();
            let after = status_kib("VmHWM:");
            let depth = match &input {
                Input::Spec(spec) => format!("depth {}", spec.depth),
                Input::Shape(shape, n) => format!("shape {} {n}", shape.name()),
            };
            println!(
                "{} roles, {} permissions, {depth}: {bytes} bytes of source",
                policy.roles().len(),
                policy.permissions().len(),
            );
            println!("compile: {:.1} ms", elapsed.as_secs_f64() * 1e3);
            println!("peak RSS before compile: {}", mib(before));
            println!("peak RSS after compile:  {}", mib(after));
            println!("diagnostics: {}", diags.len());
            drop(policy);
            if diags.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
