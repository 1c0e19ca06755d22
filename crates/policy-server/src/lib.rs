//! `policyc serve`: decisions over HTTP (`POST /v1/decide`, `GET
//! /v1/who-can`, `GET /v1/what-can`, `/healthz`, `/readyz`, `/metrics`) and
//! as an Envoy `ext_authz` gRPC backend
//! (`envoy.service.auth.v3.Authorization/Check`), with hot reload.
//!
//! This crate does the network I/O and the signals; it never opens a file
//! nor writes to the terminal. The caller (`policyc`) hands it a
//! [`PolicySource`], which reads and fully checks the policy file, and an
//! event sink, which prints the `listening:` lines and reload logs.
//!
//! The serving policy sits in an [`arc_swap::ArcSwap`]: each request takes
//! one snapshot (`Arc`) when it starts and finishes on it, and a reload
//! swaps a new, completely checked [`Policy`] in atomically. A failed
//! reload keeps the last good policy and is counted in `/metrics`.
#![deny(missing_docs)]

mod engine;
mod grpc;
mod http;
mod metrics;
mod settle;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tokio::sync::watch;

pub use engine::{Check, Policy};
pub use metrics::Metrics;

/// Where the policy comes from: loads and completely checks it.
pub trait PolicySource: Send + Sync + 'static {
    /// Reads and checks the policy; an error is a sentence for the log,
    /// which names what is wrong and where, never the file's content.
    fn load(&self) -> Result<Policy, String>;
    /// A cheap marker of the file's state (size, modification time, inode):
    /// when it changes and then stands still for one watch interval, the
    /// server reloads (so files written together load together, and a
    /// load the stamp moved under is not swapped in). `None` when it cannot be read
    /// (deleted, say): a change to `None` is a reload too, which fails, so
    /// the disappearance is logged and counted once.
    fn stamp(&self) -> Option<String>;
}

/// Limits that protect the server from bad clients.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest request body accepted (413 above).
    pub max_body_bytes: usize,
    /// The most requests in one `POST /v1/decide` array (413 above).
    pub max_batch: usize,
    /// Time allowed to send a request's headers, and then its body (408).
    pub request_timeout: Duration,
    /// HTTP connections open at once; one more is answered 429 and closed.
    pub max_connections: usize,
    /// Concurrent gRPC streams per connection.
    pub grpc_streams_per_connection: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1024 * 1024,
            max_batch: 10_000,
            request_timeout: Duration::from_secs(10),
            max_connections: 1024,
            grpc_streams_per_connection: 1024,
        }
    }
}

/// What to serve, and where.
#[derive(Debug, Clone)]
pub struct Config {
    /// The HTTP listener (port 0: any free port).
    pub http: Option<SocketAddr>,
    /// The gRPC (ext_authz) listener.
    pub grpc: Option<SocketAddr>,
    /// How often the file is checked for a change; `None`: only on SIGHUP.
    pub watch_interval: Option<Duration>,
    /// How long SIGTERM waits for in-flight requests before closing.
    pub drain_timeout: Duration,
    /// Protections.
    pub limits: Limits,
}

/// What happened, for the caller to log.
#[derive(Debug, Clone)]
pub enum Event {
    /// A listener is ready: `scheme` is `http` or `grpc`.
    Listening {
        /// `http` or `grpc`.
        scheme: &'static str,
        /// The bound address (the real port when 0 was asked).
        addr: SocketAddr,
    },
    /// A new policy is serving.
    Reloaded {
        /// Its content hash.
        hash: String,
        /// What caused the reload: `SIGHUP` or `file change`.
        trigger: &'static str,
        /// Time to load and check it.
        took: Duration,
    },
    /// A reload failed; the last good policy keeps serving.
    ReloadFailed {
        /// Why, as [`PolicySource::load`] said it (which must not quote
        /// the file: it may be anything a link points at).
        error: String,
        /// What caused the reload.
        trigger: &'static str,
        /// The hash still serving.
        serving: String,
    },
    /// SIGTERM or SIGINT: no new connections; in-flight requests finish.
    Draining,
    /// Every listener is closed.
    Stopped,
}

/// The event sink.
pub type Events = Arc<dyn Fn(Event) + Send + Sync>;

/// State shared by every request.
pub(crate) struct Shared {
    pub policy: ArcSwap<Policy>,
    pub metrics: Metrics,
    pub limits: Limits,
    pub draining: AtomicBool,
}

impl Shared {
    fn new(policy: Policy, limits: Limits) -> Self {
        Shared {
            policy: ArcSwap::from_pointee(policy),
            metrics: Metrics::default(),
            limits,
            draining: AtomicBool::new(false),
        }
    }

    /// The Prometheus text.
    pub fn render_metrics(&self) -> String {
        let p = self.policy.load();
        self.metrics.render(p.hash(), p.size())
    }
}

/// Loads the policy again and swaps it in if (and only if) it is good.
fn reload(shared: &Shared, source: &dyn PolicySource, events: &Events, trigger: &'static str) {
    let start = Instant::now();
    let loaded = source.load();
    apply(shared, events, trigger, loaded, start.elapsed());
}

/// A watch tick's reload of the files stamped `before`: loaded, then
/// swapped in (or its failure logged) only when the stamp read after the
/// load is still `before`; returns that stamp ([`settle::Settle::loaded`]).
fn reload_settled(
    shared: &Shared,
    source: &dyn PolicySource,
    events: &Events,
    before: &Option<String>,
) -> Option<String> {
    let start = Instant::now();
    let loaded = source.load();
    let took = start.elapsed();
    let after = source.stamp();
    if after == *before {
        apply(shared, events, "file change", loaded, took);
    }
    after
}

/// Swaps a good load in, or logs and counts a failed one.
fn apply(
    shared: &Shared,
    events: &Events,
    trigger: &'static str,
    loaded: Result<Policy, String>,
    took: Duration,
) {
    match loaded {
        Ok(policy) => {
            let hash = policy.hash().to_string();
            shared.policy.store(Arc::new(policy));
            shared.metrics.reload(true, took);
            events(Event::Reloaded {
                hash,
                trigger,
                took,
            });
        }
        Err(error) => {
            shared.metrics.reload(false, took);
            events(Event::ReloadFailed {
                error,
                trigger,
                serving: shared.policy.load().hash().to_string(),
            });
        }
    }
}

/// Why [`serve`] stopped early.
#[derive(Debug)]
pub enum ServeError<E> {
    /// The initial load failed (the caller's error).
    Load(E),
    /// A listener could not bind, or the runtime or signals could not start.
    Io(String),
}

/// Serves until SIGTERM or SIGINT, then drains. Blocks the calling thread
/// (it builds its own tokio runtime). The signal handlers are installed
/// before `initial` runs, so a SIGHUP or SIGTERM during a long first load
/// is handled, not fatal; nothing listens until it has returned a policy.
pub fn serve<E: Send + 'static>(
    config: Config,
    initial: impl FnOnce() -> Result<Policy, E> + Send + 'static,
    source: Arc<dyn PolicySource>,
    events: Events,
) -> Result<(), ServeError<E>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("policyc-serve")
        .build()
        .map_err(|e| ServeError::Io(format!("cannot start the server runtime: {e}")))?;
    runtime.block_on(run(config, initial, source, events))
}

async fn run<E: Send + 'static>(
    config: Config,
    initial: impl FnOnce() -> Result<Policy, E> + Send + 'static,
    source: Arc<dyn PolicySource>,
    events: Events,
) -> Result<(), ServeError<E>> {
    use tokio::signal::unix::{signal, SignalKind};

    let io = |e: std::io::Error| ServeError::Io(format!("signals: {e}"));
    let mut term = signal(SignalKind::terminate()).map_err(io)?;
    let mut int = signal(SignalKind::interrupt()).map_err(io)?;
    let mut hup = signal(SignalKind::hangup()).map_err(io)?;
    // The stamp is taken before the first load, so a change made at any
    // time after it (even before the watch loop starts) is seen.
    let mut settle = {
        let src = source.clone();
        settle::Settle::new(
            tokio::task::spawn_blocking(move || src.stamp())
                .await
                .unwrap_or(None),
        )
    };
    let first = tokio::task::spawn_blocking(initial)
        .await
        .map_err(|e| ServeError::Io(format!("the initial load stopped: {e}")))?
        .map_err(ServeError::Load)?;
    let shared = Arc::new(Shared::new(first, config.limits.clone()));
    let (stop_tx, stop_rx) = watch::channel(false);

    let mut tasks = Vec::new();
    if let Some(addr) = config.http {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| ServeError::Io(format!("cannot listen on http://{addr}: {e}")))?;
        let local = listener
            .local_addr()
            .map_err(|e| ServeError::Io(format!("cannot listen on http://{addr}: {e}")))?;
        tasks.push(tokio::spawn(http::serve(
            listener,
            shared.clone(),
            stop_rx.clone(),
            config.drain_timeout,
        )));
        events(Event::Listening {
            scheme: "http",
            addr: local,
        });
    }
    if let Some(addr) = config.grpc {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| ServeError::Io(format!("cannot listen on grpc://{addr}: {e}")))?;
        let local = listener
            .local_addr()
            .map_err(|e| ServeError::Io(format!("cannot listen on grpc://{addr}: {e}")))?;
        tasks.push(tokio::spawn(grpc::serve(
            listener,
            shared.clone(),
            stop_rx.clone(),
            config.drain_timeout,
        )));
        events(Event::Listening {
            scheme: "grpc",
            addr: local,
        });
    }

    // File watching: a cheap stamp per interval, a full load on change.
    let mut tick = config.watch_interval.map(|d| {
        let mut i = tokio::time::interval(d);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });
    loop {
        let watch_tick = async {
            match tick.as_mut() {
                Some(i) => {
                    i.tick().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                let (sh, src, ev) = (shared.clone(), source.clone(), events.clone());
                // Stamped before the load: a change during it is seen.
                let stamp = tokio::task::spawn_blocking(move || {
                    let stamp = src.stamp();
                    reload(&sh, src.as_ref(), &ev, "SIGHUP");
                    stamp
                })
                .await
                .unwrap_or(None);
                settle = settle::Settle::new(stamp);
            }
            _ = watch_tick => {
                let now = {
                    let src = source.clone();
                    tokio::task::spawn_blocking(move || src.stamp()).await.unwrap_or(None)
                };
                // A change that has stood still for one interval, or the
                // files gone (a stamp that turns to `None`): either is a
                // reload, and files gone fail it, so that it is logged and
                // counted once while the last good policy serves.
                if settle.tick(now.clone()) {
                    let (sh, src, ev) = (shared.clone(), source.clone(), events.clone());
                    let before = now.clone();
                    let after = tokio::task::spawn_blocking(move || {
                        reload_settled(&sh, src.as_ref(), &ev, &before)
                    })
                    .await
                    .unwrap_or(None);
                    settle.loaded(now, after);
                }
            }
        }
    }
    shared.draining.store(true, Ordering::SeqCst);
    events(Event::Draining);
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    events(Event::Stopped);
    Ok(())
}
