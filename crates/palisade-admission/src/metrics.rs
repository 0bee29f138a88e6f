//! Prometheus metrics, hand-written: a few counters, gauges and one histogram do not need a
//! metrics framework, and atomics keep the hot path lock-free.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::engine::{Decision, Webhook};

/// Upper bounds of the latency buckets, in seconds: dense below 5 ms, where the target is.
const BUCKETS: [f64; 12] = [
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5,
];

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (b, bound) in self.buckets.iter().zip(BUCKETS) {
            if secs <= bound {
                b.fetch_add(1, Relaxed);
            }
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micros
            .fetch_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }
}

/// Outcomes a request can have besides a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    /// Malformed AdmissionReview or body too large (HTTP 400/413).
    BadRequest,
    /// Concurrency limit reached (HTTP 429 without `Retry-After`; the API server applies
    /// `failurePolicy` at once).
    Shed,
    /// The per-request deadline passed (HTTP 504).
    Timeout,
}

#[derive(Debug, Default)]
pub struct Metrics {
    decisions: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    violations: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    latency: [Histogram; 2],
    inflight: AtomicI64,
    mutation_incomplete: AtomicU64,
    policy_reloads_ok: AtomicU64,
    policy_reloads_failed: AtomicU64,
    policy_generation: AtomicU64,
    policy_last_reload_ok: AtomicU64,
    tls_reloads_ok: AtomicU64,
    tls_reloads_failed: AtomicU64,
    namespace_reloads_failed: AtomicU64,
    connections_open: AtomicI64,
    connections_refused: AtomicU64,
    namespace_watch_errors: AtomicU64,
    namespace_relists: AtomicU64,
}

fn webhook_index(w: Webhook) -> usize {
    match w {
        Webhook::Validate => 0,
        Webhook::Mutate => 1,
    }
}

impl Metrics {
    #[must_use]
    pub fn new() -> Self {
        let m = Metrics::default();
        m.policy_last_reload_ok.store(1, Relaxed);
        m
    }

    fn bump(
        map: &Mutex<BTreeMap<(&'static str, &'static str), u64>>,
        key: (&'static str, &'static str),
        n: u64,
    ) {
        let mut map = map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry(key).or_default() += n;
    }

    pub fn decision(&self, webhook: Webhook, decision: Decision, latency: Duration) {
        Self::bump(&self.decisions, (webhook.as_str(), decision.as_str()), 1);
        self.latency[webhook_index(webhook)].observe(latency);
    }

    pub fn failure(&self, webhook: Webhook, failure: Failure, latency: Duration) {
        let name = match failure {
            Failure::BadRequest => "bad_request",
            Failure::Shed => "shed",
            Failure::Timeout => "timeout",
        };
        Self::bump(&self.decisions, (webhook.as_str(), name), 1);
        self.latency[webhook_index(webhook)].observe(latency);
    }

    pub fn violations(&self, action: &'static str, rules: &[&'static str]) {
        for r in rules {
            Self::bump(&self.violations, (r, action), 1);
        }
    }

    /// Counts the request in flight until the guard drops.
    #[must_use]
    pub fn inflight(&self) -> InflightGuard<'_> {
        self.inflight.fetch_add(1, Relaxed);
        InflightGuard(self)
    }

    pub fn mutation_incomplete(&self) {
        self.mutation_incomplete.fetch_add(1, Relaxed);
    }

    pub fn policy_reload(&self, ok: bool, generation: u64) {
        if ok {
            self.policy_reloads_ok.fetch_add(1, Relaxed);
            self.policy_generation.store(generation, Relaxed);
        } else {
            self.policy_reloads_failed.fetch_add(1, Relaxed);
        }
        self.policy_last_reload_ok.store(u64::from(ok), Relaxed);
    }

    pub fn tls_reload(&self, ok: bool) {
        if ok {
            self.tls_reloads_ok.fetch_add(1, Relaxed);
        } else {
            self.tls_reloads_failed.fetch_add(1, Relaxed);
        }
    }

    pub fn namespace_reload_failed(&self) {
        self.namespace_reloads_failed.fetch_add(1, Relaxed);
    }

    /// Counts an accepted connection as open until the guard drops.
    #[must_use]
    pub fn connection(self: &std::sync::Arc<Self>) -> ConnectionGuard {
        self.connections_open.fetch_add(1, Relaxed);
        ConnectionGuard(self.clone())
    }

    /// A connection closed at accept because `max_connections` were open.
    pub fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Relaxed);
    }

    /// A failed LIST or WATCH of namespaces (retried with backoff).
    pub fn namespace_watch_error(&self) {
        self.namespace_watch_errors.fetch_add(1, Relaxed);
    }

    /// A full LIST of namespaces after the first (410 Gone, or an error).
    pub fn namespace_relist(&self) {
        self.namespace_relists.fetch_add(1, Relaxed);
    }

    /// Prometheus text exposition format 0.0.4.
    #[must_use]
    pub fn render(&self) -> String {
        let mut s = String::with_capacity(4096);
        s.push_str("# HELP palisade_admission_requests_total AdmissionReview requests by webhook and outcome.\n# TYPE palisade_admission_requests_total counter\n");
        for ((webhook, outcome), n) in self
            .decisions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                s,
                "palisade_admission_requests_total{{webhook=\"{webhook}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        s.push_str("# HELP palisade_admission_rule_violations_total Violations by rule and action (deny, warn, audit, patch).\n# TYPE palisade_admission_rule_violations_total counter\n");
        for ((rule, action), n) in self
            .violations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                s,
                "palisade_admission_rule_violations_total{{rule=\"{rule}\",action=\"{action}\"}} {n}"
            );
        }
        s.push_str("# HELP palisade_admission_request_duration_seconds Time from request to response.\n# TYPE palisade_admission_request_duration_seconds histogram\n");
        for (w, h) in [Webhook::Validate, Webhook::Mutate]
            .iter()
            .zip(&self.latency)
        {
            let w = w.as_str();
            for (bound, b) in BUCKETS.iter().zip(&h.buckets) {
                let _ = writeln!(
                    s,
                    "palisade_admission_request_duration_seconds_bucket{{webhook=\"{w}\",le=\"{bound}\"}} {}",
                    b.load(Relaxed)
                );
            }
            let count = h.count.load(Relaxed);
            let _ = writeln!(
                s,
                "palisade_admission_request_duration_seconds_bucket{{webhook=\"{w}\",le=\"+Inf\"}} {count}"
            );
            #[allow(clippy::cast_precision_loss)]
            let sum = h.sum_micros.load(Relaxed) as f64 / 1e6;
            let _ = writeln!(
                s,
                "palisade_admission_request_duration_seconds_sum{{webhook=\"{w}\"}} {sum}"
            );
            let _ = writeln!(
                s,
                "palisade_admission_request_duration_seconds_count{{webhook=\"{w}\"}} {count}"
            );
        }
        let gauges: [(&str, &str, &str, u64); 12] = [
            (
                "palisade_admission_open_connections",
                "gauge",
                "HTTPS connections open (at most --max-connections).",
                u64::try_from(self.connections_open.load(Relaxed)).unwrap_or(0),
            ),
            (
                "palisade_admission_connections_refused_total",
                "counter",
                "Connections closed at accept because --max-connections were open.",
                self.connections_refused.load(Relaxed),
            ),
            (
                "palisade_namespace_watch_errors_total",
                "counter",
                "Failed LIST or WATCH requests for namespaces (retried with backoff).",
                self.namespace_watch_errors.load(Relaxed),
            ),
            (
                "palisade_namespace_relists_total",
                "counter",
                "Full LISTs of namespaces after the first (410 Gone or an error).",
                self.namespace_relists.load(Relaxed),
            ),
            (
                "palisade_admission_inflight_requests",
                "gauge",
                "Requests being evaluated.",
                u64::try_from(self.inflight.load(Relaxed)).unwrap_or(0),
            ),
            (
                "palisade_admission_mutation_incomplete_total",
                "counter",
                "Mutations after which a fixed rule still fired.",
                self.mutation_incomplete.load(Relaxed),
            ),
            (
                "palisade_policy_generation",
                "gauge",
                "Generation of the policy in force (1 = loaded at start).",
                self.policy_generation.load(Relaxed),
            ),
            (
                "palisade_policy_last_reload_success",
                "gauge",
                "1 when the last policy reload succeeded; 0 while a rejected policy file is on disk.",
                self.policy_last_reload_ok.load(Relaxed),
            ),
            (
                "palisade_policy_reload_failures_total",
                "counter",
                "Policy files rejected (the previous policy stays in force).",
                self.policy_reloads_failed.load(Relaxed),
            ),
            (
                "palisade_policy_reloads_total",
                "counter",
                "Policy files loaded.",
                self.policy_reloads_ok.load(Relaxed),
            ),
            (
                "palisade_tls_reloads_total",
                "counter",
                "Certificates loaded after a change on disk.",
                self.tls_reloads_ok.load(Relaxed),
            ),
            (
                "palisade_tls_reload_failures_total",
                "counter",
                "Certificate files rejected (the previous certificate stays in use).",
                self.tls_reloads_failed.load(Relaxed),
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(
                s,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        let _ = writeln!(
            s,
            "# HELP palisade_namespace_reload_failures_total Namespace label files rejected.\n# TYPE palisade_namespace_reload_failures_total counter\npalisade_namespace_reload_failures_total {}",
            self.namespace_reloads_failed.load(Relaxed)
        );
        s
    }
}

/// Decrements the open-connections gauge when a connection ends, however it ends.
#[derive(Debug)]
pub struct ConnectionGuard(std::sync::Arc<Metrics>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.connections_open.fetch_sub(1, Relaxed);
    }
}

/// Decrements the in-flight gauge when a request ends, however it ends.
#[derive(Debug)]
pub struct InflightGuard<'m>(&'m Metrics);

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        self.0.inflight.fetch_sub(1, Relaxed);
    }
}
