//! Namespace labels from the API server: LIST (paged), then WATCH, against a stand-in API
//! server over TLS (rcgen CA) that speaks the documented wire format: a `NamespaceList`
//! with `metadata.resourceVersion` and `metadata.continue`, then a chunked stream of
//! `{"type": "ADDED|MODIFIED|DELETED|BOOKMARK|ERROR", "object": …}` lines, and `410 Gone` as
//! an HTTP status or an `ERROR` event carrying a `Status`. A real API server cannot run here.

mod common;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palisade_admission::NamespaceSource;
use palisade_admission::log::Memory;
use palisade_admission::metrics::Metrics;
use palisade_admission::namespace_watch::{self, WatchConfig, WatchedNamespaces};
use palisade_sign::kube::KubeClient;
use serde_json::{Value, json};

/// What the stand-in answers to the next WATCH.
enum Watch {
    /// A status and a `Status` body, then the connection closes.
    Status(u16),
    /// A 200 with a chunked body: one event per line sent on the channel; the stream ends
    /// when the sender is dropped (as when `timeoutSeconds` passes).
    Stream(mpsc::Receiver<Value>),
}

struct FakeApiServer {
    port: u16,
    ca_pem: String,
    /// A LIST answer per LIST request, in order (an empty queue answers 500).
    lists: Arc<Mutex<VecDeque<(u16, Value)>>>,
    watches: Arc<Mutex<VecDeque<Watch>>>,
    /// Path and query, and the Authorization header, of every request.
    requests: Arc<Mutex<Vec<(String, String)>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code})
}

fn namespace(name: &str, rv: &str, labels: Value) -> Value {
    json!({"kind": "Namespace", "apiVersion": "v1",
        "metadata": {"name": name, "uid": format!("uid-{name}"), "resourceVersion": rv,
            "creationTimestamp": "2026-11-27T06:00:00Z", "labels": labels},
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
}

fn list(rv: &str, cont: &str, items: Vec<Value>) -> Value {
    let mut metadata = json!({"resourceVersion": rv});
    if !cont.is_empty() {
        metadata["continue"] = json!(cont);
    }
    json!({"kind": "NamespaceList", "apiVersion": "v1", "metadata": metadata, "items": items})
}

fn event(kind: &str, object: Value) -> Value {
    json!({"type": kind, "object": object})
}

fn bookmark(rv: &str) -> Value {
    event(
        "BOOKMARK",
        json!({"kind": "Namespace", "apiVersion": "v1", "metadata": {"resourceVersion": rv}}),
    )
}

impl FakeApiServer {
    fn start() -> FakeApiServer {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "kubernetes-ca");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let mut leaf_params =
            rcgen::CertificateParams::new(vec!["kubernetes.default.svc".to_string()]).unwrap();
        leaf_params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
        let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls_pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = FakeApiServer {
            port: listener.local_addr().unwrap().port(),
            ca_pem: ca.pem(),
            lists: Arc::default(),
            watches: Arc::default(),
            requests: Arc::default(),
            stop: Arc::default(),
        };
        let (lists, watches, requests, stop) = (
            server.lists.clone(),
            server.watches.clone(),
            server.requests.clone(),
            server.stop.clone(),
        );
        std::thread::spawn(move || {
            for tcp in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(tcp) = tcp else { continue };
                let (config, lists, watches, requests, stop) = (
                    config.clone(),
                    lists.clone(),
                    watches.clone(),
                    requests.clone(),
                    stop.clone(),
                );
                std::thread::spawn(move || {
                    let conn = rustls::ServerConnection::new(config).unwrap();
                    let mut stream = rustls::StreamOwned::new(conn, tcp);
                    let (path, auth) = {
                        let mut reader = BufReader::new(&mut stream);
                        let mut line = String::new();
                        if reader.read_line(&mut line).is_err() {
                            return;
                        }
                        let mut auth = String::new();
                        loop {
                            let mut h = String::new();
                            if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                                break;
                            }
                            if let Some((k, v)) = h.split_once(':')
                                && k.eq_ignore_ascii_case("authorization")
                            {
                                auth = v.trim().to_string();
                            }
                        }
                        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                        (path, auth)
                    };
                    requests.lock().unwrap().push((path.clone(), auth));
                    let respond = |stream: &mut rustls::StreamOwned<_, _>,
                                   code: u16,
                                   body: &Value| {
                        let body = body.to_string();
                        let _ = write!(
                            stream,
                            "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = stream.flush();
                    };
                    if !path.contains("watch=1") {
                        let next = lists.lock().unwrap().pop_front();
                        let (code, body) = next.unwrap_or_else(|| {
                            (500, status(500, "InternalError", "no list scripted"))
                        });
                        respond(&mut stream, code, &body);
                        return;
                    }
                    // A watch waits for the test to script it.
                    let script = loop {
                        if let Some(w) = watches.lock().unwrap().pop_front() {
                            break w;
                        }
                        if stop.load(Ordering::SeqCst) {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    };
                    match script {
                        Watch::Status(code) => respond(
                            &mut stream,
                            code,
                            &status(code, "Expired", "too old resource version: 100 (250)"),
                        ),
                        Watch::Stream(events) => {
                            let _ = write!(
                                stream,
                                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                            );
                            let _ = stream.flush();
                            for ev in events {
                                let line = format!("{ev}\n");
                                let _ = write!(stream, "{:x}\r\n{line}\r\n", line.len());
                                let _ = stream.flush();
                            }
                            let _ = write!(stream, "0\r\n\r\n");
                            let _ = stream.flush();
                        }
                    }
                    stream.conn.send_close_notify();
                    let _ = stream.flush();
                });
            }
        });
        server
    }

    fn requests(&self) -> Vec<(String, String)> {
        self.requests.lock().unwrap().clone()
    }

    fn stream(&self) -> mpsc::Sender<Value> {
        let (tx, rx) = mpsc::channel();
        self.watches.lock().unwrap().push_back(Watch::Stream(rx));
        tx
    }

    /// A service-account directory as the kubelet projects it: `token` and this server's
    /// `ca.crt`.
    fn service_account(&self, token: &str) -> tempfile::TempDir {
        let sa = tempfile::tempdir().unwrap();
        std::fs::write(sa.path().join("token"), format!("{token}\n")).unwrap();
        std::fs::write(sa.path().join("ca.crt"), &self.ca_pem).unwrap();
        sa
    }

    /// The in-cluster client of this server, reading the service account in `sa`.
    fn client(&self, sa: &tempfile::TempDir, timeout: Duration) -> KubeClient {
        KubeClient::from_service_account("127.0.0.1", &self.port.to_string(), sa.path(), timeout)
            .unwrap()
    }
}

/// Polls until `check` holds: the watcher runs on its own thread. A bound on the number of
/// polls, not a timed assertion.
fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..2_000 {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("never happened: {what}");
}

fn label(cache: &WatchedNamespaces, ns: &str) -> Option<String> {
    cache
        .labels(ns)
        .map(|l| l.get("palisade.dev/enforce").cloned().unwrap_or_default())
}

#[test]
fn lists_then_watches_namespaces_and_relists_after_410() {
    let api = FakeApiServer::start();
    let sa = api.service_account("token-1");
    let client = |timeout| api.client(&sa, timeout);
    // An API server that fails the first LIST, then serves it in two pages.
    {
        let mut lists = api.lists.lock().unwrap();
        lists.push_back((
            500,
            status(500, "InternalError", "etcdserver: request timed out"),
        ));
        lists.push_back((
            200,
            list(
                "100",
                "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTAwfQ==",
                vec![
                    namespace("ml", "90", json!({"palisade.dev/enforce": "baseline"})),
                    namespace("web", "91", json!({})),
                ],
            ),
        ));
        lists.push_back((
            200,
            list(
                "100",
                "",
                vec![namespace(
                    "legacy",
                    "92",
                    json!({"palisade.dev/enforce": "privileged"}),
                )],
            ),
        ));
    }
    let first = api.stream();
    let cache = Arc::new(WatchedNamespaces::default());
    let metrics = Arc::new(Metrics::new());
    let config = WatchConfig {
        watch_timeout: Duration::from_secs(60),
        page_size: 2,
        backoff_min: Duration::from_millis(10),
        backoff_max: Duration::from_millis(50),
    };
    let thread = namespace_watch::spawn(
        cache.clone(),
        client(Duration::from_secs(10)),
        client(Duration::from_secs(90)),
        config,
        metrics.clone(),
        Arc::new(Memory::default()),
    )
    .unwrap();

    until("first list", || cache.synced());
    assert_eq!(label(&cache, "ml").as_deref(), Some("baseline"));
    assert_eq!(label(&cache, "web").as_deref(), Some(""));
    assert_eq!(label(&cache, "legacy").as_deref(), Some("privileged"));
    until("the watch request", || {
        api.requests().iter().any(|(p, _)| p.contains("watch=1"))
    });
    let requests = api.requests();
    assert_eq!(requests[0].0, "/api/v1/namespaces?limit=2");
    assert_eq!(requests[1].0, "/api/v1/namespaces?limit=2");
    assert_eq!(
        requests[2].0,
        "/api/v1/namespaces?limit=2&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTAwfQ%3D%3D"
    );
    assert_eq!(
        requests[3].0,
        "/api/v1/namespaces?watch=1&allowWatchBookmarks=true&resourceVersion=100&timeoutSeconds=60"
    );
    assert!(requests.iter().all(|(_, auth)| auth == "Bearer token-1"));
    assert!(
        metrics
            .render()
            .contains("palisade_namespace_watch_errors_total 1")
    );

    // Events move the cache and the resource version.
    first
        .send(event(
            "ADDED",
            namespace("new", "101", json!({"palisade.dev/enforce": "restricted"})),
        ))
        .unwrap();
    first
        .send(event(
            "MODIFIED",
            namespace("ml", "102", json!({"palisade.dev/enforce": "privileged"})),
        ))
        .unwrap();
    first
        .send(event("DELETED", namespace("web", "103", json!({}))))
        .unwrap();
    first.send(bookmark("150")).unwrap();
    until("events applied", || {
        label(&cache, "new").as_deref() == Some("restricted")
            && label(&cache, "ml").as_deref() == Some("privileged")
            && cache.labels("web").is_none()
    });

    // The kubelet rotates the token: the next request carries the new one.
    std::fs::write(sa.path().join("token"), "token-2\n").unwrap();
    // The stream ends (timeoutSeconds): the watch resumes at the bookmark, without a LIST.
    let second = api.stream();
    drop(first);
    until("the second watch", || {
        api.requests()
            .iter()
            .filter(|(p, _)| p.contains("watch=1"))
            .count()
            == 2
    });
    let (path, auth) = api.requests().last().unwrap().clone();
    assert!(path.contains("resourceVersion=150"), "{path}");
    assert_eq!(auth, "Bearer token-2");

    // An ERROR event with 410: events were lost, so the watcher lists again, and the new list
    // replaces the cache ("legacy" was deleted while the watch was down).
    api.lists.lock().unwrap().push_back((
        200,
        list(
            "300",
            "",
            vec![
                namespace("ml", "280", json!({"palisade.dev/enforce": "baseline"})),
                namespace("new", "101", json!({"palisade.dev/enforce": "restricted"})),
            ],
        ),
    ));
    // The next watch (from 300) is refused with an HTTP 410: list once more.
    api.watches.lock().unwrap().push_back(Watch::Status(410));
    api.lists.lock().unwrap().push_back((
        200,
        list(
            "400",
            "",
            vec![namespace(
                "ml",
                "390",
                json!({"palisade.dev/enforce": "restricted"}),
            )],
        ),
    ));
    let last = api.stream();
    second
        .send(event(
            "ERROR",
            status(410, "Expired", "too old resource version: 150 (250)"),
        ))
        .unwrap();
    until("two relists", || {
        metrics
            .render()
            .contains("palisade_namespace_relists_total 2")
    });
    until("the watch from the last list", || {
        api.requests()
            .last()
            .is_some_and(|(p, _)| p.contains("watch=1") && p.contains("resourceVersion=400"))
    });
    assert_eq!(label(&cache, "ml").as_deref(), Some("restricted"));
    assert!(cache.labels("legacy").is_none());
    assert!(cache.labels("new").is_none());
    let watches: Vec<String> = api
        .requests()
        .into_iter()
        .filter(|(p, _)| p.contains("watch=1"))
        .map(|(p, _)| p)
        .collect();
    assert!(watches[2].contains("resourceVersion=300"), "{watches:?}");

    cache.stop();
    // One more event wakes the watcher, which then sees the stop.
    last.send(bookmark("401")).unwrap();
    drop(last);
    thread.join().unwrap();
}

#[test]
fn a_refused_token_is_reported_and_retried_with_the_rbac_hint() {
    let api = FakeApiServer::start();
    let sa = api.service_account("t");
    api.lists.lock().unwrap().push_back((
        403,
        status(
            403,
            "Forbidden",
            "namespaces is forbidden: User \"system:serviceaccount:palisade-system:palisade\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope",
        ),
    ));
    api.lists
        .lock()
        .unwrap()
        .push_back((200, list("7", "", vec![namespace("a", "7", json!({}))])));
    let stream = api.stream();
    let client = || api.client(&sa, Duration::from_secs(10));
    let cache = Arc::new(WatchedNamespaces::default());
    let log = Arc::new(Memory::default());
    let thread = namespace_watch::spawn(
        cache.clone(),
        client(),
        client(),
        WatchConfig {
            backoff_min: Duration::from_millis(10),
            ..WatchConfig::default()
        },
        Arc::new(Metrics::new()),
        log.clone(),
    )
    .unwrap();
    until("the retried list", || cache.synced());
    let lines = log.lines().join("\n");
    assert!(lines.contains("namespace LIST failed"), "{lines}");
    assert!(
        lines.contains(
            "HTTP 403 (RBAC: the service account needs `list` and `watch` on namespaces)"
        ),
        "{lines}"
    );
    assert!(lines.contains("cannot list resource"), "{lines}");
    cache.stop();
    drop(stream);
    thread.join().unwrap();
}

/// A watch connection that goes silent without closing (a node or NAT dropped its state, so
/// no FIN or RST ever comes) is cut by the stream client's timeout, a quarter past the
/// server's window, and the watch resumes from the last resource version without a LIST.
#[test]
fn a_silent_dead_watch_is_cut_and_resumed_without_a_list() {
    let api = FakeApiServer::start();
    let sa = api.service_account("t");
    api.lists
        .lock()
        .unwrap()
        .push_back((200, list("7", "", vec![namespace("a", "7", json!({}))])));
    // Headers, then nothing, while the sender lives: the server never ends this stream.
    let silent = api.stream();
    let resumed = api.stream();
    let config = WatchConfig {
        watch_timeout: Duration::from_secs(1),
        backoff_min: Duration::from_millis(10),
        ..WatchConfig::default()
    };
    assert_eq!(config.stream_client_timeout(), Duration::from_millis(1250));
    let cache = Arc::new(WatchedNamespaces::default());
    let thread = namespace_watch::spawn(
        cache.clone(),
        api.client(&sa, Duration::from_secs(10)),
        api.client(&sa, config.stream_client_timeout()),
        config,
        Arc::new(Metrics::new()),
        Arc::new(Memory::default()),
    )
    .unwrap();
    until("the watch after the silent one", || {
        api.requests()
            .iter()
            .filter(|(p, _)| p.contains("watch=1"))
            .count()
            == 2
    });
    let requests = api.requests();
    let lists = requests
        .iter()
        .filter(|(p, _)| !p.contains("watch=1"))
        .count();
    assert_eq!(lists, 1, "{requests:?}");
    assert!(
        requests
            .iter()
            .filter(|(p, _)| p.contains("watch=1"))
            .all(|(p, _)| p.contains("resourceVersion=7") && p.contains("timeoutSeconds=1")),
        "{requests:?}"
    );
    // Still served from the cache meanwhile, and still live afterwards.
    assert_eq!(label(&cache, "a").as_deref(), Some(""));
    resumed
        .send(event(
            "ADDED",
            namespace("b", "8", json!({"palisade.dev/enforce": "restricted"})),
        ))
        .unwrap();
    until("the resumed stream's event", || {
        label(&cache, "b").as_deref() == Some("restricted")
    });
    cache.stop();
    drop(resumed);
    drop(silent);
    thread.join().unwrap();
}

/// `palisade serve --namespaces-from-api`, wired end to end: not ready before the first LIST,
/// then namespace labels from the API server set the level a review is judged at.
#[tokio::test]
async fn serve_waits_for_the_first_list_and_judges_by_watched_labels() {
    use axum::http::{Request, StatusCode};
    use palisade_admission::server::NamespaceWatch;
    use palisade_admission::{ServeConfig, Server};
    use tower::ServiceExt;

    let api = FakeApiServer::start();
    let sa = api.service_account("t");
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.path().join("tls.crt"), ck.cert.pem()).unwrap();
    std::fs::write(dir.path().join("tls.key"), ck.signing_key.serialize_pem()).unwrap();
    std::fs::write(dir.path().join("policy.yaml"), common::RESTRICTED).unwrap();
    let mut config = ServeConfig::new(
        dir.path().join("policy.yaml"),
        dir.path().join("tls.crt"),
        dir.path().join("tls.key"),
    );
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.shutdown_delay = Duration::ZERO;
    config.namespace_watch = Some(NamespaceWatch {
        config: WatchConfig {
            backoff_min: Duration::from_millis(10),
            backoff_max: Duration::from_millis(20),
            ..WatchConfig::default()
        },
        api: Some((
            "127.0.0.1".into(),
            api.port.to_string(),
            sa.path().to_path_buf(),
        )),
    });
    let server = Server::bind(
        config,
        palisade_admission::k8s_rules(),
        Arc::new(Memory::default()),
    )
    .await
    .unwrap();
    let state = server.state();
    let readyz = async || {
        let r = palisade_admission::router(state.clone())
            .oneshot(
                Request::get("/readyz")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = r.status();
        let body = axum::body::to_bytes(r.into_body(), 1024).await.unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    };
    // The API server fails every LIST so far (nothing scripted): not ready. (The watcher
    // keeps retrying, so the count only has a lower bound.)
    until("a failed list", || {
        state.metrics.render().lines().any(|l| {
            l.strip_prefix("palisade_namespace_watch_errors_total ")
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|n| n >= 1)
        })
    });
    assert_eq!(
        readyz().await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "namespace labels not loaded yet".to_string()
        )
    );
    api.lists.lock().unwrap().push_back((
        200,
        list(
            "10",
            "",
            vec![namespace(
                "legacy",
                "9",
                json!({"palisade.dev/enforce": "baseline"}),
            )],
        ),
    ));
    let stream = api.stream();
    for _ in 0..2_000 {
        if readyz().await.0 == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(readyz().await.0, StatusCode::OK);
    // A pod that only breaks a restricted check: allowed where the label says baseline,
    // denied in a namespace the API server has no label for.
    let mut pod = common::hardened_pod();
    pod["spec"]["securityContext"] = json!({"seccompProfile": {"type": "RuntimeDefault"}});
    pod["spec"]["containers"][0]["securityContext"]["runAsUser"] = json!(0);
    pod["metadata"]["namespace"] = json!("legacy");
    let legacy = common::call(&state, "/validate", &common::review("CREATE", &pod, None)).await;
    assert_eq!(legacy["allowed"], true, "{legacy}");
    pod["metadata"]["namespace"] = json!("ml");
    let ml = common::call(&state, "/validate", &common::review("CREATE", &pod, None)).await;
    assert_eq!(ml["allowed"], false, "{ml}");
    // A label added on the API server applies to the next review.
    stream
        .send(event(
            "MODIFIED",
            namespace("ml", "11", json!({"palisade.dev/enforce": "baseline"})),
        ))
        .unwrap();
    let mut allowed = false;
    for _ in 0..2_000 {
        let r = common::call(&state, "/validate", &common::review("CREATE", &pod, None)).await;
        if r["allowed"] == true {
            allowed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(allowed, "the watched label never applied");
    // Shutdown completes with a watch open (the watcher is told to stop).
    let run = tokio::spawn(server.run(async {}));
    drop(stream);
    run.await.unwrap();
}
