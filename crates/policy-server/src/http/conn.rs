//! The connection layer of the HTTP API: an own accept loop (hyper-util)
//! so that connections are bounded, slow headers time out, silent HTTP/2
//! clients are closed, and SIGTERM drains.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use policy_eval::wire::{Versioned, WireError};
use policy_syntax::Code;

use super::{router, ErrorBody};
use crate::metrics::Rejection;
use crate::Shared;

/// Accepts connections until `stop`, then waits up to `drain` for the open
/// ones to finish their requests.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    drain: Duration,
) {
    let app = router(shared.clone());
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(shared.limits.request_timeout);
    // An HTTP/2 client that sends the preface and then nothing would hold
    // its connection (and a connection slot) for ever: hyper has no header
    // timeout for HTTP/2. Ping it: a client that does not answer within
    // the request timeout is closed; real clients answer pings.
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(shared.limits.request_timeout))
        .keep_alive_timeout(shared.limits.request_timeout);
    let builder = Arc::new(builder);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(shared.limits.max_connections));
    let refusals = Arc::new(Semaphore::new(REFUSING_AT_ONCE));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.wait_for(|s| *s) => break,
        };
        let Ok((stream, _peer)) = accepted else {
            // EMFILE and the like: back off a little rather than spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            shared.metrics.rejected(Rejection::Connections);
            refuse(stream, &refusals);
            continue;
        };
        let watcher = graceful.watcher();
        let (app, builder, shared) = (app.clone(), builder.clone(), shared.clone());
        tokio::spawn(async move {
            shared.metrics.connection(true);
            serve_connection(stream, app, &builder, watcher, &shared).await;
            shared.metrics.connection(false);
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(drain, graceful.shutdown()).await;
}

/// One connection, from its first byte to its close. Every connection
/// closed because its request headers did not arrive within
/// `request_timeout` counts as a `timeout` rejection: one that sends
/// nothing (or a slow start of the HTTP/2 preface), closed here, and one
/// whose headers stall, closed by hyper. An answered keep-alive connection
/// that then idles is closed at the same timeout without being counted.
async fn serve_connection(
    mut stream: tokio::net::TcpStream,
    app: Router,
    builder: &auto::Builder<TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
    shared: &Shared,
) {
    let limit = shared.limits.request_timeout;
    // hyper's protocol detection waits for bytes without a time limit: read
    // the start of the request here, under the header timeout.
    let prefix = match tokio::time::timeout(limit, read_preface(&mut stream)).await {
        Err(_) => {
            shared.metrics.rejected(Rejection::Timeout);
            return;
        }
        Ok(Err(_)) => return,
        Ok(Ok(prefix)) => prefix,
    };
    let state = Arc::new(ConnState {
        read: AtomicU64::new(prefix.len() as u64),
        answered_at: AtomicU64::new(0),
    });
    let io = Counted {
        stream,
        prefix,
        pos: 0,
        state: state.clone(),
    };
    let service = Marking {
        inner: hyper_util::service::TowerToHyperService::new(app),
        state: state.clone(),
    };
    let conn = builder
        .serve_connection_with_upgrades(TokioIo::new(io), service)
        .into_owned();
    if let Err(e) = watcher.watch(conn).await {
        let stalled =
            state.read.load(Ordering::Relaxed) > state.answered_at.load(Ordering::Relaxed);
        if is_header_timeout(e.as_ref()) && stalled {
            shared.metrics.rejected(Rejection::Timeout);
        }
    }
}

/// The HTTP/2 connection preface, which hyper's protocol detection reads.
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Reads the first bytes of a connection, as many as hyper's protocol
/// detection needs: until they are not a start of the HTTP/2 preface, or
/// are all of it, or the client closes.
async fn read_preface(stream: &mut tokio::net::TcpStream) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::with_capacity(H2_PREFACE.len());
    let mut chunk = [0u8; H2_PREFACE.len()];
    while buf.len() < H2_PREFACE.len() && H2_PREFACE.starts_with(&buf) {
        let want = H2_PREFACE.len() - buf.len();
        let n = stream
            .read(chunk.get_mut(..want).unwrap_or_default())
            .await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    Ok(buf)
}

/// Whether hyper closed a connection because its request headers did not
/// arrive in time.
fn is_header_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_timeout)
        {
            return true;
        }
        cause = c.source();
    }
    false
}

/// What one connection has read, and how much of it was read when its
/// last answer was ready.
struct ConnState {
    read: AtomicU64,
    answered_at: AtomicU64,
}

/// The connection's stream with the bytes [`read_preface`] took replayed
/// first, counting the bytes read.
struct Counted {
    stream: tokio::net::TcpStream,
    prefix: Vec<u8>,
    pos: usize,
    state: Arc<ConnState>,
}

impl tokio::io::AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        if let Some(rest) = this.prefix.get(this.pos..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(buf.remaining());
            buf.put_slice(rest.get(..n).unwrap_or_default());
            this.pos += n;
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let n = buf.filled().len().saturating_sub(before);
            this.state.read.fetch_add(n as u64, Ordering::Relaxed);
        }
        polled
    }
}

impl tokio::io::AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The router as a hyper service that notes, as each answer is ready, how
/// much the connection had read: bytes read after that, when the headers
/// then time out, are a stalled request, not an idle keep-alive.
struct Marking {
    inner: hyper_util::service::TowerToHyperService<Router>,
    state: Arc<ConnState>,
}

impl hyper::service::Service<Request<hyper::body::Incoming>> for Marking {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Self::Error>> + Send>>;

    fn call(&self, req: Request<hyper::body::Incoming>) -> Self::Future {
        let answer = self.inner.call(req);
        let state = self.state.clone();
        Box::pin(async move {
            let response = answer.await;
            state
                .answered_at
                .store(state.read.load(Ordering::Relaxed), Ordering::Relaxed);
            response
        })
    }
}

/// Connections being refused at once; past that, they are just closed.
const REFUSING_AT_ONCE: usize = 64;

/// Answers 429 and closes. The request is read (at most 8 KiB, for at most
/// 200 ms) and dropped, so that the close is a clean FIN the client can
/// read the answer before, not a reset.
fn refuse(mut stream: tokio::net::TcpStream, refusals: &Arc<Semaphore>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(permit) = refusals.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let work = async {
            stream.write_all(&too_many_connections()).await?;
            stream.shutdown().await?;
            let mut sink = [0u8; 8192];
            let _ = stream.read(&mut sink).await?;
            Ok::<(), std::io::Error>(())
        };
        let _ = tokio::time::timeout(Duration::from_millis(200), work).await;
        drop(permit);
    });
}

/// The answer to one connection too many, written without reading the
/// request, before the connection is closed: the same envelope as every
/// other error body (`schema_version` first).
fn too_many_connections() -> Vec<u8> {
    let error = ErrorBody {
        error: WireError {
            code: Code::TooManyConnections.as_str(),
            message: "too many open connections; retry with backoff".to_string(),
            suggestion: None,
        },
    };
    let body = serde_json::to_string(&Versioned::new(&error)).unwrap_or_else(|_| "{}".to_string());
    format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
