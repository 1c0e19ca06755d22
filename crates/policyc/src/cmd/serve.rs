//! `policyc serve FILE [--http ADDR] [--grpc ADDR]`: the policy decision
//! point of `policy-server`. This module owns what the server must not:
//! reading (and re-reading) the policy file, the command line, and the
//! terminal (the `listening:` lines and the reload log on stderr).

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use policy_server::{Config, Event, Limits, Policy, PolicySource, ServeError};
use policy_syntax::{Code, Diagnostic, Severity};

use crate::exit::{CmdError, Exit};
use crate::files;
use crate::render::Format;

/// The HTTP address when neither `--http` nor `--grpc` is given.
const DEFAULT_HTTP: &str = "127.0.0.1:8181";
/// The gRPC address when neither `--http` nor `--grpc` is given.
const DEFAULT_GRPC: &str = "127.0.0.1:9191";

/// `policyc serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The policy: a `.policy` source, or a compiled artifact (`.json`, `.yaml`, `.yml`).
    pub file: PathBuf,
    /// Serve the HTTP API on HOST:PORT (port 0: any free port). Default 127.0.0.1:8181 when neither listener is given.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// Serve Envoy ext_authz gRPC on HOST:PORT (port 0: any free port). Default 127.0.0.1:9191 when neither listener is given.
    #[arg(long, value_name = "ADDR")]
    pub grpc: Option<String>,
    /// Check the file for changes this often, in milliseconds (0: reload on SIGHUP only).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub watch_interval_ms: u64,
    /// On SIGTERM, wait this long for in-flight requests before exiting.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub drain_timeout_ms: u64,
    /// The largest request body accepted (413 above).
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_body_bytes)]
    pub max_body_bytes: usize,
    /// The most requests in one `POST /v1/decide` array.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_batch)]
    pub max_batch: usize,
    /// Time a client has to send its headers, then its body (408 / closed).
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub request_timeout_ms: u64,
    /// HTTP connections open at once; more are answered 429 and closed.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_connections)]
    pub max_connections: usize,
}

/// The policy file, read and checked completely on every load.
struct FileSource {
    path: PathBuf,
}

/// Reads FILE once and builds the policy (through the one loader the query
/// commands use). Errors are diagnostics (a policy with only warnings serves).
fn load(path: &Path) -> Result<Policy, Vec<Diagnostic>> {
    let eval = crate::load::evaluator_from_file(path).map_err(|diags| {
        diags
            .into_iter()
            .filter(|d| d.severity() == Severity::Error)
            .collect::<Vec<_>>()
    })?;
    Ok(Policy::new(eval))
}

/// The most diagnostics a reload log line names; the rest are counted.
const LOGGED_ERRORS: usize = 3;

/// Diagnostics as one log line that shows nothing of the file: the file
/// may be anything a link points at (`/etc/shadow`), and a message may
/// quote it (`found `root:$6$...``), so each error is its code, its title
/// and where it is. Only the messages of the codes about reading the file
/// (missing, unreadable, too large, not text, not a regular file), which
/// say nothing of its content, are kept. `policyc check FILE` shows all.
fn one_line(diags: &[Diagnostic]) -> String {
    let mut parts: Vec<String> = diags
        .iter()
        .take(LOGGED_ERRORS)
        .map(|d| {
            let code = d.code();
            let about_reading = matches!(
                code,
                Code::Io
                    | Code::NotUtf8
                    | Code::NulByte
                    | Code::FileTooLarge
                    | Code::NotRegularFile
            );
            if about_reading {
                return format!("{code}: {}", d.message());
            }
            let at = d
                .source_file()
                .zip(d.primary_span())
                .map(|(source, span)| {
                    let lc = source.line_col(span.start);
                    let file = source.file_name_at(span.start);
                    format!(" at {file}:{}:{}", lc.line, lc.column)
                })
                .unwrap_or_default();
            format!("{code}: {}{at}", code.title())
        })
        .collect();
    if diags.len() > LOGGED_ERRORS {
        parts.push(format!(
            "and {} more (run `policyc check` on the file)",
            diags.len() - LOGGED_ERRORS
        ));
    }
    parts.join("; ")
}

impl PolicySource for FileSource {
    fn load(&self) -> Result<Policy, String> {
        load(&self.path).map_err(|d| one_line(&d))
    }

    /// The file's identity, time and size; for a project, those of its
    /// manifest and of every file it lists (so adding, removing or editing
    /// one is a change).
    fn stamp(&self) -> Option<String> {
        use std::os::unix::fs::MetadataExt;
        let mut out = String::new();
        for path in crate::project::watched(&self.path) {
            let m = std::fs::metadata(&path).ok()?;
            out.push_str(&format!(
                "{}:{}:{}:{}.{}:{};",
                path.display(),
                m.dev(),
                m.ino(),
                m.mtime(),
                m.mtime_nsec(),
                m.len()
            ));
        }
        Some(out)
    }
}

fn resolve(addr: &str, scheme: &str) -> Result<SocketAddr, CmdError> {
    let bad = |why: String| {
        CmdError::new(
            Diagnostic::new(
                Code::CannotListen,
                format!("cannot listen on {scheme}://{addr}: {why}"),
            )
            .help("give HOST:PORT, e.g. 127.0.0.1:8181, or port 0 for any free port"),
            Format::Human,
        )
    };
    addr.to_socket_addrs()
        .map_err(|e| bad(e.to_string()))?
        .next()
        .ok_or_else(|| bad("the host has no address".to_string()))
}

fn log(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

fn print_event(e: Event) {
    match e {
        Event::Listening { scheme, addr } => log(&format!("listening: {scheme}://{addr}")),
        Event::Reloaded {
            hash,
            trigger,
            took,
        } => log(&format!(
            "reloaded ({trigger}): serving {hash} (loaded and checked in {:.1} ms)",
            took.as_secs_f64() * 1e3
        )),
        Event::ReloadFailed {
            error,
            trigger,
            serving,
        } => log(&format!(
            "reload failed ({trigger}): {error}; still serving {serving}"
        )),
        Event::Draining => log("draining: no new connections; finishing in-flight requests"),
        Event::Stopped => log("stopped"),
    }
}

/// Runs the command: exit 0 after a clean shutdown, 2 when the policy
/// cannot be loaded at start or a listener cannot be opened.
pub fn run(args: ServeArgs) -> Result<Exit, CmdError> {
    let (http, grpc) = match (&args.http, &args.grpc) {
        (None, None) => (
            Some(DEFAULT_HTTP.to_string()),
            Some(DEFAULT_GRPC.to_string()),
        ),
        (h, g) => (h.clone(), g.clone()),
    };
    let http = http.map(|a| resolve(&a, "http")).transpose()?;
    let grpc = grpc.map(|a| resolve(&a, "grpc")).transpose()?;
    let path = args.file.clone();
    let initial = move || {
        let policy = load(&path)?;
        log(&format!(
            "loaded {}: serving {}",
            files::display_name(&path),
            policy.hash()
        ));
        Ok(policy)
    };
    let config = Config {
        http,
        grpc,
        watch_interval: (args.watch_interval_ms > 0)
            .then(|| Duration::from_millis(args.watch_interval_ms)),
        drain_timeout: Duration::from_millis(args.drain_timeout_ms),
        limits: Limits {
            max_body_bytes: args.max_body_bytes,
            max_batch: args.max_batch,
            request_timeout: Duration::from_millis(args.request_timeout_ms.max(1)),
            max_connections: args.max_connections.max(1),
            ..Limits::default()
        },
    };
    let source = Arc::new(FileSource {
        path: args.file.clone(),
    });
    match policy_server::serve(config, initial, source, Arc::new(print_event)) {
        Ok(()) => Ok(Exit::Ok),
        Err(ServeError::Load(diagnostics)) => Err(CmdError {
            diagnostics,
            format: Format::Human,
            exit: Exit::Error,
        }),
        Err(ServeError::Io(why)) => Err(CmdError::new(
            Diagnostic::new(Code::CannotListen, why),
            Format::Human,
        )),
    }
}
