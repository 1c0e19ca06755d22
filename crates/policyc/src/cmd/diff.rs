//! `policyc diff OLD NEW`: compare two versions of a policy by what they allow.
//!
//! OLD and NEW are files or `REV:PATH` git revisions; `--git REV -- PATH`
//! compares PATH at REV with the working tree. The comparison itself is
//! `policy_compiler::diff_policies`; this command loads and renders.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use policy_compiler::{compile, diff_policies, AccessChange, Change, PolicyDiff, RoleEntry};
use policy_syntax::{Code, Diagnostic, Severity, SourceFile};

use crate::exit::{CmdError, Exit};

mod git;
use crate::output::{self, OutputFormat};
use crate::render::Format;
use git::{git_has, git_is_commit};

/// `policyc diff`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// OLD and NEW: files or `REV:PATH` git revisions. With `--git REV`, the one PATH to compare.
    #[arg(value_name = "OLD NEW | PATH")]
    pub versions: Vec<String>,
    /// Compare PATH at git revision REV (old) with the working tree (new): `--git REV -- PATH`.
    #[arg(long, value_name = "REV")]
    pub git: Option<String>,
    /// Output format.
    #[arg(long, default_value = "human", value_parser = output::accepting(&[OutputFormat::Human, OutputFormat::Markdown, OutputFormat::Json]))]
    pub format: OutputFormat,
    /// Exit 1 when there is any effective change (0 otherwise).
    #[arg(long)]
    pub exit_code: bool,
}

/// Where one version of the policy comes from.
enum Version {
    File(String),
    Git { rev: String, path: String },
}

impl Version {
    /// A file when it exists, else `REV:PATH` when the argument has a colon.
    fn parse(arg: &str) -> Version {
        if !Path::new(arg).exists() {
            if let Some((rev, path)) = arg.split_once(':') {
                if !rev.is_empty() {
                    return Version::Git {
                        rev: rev.to_string(),
                        path: path.to_string(),
                    };
                }
            }
        }
        Version::File(arg.to_string())
    }
}

fn error(code: Code, message: String, help: &str, format: Format) -> CmdError {
    CmdError::new(Diagnostic::new(code, message).help(help), format)
}

fn load(version: &Version, format: Format) -> Result<SourceFile, CmdError> {
    match version {
        Version::File(path) => crate::project::load_policy(Path::new(path))
            .map_err(|e| CmdError::new(e.into_diagnostic(), format)),
        Version::Git { rev, path } => git::policy(rev, path, format),
    }
}

/// Runs the command.
pub fn run(args: Args) -> Result<Exit, CmdError> {
    let format = match args.format {
        OutputFormat::Json => Format::Json,
        _ => Format::Human,
    };
    let (old, new) = match (&args.git, args.versions.as_slice()) {
        (Some(rev), [path]) => {
            let relative = match std::env::current_dir() {
                Ok(cwd) => Path::new(path)
                    .strip_prefix(&cwd)
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_else(|_| path.clone()),
                Err(_) => path.clone(),
            };
            (
                Version::Git {
                    rev: rev.clone(),
                    path: format!("./{relative}"),
                },
                Version::File(path.clone()),
            )
        }
        (Some(_), _) => {
            return Err(error(
                Code::Usage,
                "`--git REV` takes exactly one PATH".to_string(),
                "write `policyc diff --git REV -- PATH`",
                format,
            ))
        }
        (None, [old, new]) => (Version::parse(old), Version::parse(new)),
        (None, _) => {
            return Err(error(
                Code::Usage,
                "`policyc diff` takes two versions, OLD and NEW".to_string(),
                "write `policyc diff OLD NEW` (files or `REV:PATH`), or `policyc diff --git REV -- PATH`",
                format,
            ))
        }
    };
    // `--git REV -- PATH`: a file added since REV is compared with an empty
    // policy (all additions), a file deleted since REV the other way round.
    let absent = |name: String| SourceFile::new(name, String::new());
    let (old, new) = match (&args.git, &old, &new) {
        (Some(rev), Version::Git { path: in_git, .. }, Version::File(path)) => {
            let spec = format!("{rev}:{in_git}");
            let on_disk = Path::new(path).exists();
            let in_rev = git_is_commit(rev) && git_has(&spec);
            match (in_rev, on_disk) {
                (false, true) if git_is_commit(rev) => (absent(spec), load(&new, format)?),
                (true, false) => (load(&old, format)?, absent(path.clone())),
                _ => (load(&old, format)?, load(&new, format)?),
            }
        }
        _ => (load(&old, format)?, load(&new, format)?),
    };
    let (old_policy, mut diags) = compile(&old);
    let (new_policy, more) = compile(&new);
    diags.extend(more);
    // A failing assertion does not make the model incomplete: diff anyway, and say so.
    let failed_asserts = diags
        .iter()
        .filter(|d| d.code() == Code::AssertionFailed)
        .count();
    diags.retain(|d| d.severity() == Severity::Error && d.code() != Code::AssertionFailed);
    if !diags.is_empty() {
        return Err(CmdError {
            diagnostics: diags,
            format,
            exit: Exit::Error,
        });
    }
    let diff = diff_policies(&old_policy, &new_policy);
    if failed_asserts > 0 {
        let _ = writeln!(
            std::io::stderr().lock(),
            "note: {failed_asserts} assertion{} failed; run `policyc check` for details",
            if failed_asserts == 1 { "" } else { "s" }
        );
    }
    match args.format {
        OutputFormat::Json => output::print_versioned(&diff),
        OutputFormat::Markdown => print(&markdown(&diff)),
        _ => print(&human(&diff)),
    }
    Ok(if args.exit_code && !diff.is_empty() {
        Exit::Failure
    } else {
        Exit::Ok
    })
}

fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
}

/// ` on a, b` for a label that changed only in some tiers; empty for the
/// label itself.
fn label_tiers(t: &[Option<String>]) -> String {
    if t.is_empty() {
        String::new()
    } else {
        format!(" on {}", tiers(t))
    }
}

fn tiers(t: &[Option<String>]) -> String {
    if t.is_empty() {
        return "no tier".to_string();
    }
    t.iter()
        .map(|t| t.as_deref().unwrap_or("default"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn count(diff: &PolicyDiff) -> usize {
    diff.tiers_added.len()
        + diff.tiers_removed.len()
        + diff.roles_added.len()
        + diff.roles_removed.len()
        + diff.permissions_added.len()
        + diff.permissions_removed.len()
        + diff.labels.len()
        + diff.availability.len()
        + diff.assignability.len()
        + diff.access.len()
}

fn role_line(r: &RoleEntry, added: bool) -> String {
    let perms = r
        .effective
        .iter()
        .flat_map(|t| &t.permissions)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let twin = match (&r.same_as, added) {
        (Some(s), true) => format!(" (probably `{s}`, renamed)"),
        (Some(s), false) => format!(" (probably renamed to `{s}`)"),
        (None, _) => String::new(),
    };
    format!(
        "`{}` \"{}\", on {}: {}{twin}",
        r.id,
        policy_syntax::escape_controls(&r.label),
        tiers(&r.available_on),
        if perms == 1 {
            "1 permission".to_string()
        } else {
            format!("{perms} permissions")
        }
    )
}

fn reasons(a: &AccessChange) -> String {
    a.reasons
        .iter()
        .map(|r| r.describe())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The human (terminal) rendering.
pub fn human(diff: &PolicyDiff) -> String {
    let mut s = String::new();
    if diff.is_empty() {
        let _ = writeln!(
            s,
            "no effective change between `{}` and `{}`",
            diff.old, diff.new
        );
        return s;
    }
    let _ = writeln!(s, "policy diff: `{}` → `{}`", diff.old, diff.new);
    if !diff.tiers_added.is_empty() || !diff.tiers_removed.is_empty() {
        let _ = writeln!(s, "\ntiers:");
        for t in &diff.tiers_added {
            let _ = writeln!(s, "  + `{t}`");
        }
        for t in &diff.tiers_removed {
            let _ = writeln!(s, "  - `{t}`");
        }
    }
    if !diff.roles_added.is_empty() || !diff.roles_removed.is_empty() {
        let _ = writeln!(s, "\nroles:");
        for r in &diff.roles_added {
            let _ = writeln!(s, "  + {}", role_line(r, true));
        }
        for r in &diff.roles_removed {
            let _ = writeln!(s, "  - {}", role_line(r, false));
        }
    }
    if !diff.permissions_added.is_empty() || !diff.permissions_removed.is_empty() {
        let _ = writeln!(s, "\npermissions:");
        for p in &diff.permissions_added {
            let _ = writeln!(
                s,
                "  + `{}` \"{}\"",
                p.id,
                policy_syntax::escape_controls(&p.label)
            );
        }
        for p in &diff.permissions_removed {
            let _ = writeln!(
                s,
                "  - `{}` \"{}\"",
                p.id,
                policy_syntax::escape_controls(&p.label)
            );
        }
    }
    if !diff.labels.is_empty() {
        let _ = writeln!(s, "\nlabels:");
        for l in &diff.labels {
            let _ = writeln!(
                s,
                "  ~ {} `{}`: \"{}\" → \"{}\"{}",
                l.subject.as_str(),
                l.id,
                l.old,
                l.new,
                label_tiers(&l.tiers)
            );
        }
    }
    if !diff.availability.is_empty() {
        let _ = writeln!(s, "\navailability:");
        for a in &diff.availability {
            let _ = writeln!(
                s,
                "  ~ {} `{}`: {} → {}",
                a.subject.as_str(),
                a.id,
                tiers(&a.old),
                tiers(&a.new)
            );
        }
    }
    if !diff.assignability.is_empty() {
        let _ = writeln!(s, "\nassignability:");
        for a in &diff.assignability {
            let _ = writeln!(
                s,
                "  ~ role `{}` kept but no longer assignable on: {} → {}",
                a.id,
                tiers(&a.old),
                tiers(&a.new)
            );
        }
    }
    if !diff.access.is_empty() {
        let _ = writeln!(s, "\naccess:");
        let mut role = "";
        for a in &diff.access {
            if a.role != role {
                role = &a.role;
                let _ = writeln!(s, "  role `{role}`");
            }
            let sign = match a.change {
                Change::Gained => "+",
                Change::Lost => "-",
                Change::Conditional => "~",
            };
            let _ = writeln!(
                s,
                "    {sign} {} on {}: {}",
                a.permission,
                tiers(&a.tiers),
                reasons(a)
            );
        }
    }
    let n = count(diff);
    let _ = writeln!(s, "\n{n} effective change{}", if n == 1 { "" } else { "s" });
    s
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The Markdown rendering, for a pull-request comment.
pub fn markdown(diff: &PolicyDiff) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "### Policy diff: `{}` → `{}`\n",
        cell(&diff.old),
        cell(&diff.new)
    );
    if diff.is_empty() {
        let _ = writeln!(s, "No effective change.");
        return s;
    }
    let n = count(diff);
    let _ = writeln!(
        s,
        "**{n} effective change{}**",
        if n == 1 { "" } else { "s" }
    );
    if !diff.access.is_empty() {
        let _ = writeln!(s, "\n#### Access\n");
        let _ = writeln!(s, "| Role | Permission | Change | Tiers | Why |");
        let _ = writeln!(s, "|---|---|---|---|---|");
        for a in &diff.access {
            let change = match a.change {
                Change::Gained => "**gained**",
                Change::Lost => "**lost**",
                Change::Conditional => "**conditional**",
            };
            let _ = writeln!(
                s,
                "| `{}` | `{}` | {change} | {} | {} |",
                a.role,
                a.permission,
                cell(&tiers(&a.tiers)),
                cell(&reasons(a))
            );
        }
    }
    let mut items: Vec<String> = Vec::new();
    for t in &diff.tiers_added {
        items.push(format!("tier `{t}` added"));
    }
    for t in &diff.tiers_removed {
        items.push(format!("tier `{t}` removed"));
    }
    for r in &diff.roles_added {
        items.push(format!("role added: {}", role_line(r, true)));
    }
    for r in &diff.roles_removed {
        items.push(format!("role removed: {}", role_line(r, false)));
    }
    for p in &diff.permissions_added {
        items.push(format!(
            "permission added: `{}` \"{}\"",
            p.id,
            policy_syntax::escape_controls(&p.label)
        ));
    }
    for p in &diff.permissions_removed {
        items.push(format!(
            "permission removed: `{}` \"{}\"",
            p.id,
            policy_syntax::escape_controls(&p.label)
        ));
    }
    for l in &diff.labels {
        items.push(format!(
            "{} `{}` relabelled: \"{}\" → \"{}\"{}",
            l.subject.as_str(),
            l.id,
            l.old,
            l.new,
            label_tiers(&l.tiers)
        ));
    }
    for a in &diff.availability {
        items.push(format!(
            "{} `{}` available on: {} → {}",
            a.subject.as_str(),
            a.id,
            tiers(&a.old),
            tiers(&a.new)
        ));
    }
    for a in &diff.assignability {
        items.push(format!(
            "role `{}` kept but no longer assignable on: {} → {}",
            a.id,
            tiers(&a.old),
            tiers(&a.new)
        ));
    }
    if !items.is_empty() {
        let _ = writeln!(s, "\n#### Declarations\n");
        for i in items {
            let _ = writeln!(s, "- {}", i.replace(['\n', '\r'], " "));
        }
    }
    s
}
