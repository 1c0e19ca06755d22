//! `parse-bench`: in-process parse and compile timing, and the Cedar
//! translation of a generated policy (for `cedar check-parse`).
//!
//! ```text
//! parse-bench time FILE [RUNS]                  # parse and compile FILE: best of RUNS (default 20), MB/s
//! parse-bench cedar ROLES PERMISSIONS DEPTH     # the generated policy in Cedar syntax, on stdout
//! parse-bench cedar-statements ROLES PERMISSIONS DEPTH   # the same, statement by statement
//! ```
//!
//! `cedar` writes the `decision` benchmark's encoding (every role's
//! effective permissions per set of tiers, [`cedar_policies`]);
//! `cedar-statements` writes one Cedar statement per `grants` and
//! `excludes` line ([`cedar_statements`]), less text than the policy.
//!
//! `time` reports the best of RUNS wall times of `policy_syntax::parse` and
//! of `policy_compiler::compile` (which includes the parse), and the parse
//! rate in MB/s (10⁶ bytes per second of source).
#![deny(missing_docs)]

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use policy_bench::{cedar_policies, cedar_statements, generate, Spec};
use policy_syntax::SourceFile;

const USAGE: &str = "usage: parse-bench time FILE [RUNS]\n       parse-bench cedar|cedar-statements ROLES PERMISSIONS DEPTH";

/// The best of `runs` timings of `f`, in seconds.
fn best_of(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn time_file(path: &str, runs: usize) -> ExitCode {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("parse-bench: cannot read `{path}`: {e}");
            return ExitCode::from(2);
        }
    };
    let bytes = text.len();
    let source = SourceFile::new(path, text);
    let parse = best_of(runs, || {
        drop(std::hint::black_box(policy_syntax::parse(&source)))
    });
    let compile = best_of(runs, || {
        drop(std::hint::black_box(policy_compiler::compile(&source)))
    });
    println!("{path}: {bytes} bytes, best of {runs}");
    println!(
        "parse:   {:.3} ms ({:.1} MB/s)",
        parse * 1e3,
        bytes as f64 / parse / 1e6
    );
    println!("compile: {:.3} ms (parse included)", compile * 1e3);
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| {
        args.get(i)
            .and_then(|a| a.replace('_', "").parse::<usize>().ok())
    };
    match args.first().map(String::as_str) {
        Some("time") if args.len() <= 3 => match (args.get(1), args.get(2)) {
            (Some(path), None) => time_file(path, 20),
            (Some(path), Some(_)) => match num(2) {
                Some(runs) => time_file(path, runs),
                None => usage(),
            },
            _ => usage(),
        },
        Some(kind @ ("cedar" | "cedar-statements")) if args.len() == 4 => {
            match (num(1), num(2), num(3)) {
                (Some(r), Some(p), Some(d)) => {
                    let text = generate(&Spec::new(r, p, d));
                    let source = SourceFile::new("generated.policy", text);
                    let (policy, diags) = policy_compiler::compile(&source);
                    if !diags.is_empty() {
                        eprintln!("parse-bench: the generated policy has diagnostics");
                        return ExitCode::from(1);
                    }
                    let out = if kind == "cedar" {
                        cedar_policies(&policy)
                    } else {
                        cedar_statements(&policy_syntax::parse(&source).0)
                    };
                    // A closed pipe (`| head`) is not an error worth a panic.
                    let _ = std::io::stdout().lock().write_all(out.as_bytes());
                    ExitCode::SUCCESS
                }
                _ => usage(),
            }
        }
        _ => usage(),
    }
}

fn usage() -> ExitCode {
    eprintln!("{USAGE}");
    ExitCode::from(2)
}
