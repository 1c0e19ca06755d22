//! `policy-bench`: writes generated policies and measures one compilation.
//!
//! ```text
//! policy-bench gen ROLES PERMISSIONS DEPTH [--no-tiers | --editions] [--levels] [--conditions]   # policy text on stdout
//!   (`--editions`: a second dimension, `edition cloud | server | dedicated`;
//!    `--levels`: three levels, `scope organization` ▸ `team` ▸ `project`, with `acts as`;
//!    `--conditions`: `condition` lines, and some grants `when` they hold)
//! policy-bench gen --shape SHAPE [N]                       # an adversarial shape (issue 13)
//! policy-bench project FILES DIR ROLES PERMISSIONS DEPTH [flags]   # the policy as a project of FILES files in DIR
//! policy-bench mem ROLES PERMISSIONS DEPTH [--no-tiers | --editions] [--levels] [--conditions]   # compile, evaluate: time and peak memory
//! policy-bench mem --shape SHAPE [N]
//! ```
//!
//! Shapes: `chain`, `all-earlier`, `typos`, `wildcards`, `big` (see
//! `policy_bench::Shape`); `N` defaults to the size issue 13 measures.
//!
//! `mem` reports the wall time of one `policy_compiler::compile`, of
//! building the `Evaluator` and of 100,000 decisions (by id and by name),
//! and the process's peak resident set (`VmHWM` from `/proc/self/status`,
//! Linux only) before and after each, so the compiler's share can be told
//! apart from the generated text's and the evaluator's.
#![deny(missing_docs)]

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use policy_bench::{generate, Shape, Spec};
use policy_syntax::SourceFile;

const USAGE: &str =
    "usage: policy-bench gen|mem ROLES PERMISSIONS DEPTH [--no-tiers | --editions] [--levels] [--conditions]
       policy-bench gen|mem --shape chain|all-earlier|inherit-all|typos|wildcards|gated|big [N]
       policy-bench project FILES DIR ROLES PERMISSIONS DEPTH [--no-tiers | --editions] [--levels] [--conditions]";

/// `policy-bench project FILES DIR …`: writes the generated policy as a
/// policy project, `DIR/policyc.toml` and `DIR/part-NNN.policy`.
fn write_project(args: &[String]) -> ExitCode {
    let (Some(files), Some(dir), Some(input)) = (
        args.first().and_then(|a| number(a)),
        args.get(1),
        args.get(2..).and_then(parse_input),
    ) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let dir = std::path::Path::new(dir);
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("policyc.toml"), "[policy]\nname = \"generated\"\n")?;
        for (i, text) in policy_bench::split(&input.text(), files).iter().enumerate() {
            std::fs::write(dir.join(format!("part-{i:03}.policy")), text)?;
        }
        Ok(())
    };
    match write() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("policy-bench: cannot write {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}

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
    let mut spec = Spec::new(num(0)?, num(1)?, num(2)?);
    // At most one of `--no-tiers` and `--editions`, and `--levels` and
    // `--conditions` once each.
    let mut tiers_flag = false;
    for flag in args.get(3..)? {
        spec = match flag.as_str() {
            "--no-tiers" if !std::mem::replace(&mut tiers_flag, true) => spec.without_tiers(),
            "--editions" if !std::mem::replace(&mut tiers_flag, true) => spec.with_editions(),
            "--levels" if !spec.levels => spec.with_levels(),
            "--conditions" if !spec.conditions => spec.with_conditions(),
            _ => return None,
        };
    }
    Some(Input::Spec(spec))
}

/// 50,000 decisions by id and 50,000 by name, spread over every role and
/// permission: how many were allowed (by-name answers must agree) and the time.
fn queries(eval: &policy_eval::Evaluator) -> (usize, std::time::Duration) {
    use policy_eval::{PermId, RoleId, TierId};
    let (nt, nr, np) = (eval.tier_count(), eval.role_count(), eval.perm_count());
    let mut allowed = 0;
    let start = Instant::now();
    for i in 0..50_000usize {
        let k = i.wrapping_mul(2_654_435_761);
        let (t, r, p) = (
            TierId((k % nt.max(1)) as u32),
            RoleId((k % nr.max(1)) as u32),
            PermId(((k >> 7) % np.max(1)) as u32),
        );
        let by_id = eval.decide_one(t, r, p);
        let (Some((role, _)), Some((perm, _))) = (eval.role_name(r), eval.perm_name(p)) else {
            continue;
        };
        let by_name = eval.decide_by_name(eval.tier_name(t), &[role], perm);
        if by_name != Ok(by_id) {
            eprintln!("by name and by id disagree: {role} {perm}");
        }
        allowed += usize::from(by_id);
    }
    (allowed, start.elapsed())
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
    if args.first().map(String::as_str) == Some("project") {
        return write_project(args.get(1..).unwrap_or(&[]));
    }
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
            let (file, parse_diags) = policy_syntax::parse(&source);
            let parsed = status_kib("VmHWM:");
            let (policy, mut diags) = policy_compiler::compile_file(&file, parse_diags.is_empty());
            drop(file);
            diags.extend(parse_diags);
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
            println!("peak RSS after parse:    {}", mib(parsed));
            println!("peak RSS after compile:  {}", mib(after));
            println!(
                "stored raw sets: {}",
                mib(Some(policy.stored_set_bytes() as u64 / 1024))
            );
            println!("diagnostics: {}", diags.len());
            let start = Instant::now();
            let eval = policy_eval::Evaluator::from_owned_policy(policy);
            println!(
                "evaluator: {:.1} ms, peak RSS {}",
                start.elapsed().as_secs_f64() * 1e3,
                mib(status_kib("VmHWM:"))
            );
            let (allowed, elapsed) = queries(&eval);
            println!(
                "100000 decisions by id and by name ({allowed} allowed): {:.1} ms, peak RSS {}",
                elapsed.as_secs_f64() * 1e3,
                mib(status_kib("VmHWM:"))
            );
            drop(eval);
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
