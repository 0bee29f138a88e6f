//! A minimal OCI distribution-API client: manifests, blobs, tags, referrers, bearer-token and basic auth.
//!
//! Plain HTTP is used for `localhost`, `127.*` and `[::1]` registries and for hosts listed in
//! `PALISADE_INSECURE_REGISTRIES` (comma-separated); HTTPS (rustls, webpki roots) otherwise.
//! Credentials come from `$DOCKER_CONFIG/config.json` or `~/.docker/config.json` (`auths.<host>.auth`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::util::{hex, sha256, unb64};

/// Media types accepted when fetching a manifest.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";
/// Largest manifest read (4 MiB, the limit registries apply).
const MAX_MANIFEST: u64 = 4 << 20;

/// An image reference: `registry/repository[:tag][@digest]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// Registry host (and port); `docker.io` for Docker Hub.
    pub registry: String,
    /// Repository path.
    pub repository: String,
    /// Tag, if given.
    pub tag: Option<String>,
    /// Digest (`sha256:…`), if given.
    pub digest: Option<String>,
}

impl Reference {
    /// Parses a reference the way docker does (`nginx` → `docker.io/library/nginx:latest`).
    pub fn parse(s: &str) -> Result<Self> {
        let bad = |why: &str| Error::format(format!("image reference `{s}`"), why.to_string());
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                let hexpart = d
                    .strip_prefix("sha256:")
                    .ok_or_else(|| bad("expected a sha256: digest after @"))?;
                if hexpart.len() != 64 || !hexpart.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return Err(bad("expected sha256: and 64 hex digits after @"));
                }
                (r, Some(d.to_ascii_lowercase()))
            }
            None => (s, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, p))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), p.to_string())
            }
            _ => ("docker.io".to_string(), rest.to_string()),
        };
        let (repository, tag) = match path.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r.to_string(), Some(t.to_string())),
            _ => (path, None),
        };
        let repository = if registry == "docker.io" && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        if repository.split('/').any(str::is_empty)
            || !repository
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"._-/".contains(&c))
        {
            return Err(bad("expected a lower-case repository name"));
        }
        if let Some(t) = &tag
            && (t.is_empty()
                || t.len() > 128
                || !t
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c)))
        {
            return Err(bad("expected a tag of letters, digits, `.`, `_` and `-`"));
        }
        let tag = if tag.is_none() && digest.is_none() {
            Some("latest".into())
        } else {
            tag
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// `registry/repository` (what cosign puts in `docker-reference`).
    #[must_use]
    pub fn repo_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The digest if pinned, else the tag.
    #[must_use]
    pub fn version(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// A fetched manifest.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// Raw bytes (what the digest covers).
    pub bytes: Vec<u8>,
    /// Content type the registry reported.
    pub media_type: String,
    /// `sha256:<hex>` of the bytes.
    pub digest: String,
}

/// A registry client. Cheap to share across threads.
pub struct Client {
    agent: ureq::Agent,
    tokens: Mutex<HashMap<String, String>>,
    credentials: HashMap<String, String>,
    insecure: Vec<String>,
    /// HTTP requests sent, token requests included: what a cache in front saves.
    requests: AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("insecure", &self.insecure)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: HashMap<String, DockerAuth>,
}

#[derive(Deserialize)]
struct DockerAuth {
    #[serde(default)]
    auth: String,
}

fn docker_credentials() -> HashMap<String, String> {
    let path = std::env::var_os("DOCKER_CONFIG")
        .map(|d| std::path::PathBuf::from(d).join("config.json"))
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| std::path::PathBuf::from(h).join(".docker/config.json"))
        });
    let Some(path) = path else {
        return HashMap::new();
    };
    let Ok(text) = std::fs::read(&path) else {
        return HashMap::new();
    };
    let Ok(cfg) = serde_json::from_slice::<DockerConfig>(&text) else {
        return HashMap::new();
    };
    cfg.auths
        .into_iter()
        .filter(|(_, a)| !a.auth.is_empty())
        .map(|(host, a)| {
            let host = host
                .trim_start_matches("https://")
                .trim_start_matches("http://");
            let host = host.split('/').next().unwrap_or(host).to_string();
            (host, a.auth)
        })
        .collect()
}

/// Parses `Bearer realm="…",service="…",scope="…"`.
fn parse_challenge(h: &str) -> Option<(String, HashMap<String, String>)> {
    let (scheme, rest) = h.trim().split_once(' ')?;
    let mut params = HashMap::new();
    let mut s = rest.trim();
    while !s.is_empty() {
        let (k, v) = s.split_once('=')?;
        let v = v.trim_start();
        let (val, after) = if let Some(stripped) = v.strip_prefix('"') {
            let end = stripped.find('"')?;
            (&stripped[..end], &stripped[end + 1..])
        } else {
            match v.find(',') {
                Some(i) => (&v[..i], &v[i..]),
                None => (v, ""),
            }
        };
        params.insert(k.trim().to_ascii_lowercase(), val.to_string());
        s = after.trim_start_matches(',').trim();
    }
    Some((scheme.to_ascii_lowercase(), params))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

enum Body<'a> {
    None,
    Bytes(&'a [u8], &'a str),
}

struct Response {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Client {
    /// A client with a per-request timeout.
    #[must_use]
    pub fn new(timeout: Duration) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .max_redirects(5)
            .build()
            .into();
        let insecure = std::env::var("PALISADE_INSECURE_REGISTRIES")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Client {
            agent,
            tokens: Mutex::new(HashMap::new()),
            credentials: docker_credentials(),
            insecure,
            requests: AtomicU64::new(0),
        }
    }

    /// HTTP requests this client has sent (token requests included).
    #[must_use]
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn base(&self, registry: &str) -> String {
        let host = if registry == "docker.io" {
            "registry-1.docker.io"
        } else {
            registry
        };
        let plain = host.starts_with("localhost")
            || host.starts_with("127.")
            || host.starts_with("[::1]")
            || self.insecure.iter().any(|h| h == host);
        format!("{}://{host}", if plain { "http" } else { "https" })
    }

    fn err(registry: &str, message: impl Into<String>) -> Error {
        Error::Registry {
            registry: registry.to_string(),
            message: message.into(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn send_once(
        &self,
        registry: &str,
        method: &str,
        url: &str,
        accept: Option<&str>,
        auth: Option<&str>,
        body: &Body<'_>,
        limit: u64,
    ) -> Result<Response> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut builder = ureq::http::Request::builder().method(method).uri(url);
        if let Some(a) = accept {
            builder = builder.header("Accept", a);
        }
        if let Some(a) = auth {
            builder = builder.header("Authorization", a);
        }
        let result = match body {
            Body::None => {
                let req = builder
                    .body(())
                    .map_err(|e| Self::err(registry, format!("{method} {url}: {e}")))?;
                self.agent.run(req)
            }
            Body::Bytes(data, ctype) => {
                let req = builder
                    .header("Content-Type", *ctype)
                    .body(data.to_vec())
                    .map_err(|e| Self::err(registry, format!("{method} {url}: {e}")))?;
                self.agent.run(req)
            }
        };
        let mut resp = result.map_err(|e| Self::err(registry, format!("{method} {url}: {e}")))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().ok()?.to_string(),
                ))
            })
            .collect();
        let body = if method == "HEAD" {
            Vec::new()
        } else {
            resp.body_mut()
                .with_config()
                .limit(limit)
                .read_to_vec()
                .map_err(|e| {
                    Self::err(
                        registry,
                        format!("{method} {url}: reading the response: {e}"),
                    )
                })?
        };
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    /// Sends a request, answering a 401 challenge once (bearer token or basic credentials).
    #[allow(clippy::too_many_arguments)]
    fn send(
        &self,
        registry: &str,
        repository: &str,
        method: &str,
        url: &str,
        accept: Option<&str>,
        body: Body<'_>,
        push: bool,
        limit: u64,
    ) -> Result<Response> {
        let key = format!("{registry}/{repository}/{push}");
        let cached = self.tokens.lock().ok().and_then(|t| t.get(&key).cloned());
        let resp = self.send_once(
            registry,
            method,
            url,
            accept,
            cached.as_deref(),
            &body,
            limit,
        )?;
        if resp.status != 401 {
            return Ok(resp);
        }
        let challenge = resp
            .headers
            .get("www-authenticate")
            .cloned()
            .unwrap_or_default();
        let basic = self.credentials.get(registry).map(|c| format!("Basic {c}"));
        let auth = match parse_challenge(&challenge) {
            Some((scheme, params)) if scheme == "bearer" => {
                let realm = params.get("realm").ok_or_else(|| {
                    Self::err(registry, "401 with a Bearer challenge without realm")
                })?;
                let scope = format!(
                    "repository:{repository}:{}",
                    if push { "pull,push" } else { "pull" }
                );
                let mut token_url = format!("{realm}?scope={}", url_encode(&scope));
                if let Some(svc) = params.get("service") {
                    token_url.push_str(&format!("&service={}", url_encode(svc)));
                }
                let t = self.send_once(
                    registry,
                    "GET",
                    &token_url,
                    None,
                    basic.as_deref(),
                    &Body::None,
                    1 << 20,
                )?;
                if t.status != 200 {
                    return Err(Self::err(
                        registry,
                        format!("token request to {realm} answered {}", t.status),
                    ));
                }
                #[derive(Deserialize)]
                struct Token {
                    token: Option<String>,
                    access_token: Option<String>,
                }
                let tok: Token = serde_json::from_slice(&t.body)
                    .map_err(|e| Self::err(registry, format!("token response: {e}")))?;
                let tok = tok
                    .token
                    .or(tok.access_token)
                    .ok_or_else(|| Self::err(registry, "token response without a token"))?;
                format!("Bearer {tok}")
            }
            Some((scheme, _)) if scheme == "basic" => basic.ok_or_else(|| {
                Self::err(registry, "401: basic credentials needed (docker login)")
            })?,
            _ => {
                return Err(Self::err(
                    registry,
                    format!("{method} {url}: 401 unauthorized"),
                ));
            }
        };
        if let Ok(mut t) = self.tokens.lock() {
            t.insert(key, auth.clone());
        }
        self.send_once(registry, method, url, accept, Some(&auth), &body, limit)
    }

    fn status_error(registry: &str, what: &str, resp: &Response) -> Error {
        let text = String::from_utf8_lossy(&resp.body[..resp.body.len().min(300)]).into_owned();
        Self::err(
            registry,
            format!("{what}: HTTP {} {}", resp.status, text.trim()),
        )
    }

    /// Fetches a manifest by tag or digest; `None` when the registry says 404. A digest reference
    /// is checked against the bytes.
    pub fn get_manifest(
        &self,
        registry: &str,
        repository: &str,
        version: &str,
    ) -> Result<Option<Manifest>> {
        let url = format!(
            "{}/v2/{repository}/manifests/{version}",
            self.base(registry)
        );
        let resp = self.send(
            registry,
            repository,
            "GET",
            &url,
            Some(MANIFEST_ACCEPT),
            Body::None,
            false,
            MAX_MANIFEST,
        )?;
        match resp.status {
            200 => {}
            404 => return Ok(None),
            _ => {
                return Err(Self::status_error(
                    registry,
                    &format!("GET manifest {repository}:{version}"),
                    &resp,
                ));
            }
        }
        let digest = format!("sha256:{}", hex(&sha256(&resp.body)));
        if version.starts_with("sha256:") && version != digest {
            return Err(Self::err(
                registry,
                format!("manifest {repository}@{version}: content hashes to {digest}"),
            ));
        }
        let media_type = resp
            .headers
            .get("content-type")
            .cloned()
            .or_else(|| {
                serde_json::from_slice::<serde_json::Value>(&resp.body)
                    .ok()
                    .and_then(|v| {
                        v.get("mediaType")
                            .and_then(|m| m.as_str())
                            .map(str::to_string)
                    })
            })
            .unwrap_or_default();
        Ok(Some(Manifest {
            bytes: resp.body,
            media_type,
            digest,
        }))
    }

    /// Pushes a manifest under a tag (or digest); returns its digest.
    pub fn put_manifest(
        &self,
        registry: &str,
        repository: &str,
        version: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<String> {
        let url = format!(
            "{}/v2/{repository}/manifests/{version}",
            self.base(registry)
        );
        let resp = self.send(
            registry,
            repository,
            "PUT",
            &url,
            None,
            Body::Bytes(bytes, media_type),
            true,
            1 << 20,
        )?;
        if resp.status != 201 && resp.status != 200 {
            return Err(Self::status_error(
                registry,
                &format!("PUT manifest {repository}:{version}"),
                &resp,
            ));
        }
        Ok(format!("sha256:{}", hex(&sha256(bytes))))
    }

    /// Fetches a blob (at most `limit` bytes) and checks its digest.
    pub fn get_blob(
        &self,
        registry: &str,
        repository: &str,
        digest: &str,
        limit: u64,
    ) -> Result<Vec<u8>> {
        let url = format!("{}/v2/{repository}/blobs/{digest}", self.base(registry));
        let resp = self.send(
            registry,
            repository,
            "GET",
            &url,
            None,
            Body::None,
            false,
            limit,
        )?;
        if resp.status != 200 {
            return Err(Self::status_error(
                registry,
                &format!("GET blob {repository}@{digest}"),
                &resp,
            ));
        }
        let actual = format!("sha256:{}", hex(&sha256(&resp.body)));
        if actual != digest {
            return Err(Self::err(
                registry,
                format!("blob {repository}@{digest}: content hashes to {actual}"),
            ));
        }
        Ok(resp.body)
    }

    /// Uploads a blob unless the registry has it; returns its digest.
    pub fn put_blob(&self, registry: &str, repository: &str, data: &[u8]) -> Result<String> {
        let digest = format!("sha256:{}", hex(&sha256(data)));
        let base = self.base(registry);
        let head = self.send(
            registry,
            repository,
            "HEAD",
            &format!("{base}/v2/{repository}/blobs/{digest}"),
            None,
            Body::None,
            true,
            0,
        )?;
        if head.status == 200 {
            return Ok(digest);
        }
        let start = self.send(
            registry,
            repository,
            "POST",
            &format!("{base}/v2/{repository}/blobs/uploads/"),
            None,
            Body::None,
            true,
            1 << 16,
        )?;
        if start.status != 202 {
            return Err(Self::status_error(
                registry,
                &format!("start upload to {repository}"),
                &start,
            ));
        }
        let location = start
            .headers
            .get("location")
            .ok_or_else(|| Self::err(registry, "upload started without a Location header"))?;
        let mut url = if location.starts_with("http://") || location.starts_with("https://") {
            location.clone()
        } else {
            format!("{base}{location}")
        };
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("digest={}", url_encode(&digest)));
        let put = self.send(
            registry,
            repository,
            "PUT",
            &url,
            None,
            Body::Bytes(data, "application/octet-stream"),
            true,
            1 << 16,
        )?;
        if put.status != 201 {
            return Err(Self::status_error(
                registry,
                &format!("upload blob {digest} to {repository}"),
                &put,
            ));
        }
        Ok(digest)
    }

    /// The OCI 1.1 referrers of `digest` (an image index), or `None` when the registry has no referrers API.
    pub fn referrers(
        &self,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<Option<Vec<u8>>> {
        let url = format!("{}/v2/{repository}/referrers/{digest}", self.base(registry));
        let resp = self.send(
            registry,
            repository,
            "GET",
            &url,
            Some("application/vnd.oci.image.index.v1+json"),
            Body::None,
            false,
            MAX_MANIFEST,
        )?;
        let is_index = resp
            .headers
            .get("content-type")
            .is_some_and(|c| c.starts_with("application/vnd.oci.image.index.v1+json"));
        match resp.status {
            200 if is_index => Ok(Some(resp.body)),
            _ => Ok(None),
        }
    }
}

/// Basic credentials `user:password` as base64 (what `docker login` stores).
#[must_use]
pub fn basic_auth(user: &str, password: &str) -> String {
    crate::util::b64(format!("{user}:{password}").as_bytes())
}

/// Decodes a docker config `auth` entry to `(user, password)`.
pub fn decode_basic(what: &str, auth: &str) -> Result<(String, String)> {
    let raw = unb64(what, auth)?;
    let s = String::from_utf8(raw).map_err(|_| Error::format(what, "expected user:password"))?;
    let (u, p) = s
        .split_once(':')
        .ok_or_else(|| Error::format(what, "expected user:password"))?;
    Ok((u.to_string(), p.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let r = Reference::parse("nginx").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("docker.io", "library/nginx", Some("latest"))
        );
        let r = Reference::parse("localhost:5000/ml/model:v1").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("localhost:5000", "ml/model", Some("v1"))
        );
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("ghcr.io/a/b@{d}")).unwrap();
        assert_eq!(
            (r.tag.as_deref(), r.digest.as_deref()),
            (None, Some(d.as_str()))
        );
        assert_eq!(r.to_string(), format!("ghcr.io/a/b@{d}"));
        for bad in [
            "",
            "UPPER/case",
            "a/b@sha256:zz",
            "a/b:t@md5:00",
            "host:5000/",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn challenges() {
        let (s, p) = parse_challenge(r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#).unwrap();
        assert_eq!(s, "bearer");
        assert_eq!(p["realm"], "https://auth.docker.io/token");
        assert_eq!(p["scope"], "repository:library/nginx:pull");
        assert_eq!(parse_challenge("Basic realm=x").unwrap().0, "basic");
        assert_eq!(
            decode_basic("t", &basic_auth("u", "p:w")).unwrap(),
            ("u".into(), "p:w".into())
        );
    }
}
