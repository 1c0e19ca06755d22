//! `policy-bench`: writes generated policies and measures one compilation.
//!
//! ```text
//! policy-bench gen ROLES PERMISSIONS DEPTH [--no-tiers]   # policy text on stdout
//! policy-bench mem ROLES PERMISSIONS DEPTH [--no-tiers]   # compile once: time and peak memory
//! ```
//!
//! `mem` reports the wall time of one `policy_compiler::compile` and the
//! process's peak resident set (`VmHWM` from `/proc/self/status`, Linux
//! only) before and after it, so the compiler's share can be told apart
//! from the generated text's.
#![deny(missing_docs)]

use std::io::{ErrorKind, Write};
use std::process::ExitCode;
use std::time::Instant;

use policy_bench::{generate, Spec};
use policy_syntax::SourceFile;

const USAGE: &str = "usage: policy-bench gen|mem ROLES PERMISSIONS DEPTH [--no-tiers]";

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

/// Writes `bytes` to stdout. A reader that stops early (`| head`) closes
/// the pipe: that ends the output quietly, as for any Unix filter, instead
/// of the panic `print!` raises on a broken pipe.
fn write_stdout(bytes: &[u8]) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("policy-bench: cannot write the policy: {e}");
            ExitCode::from(1)
        }
    }
}

fn parse_spec(args: &[String]) -> Option<Spec> {
    let num = |i: usize| args.get(i)?.replace('_', "").parse::<usize>().ok();
    let spec = Spec::new(num(0)?, num(1)?, num(2)?);
    match args.get(3).map(String::as_str) {
        None => Some(spec),
        Some("--no-tiers") => Some(spec.without_tiers()),
        Some(_) => None,
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(cmd), Some(spec)) = (args.first(), args.get(1..).and_then(parse_spec)) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match cmd.as_str() {
        "gen" => write_stdout(generate(&spec).as_bytes()),
        "mem" => {
            let text = generate(&spec);
            let bytes = text.len();
            let source = SourceFile::new("generated.policy", text);
            let before = status_kib("VmHWM:");
            let start = Instant::now();
            let (policy, diags) = policy_compiler::compile(&source);
            let elapsed = start.elapsed();
            let after = status_kib("VmHWM:");
            println!(
                "{} roles, {} permissions, depth {}: {bytes} bytes of source",
                policy.roles().len(),
                policy.permissions().len(),
                spec.depth
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
