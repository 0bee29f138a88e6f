//! Load benchmark of `/validate` under the restricted policy: requests/s, p50/p99/p99.9 latency
//! and the server's peak RSS.
//!
//! `cargo bench -p palisade-admission --bench load` (release profile). The server runs in a
//! child process (this binary, re-executed) on the runtime `palisade serve` uses, so its peak
//! RSS is its own; the load generator is this process. Both share the machine's cores, so the
//! TLS figures are a floor for the server. Runs:
//!
//! - in-process: the router alone (`oneshot`), no TLS or HTTP: the decision's own cost;
//! - TLS + HTTP/1.1 keep-alive at 1, 10 and 100 connections, one request in flight each
//!   (closed loop: saturation throughput);
//! - `paced`: 100 connections at a fixed 5,000 requests/s in all (`PALISADE_BENCH_RATE`),
//!   latency corrected for coordinated omission: the latency target's setting;
//! - TLS + HTTP/2, one connection with 100 concurrent streams (how the API server calls);
//! - overload: 1000 HTTP/1.1 connections (10× the 100-connection run). Connections past
//!   `--max-connections` are closed at accept and retried by the client after 100 ms; the
//!   closed connections and 429s are reported as shed, and the latency is of accepted requests.
//!
//! Each line also gives the server's CPU time per request and its own p99 ("in-server"): the
//! bucket of its latency histogram (`/metrics`) under which 99% of that run's requests were
//! answered, from the handler's start to the response. The gap to the client's p99 is time
//! in the kernel, TLS, the client and the run queues of the shared cores.
//!
//! Environment:
//! - `PALISADE_BENCH_SECS`: seconds per run (default 3);
//! - `PALISADE_BENCH_RUNS`: comma-separated subset of `inproc,1,10,100,paced,h2,overload`;
//! - `PALISADE_BENCH_REQUESTS=N`: instead of the runs, send exactly N requests on one TLS
//!   connection (for `callgrind`: instructions per request = (total(N) − total(0)) / N);
//! - `PALISADE_BENCH_WRAPPER`: a command the server is started under, e.g.
//!   `valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p`;
//! - `PALISADE_BENCH_INLINE_BYTES`: `Limits::inline_body_bytes` of the server (0 evaluates
//!   every request on the blocking pool);
//! - `PALISADE_BENCH_MAX_CONNECTIONS`: the server's connection cap (default as `serve`);
//! - `PALISADE_BENCH_SERVER_THREADS`: the server's worker threads (`serve --threads`;
//!   default one per core);
//! - `PALISADE_BENCH_RETRY_MS`: how long a refused connection waits before connecting again.

use std::io::{BufRead, BufReader, Write as _};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use http_body_util::{BodyExt, Full};
use palisade_admission::log::Discard;
use palisade_admission::{AppState, Engine, Limits, ServeConfig, Server, StaticNamespaces, router};
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

const POLICY: &str = "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nmetadata: {name: bench}\nspec:\n  standard: restricted\n";

fn body(i: usize) -> Vec<u8> {
    // A model-server Deployment like the examples: denied with several findings, half of the
    // time; a hardened pod the other half.
    let object = if i.is_multiple_of(2) {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": format!("tf-serving-{i}"), "namespace": "ml", "labels": {"app": "tf"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "tf"}}, "template": {
                "metadata": {"labels": {"app": "tf"}},
                "spec": {"containers": [{"name": "tf", "image": "tensorflow/serving:latest",
                    "args": ["--model_name=resnet", "--model_base_path=/models/resnet"],
                    "ports": [{"containerPort": 8501}],
                    "env": [{"name": "MODEL_NAME", "value": "resnet"}, {"name": "OMP_NUM_THREADS", "value": "4"}],
                    "resources": {"limits": {"cpu": "4", "memory": "8Gi", "nvidia.com/gpu": "1"}},
                    "volumeMounts": [{"name": "models", "mountPath": "/models"}]}],
                    "volumes": [{"name": "models", "persistentVolumeClaim": {"claimName": "models"}}]}}}})
    } else {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("ok-{i}"), "namespace": "ml"},
            "spec": {"automountServiceAccountToken": false,
                "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{"name": "app", "image": "registry.example.com/ml/app:1.4.2",
                    "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}}}]}})
    };
    let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": format!("uid-{i}"), "operation": "CREATE",
            "kind": {"group": object["apiVersion"].as_str().unwrap().split('/').next(), "version": "v1", "kind": object["kind"]},
            "name": object["metadata"]["name"], "namespace": "ml",
            "userInfo": {"username": "bench", "groups": ["system:authenticated"]},
            "object": object, "dryRun": false}});
    serde_json::to_vec(&review).unwrap()
}

#[derive(Default)]
struct Stats {
    latencies: Vec<Duration>,
    /// 429 responses and connections closed at accept.
    shed: usize,
    /// Anything else that was not a 200 (there should be none).
    errors: usize,
    elapsed: Duration,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.latencies.extend(other.latencies);
        self.shed += other.shed;
        self.errors += other.errors;
    }
}

/// CPU time (user + system) the process has used, in microseconds (`/proc/PID/stat`, clock
/// ticks of 10 ms).
fn cpu_micros(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .map_or(0, |ticks| ticks * 10_000)
}

/// The server's CPU time since the last call: with a fixed share of a shared machine, a design
/// that runs more threads gets more of it, so requests per CPU-second is the fair comparison.
static SERVER_CPU: std::sync::Mutex<Option<(u32, u64)>> = std::sync::Mutex::new(None);

fn server_cpu_delta() -> Option<u64> {
    let mut guard = SERVER_CPU.lock().unwrap();
    let (pid, last) = (*guard)?;
    let now = cpu_micros(pid);
    *guard = Some((pid, now));
    Some(now.saturating_sub(last))
}

/// The server's own latency histogram (`/metrics`, `webhook="validate"`): cumulative counts
/// per bucket bound, from the start of the handler to the response. Against the client's
/// figures it tells time in the server from time in the kernel, the network stack, the TLS
/// layer and the run queues of a shared machine.
static SERVER_METRICS: std::sync::Mutex<Option<(SocketAddr, Buckets)>> =
    std::sync::Mutex::new(None);

/// (upper bound in seconds, cumulative count), `+Inf` last.
type Buckets = Vec<(f64, u64)>;

fn validate_buckets(metrics: SocketAddr) -> Buckets {
    use std::io::Read as _;
    let Ok(mut tcp) = std::net::TcpStream::connect(metrics) else {
        return Vec::new();
    };
    let _ = tcp.write_all(b"GET /metrics HTTP/1.0\r\nHost: bench\r\n\r\n");
    let mut text = String::new();
    let _ = tcp.read_to_string(&mut text);
    let prefix = "palisade_admission_request_duration_seconds_bucket{webhook=\"validate\",le=\"";
    text.lines()
        .filter_map(|l| {
            let (bound, count) = l.strip_prefix(prefix)?.split_once("\"} ")?;
            let bound = if bound == "+Inf" {
                f64::INFINITY
            } else {
                bound.parse().ok()?
            };
            Some((bound, count.trim().parse().ok()?))
        })
        .collect()
}

/// The bucket bound under which 99% of the requests since the last call were answered, by
/// the server's own clock.
fn server_p99_delta() -> Option<f64> {
    let mut guard = SERVER_METRICS.lock().unwrap();
    let (addr, last) = guard.clone()?;
    let now = validate_buckets(addr);
    *guard = Some((addr, now.clone()));
    let delta: Buckets = now
        .iter()
        .map(|&(bound, n)| {
            let before = last
                .iter()
                .find(|(b, _)| *b == bound)
                .map_or(0, |(_, n)| *n);
            (bound, n.saturating_sub(before))
        })
        .collect();
    let total = delta.last()?.1;
    #[allow(clippy::cast_precision_loss)]
    let target = (total as f64 * 0.99).ceil() as u64;
    delta
        .iter()
        .find(|(_, n)| *n >= target && total > 0)
        .map(|(bound, _)| bound * 1e3)
}

fn report(label: &str, mut s: Stats) {
    let cpu = server_cpu_delta();
    let server_p99 = match server_p99_delta() {
        Some(ms) if ms.is_finite() => format!("≤{ms} ms"),
        Some(_) => ">2.5 s".to_string(),
        None => "-".to_string(),
    };
    s.latencies.sort_unstable();
    let n = s.latencies.len();
    let pct = |p: f64| {
        if n == 0 {
            return 0.0;
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let i = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
        s.latencies[i].as_secs_f64() * 1e3
    };
    #[allow(clippy::cast_precision_loss)]
    let rps = n as f64 / s.elapsed.as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let per_request = match cpu {
        Some(us) if n > 0 => format!("{:>5.0} µs", us as f64 / n as f64),
        _ => "    -   ".to_string(),
    };
    println!(
        "{label:<36} {rps:>7.0} req/s  p50 {:>7.3} ms  p99 {:>7.3} ms  p99.9 {:>8.3} ms  ok {n:>7}  shed {:>6}  errors {}  server CPU/req {per_request}  in-server p99 {server_p99}  load {}",
        pct(0.50),
        pct(0.99),
        pct(0.999),
        s.shed,
        s.errors,
        load_average(),
    );
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn peak_rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|s| s.parse().ok())
}

async fn in_process(duration: Duration, concurrency: usize) -> Stats {
    let rules = palisade_admission::k8s_rules();
    let state = AppState::new(
        Engine::from_yaml(POLICY, &rules, 1).unwrap(),
        rules,
        Arc::new(StaticNamespaces::default()),
        Arc::new(Discard),
        Limits::default(),
    );
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new((0..64).map(body).collect());
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let state = state.clone();
        let bodies = bodies.clone();
        tasks.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            let mut i = w;
            while start.elapsed() < duration {
                let t = Instant::now();
                let r = router(state.clone())
                    .oneshot(
                        Request::post("/validate")
                            .body(Body::from(bodies[i % bodies.len()].clone()))
                            .unwrap(),
                    )
                    .await
                    .unwrap();
                let ok = r.status() == 200;
                let _ = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
                if ok {
                    stats.latencies.push(t.elapsed());
                } else {
                    stats.errors += 1;
                }
                i += concurrency;
            }
            stats
        }));
    }
    let mut stats = Stats::default();
    for t in tasks {
        stats.merge(t.await.unwrap());
    }
    stats.elapsed = start.elapsed();
    stats
}

/// Reads one HTTP/1.1 response with a Content-Length body; its status, or `None` when the
/// connection closed.
async fn read_response(stream: &mut (impl AsyncReadExt + Unpin), buf: &mut Vec<u8>) -> Option<u16> {
    buf.clear();
    let mut chunk = [0u8; 16384];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = std::str::from_utf8(&buf[..end]).ok()?;
        let len: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .and_then(|v| v.trim().parse().ok())
            })
            .unwrap_or(0);
        if buf.len() >= end + 4 + len {
            return head.get(9..12)?.parse().ok();
        }
    }
}

fn tls_connector(ca: &CertificateDer<'static>, alpn: &[u8]) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

type Tls = tokio_rustls::client::TlsStream<TcpStream>;

async fn connect(addr: SocketAddr, connector: &tokio_rustls::TlsConnector) -> Option<Tls> {
    let tcp = TcpStream::connect(addr).await.ok()?;
    let _ = tcp.set_nodelay(true);
    connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .ok()
}

/// HTTP/1.1 keep-alive connections, one request in flight each, until `duration` passes or
/// `limit` requests were sent in all. A connection that is closed (at accept, past the
/// server's connection cap) counts as shed and is retried after 100 ms
/// (`PALISADE_BENCH_RETRY_MS`), as a caller whose request failed tries again later.
///
/// Without `rate`, each connection sends its next request as soon as the answer arrives
/// (closed loop: the server's saturation throughput; latency is then queueing by Little's
/// law, connections ÷ throughput). With `rate` (requests/s over all connections), requests
/// are sent on a fixed schedule and a request sent late because the previous answer was late
/// is timed from when it should have been sent, so a slow server cannot hide its queue
/// (coordinated omission). Timer jitter under 2 ms is not counted as lateness.
async fn over_h1(
    addr: SocketAddr,
    ca: &CertificateDer<'static>,
    duration: Duration,
    connections: usize,
    limit: Option<usize>,
    rate: Option<f64>,
) -> Stats {
    let connector = tls_connector(ca, b"http/1.1");
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new((0..64).map(body).collect());
    let sent = Arc::new(AtomicUsize::new(0));
    let retry =
        Duration::from_millis(env_usize("PALISADE_BENCH_RETRY_MS").map_or(100, |ms| ms as u64));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..connections {
        let connector = connector.clone();
        let bodies = bodies.clone();
        let sent = sent.clone();
        tasks.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            let mut buf = Vec::new();
            let mut i = w;
            #[allow(clippy::cast_precision_loss)]
            let interval = rate.map(|r| Duration::from_secs_f64(connections as f64 / r));
            // Connections start spread over one interval, so arrivals are even.
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
            let mut next = interval.map(|iv| {
                tokio::time::Instant::from_std(start)
                    + iv.mul_f64(w as f64 / connections as f64)
            });
            let more = || {
                start.elapsed() < duration
                    && limit.is_none_or(|l| sent.fetch_add(1, Ordering::Relaxed) < l)
            };
            'connection: while start.elapsed() < duration {
                let Some(mut tls) = connect(addr, &connector).await else {
                    stats.shed += 1;
                    tokio::time::sleep(retry).await;
                    continue;
                };
                while more() {
                    let b = &bodies[i % bodies.len()];
                    let mut req = format!("POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", b.len()).into_bytes();
                    req.extend_from_slice(b);
                    let mut t = Instant::now();
                    if let (Some(due), Some(iv)) = (next.as_mut(), interval) {
                        tokio::time::sleep_until(*due).await;
                        t = Instant::now();
                        if t.saturating_duration_since(due.into_std()) > Duration::from_millis(2) {
                            t = due.into_std();
                        }
                        *due += iv;
                    }
                    if tls.write_all(&req).await.is_err() {
                        stats.errors += 1;
                        continue 'connection;
                    }
                    match read_response(&mut tls, &mut buf).await {
                        Some(200) => stats.latencies.push(t.elapsed()),
                        Some(429) => stats.shed += 1,
                        Some(_) => stats.errors += 1,
                        None => {
                            stats.errors += 1;
                            continue 'connection;
                        }
                    }
                    i += connections;
                }
                break;
            }
            stats
        }));
    }
    let mut stats = Stats::default();
    for t in tasks {
        stats.merge(t.await.unwrap());
    }
    stats.elapsed = start.elapsed();
    stats
}

/// One HTTP/2 connection with `streams` requests in flight, as the API server's webhook
/// client multiplexes its calls.
async fn over_h2(
    addr: SocketAddr,
    ca: &CertificateDer<'static>,
    duration: Duration,
    streams: usize,
) -> Stats {
    let connector = tls_connector(ca, b"h2");
    let tls = connect(addr, &connector).await.expect("h2 connection");
    let (sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tls),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let bodies: Arc<Vec<axum::body::Bytes>> = Arc::new((0..64).map(|i| body(i).into()).collect());
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..streams {
        let mut sender = sender.clone();
        let bodies = bodies.clone();
        tasks.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            let mut i = w;
            while start.elapsed() < duration {
                let request = hyper::Request::post("https://localhost/validate")
                    .header("content-type", "application/json")
                    .body(Full::new(bodies[i % bodies.len()].clone()))
                    .unwrap();
                let t = Instant::now();
                let Ok(response) = sender.send_request(request).await else {
                    stats.errors += 1;
                    break;
                };
                let status = response.status().as_u16();
                let _ = response.into_body().collect().await;
                match status {
                    200 => stats.latencies.push(t.elapsed()),
                    429 => stats.shed += 1,
                    _ => stats.errors += 1,
                }
                i += streams;
            }
            stats
        }));
    }
    let mut stats = Stats::default();
    for t in tasks {
        stats.merge(t.await.unwrap());
    }
    stats.elapsed = start.elapsed();
    stats
}

/// The server side: `PALISADE_BENCH_SERVER=<dir>` holds tls.crt, tls.key and policy.yaml.
/// Prints the address, serves until stdin closes.
fn serve(dir: &std::path::Path) {
    let mut config = ServeConfig::new(
        dir.join("policy.yaml"),
        dir.join("tls.crt"),
        dir.join("tls.key"),
    );
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    config.shutdown_delay = Duration::ZERO;
    if let Some(n) = env_usize("PALISADE_BENCH_MAX_CONNECTIONS") {
        config.max_connections = n;
    }
    if let Some(n) = env_usize("PALISADE_BENCH_INLINE_BYTES") {
        config.limits.inline_body_bytes = n;
    }
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        let _ = tx.send(());
    });
    let runtime =
        palisade_admission::server::runtime(env_usize("PALISADE_BENCH_SERVER_THREADS")).unwrap();
    runtime.block_on(async {
        let server = Server::bind(config, palisade_admission::k8s_rules(), Arc::new(Discard))
            .await
            .unwrap();
        println!(
            "listening {} {}",
            server.local_addr().unwrap(),
            server.metrics_addr().unwrap()
        );
        let _ = std::io::stdout().flush();
        server
            .run(async {
                let _ = rx.await;
            })
            .await;
    });
}

/// The child process, its webhook address and its metrics address.
fn spawn_server(dir: &std::path::Path) -> (Child, SocketAddr, SocketAddr) {
    let exe = std::env::current_exe().unwrap();
    let wrapper = std::env::var("PALISADE_BENCH_WRAPPER").unwrap_or_default();
    let mut words = wrapper.split_whitespace();
    let mut command = match words.next() {
        Some(program) => {
            let mut c = Command::new(program);
            c.args(words).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    let mut child = command
        .env("PALISADE_BENCH_SERVER", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let (addr, metrics) = line
        .trim()
        .strip_prefix("listening ")
        .and_then(|rest| rest.split_once(' '))
        .unwrap_or_else(|| panic!("server said {line:?}"));
    (child, addr.parse().unwrap(), metrics.parse().unwrap())
}

fn main() {
    if let Some(dir) = std::env::var_os("PALISADE_BENCH_SERVER") {
        serve(std::path::Path::new(&dir));
        return;
    }
    // `cargo test --benches` runs bench targets without `--bench`; keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("load bench: run with `cargo bench -p palisade-admission --bench load`");
        return;
    }
    let secs: u64 = env_usize("PALISADE_BENCH_SECS").map_or(3, |s| s as u64);
    let duration = Duration::from_secs(secs);
    let runs = std::env::var("PALISADE_BENCH_RUNS")
        .unwrap_or_else(|_| "inproc,1,10,100,paced,h2,overload".into());
    let runs: Vec<&str> = runs.split(',').collect();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tls.crt"), ck.cert.pem()).unwrap();
    std::fs::write(dir.path().join("tls.key"), ck.signing_key.serialize_pem()).unwrap();
    std::fs::write(dir.path().join("policy.yaml"), POLICY).unwrap();
    let ca = ck.cert.der().clone();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    // The client gets as many threads as the server: neither starves the other by design.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .unwrap();
    let (mut child, addr, metrics) = spawn_server(dir.path());
    let measure_server = || {
        *SERVER_CPU.lock().unwrap() = Some((child.id(), cpu_micros(child.id())));
        *SERVER_METRICS.lock().unwrap() = Some((metrics, validate_buckets(metrics)));
    };
    if let Some(n) = env_usize("PALISADE_BENCH_REQUESTS") {
        measure_server();
        let stats = rt.block_on(over_h1(
            addr,
            &ca,
            Duration::from_secs(3600),
            1,
            Some(n),
            None,
        ));
        report(&format!("TLS, {n} requests on 1 connection"), stats);
    } else {
        println!(
            "palisade-admission /validate, restricted policy, {secs} s per run, {cores} cores, load average {}",
            load_average()
        );
        rt.block_on(async {
            if runs.contains(&"inproc") {
                // The server is this process here; its CPU is not measured.
                for c in [1, 10, 100] {
                    report(
                        &format!("in-process, {c} concurrent"),
                        in_process(duration, c).await,
                    );
                }
            }
            for c in [1, 10, 100] {
                if runs.contains(&c.to_string().as_str()) {
                    measure_server();
                    report(
                        &format!("TLS HTTP/1.1 keep-alive, {c} conns"),
                        over_h1(addr, &ca, duration, c, None, None).await,
                    );
                }
            }
            if runs.contains(&"paced") {
                #[allow(clippy::cast_precision_loss)]
                let rate = env_usize("PALISADE_BENCH_RATE").unwrap_or(5000) as f64;
                measure_server();
                report(
                    &format!("TLS HTTP/1.1, 100 conns at {rate:.0}/s"),
                    over_h1(addr, &ca, duration, 100, None, Some(rate)).await,
                );
            }
            if runs.contains(&"h2") {
                measure_server();
                report(
                    "TLS HTTP/2, 1 conn, 100 streams",
                    over_h2(addr, &ca, duration, 100).await,
                );
            }
            if runs.contains(&"overload") {
                measure_server();
                report(
                    "TLS overload, 1000 conns (10x)",
                    over_h1(addr, &ca, duration, 1000, None, None).await,
                );
            }
        });
    }
    let rss = peak_rss_mb(child.id());
    drop(child.stdin.take());
    let _ = child.wait();
    if std::env::var("PALISADE_BENCH_WRAPPER").is_err() {
        println!("peak RSS of the server process: {rss:.1} MB");
    }
}
