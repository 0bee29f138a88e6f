//! The OCI 1.1 referrers API in front of a real `docker-registry`, which lacks it: requests
//! are forwarded as they are, except that a pushed manifest with a `subject` is recorded, and
//! `GET /v2/<name>/referrers/<digest>` answers as the distribution spec documents ("Listing
//! Referrers": 200, `Content-Type: application/vnd.oci.image.index.v1+json`, an image index
//! of descriptors with `artifactType`, an empty `manifests` list when there are none).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

type Referrers = Arc<Mutex<BTreeMap<(String, String), Vec<serde_json::Value>>>>;

pub struct ReferrersProxy {
    pub host: String,
    referrers: Referrers,
}

struct Request {
    head: String,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_request(stream: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    stream.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        stream.read_line(&mut h).ok()?;
        if h.trim().is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            stream.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; n + 2];
            stream.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        let len = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        body = vec![0; len];
        stream.read_exact(&mut body).ok()?;
    }
    // Forwarded with a plain length.
    headers.retain(|(k, _)| {
        !k.eq_ignore_ascii_case("transfer-encoding") && !k.eq_ignore_ascii_case("content-length")
    });
    headers.push(("Content-Length".into(), body.len().to_string()));
    Some(Request {
        head: line,
        method,
        path,
        headers,
        body,
    })
}

fn respond(client: &mut TcpStream, status: &str, ctype: &str, body: &[u8]) {
    let _ = write!(
        client,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = client.write_all(body);
}

/// Forwards one request upstream and relays the answer, closing after it.
fn forward(upstream: &str, req: &Request, client: &mut TcpStream) {
    let Ok(mut up) = TcpStream::connect(upstream) else {
        respond(client, "502 Bad Gateway", "text/plain", b"upstream down");
        return;
    };
    let mut out = req.head.clone();
    for (k, v) in &req.headers {
        if !k.eq_ignore_ascii_case("connection") {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let _ = up.write_all(out.as_bytes());
    let _ = up.write_all(&req.body);
    let mut reader = BufReader::new(up);
    let mut head = String::new();
    let mut status = String::new();
    let _ = reader.read_line(&mut status);
    head.push_str(&status);
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if !h.to_ascii_lowercase().starts_with("connection:") {
            head.push_str(&h);
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut body = Vec::new();
    if req.method != "HEAD" {
        let _ = reader.read_to_end(&mut body);
    }
    let _ = client.write_all(head.as_bytes());
    let _ = client.write_all(&body);
}

impl ReferrersProxy {
    pub fn start(upstream: &str) -> ReferrersProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
        let referrers: Referrers = Arc::default();
        let (upstream, recorded) = (upstream.to_string(), referrers.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (upstream, recorded) = (upstream.clone(), recorded.clone());
                std::thread::spawn(move || {
                    let mut client = conn.try_clone().unwrap();
                    let mut reader = BufReader::new(conn);
                    let Some(req) = read_request(&mut reader) else {
                        return;
                    };
                    let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
                    let n = segments.len();
                    if n >= 4 && segments[0] == "v2" && segments[n - 2] == "referrers" {
                        let name = segments[1..n - 2].join("/");
                        let manifests = recorded
                            .lock()
                            .unwrap()
                            .get(&(name, segments[n - 1].to_string()))
                            .cloned()
                            .unwrap_or_default();
                        let index = serde_json::json!({
                            "schemaVersion": 2,
                            "mediaType": "application/vnd.oci.image.index.v1+json",
                            "manifests": manifests,
                        });
                        respond(
                            &mut client,
                            "200 OK",
                            "application/vnd.oci.image.index.v1+json",
                            index.to_string().as_bytes(),
                        );
                        return;
                    }
                    if req.method == "PUT"
                        && n >= 4
                        && segments[n - 2] == "manifests"
                        && let Ok(m) = serde_json::from_slice::<serde_json::Value>(&req.body)
                        && let Some(subject) = m["subject"]["digest"].as_str()
                    {
                        let digest = format!(
                            "sha256:{}",
                            palisade_sign::util::hex(&palisade_sign::util::sha256(&req.body))
                        );
                        let artifact_type = m["artifactType"]
                            .as_str()
                            .or(m["config"]["mediaType"].as_str())
                            .unwrap_or_default();
                        let mut d = serde_json::json!({
                            "mediaType": m["mediaType"],
                            "digest": digest,
                            "size": req.body.len(),
                            "artifactType": artifact_type,
                        });
                        if m["annotations"].is_object() {
                            d["annotations"] = m["annotations"].clone();
                        }
                        let name = segments[1..n - 2].join("/");
                        recorded
                            .lock()
                            .unwrap()
                            .entry((name, subject.to_string()))
                            .or_default()
                            .push(d);
                    }
                    forward(&upstream, &req, &mut client);
                });
            }
        });
        ReferrersProxy { host, referrers }
    }

    /// Referrers recorded for `repo`'s `digest`.
    pub fn referrers(&self, repo: &str, digest: &str) -> Vec<serde_json::Value> {
        self.referrers
            .lock()
            .unwrap()
            .get(&(repo.to_string(), digest.to_string()))
            .cloned()
            .unwrap_or_default()
    }
}
