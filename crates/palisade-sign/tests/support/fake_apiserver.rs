//! A stand-in for the Kubernetes API server, serving only what Palisade reads:
//! `GET /api/v1/namespaces/{ns}/secrets/{name}`, over TLS with an rcgen CA, in the documented
//! wire format (a v1 `Secret` with base64 `data`; failures as a v1 `Status` with the API
//! server's own messages for 401, 403 and 404). A real API server cannot run here; this is the
//! one hand-made fake, and it answers as `kubectl get secret -o json` shows.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;

/// `(namespace, name)` → data (plain bytes; served base64-encoded).
type Secrets = BTreeMap<(String, String), BTreeMap<String, Vec<u8>>>;

pub struct FakeApiServer {
    pub url: String,
    pub host: String,
    pub port: u16,
    pub ca_pem: String,
    pub token: String,
    secrets: Arc<Mutex<Secrets>>,
    /// Secrets the service account may not read (RBAC).
    forbidden: Arc<Mutex<Vec<(String, String)>>>,
    requests: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn status(code: u16, reason: &str, message: &str) -> String {
    serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code,
    })
    .to_string()
}

impl FakeApiServer {
    pub fn start() -> FakeApiServer {
        let _ = rustls::crypto::ring::default_provider().install_default();
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
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls_pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let token = "eyJhbGciOiJSUzI1NiJ9.fake-service-account-token".to_string();
        let server = FakeApiServer {
            url: format!("https://127.0.0.1:{port}"),
            host: "127.0.0.1".into(),
            port,
            ca_pem: ca.pem(),
            token: token.clone(),
            secrets: Arc::default(),
            forbidden: Arc::default(),
            requests: Arc::default(),
            stop: Arc::default(),
        };
        let (secrets, forbidden, requests, stop) = (
            server.secrets.clone(),
            server.forbidden.clone(),
            server.requests.clone(),
            server.stop.clone(),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(tcp) = conn else { continue };
                let (config, secrets, forbidden, requests, token) = (
                    config.clone(),
                    secrets.clone(),
                    forbidden.clone(),
                    requests.clone(),
                    token.clone(),
                );
                std::thread::spawn(move || {
                    let Ok(tls) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    let mut stream = rustls::StreamOwned::new(tls, tcp);
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
                    requests.fetch_add(1, Ordering::SeqCst);
                    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                    let (code, body) = answer(&line, &path, &auth, &token, &secrets, &forbidden);
                    let reason = match code {
                        200 => "OK",
                        401 => "Unauthorized",
                        403 => "Forbidden",
                        _ => "Not Found",
                    };
                    let resp = format!(
                        "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(resp.as_bytes());
                    let _ = stream.flush();
                    stream.conn.send_close_notify();
                    let _ = stream.flush();
                });
            }
        });
        server
    }

    pub fn put_secret(&self, namespace: &str, name: &str, data: &[(&str, &[u8])]) {
        self.secrets.lock().unwrap().insert(
            (namespace.into(), name.into()),
            data.iter()
                .map(|(k, v)| ((*k).to_string(), v.to_vec()))
                .collect(),
        );
    }

    pub fn forbid(&self, namespace: &str, name: &str) {
        self.forbidden
            .lock()
            .unwrap()
            .push((namespace.into(), name.into()));
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// A service-account directory as the kubelet mounts it (`token`, `ca.crt`, `namespace`).
    pub fn service_account_dir(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), format!("{}\n", self.token)).unwrap();
        std::fs::write(dir.path().join("ca.crt"), &self.ca_pem).unwrap();
        std::fs::write(dir.path().join("namespace"), "palisade-system").unwrap();
        dir
    }
}

fn answer(
    line: &str,
    path: &str,
    auth: &str,
    token: &str,
    secrets: &Mutex<Secrets>,
    forbidden: &Mutex<Vec<(String, String)>>,
) -> (u16, String) {
    if auth != format!("Bearer {token}") {
        return (401, status(401, "Unauthorized", "Unauthorized"));
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (ns, name) = match parts.as_slice() {
        ["api", "v1", "namespaces", ns, "secrets", name] if line.starts_with("GET ") => {
            ((*ns).to_string(), (*name).to_string())
        }
        _ => {
            return (
                404,
                status(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                ),
            );
        }
    };
    let sa = "system:serviceaccount:palisade-system:palisade";
    if forbidden
        .lock()
        .unwrap()
        .contains(&(ns.clone(), name.clone()))
    {
        return (
            403,
            status(
                403,
                "Forbidden",
                &format!(
                    "secrets \"{name}\" is forbidden: User \"{sa}\" cannot get resource \"secrets\" in API group \"\" in the namespace \"{ns}\""
                ),
            ),
        );
    }
    match secrets.lock().unwrap().get(&(ns.clone(), name.clone())) {
        Some(data) => {
            let b64 = base64::engine::general_purpose::STANDARD;
            let data: serde_json::Map<String, serde_json::Value> = data
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(b64.encode(v))))
                .collect();
            (
                200,
                serde_json::json!({
                    "kind": "Secret", "apiVersion": "v1",
                    "metadata": {
                        "name": name, "namespace": ns,
                        "uid": "9f0c3a5e-2f7e-4a39-9a53-1d2c8c1b7d11", "resourceVersion": "4242",
                        "creationTimestamp": "2026-11-27T06:00:00Z",
                    },
                    "data": data,
                    "type": "Opaque",
                })
                .to_string(),
            )
        }
        None => (
            404,
            status(404, "NotFound", &format!("secrets \"{name}\" not found")),
        ),
    }
}
