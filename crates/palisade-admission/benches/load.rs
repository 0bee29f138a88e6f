//! Load benchmark: requests/s and p50/p99/p99.9 latency of `/validate` under the restricted
//! policy, in-process (router only) and over TLS loopback with keep-alive at 1, 10 and 100
//! connections, then 10x overload (1000 connections) to show load shedding.
//!
//! `cargo bench -p palisade-admission --bench load` (release profile). Client and server share
//! this process and the machine's cores, so the TLS figures are a lower bound. Set
//! `PALISADE_BENCH_SECS` to change the duration of each run (default 3).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use palisade_admission::log::Discard;
use palisade_admission::{AppState, Engine, Limits, ServeConfig, Server, StaticNamespaces, router};
use rustls_pki_types::ServerName;
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

struct Stats {
    latencies: Vec<Duration>,
    shed: usize,
    elapsed: Duration,
}

fn report(label: &str, mut s: Stats) {
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
    println!(
        "{label:<34} {rps:>9.0} req/s  p50 {:>6.3} ms  p99 {:>6.3} ms  p99.9 {:>7.3} ms  shed {:>6}  ok {n}",
        pct(0.50),
        pct(0.99),
        pct(0.999),
        s.shed
    );
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn state(limits: Limits) -> Arc<AppState> {
    let rules = palisade_admission::k8s_rules();
    AppState::new(
        Engine::from_yaml(POLICY, &rules, 1).unwrap(),
        rules,
        Arc::new(StaticNamespaces::default()),
        Arc::new(Discard),
        limits,
    )
}

async fn in_process(duration: Duration, concurrency: usize) -> Stats {
    let state = state(Limits::default());
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new((0..64).map(body).collect());
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let state = state.clone();
        let bodies = bodies.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
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
                let _ = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
                lat.push(t.elapsed());
                i += concurrency;
            }
            lat
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    Stats {
        latencies,
        shed: 0,
        elapsed: start.elapsed(),
    }
}

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

async fn over_tls(
    addr: SocketAddr,
    ca: rustls_pki_types::CertificateDer<'static>,
    duration: Duration,
    connections: usize,
) -> Stats {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new((0..64).map(body).collect());
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..connections {
        let connector = connector.clone();
        let bodies = bodies.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut shed = 0;
            let Ok(tcp) = TcpStream::connect(addr).await else { return (lat, shed) };
            let _ = tcp.set_nodelay(true);
            let Ok(mut tls) = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await else {
                return (lat, shed);
            };
            let mut buf = Vec::new();
            let mut i = w;
            while start.elapsed() < duration {
                let b = &bodies[i % bodies.len()];
                let mut req = format!("POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", b.len()).into_bytes();
                req.extend_from_slice(b);
                let t = Instant::now();
                if tls.write_all(&req).await.is_err() {
                    break;
                }
                match read_response(&mut tls, &mut buf).await {
                    Some(200) => lat.push(t.elapsed()),
                    Some(_) => shed += 1,
                    None => break,
                }
                i += connections;
            }
            (lat, shed)
        }));
    }
    let mut latencies = Vec::new();
    let mut shed = 0;
    for t in tasks {
        let (l, s) = t.await.unwrap();
        latencies.extend(l);
        shed += s;
    }
    Stats {
        latencies,
        shed,
        elapsed: start.elapsed(),
    }
}

fn main() {
    // `cargo test --benches` runs bench targets with no arguments but `--bench` absent; keep
    // that quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("load bench: run with `cargo bench -p palisade-admission --bench load`");
        return;
    }
    let secs: u64 = std::env::var("PALISADE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let duration = Duration::from_secs(secs);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!(
            "palisade-admission /validate, restricted policy, {secs} s per run, {} cores",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        for c in [1, 10, 100] {
            report(
                &format!("in-process, {c} concurrent"),
                in_process(duration, c).await,
            );
        }
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tls.crt"), ck.cert.pem()).unwrap();
        std::fs::write(dir.path().join("tls.key"), ck.signing_key.serialize_pem()).unwrap();
        std::fs::write(dir.path().join("policy.yaml"), POLICY).unwrap();
        let mut config = ServeConfig::new(
            dir.path().join("policy.yaml"),
            dir.path().join("tls.crt"),
            dir.path().join("tls.key"),
        );
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.shutdown_delay = Duration::ZERO;
        let server = Server::bind(config, palisade_admission::k8s_rules(), Arc::new(Discard))
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = rx.await;
        }));
        for c in [1, 10, 100] {
            report(
                &format!("TLS keep-alive, {c} connections"),
                over_tls(addr, ck.cert.der().clone(), duration, c).await,
            );
        }
        report(
            "TLS overload, 1000 connections",
            over_tls(addr, ck.cert.der().clone(), duration, 1000).await,
        );
        let _ = tx.send(());
        let _ = task.await;
        println!(
            "peak RSS of this process (client and server): {:.1} MB",
            peak_rss_mb()
        );
    });
}
