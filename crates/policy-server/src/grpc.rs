//! Envoy `ext_authz` over gRPC: `envoy.service.auth.v3.Authorization/Check`.
//!
//! The mapping from Envoy's `CheckRequest` (docs/server.md):
//!
//! - **roles**: the `x-policyc-roles` header, comma-separated (set it from
//!   the authenticated identity upstream, e.g. Envoy's `jwt_authn`
//!   `claim_to_headers`, and strip it from client requests);
//! - **permission**: the route's `context_extensions["action"]`, else the
//!   `x-policyc-action` header, else derived from the request:
//!   `FIRST_PATH_SEGMENT.VERB` with `GET`/`HEAD` → `read`, `POST` →
//!   `create`, `PUT`/`PATCH` → `update`, `DELETE` → `delete`;
//! - **tier**: `context_extensions["tier"]`, else the `x-policyc-tier`
//!   header; with several dimensions, the context as `edition=cloud,plan=pro`
//!   (or `cloud+pro`) in either, or in `context_extensions["on"]` / the
//!   `x-policyc-on` header;
//! - **scope**: in a policy with levels, the level the role and permission
//!   names are given on: `context_extensions["scope"]`, else the
//!   `x-policyc-scope` header (without it, names are full ids);
//! - **facts**: in a policy with conditions, `context_extensions["when"]`,
//!   else the `x-policyc-when` header: `own, setting.public=false`. A cell
//!   held only under conditions the request does not state is denied, the
//!   reason starting `missing facts:`.
//!
//! Allow → `OK`; deny → `PERMISSION_DENIED` and an HTTP 403 with the
//! reason in `x-policyc-reason`; a request the policy cannot decide
//! (unknown name, missing tier, no role) → `PERMISSION_DENIED` as well
//! (fail closed), with the error code in `x-policyc-error`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use envoy_types::ext_authz::v3::pb::{
    Authorization, AuthorizationServer, CheckRequest, CheckResponse, HttpStatusCode,
};
use envoy_types::ext_authz::v3::{
    CheckResponseExt, DeniedHttpResponseBuilder, OkHttpResponseBuilder,
};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::{Request, Response, Status};

use crate::engine::Check;
use crate::metrics::{Api, Outcome};
use crate::Shared;

/// The header carrying the user's roles.
pub const ROLES_HEADER: &str = "x-policyc-roles";
/// The header naming the permission (when the route does not).
pub const ACTION_HEADER: &str = "x-policyc-action";
/// The header naming the tier (when the route does not).
pub const TIER_HEADER: &str = "x-policyc-tier";
/// The header naming the context, one value per dimension (when neither
/// the route nor [`TIER_HEADER`] does).
pub const ON_HEADER: &str = "x-policyc-on";
/// The header naming the level the names are given on (when the route
/// does not), in a policy with levels.
pub const SCOPE_HEADER: &str = "x-policyc-scope";
/// The header stating facts about the policy's conditions (when the route
/// does not): `own, setting.public_channels=false`.
pub const WHEN_HEADER: &str = "x-policyc-when";

struct AuthzService {
    shared: Arc<Shared>,
}

/// Roles, permission, tier and level of one check.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Mapped {
    pub roles: Vec<String>,
    pub action: String,
    pub tier: Option<String>,
    pub scope: Option<String>,
    /// The facts stated (`Err`: a fact that does not read as one).
    pub when: Result<Vec<(String, bool)>, String>,
}

fn verb(method: &str) -> &'static str {
    match method {
        "GET" | "HEAD" => "read",
        "POST" => "create",
        "PUT" | "PATCH" => "update",
        "DELETE" => "delete",
        _ => "unknown",
    }
}

/// The documented mapping.
pub(crate) fn map(req: &CheckRequest) -> Mapped {
    let empty = HashMap::new();
    let attrs = req.attributes.as_ref();
    let ext = attrs.map_or(&empty, |a| &a.context_extensions);
    let http = attrs
        .and_then(|a| a.request.as_ref())
        .and_then(|r| r.http.as_ref());
    let headers = http.map_or(&empty, |h| &h.headers);
    let non_empty = |v: Option<&String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let roles = headers
        .get(ROLES_HEADER)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let action = non_empty(ext.get("action"))
        .or_else(|| non_empty(headers.get(ACTION_HEADER)))
        .unwrap_or_else(|| {
            let (method, path) = http.map_or(("", ""), |h| (h.method.as_str(), h.path.as_str()));
            let path = path.split(['?', '#']).next().unwrap_or("");
            let first = path.split('/').find(|s| !s.is_empty()).unwrap_or("");
            format!("{first}.{}", verb(method))
        });
    let tier = non_empty(ext.get("tier"))
        .or_else(|| non_empty(headers.get(TIER_HEADER)))
        .or_else(|| non_empty(ext.get("on")))
        .or_else(|| non_empty(headers.get(ON_HEADER)));
    let scope = non_empty(ext.get("scope")).or_else(|| non_empty(headers.get(SCOPE_HEADER)));
    let when = non_empty(ext.get("when"))
        .or_else(|| non_empty(headers.get(WHEN_HEADER)))
        .map_or(Ok(Vec::new()), |v| {
            v.split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(policy_eval::parse_fact)
                .collect()
        });
    Mapped {
        roles,
        action,
        tier,
        scope,
        when,
    }
}

/// A header value: one line, printable ASCII, bounded.
fn header_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(512)
        .collect()
}

fn denied(status: Status, hash: &str, extra: (&str, String)) -> CheckResponse {
    let mut http = DeniedHttpResponseBuilder::new();
    http.set_http_status(HttpStatusCode::Forbidden);
    http.add_header("x-policyc-decision", "deny", None, false);
    http.add_header(extra.0, header_safe(&extra.1), None, false);
    http.add_header("x-policyc-policy-hash", hash, None, false);
    http.set_body(format!("{}\n", status.message()));
    let mut resp = CheckResponse::with_status(status);
    resp.set_http_response(http);
    resp
}

#[tonic::async_trait]
impl Authorization for AuthzService {
    async fn check(
        &self,
        request: Request<CheckRequest>,
    ) -> Result<Response<CheckResponse>, Status> {
        let start = Instant::now();
        let policy = self.shared.policy.load_full();
        let m = map(request.get_ref());
        let roles: Vec<&str> = m.roles.iter().map(String::as_str).collect();
        let metrics = &self.shared.metrics;
        let check = match &m.when {
            Ok(when) => policy.check(
                &roles,
                &m.action,
                m.tier.as_deref(),
                m.scope.as_deref(),
                when,
            ),
            Err(e) => Check::Invalid(policy_eval::wire::WireError::malformed(e.clone())),
        };
        let resp = match check {
            Check::Allow => {
                metrics.decision(Api::Grpc, Outcome::Allow);
                let mut ok = OkHttpResponseBuilder::new();
                ok.add_header("x-policyc-policy-hash", policy.hash(), None, false);
                let mut resp = CheckResponse::with_status(Status::ok("allowed"));
                resp.set_http_response(ok);
                resp
            }
            Check::Deny(reason) => {
                metrics.decision(Api::Grpc, Outcome::Deny);
                denied(
                    Status::permission_denied(reason.clone()),
                    policy.hash(),
                    ("x-policyc-reason", reason),
                )
            }
            Check::Invalid(e) => {
                metrics.decision(Api::Grpc, Outcome::Error);
                denied(
                    Status::permission_denied(format!("{}: {}", e.code, e.message)),
                    policy.hash(),
                    ("x-policyc-error", e.code.to_string()),
                )
            }
        };
        metrics.latency(Api::Grpc, start.elapsed());
        Ok(Response::new(resp))
    }
}

/// Serves ext_authz until `stop`, then drains for up to `drain`.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
    drain: Duration,
) {
    let limits = shared.limits.clone();
    let service = AuthorizationServer::new(AuthzService { shared })
        .max_decoding_message_size(limits.max_body_bytes);
    let mut stop_signal = stop.clone();
    let server = tonic::transport::Server::builder()
        .timeout(limits.request_timeout)
        .concurrency_limit_per_connection(limits.grpc_streams_per_connection)
        // A client that sends the HTTP/2 preface and falls silent is pinged
        // and closed when it does not answer within the request timeout;
        // Envoy and every gRPC client answer pings.
        .http2_keepalive_interval(Some(limits.request_timeout))
        .http2_keepalive_timeout(Some(limits.request_timeout))
        .add_service(service)
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            async move {
                let _ = stop_signal.wait_for(|s| *s).await;
            },
        );
    tokio::pin!(server);
    let mut stop = stop;
    tokio::select! {
        _ = &mut server => return,
        _ = stop.wait_for(|s| *s) => {}
    }
    let _ = tokio::time::timeout(drain, server).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::envoy::service::auth::v3::{attribute_context, AttributeContext};

    fn req(
        headers: &[(&str, &str)],
        method: &str,
        path: &str,
        ext: &[(&str, &str)],
    ) -> CheckRequest {
        CheckRequest {
            attributes: Some(AttributeContext {
                request: Some(attribute_context::Request {
                    http: Some(attribute_context::HttpRequest {
                        method: method.into(),
                        path: path.into(),
                        headers: headers
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                context_extensions: ext
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn headers_map_to_roles_action_tier() {
        let m = map(&req(
            &[
                ("x-policyc-roles", " member , developer,"),
                ("x-policyc-action", "files.manage"),
                ("x-policyc-tier", "team"),
            ],
            "GET",
            "/x",
            &[],
        ));
        assert_eq!(
            m,
            Mapped {
                roles: vec!["member".into(), "developer".into()],
                action: "files.manage".into(),
                tier: Some("team".into()),
                scope: None,
                when: Ok(Vec::new()),
            }
        );
    }

    #[test]
    fn facts_come_from_the_route_else_the_header() {
        let m = map(&req(
            &[("x-policyc-when", "own, setting.public=false")],
            "GET",
            "/x",
            &[],
        ));
        assert_eq!(
            m.when,
            Ok(vec![
                ("own".to_string(), true),
                ("setting.public".to_string(), false)
            ])
        );
        let m = map(&req(
            &[("x-policyc-when", "own")],
            "GET",
            "/x",
            &[("when", "x=false")],
        ));
        assert_eq!(m.when, Ok(vec![("x".to_string(), false)]), "the route wins");
        assert!(
            map(&req(&[("x-policyc-when", "own=maybe")], "GET", "/x", &[]))
                .when
                .is_err()
        );
    }

    #[test]
    fn the_level_comes_from_the_route_else_the_header() {
        let m = map(&req(&[("x-policyc-scope", "team")], "GET", "/x", &[]));
        assert_eq!(m.scope.as_deref(), Some("team"));
        let m = map(&req(
            &[("x-policyc-scope", "team")],
            "GET",
            "/x",
            &[("scope", "project")],
        ));
        assert_eq!(m.scope.as_deref(), Some("project"), "the route wins");
        assert_eq!(map(&req(&[], "GET", "/x", &[])).scope, None);
    }

    #[test]
    fn the_context_of_several_dimensions_comes_from_on() {
        let m = map(&req(
            &[("x-policyc-on", "edition=cloud,plan=pro")],
            "GET",
            "/x",
            &[],
        ));
        assert_eq!(m.tier.as_deref(), Some("edition=cloud,plan=pro"));
        let m = map(&req(
            &[("x-policyc-on", "edition=cloud,plan=pro")],
            "GET",
            "/x",
            &[("on", "server+free")],
        ));
        assert_eq!(m.tier.as_deref(), Some("server+free"), "the route wins");
        let m = map(&req(
            &[("x-policyc-on", "cloud+pro"), ("x-policyc-tier", "team")],
            "GET",
            "/x",
            &[],
        ));
        assert_eq!(m.tier.as_deref(), Some("team"), "`tier` wins over `on`");
    }

    #[test]
    fn route_context_wins_over_headers() {
        let m = map(&req(
            &[("x-policyc-action", "a.b"), ("x-policyc-tier", "free")],
            "GET",
            "/",
            &[("action", "billing.manage"), ("tier", "enterprise")],
        ));
        assert_eq!(m.action, "billing.manage");
        assert_eq!(m.tier.as_deref(), Some("enterprise"));
    }

    #[test]
    fn action_derived_from_method_and_path() {
        let cases = [
            ("GET", "/files/12?x=1", "files.read"),
            ("HEAD", "/files", "files.read"),
            ("POST", "/datasets/", "datasets.create"),
            ("PATCH", "//deployments/3", "deployments.update"),
            ("DELETE", "/keys", "keys.delete"),
            ("BREW", "/", ".unknown"),
        ];
        for (method, path, action) in cases {
            assert_eq!(
                map(&req(&[], method, path, &[])).action,
                action,
                "{method} {path}"
            );
        }
    }

    #[test]
    fn empty_request_maps_to_nothing_known() {
        let m = map(&CheckRequest::default());
        assert!(m.roles.is_empty());
        assert_eq!(m.tier, None);
    }

    #[test]
    fn header_values_are_one_safe_line() {
        assert_eq!(header_safe("a\r\nb\u{e9}"), "a??b?");
        assert_eq!(header_safe(&"x".repeat(600)).len(), 512);
    }
}
