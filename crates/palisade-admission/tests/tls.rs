//! Over real TLS sockets on loopback, with rcgen certificates: the server as `palisade serve`
//! runs it (TLS, plain metrics listener, file hot reload, graceful shutdown).

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use palisade_admission::log::Memory;
use palisade_admission::{ServeConfig, Server};
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

struct Cert {
    cert_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
}

fn cert() -> Cert {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    Cert {
        cert_pem: ck.cert.pem(),
        key_pem: ck.signing_key.serialize_pem(),
        der: ck.cert.der().clone(),
    }
}

/// Writes through a temporary file and a rename, as the kubelet updates mounted Secrets.
fn write(path: &Path, contents: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

struct Running {
    addr: SocketAddr,
    metrics: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    dir: tempfile::TempDir,
    log: Arc<Memory>,
}

async fn start(cert: &Cert, policy: &str, shutdown_delay: Duration) -> Running {
    start_with(cert, policy, shutdown_delay, |_| {}).await
}

async fn start_with(
    cert: &Cert,
    policy: &str,
    shutdown_delay: Duration,
    adjust: impl FnOnce(&mut ServeConfig),
) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    write(&p("tls.crt"), &cert.cert_pem);
    write(&p("tls.key"), &cert.key_pem);
    write(&p("policy.yaml"), policy);
    let mut config = ServeConfig::new(p("policy.yaml"), p("tls.crt"), p("tls.key"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    config.reload_interval = Duration::from_millis(50);
    config.shutdown_delay = shutdown_delay;
    config.drain_timeout = Duration::from_secs(5);
    adjust(&mut config);
    let log = Arc::new(Memory::default());
    let server = Server::bind(config, palisade_admission::k8s_rules(), log.clone())
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let metrics = server.metrics_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    Running {
        addr,
        metrics,
        stop: Some(tx),
        task,
        dir,
        log,
    }
}

fn connector(trusted: &[&CertificateDer<'static>]) -> TlsConnector {
    connector_alpn(trusted, &[b"http/1.1"])
}

fn connector_alpn(trusted: &[&CertificateDer<'static>], alpn: &[&[u8]]) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for c in trusted {
        roots.add((*c).clone()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(config))
}

type Tls = tokio_rustls::client::TlsStream<TcpStream>;

async fn connect(addr: SocketAddr, trusted: &[&CertificateDer<'static>]) -> std::io::Result<Tls> {
    let tcp = TcpStream::connect(addr).await?;
    connector(trusted)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

/// One HTTP/1.1 request over `stream`, read to the end of its body (Content-Length).
async fn http<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    method: &str,
    path: &str,
    body: &[u8],
) -> (u16, String) {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    read_response(stream).await
}

async fn read_response<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> (u16, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before a response");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= len {
                let status = head[9..12].parse().unwrap();
                return (status, body[..len].to_string());
            }
        }
    }
}

#[tokio::test]
async fn validates_over_tls_and_serves_metrics_in_plain_http() {
    let c = cert();
    let mut s = start(&c, RESTRICTED, Duration::ZERO).await;
    let mut tls = connect(s.addr, &[&c.der]).await.unwrap();
    let body = serde_json::to_vec(&review("CREATE", &privileged_pod(), None)).unwrap();
    let (status, text) = http(&mut tls, "POST", "/validate", &body).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["response"]["allowed"], false);
    assert_eq!(v["response"]["status"]["code"], 403);
    // Keep-alive: a second request on the same connection.
    let body = serde_json::to_vec(&review("CREATE", &hardened_pod(), None)).unwrap();
    let (_, text) = http(&mut tls, "POST", "/mutate", &body).await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["response"]["allowed"], true);
    let mut plain = TcpStream::connect(s.metrics).await.unwrap();
    let (status, metrics) = http(&mut plain, "GET", "/metrics", b"").await;
    assert_eq!(status, 200);
    assert!(metrics.contains("outcome=\"deny\"} 1"), "{metrics}");
    // Plain HTTP on the TLS port gets nothing.
    let mut wrong = TcpStream::connect(s.addr).await.unwrap();
    let _ = wrong.write_all(b"GET /healthz HTTP/1.1\r\n\r\n").await;
    let mut b = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(6), wrong.read(&mut b))
        .await
        .map_or(0, |r| r.unwrap_or(0));
    assert!(!String::from_utf8_lossy(&b[..n]).contains("200 OK"));
    s.stop.take().unwrap().send(()).unwrap();
    s.task.await.unwrap();
}

async fn wait_for(mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..400 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("condition not reached in time");
}

async fn metrics(addr: SocketAddr) -> String {
    let mut plain = TcpStream::connect(addr).await.unwrap();
    http(&mut plain, "GET", "/metrics", b"").await.1
}

#[tokio::test]
async fn certificates_and_policy_reload_from_disk() {
    let first = cert();
    let mut s = start(&first, RESTRICTED, Duration::ZERO).await;
    let p = |n: &str| s.dir.path().join(n);
    // A key that does not match the certificate is refused; the old pair stays in use.
    let second = cert();
    write(&p("tls.crt"), &second.cert_pem);
    let m = s.metrics;
    wait_for(async || {
        metrics(m)
            .await
            .contains("palisade_tls_reload_failures_total 1")
    })
    .await;
    assert!(connect(s.addr, &[&first.der]).await.is_ok());
    write(&p("tls.key"), &second.key_pem);
    let addr = s.addr;
    let der = second.der.clone();
    wait_for(async || connect(addr, &[&der]).await.is_ok()).await;
    let tls = connect(s.addr, &[&second.der]).await.unwrap();
    assert_eq!(
        tls.get_ref().1.peer_certificates().unwrap()[0],
        second.der,
        "new connections get the new certificate"
    );

    // A broken policy is rejected and the old one keeps deciding.
    write(
        &p("policy.yaml"),
        "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nspec: {failOn: urgent}\n",
    );
    wait_for(async || {
        metrics(m)
            .await
            .contains("palisade_policy_reload_failures_total 1")
    })
    .await;
    let body = serde_json::to_vec(&review("CREATE", &privileged_pod(), None)).unwrap();
    let mut tls = connect(s.addr, &[&second.der]).await.unwrap();
    let (_, text) = http(&mut tls, "POST", "/validate", &body).await;
    assert!(text.contains("\"allowed\":false"), "{text}");
    assert!(
        s.log
            .lines()
            .iter()
            .any(|l| l.contains("policy rejected") && l.contains("urgent"))
    );
    write(
        &p("policy.yaml"),
        &format!("{RESTRICTED}  admission: {{mode: warn}}\n"),
    );
    wait_for(async || metrics(m).await.contains("palisade_policy_generation 2")).await;
    let (_, text) = http(&mut tls, "POST", "/validate", &body).await;
    assert!(text.contains("\"allowed\":true"), "{text}");
    s.stop.take().unwrap().send(()).unwrap();
    s.task.await.unwrap();
}

#[tokio::test]
async fn graceful_shutdown_drains_in_flight_requests() {
    let c = cert();
    let mut s = start(&c, RESTRICTED, Duration::from_millis(300)).await;
    let mut tls = connect(s.addr, &[&c.der]).await.unwrap();
    let body = serde_json::to_vec(&review("CREATE", &hardened_pod(), None)).unwrap();
    let head = format!(
        "POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.write_all(&body[..body.len() / 2]).await.unwrap();
    tls.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    s.stop.take().unwrap().send(()).unwrap();
    // Not ready while draining, so the Service stops sending new requests here.
    let m = s.metrics;
    wait_for(async || {
        let mut plain = TcpStream::connect(m).await.unwrap();
        http(&mut plain, "GET", "/readyz", b"").await.0 == 503
    })
    .await;
    tls.write_all(&body[body.len() / 2..]).await.unwrap();
    let (status, text) = read_response(&mut tls).await;
    assert_eq!(status, 200);
    assert!(text.contains("\"allowed\":true"), "{text}");
    drop(tls);
    tokio::time::timeout(Duration::from_secs(5), s.task)
        .await
        .expect("server stops after draining")
        .unwrap();
    assert!(TcpStream::connect(s.addr).await.is_err(), "listener closed");
    assert!(s.log.lines().iter().any(|l| l.contains("drained")));
}

#[tokio::test]
async fn connections_past_max_connections_are_closed_before_the_handshake() {
    let c = cert();
    let mut s = start_with(&c, RESTRICTED, Duration::ZERO, |config| {
        config.max_connections = 1;
    })
    .await;
    let mut first = connect(s.addr, &[&c.der]).await.unwrap();
    let (status, _) = http(&mut first, "GET", "/healthz", b"").await;
    assert_eq!(status, 200);
    // The only slot is held: the next connection is closed at accept, so its handshake fails
    // (the API server would apply failurePolicy at once).
    assert!(connect(s.addr, &[&c.der]).await.is_err());
    let m = metrics(s.metrics).await;
    assert!(
        m.contains("palisade_admission_connections_refused_total 1"),
        "{m}"
    );
    assert!(m.contains("palisade_admission_open_connections 1"), "{m}");
    // Closing the first frees the slot.
    drop(first);
    wait_for(async || {
        let Ok(mut tls) = connect(s.addr, &[&c.der]).await else {
            return false;
        };
        http(&mut tls, "GET", "/healthz", b"").await.0 == 200
    })
    .await;
    s.stop.take().unwrap().send(()).unwrap();
    s.task.await.unwrap();
}

#[tokio::test]
async fn tls_sessions_resume() {
    let c = cert();
    let mut s = start(&c, RESTRICTED, Duration::ZERO).await;
    // One client config (and so one session cache) for both connections, as a client's
    // connection pool has.
    let connector = connector(&[&c.der]);
    let open = async || {
        let tcp = TcpStream::connect(s.addr).await.unwrap();
        let mut tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        // The TLS 1.3 ticket arrives after the handshake: a request and its answer fetch it.
        assert_eq!(http(&mut tls, "GET", "/healthz", b"").await.0, 200);
        tls.get_ref().1.handshake_kind()
    };
    assert_eq!(open().await, Some(rustls::HandshakeKind::Full));
    assert_eq!(open().await, Some(rustls::HandshakeKind::Resumed));
    s.stop.take().unwrap().send(()).unwrap();
    s.task.await.unwrap();
}

#[tokio::test]
async fn http2_multiplexes_reviews_on_one_connection() {
    use http_body_util::{BodyExt, Full};
    let c = cert();
    let mut s = start(&c, RESTRICTED, Duration::ZERO).await;
    let tcp = TcpStream::connect(s.addr).await.unwrap();
    let tls = connector_alpn(&[&c.der], &[b"h2"])
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tls),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let mut streams = Vec::new();
    for (i, pod) in [privileged_pod(), hardened_pod()]
        .iter()
        .cycle()
        .take(8)
        .enumerate()
    {
        let mut sender = sender.clone();
        let body = serde_json::to_vec(&review("CREATE", pod, None)).unwrap();
        streams.push(tokio::spawn(async move {
            let request = hyper::Request::post(format!("https://localhost/validate?{i}"))
                .header("content-type", "application/json")
                .body(Full::new(axum::body::Bytes::from(body)))
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            assert_eq!(response.status(), 200);
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            serde_json::from_slice::<Value>(&bytes).unwrap()
        }));
    }
    for (i, stream) in streams.into_iter().enumerate() {
        let v = stream.await.unwrap();
        // Even streams carry the privileged pod, odd ones the hardened pod.
        assert_eq!(v["response"]["allowed"], i % 2 == 1, "{v}");
    }
    s.stop.take().unwrap().send(()).unwrap();
    s.task.await.unwrap();
}

/// A request body that never arrives: its stream holds an evaluation slot.
struct Pending;

impl http_body::Body for Pending {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

async fn h2(addr: SocketAddr, c: &Cert) -> hyper::client::conn::http2::SendRequest<Pending> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = connector_alpn(&[&c.der], &[b"h2"])
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let (sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tls),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    sender
}

#[tokio::test]
async fn over_http2_a_stream_past_max_concurrent_is_shed_with_429() {
    let c = cert();
    let mut s = start_with(&c, RESTRICTED, Duration::ZERO, |config| {
        config.limits.max_concurrent = 1;
        config.limits.queue_wait = Duration::from_millis(10);
        // Long: the held stream must not time out while the test looks at the next one.
        config.limits.deadline = Duration::from_secs(600);
    })
    .await;
    // The first stream's body never arrives: it holds the only slot.
    let mut first = h2(s.addr, &c).await;
    let held = tokio::spawn(async move {
        first
            .send_request(
                hyper::Request::post("https://localhost/validate")
                    .body(Pending)
                    .unwrap(),
            )
            .await
    });
    wait_for(async || {
        metrics(s.metrics)
            .await
            .contains("palisade_admission_inflight_requests 1")
    })
    .await;
    // A second connection's stream is answered 429 at once, before its body is read (its
    // body never arrives either).
    let mut second = h2(s.addr, &c).await;
    let response = second
        .send_request(
            hyper::Request::post("https://localhost/validate")
                .body(Pending)
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().get("retry-after").is_none());
    let m = metrics(s.metrics).await;
    assert!(m.contains("outcome=\"shed\"} 1"), "{m}");
    held.abort();
    s.stop.take().unwrap().send(()).unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(30), s.task).await;
}
