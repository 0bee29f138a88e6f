//! `palisade serve`: the HTTPS listener, the optional plain metrics listener, hot reload of
//! policy, certificate and namespace labels, and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use palisade_policy::RuleMeta;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

use crate::api::{AppState, Limits, metrics_router, router};
use crate::engine::Engine;
use crate::log::{LogSink, event};
use crate::namespace_watch::{self, WatchConfig, WatchedNamespaces};
use crate::namespaces::{NamespaceSource, StaticNamespaces};
use crate::tls::{ReloadingCert, certified_key, server_config};

/// Everything `palisade serve` is told.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Plain HTTP for `/metrics`, `/healthz`, `/readyz` (Prometheus and probes without TLS).
    pub metrics_listen: Option<SocketAddr>,
    pub policy: PathBuf,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    /// Namespace objects whose `palisade.dev/*` labels set per-namespace levels.
    pub namespaces: Option<PathBuf>,
    /// Or: LIST and WATCH the namespaces on the API server.
    pub namespace_watch: Option<NamespaceWatch>,
    pub limits: Limits,
    /// How often the policy, certificate and namespace files are checked for changes.
    pub reload_interval: Duration,
    /// After a shutdown signal: keep serving this long with `/readyz` failing, so the
    /// Service's endpoints drop this replica before it stops accepting.
    pub shutdown_delay: Duration,
    /// Then at most this long for in-flight requests to finish.
    pub drain_timeout: Duration,
    /// A TLS handshake slower than this is dropped (slow clients cannot hold tasks).
    pub handshake_timeout: Duration,
    /// An HTTP/1.1 connection is closed when no complete request head arrived for this long.
    /// hyper counts the idle time between keep-alive requests too, so this is also the idle
    /// timeout, and it must stay above the client's own (Go's transports use 90 s): a server
    /// that closes an idle connection first races the client's next POST, which Go does not
    /// retry, and the API server would apply `failurePolicy` to a request nobody refused.
    pub http1_idle_timeout: Duration,
    /// HTTPS connections open at once. One more is closed at accept, before any TLS work:
    /// the caller (the API server) sees a connection error at once and applies the webhook's
    /// `failurePolicy`, instead of queueing behind connections that are already being served.
    pub max_connections: usize,
}

impl ServeConfig {
    #[must_use]
    pub fn new(policy: PathBuf, tls_cert: PathBuf, tls_key: PathBuf) -> Self {
        ServeConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 8443)),
            metrics_listen: None,
            policy,
            tls_cert,
            tls_key,
            namespaces: None,
            namespace_watch: None,
            limits: Limits::default(),
            reload_interval: Duration::from_secs(10),
            shutdown_delay: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(20),
            handshake_timeout: Duration::from_secs(5),
            http1_idle_timeout: Duration::from_secs(120),
            max_connections: 256,
        }
    }
}

/// Where namespace labels come from when they come from the API server.
#[derive(Clone, Debug, Default)]
pub struct NamespaceWatch {
    pub config: WatchConfig,
    /// The API server's host and port and a service-account directory (`token`, `ca.crt`);
    /// `None` is the in-cluster configuration (`KUBERNETES_SERVICE_HOST`/`PORT` and
    /// `/var/run/secrets/kubernetes.io/serviceaccount`).
    pub api: Option<(String, String, PathBuf)>,
}

impl NamespaceWatch {
    fn client(&self, timeout: Duration) -> Result<palisade_sign::kube::KubeClient, ServeError> {
        use palisade_sign::kube::KubeClient;
        match &self.api {
            Some((host, port, dir)) => KubeClient::from_service_account(host, port, dir, timeout),
            None if std::env::var_os("KUBERNETES_SERVICE_HOST").is_none() => {
                return Err(ServeError::Namespaces(
                    "--namespaces-from-api needs the in-cluster configuration, and \
                     KUBERNETES_SERVICE_HOST is not set (not running in a pod?); use \
                     --namespaces FILE outside a cluster"
                        .into(),
                ));
            }
            None => KubeClient::in_cluster(timeout),
        }
        .map_err(|e| ServeError::Namespaces(e.to_string()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("namespace labels from the API server: {0}")]
    Namespaces(String),
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("{path}: invalid policy:\n  {}", errors.join("\n  "))]
    Policy { path: String, errors: Vec<String> },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
}

fn read(path: &PathBuf) -> Result<Vec<u8>, ServeError> {
    std::fs::read(path).map_err(|e| ServeError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// Last contents seen of each watched file. Comparing contents (not modification times)
/// follows the kubelet's symlink swaps of mounted Secrets and ConfigMaps reliably.
#[derive(Debug, Default)]
struct Seen {
    policy: Vec<u8>,
    cert: (Vec<u8>, Vec<u8>),
    namespaces: Vec<u8>,
}

/// A bound server, ready to run.
pub struct Server {
    config: ServeConfig,
    state: Arc<AppState>,
    cert: Arc<ReloadingCert>,
    namespaces: Arc<StaticNamespaces>,
    watched: Option<Arc<WatchedNamespaces>>,
    seen: Mutex<Seen>,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    tls: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Loads policy, certificate and namespaces (any error stops the start: a webhook that
    /// cannot enforce must not report ready) and binds the listeners.
    pub async fn bind(
        config: ServeConfig,
        known_rules: Vec<&'static RuleMeta>,
        log: Arc<dyn LogSink>,
    ) -> Result<Server, ServeError> {
        let policy_src = read(&config.policy)?;
        let text = String::from_utf8_lossy(&policy_src);
        let engine =
            Engine::from_yaml(&text, &known_rules, 1).map_err(|errors| ServeError::Policy {
                path: config.policy.display().to_string(),
                errors,
            })?;
        let (cert_pem, key_pem) = (read(&config.tls_cert)?, read(&config.tls_key)?);
        let cert = Arc::new(ReloadingCert::new(
            certified_key(&cert_pem, &key_pem).map_err(ServeError::Tls)?,
        ));
        let tls = server_config(cert.clone()).map_err(ServeError::Tls)?;
        let mut seen = Seen {
            policy: policy_src,
            cert: (cert_pem, key_pem),
            namespaces: Vec::new(),
        };
        let namespaces = Arc::new(StaticNamespaces::default());
        if let Some(path) = &config.namespaces {
            let src = read(path)?;
            let parsed = StaticNamespaces::parse(&String::from_utf8_lossy(&src)).map_err(|e| {
                ServeError::File {
                    path: path.display().to_string(),
                    message: e,
                }
            })?;
            namespaces.replace(parsed);
            seen.namespaces = src;
        }
        let watched = match &config.namespace_watch {
            Some(_) if config.namespaces.is_some() => {
                return Err(ServeError::Namespaces(
                    "a namespace file and the API server are two sources; choose one".into(),
                ));
            }
            Some(_) => Some(Arc::new(WatchedNamespaces::default())),
            None => None,
        };
        let source: Arc<dyn NamespaceSource> = match &watched {
            Some(w) => w.clone(),
            None => namespaces.clone(),
        };
        let state = AppState::new(engine, known_rules, source, log, config.limits.clone());
        if let (Some(cache), Some(watch)) = (&watched, &config.namespace_watch) {
            // LISTs are quick; a watch stream lives `watch_timeout`, and a dead connection is
            // noticed when its client's timeout, a little longer, ends it.
            let list = watch.client(Duration::from_secs(30))?;
            let stream = watch.client(watch.config.stream_client_timeout())?;
            namespace_watch::spawn(
                cache.clone(),
                list,
                stream,
                watch.config.clone(),
                state.metrics.clone(),
                state.log.clone(),
            )
            .map_err(|e| ServeError::Namespaces(e.to_string()))?;
        }
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServeError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let metrics_listener = match config.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| ServeError::Bind { addr, source })?,
            ),
            None => None,
        };
        Ok(Server {
            config,
            state,
            cert,
            namespaces,
            watched,
            seen: Mutex::new(seen),
            listener,
            metrics_listener,
            tls,
        })
    }

    #[must_use]
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    #[must_use]
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    #[must_use]
    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    /// Checks the watched files once and loads what changed. Bad new contents are rejected
    /// with an error log and metric; what was loaded before stays in force.
    pub fn reload(&self) {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let log = &*self.state.log;
        match std::fs::read(&self.config.policy) {
            Ok(src) if src != seen.policy => {
                // Remember the rejected file too: it is reported once, not every interval.
                let _ = self.state.reload_policy(&String::from_utf8_lossy(&src));
                seen.policy = src;
            }
            Ok(_) => {}
            Err(e) => event(
                log,
                "error",
                "cannot read the policy file",
                Some(&e.to_string()),
            ),
        }
        match (
            std::fs::read(&self.config.tls_cert),
            std::fs::read(&self.config.tls_key),
        ) {
            (Ok(c), Ok(k))
                if (c.as_slice(), k.as_slice())
                    != (seen.cert.0.as_slice(), seen.cert.1.as_slice()) =>
            {
                match certified_key(&c, &k) {
                    Ok(key) => {
                        self.cert.replace(key);
                        self.state.metrics.tls_reload(true);
                        event(log, "info", "TLS certificate loaded", None);
                        seen.cert = (c, k);
                    }
                    // Not remembered: a half-written pair is retried at the next interval.
                    Err(e) => {
                        self.state.metrics.tls_reload(false);
                        event(
                            log,
                            "error",
                            "TLS certificate rejected; the previous one stays in use",
                            Some(&e),
                        );
                    }
                }
            }
            (Ok(_), Ok(_)) => {}
            (Err(e), _) | (_, Err(e)) => {
                event(
                    log,
                    "error",
                    "cannot read the TLS files",
                    Some(&e.to_string()),
                );
            }
        }
        if let Some(path) = &self.config.namespaces {
            match std::fs::read(path) {
                Ok(src) if src != seen.namespaces => {
                    match StaticNamespaces::parse(&String::from_utf8_lossy(&src)) {
                        Ok(parsed) => {
                            self.namespaces.replace(parsed);
                            event(log, "info", "namespace labels loaded", None);
                        }
                        Err(e) => {
                            self.state.metrics.namespace_reload_failed();
                            event(
                                log,
                                "error",
                                "namespace file rejected; the previous labels stay in force",
                                Some(&e),
                            );
                        }
                    }
                    seen.namespaces = src;
                }
                Ok(_) => {}
                Err(e) => event(
                    log,
                    "error",
                    "cannot read the namespace file",
                    Some(&e.to_string()),
                ),
            }
        }
    }

    /// Serves until `shutdown` completes, then: `/readyz` fails, serving goes on for
    /// `shutdown_delay`, the listener closes, and in-flight requests get `drain_timeout`.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let this = Arc::new(self);
        let (stop_tx, stop_rx) = watch::channel(false);
        let reloader = {
            let this = this.clone();
            let mut stop = stop_rx.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(this.config.reload_interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick.tick().await;
                loop {
                    tokio::select! {
                        _ = tick.tick() => {
                            let this = this.clone();
                            // File reads and policy parsing stay off the async workers.
                            let _ = tokio::task::spawn_blocking(move || this.reload()).await;
                        }
                        _ = stop.changed() => break,
                    }
                }
            })
        };
        let graceful = GracefulShutdown::new();
        let metrics_task = this.metrics_listener.as_ref().map(|_| {
            let this = this.clone();
            let stop = stop_rx.clone();
            tokio::spawn(async move { this.serve_metrics(stop).await })
        });
        let acceptor = TlsAcceptor::from(this.tls.clone());
        let service = TowerToHyperService::new(router(this.state.clone()));
        let builder = http_builder(&this.config);
        let connections = Arc::new(Semaphore::new(this.config.max_connections.max(1)));
        let state = this.state.clone();
        let delay = this.config.shutdown_delay;
        let stopping = async move {
            shutdown.await;
            state.set_ready(false);
            event(
                &*state.log,
                "info",
                "shutting down: not ready, draining",
                None,
            );
            tokio::time::sleep(delay).await;
        };
        tokio::pin!(stopping);
        event(&*this.state.log, "info", "serving", None);
        loop {
            tokio::select! {
                accepted = this.listener.accept() => {
                    let (tcp, _) = match accepted {
                        Ok(conn) => conn,
                        Err(e) => {
                            // Out of file descriptors and the like: back off instead of spinning.
                            event(&*this.state.log, "error", "accept failed", Some(&e.to_string()));
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    // Shedding at the door: past the cap the connection is closed before the
                    // TLS handshake, which costs as much CPU as a decision. What waits for a
                    // worker is then bounded by the connections taken, not by the arrival rate.
                    let Ok(permit) = connections.clone().try_acquire_owned() else {
                        this.state.metrics.connection_refused();
                        drop(tcp);
                        continue;
                    };
                    let open = this.state.metrics.connection();
                    let _ = tcp.set_nodelay(true);
                    let acceptor = acceptor.clone();
                    let service = service.clone();
                    let builder = builder.clone();
                    let watcher = graceful.watcher();
                    let handshake = this.config.handshake_timeout;
                    tokio::spawn(async move {
                        let _held = (permit, open);
                        let Ok(Ok(tls)) = tokio::time::timeout(handshake, acceptor.accept(tcp)).await else {
                            return;
                        };
                        let conn = builder.serve_connection(TokioIo::new(tls), service).into_owned();
                        let _ = watcher.watch(conn).await;
                    });
                }
                () = &mut stopping => break,
            }
        }
        let _ = stop_tx.send(true);
        if let Some(watched) = &this.watched {
            watched.stop();
        }
        if let Some(task) = metrics_task {
            let _ = task.await;
        }
        let _ = reloader.await;
        tokio::select! {
            () = graceful.shutdown() => {
                event(&*this.state.log, "info", "drained; stopped", None);
            }
            () = tokio::time::sleep(this.config.drain_timeout) => {
                event(&*this.state.log, "error", "drain timeout; stopping with requests in flight", None);
            }
        }
    }

    async fn serve_metrics(&self, mut stop: watch::Receiver<bool>) {
        let graceful = GracefulShutdown::new();
        let Some(listener) = &self.metrics_listener else {
            return;
        };
        let service = TowerToHyperService::new(metrics_router(self.state.clone()));
        let builder = Builder::new(TokioExecutor::new());
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((tcp, _)) = accepted else {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    };
                    let conn = builder
                        .serve_connection(TokioIo::new(tcp), service.clone())
                        .into_owned();
                    let watcher = graceful.watcher();
                    tokio::spawn(async move {
                        let _ = watcher.watch(conn).await;
                    });
                }
                _ = stop.changed() => break,
            }
        }
        let _ = tokio::time::timeout(self.config.drain_timeout, graceful.shutdown()).await;
    }
}

/// The runtime `palisade serve` runs on (and the load benchmark's server): one worker per
/// core (`available_parallelism` honours the container's CPU quota), and a small blocking
/// pool. The pool runs only the evaluations of bodies over `Limits::inline_body_bytes` and
/// file reloads; those are CPU-bound, so more threads than cores would only add switching,
/// and the concurrency limit already bounds how many can be queued.
pub fn runtime(threads: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.unwrap_or(cores).max(1))
        .max_blocking_threads(cores + 2)
        .thread_name("palisade-serve")
        .enable_all()
        .build()
}

/// HTTP/1.1 with keep-alive and HTTP/2 (chosen by ALPN). The API server's webhook client
/// speaks HTTP/2 and multiplexes its calls over few connections, so the per-connection
/// stream limit is the in-flight limit: a client that respects SETTINGS never has a stream
/// refused for which a slot would not have been free anyway.
fn http_builder(config: &ServeConfig) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.http1_idle_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(
            u32::try_from(config.limits.max_concurrent.max(1)).unwrap_or(u32::MAX),
        )
        // Dead peers are noticed (and their connection slots freed) without a request.
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(10));
    builder
}

/// Resolves on SIGTERM (what the kubelet sends) or Ctrl-C.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
