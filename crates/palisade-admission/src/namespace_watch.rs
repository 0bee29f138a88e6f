//! Namespace labels from the API server: LIST, then WATCH `/api/v1/namespaces`, as client-go's
//! reflector does.
//!
//! - The LIST is paged (`limit`, `continue`) and replaces the whole cache, so namespaces
//!   deleted while the watch was down disappear.
//! - The WATCH starts at the list's `resourceVersion` with `allowWatchBookmarks=true`;
//!   every event (and every BOOKMARK) moves the resource version on, so a watch that ends
//!   (the server's `timeoutSeconds`, a dropped connection) resumes where it stopped without a
//!   new LIST.
//! - `410 Gone` (an HTTP status, or an `ERROR` event whose `Status` has code 410: the version
//!   is older than etcd's compaction window) means events were lost: LIST again.
//! - Any other failure is retried with exponential backoff; the labels known so far stay in
//!   force meanwhile (a stale label is better than none, and a namespace the cache does not
//!   know still gets the policy's own levels).
//!
//! The client is `palisade_sign::kube::KubeClient`: the in-cluster configuration
//! (`KUBERNETES_SERVICE_HOST`/`PORT`, the service account's token, re-read per request as
//! the kubelet rotates it, and `ca.crt`). It is blocking, so the watcher has a thread of its
//! own; the request path only reads the cache.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use palisade_sign::kube::KubeClient;
use serde::Deserialize;

use crate::log::{LogSink, event};
use crate::metrics::Metrics;
use crate::namespaces::{Labels, NamespaceSource};

/// A LIST page, an event line: bounded so a broken server cannot exhaust memory.
const MAX_LIST_BYTES: u64 = 64 << 20;
const MAX_EVENT_BYTES: u64 = 4 << 20;

/// How the watcher talks to the API server.
#[derive(Clone, Debug)]
pub struct WatchConfig {
    /// The server ends each watch after this long (`timeoutSeconds`); the watcher then
    /// resumes from the last resource version. It also bounds how long a connection that
    /// died without a word (a node or NAT dropping its state: no FIN, no RST) goes
    /// unnoticed: see [`WatchConfig::stream_client_timeout`].
    pub watch_timeout: Duration,
    /// Items per LIST page.
    pub page_size: usize,
    /// First and largest wait between failed attempts.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl WatchConfig {
    /// The whole-request timeout of the client that reads watch streams: a quarter longer
    /// than the server's window, so a healthy stream always ends on the server's side first
    /// and a silent dead one is cut soon after. The blocking client has no per-read idle
    /// timeout; a short window with this margin is what bounds staleness instead (75 s by
    /// default), at the price of one cheap re-watch a minute (no LIST).
    #[must_use]
    pub fn stream_client_timeout(&self) -> Duration {
        self.watch_timeout + self.watch_timeout / 4
    }
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            watch_timeout: Duration::from_secs(60),
            page_size: 500,
            backoff_min: Duration::from_millis(200),
            backoff_max: Duration::from_secs(30),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Meta {
    name: String,
    #[serde(rename = "resourceVersion")]
    resource_version: String,
    labels: Labels,
    #[serde(rename = "continue")]
    continue_token: String,
}

/// A Namespace, or the `Status` of an `ERROR` event.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Object {
    metadata: Meta,
    code: Option<u16>,
    message: String,
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    object: Object,
}

#[derive(Deserialize)]
struct List {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    items: Vec<Object>,
}

/// Why a LIST or WATCH stopped.
enum Stop {
    /// `410 Gone`: the resource version is too old; LIST again.
    Gone,
    /// Anything else; retry after a backoff.
    Failed(String),
    /// The watcher was asked to stop.
    Stopped,
}

/// The namespace cache the watcher keeps; what the webhook reads.
#[derive(Debug, Default)]
pub struct WatchedNamespaces {
    namespaces: RwLock<HashMap<String, Labels>>,
    synced: AtomicBool,
    stop: AtomicBool,
}

impl NamespaceSource for WatchedNamespaces {
    fn labels(&self, namespace: &str) -> Option<Labels> {
        self.namespaces
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(namespace)
            .cloned()
    }

    /// Not ready before the first LIST: until then a namespace labelled stricter than the
    /// policy would be judged at the policy's level.
    fn synced(&self) -> bool {
        self.synced.load(Ordering::SeqCst)
    }
}

impl WatchedNamespaces {
    /// Ends the watcher at its next event, request or backoff step.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Labels>> {
        self.namespaces
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Starts the thread that fills `cache`. `list` serves LISTs (a short timeout); `watch`
/// serves the streams, with [`WatchConfig::stream_client_timeout`] as its timeout. The
/// thread ends after [`WatchedNamespaces::stop`].
pub fn spawn(
    cache: Arc<WatchedNamespaces>,
    list: KubeClient,
    watch: KubeClient,
    config: WatchConfig,
    metrics: Arc<Metrics>,
    log: Arc<dyn LogSink>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("palisade-namespaces".into())
        .spawn(move || {
            Watcher {
                list,
                watch,
                config,
                metrics,
                log,
                cache,
            }
            .run();
        })
}

struct Watcher {
    list: KubeClient,
    watch: KubeClient,
    config: WatchConfig,
    metrics: Arc<Metrics>,
    log: Arc<dyn LogSink>,
    cache: Arc<WatchedNamespaces>,
}

impl Watcher {
    fn run(&self) {
        let mut backoff = self.config.backoff_min;
        let mut listed = false;
        'list: while !self.cache.stopped() {
            let mut version = match self.list_all() {
                Ok(v) => v,
                Err(Stop::Stopped) => return,
                // A page's `continue` token expired: start over, after a wait like any failure
                // (a server answering 410 to every LIST must not be hammered).
                Err(Stop::Gone) => {
                    self.failed(
                        "namespace LIST expired (410 Gone); listing again",
                        "continue token expired",
                        &mut backoff,
                    );
                    continue;
                }
                Err(Stop::Failed(e)) => {
                    self.failed("namespace LIST failed; retrying", &e, &mut backoff);
                    continue;
                }
            };
            if listed {
                self.metrics.namespace_relist();
            }
            listed = true;
            backoff = self.config.backoff_min;
            loop {
                match self.watch_from(&mut version, &mut backoff) {
                    // The server closed the stream (timeoutSeconds): resume at once.
                    Ok(()) => {}
                    Err(Stop::Stopped) => return,
                    Err(Stop::Gone) => {
                        event(
                            &*self.log,
                            "info",
                            "namespace watch expired (410 Gone); listing again",
                            None,
                        );
                        continue 'list;
                    }
                    Err(Stop::Failed(e)) => {
                        self.failed("namespace WATCH failed; retrying", &e, &mut backoff);
                        if self.cache.stopped() {
                            return;
                        }
                    }
                }
            }
        }
    }

    fn failed(&self, what: &str, detail: &str, backoff: &mut Duration) {
        self.metrics.namespace_watch_error();
        event(&*self.log, "error", what, Some(detail));
        self.sleep(*backoff);
        *backoff = (*backoff * 2).min(self.config.backoff_max);
    }

    /// Sleeps in short steps so `stop` is honoured promptly.
    fn sleep(&self, d: Duration) {
        let step = Duration::from_millis(50);
        let mut left = d;
        while !left.is_zero() && !self.cache.stopped() {
            let s = left.min(step);
            std::thread::sleep(s);
            left -= s;
        }
    }

    fn get(&self, client: &KubeClient, path: &str) -> Result<Box<dyn Read + Send>, Stop> {
        if self.cache.stopped() {
            return Err(Stop::Stopped);
        }
        let (status, mut body) = client.get(path).map_err(|e| Stop::Failed(e.to_string()))?;
        match status {
            200 => Ok(body),
            410 => Err(Stop::Gone),
            _ => {
                let mut text = Vec::new();
                let _ = body.by_ref().take(64 << 10).read_to_end(&mut text);
                let message = serde_json::from_slice::<Object>(&text)
                    .map(|s| s.message)
                    .unwrap_or_default();
                let hint = match status {
                    401 => " (the service-account token was not accepted)",
                    403 => " (RBAC: the service account needs `list` and `watch` on namespaces)",
                    _ => "",
                };
                Err(Stop::Failed(format!(
                    "GET {path}: HTTP {status}{hint}: {message}"
                )))
            }
        }
    }

    /// Every page of the LIST; replaces the cache and returns the list's resource version.
    fn list_all(&self) -> Result<String, Stop> {
        let mut all = HashMap::new();
        let mut token = String::new();
        loop {
            let mut path = format!("/api/v1/namespaces?limit={}", self.config.page_size);
            if !token.is_empty() {
                path.push_str("&continue=");
                path.push_str(&encode_query(&token));
            }
            let mut text = Vec::new();
            self.get(&self.list, &path)?
                .take(MAX_LIST_BYTES)
                .read_to_end(&mut text)
                .map_err(|e| Stop::Failed(format!("GET {path}: {e}")))?;
            let page: List = serde_json::from_slice(&text)
                .map_err(|e| Stop::Failed(format!("GET {path}: not a NamespaceList: {e}")))?;
            for item in page.items {
                all.insert(item.metadata.name, item.metadata.labels);
            }
            if page.metadata.continue_token.is_empty() {
                let count = all.len();
                *self.cache.write() = all;
                self.cache.synced.store(true, Ordering::SeqCst);
                event(
                    &*self.log,
                    "info",
                    "namespace labels listed",
                    Some(&format!("{count} namespaces")),
                );
                return Ok(page.metadata.resource_version);
            }
            token = page.metadata.continue_token;
        }
    }

    /// One WATCH from `version`, applying events until the stream ends.
    fn watch_from(&self, version: &mut String, backoff: &mut Duration) -> Result<(), Stop> {
        let path = format!(
            "/api/v1/namespaces?watch=1&allowWatchBookmarks=true&resourceVersion={}&timeoutSeconds={}",
            encode_query(version),
            self.config.watch_timeout.as_secs().max(1)
        );
        let mut reader = BufReader::new(self.get(&self.watch, &path)?);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader
                .by_ref()
                .take(MAX_EVENT_BYTES)
                .read_until(b'\n', &mut line)
                .map_err(|e| Stop::Failed(format!("watch stream: {e}")))?;
            if n == 0 {
                return Ok(());
            }
            if line.last() != Some(&b'\n') && u64::try_from(n).is_ok_and(|n| n >= MAX_EVENT_BYTES) {
                return Err(Stop::Failed(format!(
                    "watch event over {MAX_EVENT_BYTES} bytes"
                )));
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let ev: Event = serde_json::from_slice(&line)
                .map_err(|e| Stop::Failed(format!("watch event: {e}")))?;
            if self.cache.stopped() {
                return Err(Stop::Stopped);
            }
            let meta = ev.object.metadata;
            match ev.kind.as_str() {
                "ADDED" | "MODIFIED" => {
                    self.cache.write().insert(meta.name, meta.labels);
                }
                "DELETED" => {
                    self.cache.write().remove(&meta.name);
                }
                "BOOKMARK" => {}
                "ERROR" => {
                    return Err(if ev.object.code == Some(410) {
                        Stop::Gone
                    } else {
                        Stop::Failed(format!(
                            "watch ERROR event: {} {}",
                            ev.object.code.unwrap_or(0),
                            ev.object.message
                        ))
                    });
                }
                other => {
                    return Err(Stop::Failed(format!("unknown watch event type `{other}`")));
                }
            }
            if !meta.resource_version.is_empty() {
                *version = meta.resource_version;
            }
            // The stream is healthy again: the next failure starts from a short wait.
            *backoff = self.config.backoff_min;
        }
    }
}

/// Percent-encodes a query value (continue tokens are base64 with `=` and `/`).
fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(super::encode_query("eyJ2Ijo=/+x"), "eyJ2Ijo%3D%2F%2Bx");
        assert_eq!(super::encode_query("12345"), "12345");
    }
}
