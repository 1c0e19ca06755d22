//! Counters and a latency histogram, rendered as Prometheus text
//! (exposition format 0.0.4). Lock-free atomics: a decision costs a few
//! relaxed increments, and there is no global registry.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005,
    0.01, 0.05, 0.1, 1.0,
];

/// Which API answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `POST /v1/decide` (each request of a batch counts).
    Http = 0,
    /// ext_authz `Check`.
    Grpc = 1,
}

/// The outcome of one decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Allowed.
    Allow = 0,
    /// Denied.
    Deny = 1,
    /// No decision (malformed, unknown name): answered 400 / denied.
    Error = 2,
}

/// Why a request was refused before any decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The body was over the limit (413).
    BodyTooLarge = 0,
    /// The body was not JSON, or not a request (400).
    Malformed = 1,
    /// The client was too slow to send the body (408).
    Timeout = 2,
    /// Too many open connections (429, connection closed).
    Connections = 3,
}

const APIS: [&str; 2] = ["http", "grpc"];
const OUTCOMES: [&str; 3] = ["allow", "deny", "error"];
const REJECTIONS: [&str; 4] = ["body_too_large", "malformed", "timeout", "connections"];

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

/// All the server's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    decisions: [[AtomicU64; 3]; 2],
    latency: [Histogram; 2],
    rejected: [AtomicU64; 4],
    reload_ok: AtomicU64,
    reload_failed: AtomicU64,
    last_reload_nanos: AtomicU64,
    open_connections: AtomicU64,
    in_flight: AtomicU64,
}

/// Counts one HTTP decide request in flight until dropped.
pub struct InFlight<'a>(&'a AtomicU64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

impl Metrics {
    /// Counts one decision.
    pub fn decision(&self, api: Api, outcome: Outcome) {
        if let Some(c) = self
            .decisions
            .get(api as usize)
            .and_then(|a| a.get(outcome as usize))
        {
            c.fetch_add(1, Relaxed);
        }
    }

    /// Records how long one API call took.
    pub fn latency(&self, api: Api, took: Duration) {
        let Some(h) = self.latency.get(api as usize) else {
            return;
        };
        let secs = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            if let Some(b) = h.buckets.get(i) {
                b.fetch_add(1, Relaxed);
            }
        }
        h.count.fetch_add(1, Relaxed);
        h.sum_nanos
            .fetch_add(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    /// Counts one refused request or connection.
    pub fn rejected(&self, why: Rejection) {
        if let Some(c) = self.rejected.get(why as usize) {
            c.fetch_add(1, Relaxed);
        }
    }

    /// Records a reload attempt.
    pub fn reload(&self, ok: bool, took: Duration) {
        if ok {
            self.reload_ok.fetch_add(1, Relaxed);
            self.last_reload_nanos
                .store(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Relaxed);
        } else {
            self.reload_failed.fetch_add(1, Relaxed);
        }
    }

    /// A connection opened (`+1`) or closed (`-1`).
    pub fn connection(&self, opened: bool) {
        if opened {
            self.open_connections.fetch_add(1, Relaxed);
        } else {
            self.open_connections.fetch_sub(1, Relaxed);
        }
    }

    /// A `POST /v1/decide` started (its policy snapshot taken); it ends
    /// when the guard is dropped.
    pub fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Relaxed);
        InFlight(&self.in_flight)
    }

    /// The Prometheus text, with the serving policy's hash and size.
    pub fn render(&self, hash: &str, size: (usize, usize, usize)) -> String {
        let mut o = String::with_capacity(4096);
        o.push_str("# HELP policyc_decisions_total Decisions made, by API and outcome.\n");
        o.push_str("# TYPE policyc_decisions_total counter\n");
        for (api, row) in APIS.iter().zip(&self.decisions) {
            for (outcome, c) in OUTCOMES.iter().zip(row) {
                let _ = writeln!(
                    o,
                    "policyc_decisions_total{{api=\"{api}\",outcome=\"{outcome}\"}} {}",
                    c.load(Relaxed)
                );
            }
        }
        o.push_str("# HELP policyc_request_duration_seconds Time to answer one API call.\n");
        o.push_str("# TYPE policyc_request_duration_seconds histogram\n");
        for (api, h) in APIS.iter().zip(&self.latency) {
            let mut cumulative = 0;
            for (le, b) in BUCKETS.iter().zip(&h.buckets) {
                cumulative += b.load(Relaxed);
                let _ = writeln!(
                    o,
                    "policyc_request_duration_seconds_bucket{{api=\"{api}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let count = h.count.load(Relaxed);
            let _ = writeln!(
                o,
                "policyc_request_duration_seconds_bucket{{api=\"{api}\",le=\"+Inf\"}} {count}"
            );
            let sum = h.sum_nanos.load(Relaxed) as f64 / 1e9;
            let _ = writeln!(
                o,
                "policyc_request_duration_seconds_sum{{api=\"{api}\"}} {sum}"
            );
            let _ = writeln!(
                o,
                "policyc_request_duration_seconds_count{{api=\"{api}\"}} {count}"
            );
        }
        o.push_str(
            "# HELP policyc_rejected_total Requests or connections refused before a decision.\n",
        );
        o.push_str("# TYPE policyc_rejected_total counter\n");
        for (why, c) in REJECTIONS.iter().zip(&self.rejected) {
            let _ = writeln!(
                o,
                "policyc_rejected_total{{reason=\"{why}\"}} {}",
                c.load(Relaxed)
            );
        }
        o.push_str("# HELP policyc_policy_info The policy being served (value 1).\n");
        o.push_str("# TYPE policyc_policy_info gauge\n");
        let _ = writeln!(o, "policyc_policy_info{{hash=\"{hash}\"}} 1");
        o.push_str("# HELP policyc_policy_roles Roles declared by the policy being served.\n");
        o.push_str("# TYPE policyc_policy_roles gauge\n");
        let _ = writeln!(o, "policyc_policy_roles {}", size.0);
        o.push_str(
            "# HELP policyc_policy_permissions Permissions declared by the policy being served.\n",
        );
        o.push_str("# TYPE policyc_policy_permissions gauge\n");
        let _ = writeln!(o, "policyc_policy_permissions {}", size.1);
        o.push_str("# HELP policyc_reloads_total Reload attempts, by result.\n");
        o.push_str("# TYPE policyc_reloads_total counter\n");
        let _ = writeln!(
            o,
            "policyc_reloads_total{{result=\"success\"}} {}",
            self.reload_ok.load(Relaxed)
        );
        let _ = writeln!(
            o,
            "policyc_reloads_total{{result=\"failure\"}} {}",
            self.reload_failed.load(Relaxed)
        );
        o.push_str("# HELP policyc_last_reload_duration_seconds Time the last successful reload took to load and check the policy.\n");
        o.push_str("# TYPE policyc_last_reload_duration_seconds gauge\n");
        let _ = writeln!(
            o,
            "policyc_last_reload_duration_seconds {}",
            self.last_reload_nanos.load(Relaxed) as f64 / 1e9
        );
        o.push_str("# HELP policyc_open_connections HTTP connections open now.\n");
        o.push_str("# TYPE policyc_open_connections gauge\n");
        let _ = writeln!(
            o,
            "policyc_open_connections {}",
            self.open_connections.load(Relaxed)
        );
        o.push_str("# HELP policyc_decide_in_flight POST /v1/decide requests started and not yet answered.\n");
        o.push_str("# TYPE policyc_decide_in_flight gauge\n");
        let _ = writeln!(
            o,
            "policyc_decide_in_flight {}",
            self.in_flight.load(Relaxed)
        );
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_counts_add_up() {
        let m = Metrics::default();
        m.latency(Api::Http, Duration::from_micros(3));
        m.latency(Api::Http, Duration::from_micros(40));
        m.latency(Api::Http, Duration::from_secs(3));
        m.decision(Api::Grpc, Outcome::Deny);
        m.reload(false, Duration::ZERO);
        let t = m.render("sha256:x", (3, 4, 1));
        assert!(
            t.contains("policyc_request_duration_seconds_bucket{api=\"http\",le=\"0.000005\"} 1\n")
        );
        assert!(
            t.contains("policyc_request_duration_seconds_bucket{api=\"http\",le=\"0.00005\"} 2\n")
        );
        assert!(t.contains("policyc_request_duration_seconds_bucket{api=\"http\",le=\"1\"} 2\n"));
        assert!(t.contains("policyc_request_duration_seconds_bucket{api=\"http\",le=\"+Inf\"} 3\n"));
        assert!(t.contains("policyc_decisions_total{api=\"grpc\",outcome=\"deny\"} 1\n"));
        assert!(t.contains("policyc_reloads_total{result=\"failure\"} 1\n"));
        assert!(t.contains("policyc_policy_info{hash=\"sha256:x\"} 1\n"));
    }
}
