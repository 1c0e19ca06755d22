//! `policyc man --out-dir DIR`: man pages generated from the clap
//! definitions, `policyc.1` and one `policyc-COMMAND.1` per subcommand.

use std::io::Write;
use std::path::PathBuf;

use policy_syntax::{Code, Diagnostic};

use crate::exit::{CmdError, Exit};
use crate::files;
use crate::render::Format;

/// `policyc man`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory to write the pages into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
}

/// Every page as (file name, roff text): the top-level page first, then
/// one per visible subcommand, in the order `--help` lists them.
pub fn pages(cli: clap::Command) -> Vec<(String, Vec<u8>)> {
    let mut cmd = cli.disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    let mut render = |c: clap::Command| {
        let man = clap_mangen::Man::new(c);
        let mut text = Vec::new();
        if man.render(&mut text).is_ok() {
            out.push((man.get_filename(), text));
        }
    };
    render(cmd.clone());
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        render(sub.clone());
    }
    out
}

/// Runs the command.
/// Runs the command; `cli` is policyc's whole command line.
pub fn run(args: Args, cli: clap::Command) -> Result<Exit, CmdError> {
    std::fs::create_dir_all(&args.out_dir).map_err(|e| {
        let d = Diagnostic::new(
            Code::Io,
            format!(
                "cannot create `{}`: {}",
                files::display_name(&args.out_dir),
                e.to_string().to_lowercase()
            ),
        )
        .help("pass a directory you can write to");
        CmdError::new(d, Format::Human)
    })?;
    let pages = pages(cli);
    for (name, text) in &pages {
        files::write_atomic(&args.out_dir.join(name), text, &[])
            .map_err(|d| CmdError::new(d, Format::Human))?;
    }
    if !crate::global::quiet() {
        let _ = writeln!(
            std::io::stderr().lock(),
            "wrote {} man pages to `{}`",
            pages.len(),
            files::display_name(&args.out_dir)
        );
    }
    Ok(Exit::Ok)
}
