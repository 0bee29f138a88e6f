//! A small OCI distribution API client: manifests, blobs (streamed), anonymous, basic and
//! bearer-token auth, and the push calls the tests and benchmarks use.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ureq::http::{Method, Request, Response};

use super::auth::{self, Credentials};
use super::{
    BlobStore, Image, MAX_DOCUMENT, OpenOptions, layers_of, parse_config, read_document,
    select_manifest,
};
use crate::decode::Raw;
use crate::digest;
use crate::error::{Error, Result};
use crate::reference::RegistryRef;
use crate::spec::{AnyManifest, Descriptor, MANIFEST_ACCEPT};

/// A client for one repository of one registry.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    registry: String,
    repository: String,
    credentials: Option<Credentials>,
    /// The `Authorization` value that last worked (a bearer token or basic credentials).
    authorization: Mutex<Option<String>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("repository", &self.repository)
            .finish_non_exhaustive()
    }
}

fn encode_component(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Client {
    /// A client for `r`, with credentials from `opts.auth_file` or the usual files.
    #[must_use]
    pub fn new(r: &RegistryRef, opts: &OpenOptions) -> Client {
        // Same switch as palisade-sign: a comma-separated list of registries reached over HTTP.
        let listed = std::env::var("PALISADE_INSECURE_REGISTRIES")
            .is_ok_and(|v| v.split(',').any(|h| h.trim() == r.registry));
        let scheme = if opts.insecure || listed || r.is_local() {
            "http"
        } else {
            "https"
        };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .user_agent(concat!("palisade/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            agent: ureq::Agent::new_with_config(config),
            base: format!("{scheme}://{}", r.api_host()),
            registry: r.registry.clone(),
            repository: r.repository.clone(),
            credentials: auth::lookup(&r.registry, opts.auth_file.as_ref()),
            authorization: Mutex::new(None),
        }
    }

    /// Uses these credentials instead of the ones found in config files.
    #[must_use]
    pub fn with_credentials(mut self, c: Option<Credentials>) -> Client {
        self.credentials = c;
        self
    }

    fn what(&self, path: &str) -> String {
        format!("{}/{}{path}", self.registry, self.repository)
    }

    fn current_auth(&self) -> Option<String> {
        self.authorization.lock().ok().and_then(|g| g.clone())
    }

    fn set_auth(&self, v: String) {
        if let Ok(mut g) = self.authorization.lock() {
            *g = Some(v);
        }
    }

    /// Sends a request, answering one auth challenge (401) and retrying.
    fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        what: &str,
    ) -> Result<Response<ureq::Body>> {
        let build = |auth: Option<&str>| {
            let mut b = Request::builder().method(method.clone()).uri(url);
            for (k, v) in headers {
                b = b.header(*k, *v);
            }
            if let Some(a) = auth {
                b = b.header("Authorization", a);
            }
            b.body(body.to_vec())
                .map_err(|e| Error::io(what, format!("invalid request: {e}")))
        };
        let auth = self.current_auth();
        let resp = self
            .agent
            .run(build(auth.as_deref())?)
            .map_err(|e| Error::io(what, e))?;
        if resp.status() != 401 {
            return Ok(resp);
        }
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .and_then(auth::parse_challenge)
            .ok_or_else(|| Error::Registry {
                what: what.to_string(),
                message: "401 Unauthorized without a WWW-Authenticate challenge".into(),
            })?;
        let new_auth = match challenge.scheme.as_str() {
            "basic" => self
                .credentials
                .as_ref()
                .map(Credentials::basic)
                .ok_or_else(|| self.no_credentials(what))?,
            "bearer" => self.token(&challenge, what)?,
            other => {
                return Err(Error::Registry {
                    what: what.to_string(),
                    message: format!(
                        "unsupported auth scheme `{other}` (expected Basic or Bearer)"
                    ),
                });
            }
        };
        if auth.as_deref() == Some(new_auth.as_str()) && challenge.scheme == "basic" {
            return Err(Error::Registry {
                what: what.to_string(),
                message: format!(
                    "401 Unauthorized: the credentials for {} were refused",
                    self.registry
                ),
            });
        }
        self.set_auth(new_auth.clone());
        let resp = self
            .agent
            .run(build(Some(&new_auth))?)
            .map_err(|e| Error::io(what, e))?;
        if resp.status() == 401 {
            return Err(Error::Registry {
                what: what.to_string(),
                message: if self.credentials.is_some() {
                    format!(
                        "401 Unauthorized: the credentials for {} were refused",
                        self.registry
                    )
                } else {
                    format!("401 Unauthorized; {}", self.no_credentials(what))
                },
            });
        }
        Ok(resp)
    }

    fn no_credentials(&self, what: &str) -> Error {
        let files: Vec<String> = auth::candidate_files(None)
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        Error::Registry {
            what: what.to_string(),
            message: format!(
                "{} requires credentials and none were found for it in {}; run `docker login {}`",
                self.registry,
                files.join(", "),
                self.registry
            ),
        }
    }

    /// Gets a bearer token from the challenge's realm (with basic credentials when known).
    fn token(&self, c: &auth::Challenge, what: &str) -> Result<String> {
        let realm = c.params.get("realm").ok_or_else(|| Error::Registry {
            what: what.to_string(),
            message: "Bearer challenge without a realm".into(),
        })?;
        let mut url = realm.clone();
        let mut sep = if url.contains('?') { '&' } else { '?' };
        if let Some(s) = c.params.get("service") {
            url.push_str(&format!("{sep}service={}", encode_component(s)));
            sep = '&';
        }
        let scope = c
            .params
            .get("scope")
            .cloned()
            .unwrap_or_else(|| format!("repository:{}:pull", self.repository));
        url.push_str(&format!("{sep}scope={}", encode_component(&scope)));
        let mut req = self.agent.get(&url);
        if let Some(cr) = &self.credentials {
            req = req.header("Authorization", &cr.basic());
        }
        let twhat = format!("{what}: token from {realm}");
        let mut resp = req.call().map_err(|e| Error::io(&twhat, e))?;
        if resp.status() != 200 {
            return Err(Error::Registry {
                what: twhat,
                message: format!("token endpoint answered {}", resp.status()),
            });
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(1024 * 1024)
            .read_to_vec()
            .map_err(|e| Error::io(&twhat, e))?;
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| Error::format(&twhat, format!("not JSON: {e}")))?;
        let token = v
            .get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .ok_or_else(|| Error::format(&twhat, "no `token` or `access_token` in the answer"))?;
        Ok(format!("Bearer {token}"))
    }

    fn status_error(&self, what: &str, resp: &mut Response<ureq::Body>) -> Error {
        let status = resp.status();
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        let detail = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                v.get("errors")?.as_array().map(|errs| {
                    errs.iter()
                        .filter_map(|e| {
                            Some(format!(
                                "{}: {}",
                                e.get("code")?.as_str()?,
                                e.get("message").and_then(|m| m.as_str()).unwrap_or("")
                            ))
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                })
            })
            .unwrap_or_default();
        Error::Registry {
            what: what.to_string(),
            message: format!(
                "HTTP {status}{}",
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({detail})")
                }
            ),
        }
    }

    /// Fetches a manifest or index: bytes and media type.
    pub fn manifest(&self, reference: &str) -> Result<(Vec<u8>, String)> {
        let what = self.what(&format!(" manifest {reference}"));
        let url = format!("{}/v2/{}/manifests/{reference}", self.base, self.repository);
        let mut resp = self.send(
            Method::GET,
            &url,
            &[("Accept", MANIFEST_ACCEPT)],
            &[],
            &what,
        )?;
        if resp.status() != 200 {
            return Err(self.status_error(&what, &mut resp));
        }
        let media_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let data = resp
            .body_mut()
            .with_config()
            .limit(MAX_DOCUMENT)
            .read_to_vec()
            .map_err(|e| Error::io(&what, e))?;
        Ok((data, media_type))
    }

    /// Streams a blob (verification is the caller's, as the digest may name the compressed
    /// or the uncompressed form).
    pub fn blob(&self, digest: &str) -> Result<Raw> {
        digest::parse_sha256(digest)?;
        let what = self.what(&format!(" blob {digest}"));
        let url = format!("{}/v2/{}/blobs/{digest}", self.base, self.repository);
        let mut resp = self.send(Method::GET, &url, &[], &[], &what)?;
        if resp.status() != 200 {
            return Err(self.status_error(&what, &mut resp));
        }
        Ok(Box::new(resp.into_body().into_reader()))
    }

    /// Uploads a blob in one request (POST then PUT with the digest) unless it exists.
    pub fn push_blob(&self, data: &[u8]) -> Result<String> {
        let d = digest::sha256_digest(data);
        let what = self.what(&format!(" blob {d}"));
        let head = format!("{}/v2/{}/blobs/{d}", self.base, self.repository);
        let resp = self.send(Method::HEAD, &head, &[], &[], &what)?;
        if resp.status() == 200 {
            return Ok(d);
        }
        let url = format!("{}/v2/{}/blobs/uploads/", self.base, self.repository);
        let mut resp = self.send(Method::POST, &url, &[("Content-Length", "0")], &[], &what)?;
        if resp.status() != 202 {
            return Err(self.status_error(&what, &mut resp));
        }
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::format(&what, "upload answer without Location"))?
            .to_string();
        let location = if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            location
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{sep}digest={}", encode_component(&d));
        let mut resp = self.send(
            Method::PUT,
            &put,
            &[("Content-Type", "application/octet-stream")],
            data,
            &what,
        )?;
        if resp.status() != 201 {
            return Err(self.status_error(&what, &mut resp));
        }
        Ok(d)
    }

    /// Uploads a manifest or index under a tag or digest.
    pub fn push_manifest(&self, reference: &str, data: &[u8], media_type: &str) -> Result<String> {
        let what = self.what(&format!(" manifest {reference}"));
        let url = format!("{}/v2/{}/manifests/{reference}", self.base, self.repository);
        let mut resp = self.send(
            Method::PUT,
            &url,
            &[("Content-Type", media_type)],
            data,
            &what,
        )?;
        if resp.status() != 201 {
            return Err(self.status_error(&what, &mut resp));
        }
        Ok(digest::sha256_digest(data))
    }
}

struct RegistryStore(Client);

impl BlobStore for RegistryStore {
    fn open(&self, desc: &Descriptor) -> Result<Raw> {
        self.0.blob(&desc.digest)
    }
}

/// Pulls the manifest (following an index to the wanted platform) and config of `r`.
pub fn open(r: &RegistryRef, opts: &OpenOptions) -> Result<Image> {
    let client = Client::new(r, opts);
    let shown = r.to_string();
    let (mut data, mut media_type) = client.manifest(r.reference())?;
    let mut manifest_digest = digest::sha256_digest(&data);
    let reference_digest = manifest_digest.clone();
    if let Some(d) = &r.digest {
        digest::verify(&format!("{shown}: manifest"), &data, d)?;
    }
    for _ in 0..4 {
        match AnyManifest::parse(&data, &media_type)
            .map_err(|m| Error::format(format!("{shown}: manifest {manifest_digest}"), m))?
        {
            AnyManifest::Index(index) => {
                let d = select_manifest(&index, opts.platform.as_ref(), &shown)?.clone();
                let (inner, mt) = client.manifest(&d.digest)?;
                digest::verify(
                    &format!("{shown}: manifest {}", d.digest),
                    &inner,
                    &d.digest,
                )?;
                data = inner;
                media_type = mt;
                manifest_digest = d.digest;
            }
            AnyManifest::Manifest(m) => {
                let store = Arc::new(RegistryStore(client));
                let cwhat = format!("{shown}: config {}", m.config.digest);
                let cdata = read_document(store.as_ref(), &m.config, &cwhat)?;
                let config = parse_config(&cdata, &cwhat)?;
                let layers = layers_of(&m.layers, &config, &shown)?;
                return Ok(Image {
                    reference: shown,
                    manifest_digest: Some(manifest_digest),
                    reference_digest: Some(reference_digest),
                    config_digest: Some(m.config.digest.clone()),
                    config,
                    layers,
                    rootfs: None,
                    store: Some(store),
                });
            }
        }
    }
    Err(Error::format(shown, "indexes nested more than 4 deep"))
}

/// Reads all of a stream (test and bench helper for small blobs).
pub fn read_all(mut r: Raw, what: &str) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).map_err(|e| Error::io(what, e))?;
    Ok(v)
}
