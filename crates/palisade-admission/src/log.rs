//! Structured logs: one JSON line per admission decision, and JSON lines for server events.
//!
//! Lines name rules, JSON pointers and the object's identity, never field values: a finding's
//! message can quote a ConfigMap key or an environment variable, so messages stay out.

use std::io::Write as _;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Where log lines go.
pub trait LogSink: Send + Sync {
    fn write_line(&self, line: &str);
}

/// Standard output, one write per line so concurrent lines never interleave.
#[derive(Debug, Default)]
pub struct Stdout;

impl LogSink for Stdout {
    fn write_line(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(line.as_bytes());
        let _ = out.write_all(b"\n");
    }
}

/// Keeps lines in memory (tests).
#[derive(Debug, Default)]
pub struct Memory(pub Mutex<Vec<String>>);

impl Memory {
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl LogSink for Memory {
    fn write_line(&self, line: &str) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(line.to_string());
    }
}

/// Discards everything (benchmarks).
#[derive(Debug, Default)]
pub struct Discard;

impl LogSink for Discard {
    fn write_line(&self, _line: &str) {}
}

/// One admission decision.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionLine<'a> {
    pub ts: String,
    pub msg: &'static str,
    pub uid: &'a str,
    pub webhook: &'static str,
    pub operation: &'a str,
    pub kind: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub sub_resource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub user: &'a str,
    pub decision: &'a str,
    pub rules: &'a [&'static str],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub warned: &'a [&'static str],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub patched: &'a [&'static str],
    pub dry_run: bool,
    pub policy: &'a str,
    pub policy_generation: u64,
    pub latency_ms: f64,
}

/// A server event (start, reload, shutdown, errors).
#[derive(Debug, Serialize)]
pub struct EventLine<'a> {
    pub ts: String,
    pub level: &'static str,
    pub msg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
}

pub fn event(sink: &dyn LogSink, level: &'static str, msg: &str, error: Option<&str>) {
    let line = EventLine {
        ts: now_rfc3339(),
        level,
        msg,
        error,
    };
    if let Ok(s) = serde_json::to_string(&line) {
        sink.write_line(&s);
    }
}

/// The current UTC time as RFC 3339 with milliseconds.
#[must_use]
pub fn now_rfc3339() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let date =
        palisade_policy::Date::from_days_since_epoch(i64::try_from(secs / 86_400).unwrap_or(0));
    let rem = secs % 86_400;
    format!(
        "{date}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}
