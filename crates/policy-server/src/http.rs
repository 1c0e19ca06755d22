//! The HTTP API: `POST /v1/decide`, `GET /v1/who-can`, `GET /v1/what-can`,
//! `GET /v1/assignable`,
//! `/healthz`, `/readyz`, `/metrics`: the routes and their answers. The
//! connections they arrive on are handled in `conn.rs`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::BodyExt;
use policy_eval::wire::{Versioned, WireDecision, WireError, WireFailure, WireRequest};
use policy_syntax::Code;
use serde::{Deserialize, Serialize};

use crate::metrics::{Api, Outcome, Rejection};
use crate::Shared;

mod conn;

pub(crate) use conn::serve;

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/decide", post(decide).fallback(takes("POST")))
        .route("/v1/who-can", get(who_can).fallback(takes("GET")))
        .route("/v1/what-can", get(what_can).fallback(takes("GET")))
        .route("/v1/assignable", get(assignable).fallback(takes("GET")))
        .route("/healthz", get(healthz).fallback(takes("GET")))
        .route("/readyz", get(readyz).fallback(takes("GET")))
        .route("/metrics", get(metrics).fallback(takes("GET")))
        .fallback(not_found)
        .with_state(shared)
}

/// The answer to a method a path does not take: 405 with the JSON error
/// every other error has (P0423: no such endpoint, the endpoint being the
/// method and the path), and the `Allow` header, which axum adds.
fn takes(
    method: &'static str,
) -> impl Fn(axum::http::Method, axum::http::Uri) -> std::future::Ready<Response> + Clone {
    move |given, uri| {
        std::future::ready(error(
            StatusCode::METHOD_NOT_ALLOWED,
            WireError::new(
                Code::UnknownEndpoint,
                format!(
                    "`{given} {}` is not an endpoint: `{}` takes {method}; see docs/server.md for the API",
                    uri.path(),
                    uri.path()
                ),
            ),
        ))
    }
}

#[derive(Serialize)]
struct ErrorBody {
    error: WireError,
}

/// A JSON response: `value` in the one envelope (`schema_version` first),
/// as the CLI prints it.
fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    json_raw(status, &Versioned::new(value))
}

/// A JSON array response, each element in the envelope (like the lines of
/// `policyc query --batch`).
fn json_list<T: Serialize>(status: StatusCode, values: &[T]) -> Response {
    let items: Vec<Versioned<'_, T>> = values.iter().map(Versioned::new).collect();
    json_raw(status, &items)
}

fn json_raw<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn error(status: StatusCode, error: WireError) -> Response {
    json(status, &ErrorBody { error })
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        WireError::new(
            Code::UnknownEndpoint,
            "no such endpoint; see docs/server.md for the API",
        ),
    )
}

enum BodyError {
    TooLarge,
    Broken(String),
}

/// Reads at most `limit` bytes, refusing early on a larger `Content-Length`.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut body = body;
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Broken(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(BodyError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}

async fn decide(State(s): State<Arc<Shared>>, req: Request) -> Response {
    let start = Instant::now();
    // The snapshot this request is answered with, whatever reloads meanwhile.
    let policy = s.policy.load_full();
    let _in_flight = s.metrics.in_flight();
    let limit = s.limits.max_body_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        s.metrics.rejected(Rejection::BodyTooLarge);
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            WireError::new(
                Code::RequestTooLarge,
                format!("the request body is larger than {limit} bytes"),
            ),
        )
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let read = tokio::time::timeout(s.limits.request_timeout, read_body(req.into_body(), limit));
    let bytes = match read.await {
        Err(_) => {
            s.metrics.rejected(Rejection::Timeout);
            return error(
                StatusCode::REQUEST_TIMEOUT,
                WireError::new(
                    Code::RequestTimeout,
                    format!(
                        "the request body did not arrive within {} ms",
                        s.limits.request_timeout.as_millis()
                    ),
                ),
            );
        }
        Ok(Err(BodyError::TooLarge)) => return too_large(),
        Ok(Err(BodyError::Broken(why))) => {
            s.metrics.rejected(Rejection::Malformed);
            return error(StatusCode::BAD_REQUEST, WireError::malformed(why));
        }
        Ok(Ok(b)) => b,
    };
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let response = if first == Some(b'[') {
        decide_batch(&s, &policy, &bytes)
    } else {
        match serde_json::from_slice::<WireRequest>(&bytes) {
            Err(e) => {
                s.metrics.rejected(Rejection::Malformed);
                s.metrics.decision(Api::Http, Outcome::Error);
                error(StatusCode::BAD_REQUEST, WireError::malformed(e))
            }
            Ok(r) => match policy.decide(r, None) {
                Ok(d) => {
                    s.metrics.decision(
                        Api::Http,
                        if d.decision == "allow" {
                            Outcome::Allow
                        } else {
                            Outcome::Deny
                        },
                    );
                    json(StatusCode::OK, &d)
                }
                Err(e) => {
                    s.metrics.decision(Api::Http, Outcome::Error);
                    error(StatusCode::BAD_REQUEST, e)
                }
            },
        }
    };
    s.metrics.latency(Api::Http, start.elapsed());
    response
}

/// One answer of a batch.
#[derive(Serialize)]
#[serde(untagged)]
enum Answer {
    Decision(WireDecision),
    Failure(WireFailure),
}

/// A batch: one answer per request, in order, numbered from 1 like `query
/// --batch` lines; 400 when any request failed (the others still answered).
fn decide_batch(s: &Shared, policy: &crate::Policy, bytes: &[u8]) -> Response {
    let items = match serde_json::from_slice::<Vec<serde_json::Value>>(bytes) {
        Ok(v) => v,
        Err(e) => {
            s.metrics.rejected(Rejection::Malformed);
            return error(StatusCode::BAD_REQUEST, WireError::malformed(e));
        }
    };
    if items.len() > s.limits.max_batch {
        s.metrics.rejected(Rejection::BodyTooLarge);
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            WireError::new(
                Code::RequestTooLarge,
                format!(
                    "the batch has {} requests; at most {} are accepted",
                    items.len(),
                    s.limits.max_batch
                ),
            ),
        );
    }
    let mut failed = false;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let n = i + 1;
        let answer = serde_json::from_value::<WireRequest>(item)
            .map_err(WireError::malformed)
            .and_then(|r| policy.decide(r, Some(n)));
        let value = match answer {
            Ok(d) => {
                s.metrics.decision(
                    Api::Http,
                    if d.decision == "allow" {
                        Outcome::Allow
                    } else {
                        Outcome::Deny
                    },
                );
                Answer::Decision(d)
            }
            Err(error) => {
                failed = true;
                s.metrics.decision(Api::Http, Outcome::Error);
                Answer::Failure(WireFailure { request: n, error })
            }
        };
        out.push(value);
    }
    let status = if failed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    json_list(status, &out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WhoCanQuery {
    action: String,
    tier: Option<String>,
    scope: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WhatCanQuery {
    role: String,
    tier: Option<String>,
    scope: Option<String>,
}

/// A query-string question answered by the serving policy: 400 for a
/// query string that does not read, or for the answer's error.
fn answer<Q, T: Serialize>(
    s: &Shared,
    q: Result<Query<Q>, axum::extract::rejection::QueryRejection>,
    ask: impl FnOnce(&crate::Policy, Q) -> Result<T, WireError>,
) -> Response {
    let policy = s.policy.load_full();
    match q {
        Err(e) => error(StatusCode::BAD_REQUEST, WireError::malformed(e.body_text())),
        Ok(Query(q)) => match ask(&policy, q) {
            Ok(w) => json(StatusCode::OK, &w),
            Err(e) => error(StatusCode::BAD_REQUEST, e),
        },
    }
}

async fn who_can(
    State(s): State<Arc<Shared>>,
    q: Result<Query<WhoCanQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    answer(&s, q, |p, q| {
        p.who_can(&q.action, q.tier.as_deref(), q.scope.as_deref())
    })
}

async fn what_can(
    State(s): State<Arc<Shared>>,
    q: Result<Query<WhatCanQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    answer(&s, q, |p, q| {
        p.what_can(&q.role, q.tier.as_deref(), q.scope.as_deref())
    })
}

async fn assignable(
    State(s): State<Arc<Shared>>,
    q: Result<Query<WhatCanQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    answer(&s, q, |p, q| {
        p.assignment(&q.role, q.tier.as_deref(), q.scope.as_deref())
    })
}

#[derive(Serialize)]
struct Health<'a> {
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_hash: Option<String>,
}

async fn healthz() -> Response {
    json(
        StatusCode::OK,
        &Health {
            status: "alive",
            policy_hash: None,
        },
    )
}

async fn readyz(State(s): State<Arc<Shared>>) -> Response {
    let hash = Some(s.policy.load().hash().to_string());
    if s.draining.load(Ordering::SeqCst) {
        return json(
            StatusCode::SERVICE_UNAVAILABLE,
            &Health {
                status: "draining",
                policy_hash: hash,
            },
        );
    }
    json(
        StatusCode::OK,
        &Health {
            status: "ready",
            policy_hash: hash,
        },
    )
}

async fn metrics(State(s): State<Arc<Shared>>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        s.render_metrics(),
    )
        .into_response()
}
