//! Keys in Kubernetes Secrets, named as cosign names them: `k8s://namespace/name[/key]`.
//!
//! `cosign generate-key-pair k8s://ns/name` writes a Secret with `cosign.key`, `cosign.pub` and
//! `cosign.password`; a public key is read from `cosign.pub` unless the URL names another key.
//! The Secret is read with one `GET /api/v1/namespaces/{ns}/secrets/{name}` to the API server,
//! authenticated by the pod's service-account token and checked against the cluster CA, both
//! from `/var/run/secrets/kubernetes.io/serviceaccount` (in-cluster configuration, as client-go's
//! `rest.InClusterConfig`). The token file is re-read for every request: the kubelet rotates
//! bound tokens in place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::keys::{PublicKey, SigningKey};
use crate::util::unb64;

/// Where the kubelet mounts the service account's token, CA and namespace.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The data key cosign writes a public key under.
pub const COSIGN_PUB: &str = "cosign.pub";
/// The data key cosign writes an encrypted private key under.
pub const COSIGN_KEY: &str = "cosign.key";
/// The data key cosign writes the private key's password under.
pub const COSIGN_PASSWORD: &str = "cosign.password";
/// A Secret is at most 1 MiB (etcd's limit on Secrets); the JSON adds base64 and metadata.
const MAX_RESPONSE: u64 = 2 << 20;

/// `k8s://namespace/name[/key]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SecretRef {
    pub namespace: String,
    pub name: String,
    /// The data key; `None` means cosign's default for what is read.
    pub key: Option<String>,
}

impl SecretRef {
    /// Whether a key argument names a Secret rather than a file.
    #[must_use]
    pub fn is_secret_url(s: &str) -> bool {
        s.starts_with("k8s://")
    }

    /// Parses `k8s://namespace/name[/key]` (DNS-1123 namespace and name, as the API server
    /// requires, so a typo fails here and not as a 404 at admission).
    pub fn parse(url: &str) -> Result<Self> {
        let bad = || {
            Error::format(
                format!("key `{url}`"),
                "expected k8s://namespace/name[/key] with lower-case DNS names",
            )
        };
        let rest = url.strip_prefix("k8s://").ok_or_else(bad)?;
        let dns = |s: &str| {
            !s.is_empty()
                && s.len() <= 253
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        };
        let key_ok = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        };
        match rest.split('/').collect::<Vec<_>>().as_slice() {
            [ns, name] if dns(ns) && dns(name) => Ok(SecretRef {
                namespace: (*ns).to_string(),
                name: (*name).to_string(),
                key: None,
            }),
            [ns, name, key] if dns(ns) && dns(name) && key_ok(key) => Ok(SecretRef {
                namespace: (*ns).to_string(),
                name: (*name).to_string(),
                key: Some((*key).to_string()),
            }),
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "k8s://{}/{}", self.namespace, self.name)?;
        if let Some(k) = &self.key {
            write!(f, "/{k}")?;
        }
        Ok(())
    }
}

enum Token {
    /// Re-read per request (rotated in place by the kubelet).
    File(PathBuf),
    Static(String),
}

/// A minimal API-server client: reads Secrets, nothing else.
pub struct KubeClient {
    base: String,
    token: Token,
    agent: ureq::Agent,
}

impl std::fmt::Debug for KubeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct SecretObject {
    #[serde(default)]
    data: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    message: String,
}

fn agent(ca_pem: &[u8], what: &str, timeout: Duration) -> Result<ureq::Agent> {
    let certs = ureq::tls::parse_pem(ca_pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::format(what, format!("expected PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(Error::format(what, "expected at least one PEM certificate"));
    }
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)))
        .build();
    Ok(ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .build()
        .into())
}

impl KubeClient {
    /// A client for `base_url` (`https://host:port`) with a fixed bearer token and CA bundle.
    pub fn new(base_url: &str, token: &str, ca_pem: &[u8], timeout: Duration) -> Result<Self> {
        Ok(KubeClient {
            base: base_url.trim_end_matches('/').to_string(),
            token: Token::Static(token.trim().to_string()),
            agent: agent(ca_pem, "API server CA", timeout)?,
        })
    }

    /// The in-cluster configuration: `KUBERNETES_SERVICE_HOST` / `KUBERNETES_SERVICE_PORT` and
    /// the service account's token and CA.
    pub fn in_cluster(timeout: Duration) -> Result<Self> {
        let host = std::env::var("KUBERNETES_SERVICE_HOST").ok();
        let port = std::env::var("KUBERNETES_SERVICE_PORT").ok();
        let (Some(host), Some(port)) = (host.filter(|h| !h.is_empty()), port) else {
            return Err(Error::Refused(
                "keys in Kubernetes Secrets need the in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not running in a pod?)".into(),
            ));
        };
        Self::from_service_account(&host, &port, Path::new(SERVICE_ACCOUNT_DIR), timeout)
    }

    /// As [`KubeClient::in_cluster`], with the host, port and service-account directory given.
    pub fn from_service_account(
        host: &str,
        port: &str,
        dir: &Path,
        timeout: Duration,
    ) -> Result<Self> {
        let ca_path = dir.join("ca.crt");
        let ca = std::fs::read(&ca_path).map_err(|e| Error::io(&ca_path, e))?;
        let token_path = dir.join("token");
        // Read once now so a missing token is reported at start, not at the first admission.
        std::fs::metadata(&token_path).map_err(|e| Error::io(&token_path, e))?;
        // An IPv6 service address must be bracketed in a URL.
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        Ok(KubeClient {
            base: format!("https://{host}:{port}"),
            token: Token::File(token_path),
            agent: agent(&ca, &ca_path.display().to_string(), timeout)?,
        })
    }

    fn token(&self) -> Result<String> {
        match &self.token {
            Token::Static(t) => Ok(t.clone()),
            Token::File(p) => std::fs::read_to_string(p)
                .map(|t| t.trim().to_string())
                .map_err(|e| Error::io(p, e)),
        }
    }

    fn err(&self, message: impl Into<String>) -> Error {
        Error::Registry {
            registry: format!("Kubernetes API {}", self.base),
            message: message.into(),
        }
    }

    /// `GET` of any API path (`/api/v1/namespaces?watch=1&…`), authenticated like the other
    /// calls: the status and the unread body, so a watch can be read as it streams. Shared
    /// with the webhook's namespace watcher (one in-cluster client, not two).
    pub fn get(&self, path_and_query: &str) -> Result<(u16, Box<dyn std::io::Read + Send>)> {
        let url = format!("{}{path_and_query}", self.base);
        let req = ureq::http::Request::builder()
            .method("GET")
            .uri(&url)
            .header("Accept", "application/json")
            .header("Authorization", format!("Bearer {}", self.token()?))
            .body(())
            .map_err(|e| self.err(format!("GET {url}: {e}")))?;
        let resp = self
            .agent
            .run(req)
            .map_err(|e| self.err(format!("GET {url}: {e}")))?;
        let status = resp.status().as_u16();
        Ok((status, Box::new(resp.into_body().into_reader())))
    }

    /// The decoded `data` of a Secret.
    pub fn secret(&self, namespace: &str, name: &str) -> Result<BTreeMap<String, Vec<u8>>> {
        let url = format!("{}/api/v1/namespaces/{namespace}/secrets/{name}", self.base);
        let req = ureq::http::Request::builder()
            .method("GET")
            .uri(&url)
            .header("Accept", "application/json")
            .header("Authorization", format!("Bearer {}", self.token()?))
            .body(())
            .map_err(|e| self.err(format!("GET {url}: {e}")))?;
        let mut resp = self
            .agent
            .run(req)
            .map_err(|e| self.err(format!("GET {url}: {e}")))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(|e| self.err(format!("GET {url}: reading the response: {e}")))?;
        let what = format!("secret {namespace}/{name}");
        if status != 200 {
            let message = serde_json::from_slice::<Status>(&body)
                .map(|s| s.message)
                .unwrap_or_default();
            let hint = match status {
                401 => " (the service-account token was not accepted)",
                403 => " (RBAC: the service account needs `get` on this secret)",
                404 => " (no such secret)",
                _ => "",
            };
            return Err(self.err(format!("{what}: HTTP {status}{hint}: {message}")));
        }
        let obj: SecretObject = serde_json::from_slice(&body)
            .map_err(|e| Error::format(&what, format!("expected a v1 Secret: {e}")))?;
        obj.data
            .into_iter()
            .map(|(k, v)| {
                let bytes = unb64(&format!("{what} data `{k}`"), &v)?;
                Ok((k, bytes))
            })
            .collect()
    }

    fn data_key(&self, r: &SecretRef, default: &str) -> Result<Vec<u8>> {
        let mut data = self.secret(&r.namespace, &r.name)?;
        let key = r.key.as_deref().unwrap_or(default);
        data.remove(key).ok_or_else(|| {
            Error::format(
                r.to_string(),
                format!(
                    "expected a data key `{key}`, found {}",
                    if data.is_empty() {
                        "none".to_string()
                    } else {
                        data.keys().cloned().collect::<Vec<_>>().join(", ")
                    }
                ),
            )
        })
    }

    /// The public key in a Secret (`cosign.pub` unless the URL names the data key).
    pub fn public_key(&self, r: &SecretRef) -> Result<PublicKey> {
        let pem = self.data_key(r, COSIGN_PUB)?;
        let text = String::from_utf8(pem)
            .map_err(|_| Error::format(r.to_string(), "expected PEM text"))?;
        PublicKey::from_pem(&r.to_string(), &text)
    }

    /// The private key in a Secret (`cosign.key`, decrypted with `cosign.password` from the
    /// same Secret when present, else with `password`).
    pub fn signing_key(
        &self,
        r: &SecretRef,
        password: impl FnOnce() -> Result<Vec<u8>>,
    ) -> Result<SigningKey> {
        let mut data = self.secret(&r.namespace, &r.name)?;
        let key = r.key.as_deref().unwrap_or(COSIGN_KEY);
        let pem = data
            .remove(key)
            .ok_or_else(|| Error::format(r.to_string(), format!("expected a data key `{key}`")))?;
        let text = String::from_utf8(pem)
            .map_err(|_| Error::format(r.to_string(), "expected PEM text"))?;
        let stored = data.remove(COSIGN_PASSWORD);
        SigningKey::from_pem(&r.to_string(), &text, || match stored {
            Some(pw) => Ok(pw),
            None => password(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_urls() {
        let r = SecretRef::parse("k8s://palisade-system/cosign-keys").unwrap();
        assert_eq!(
            (r.namespace.as_str(), r.name.as_str(), r.key),
            ("palisade-system", "cosign-keys", None)
        );
        let r = SecretRef::parse("k8s://ns/keys/release.pub").unwrap();
        assert_eq!(r.key.as_deref(), Some("release.pub"));
        assert_eq!(r.to_string(), "k8s://ns/keys/release.pub");
        for bad in [
            "k8s://",
            "k8s://ns",
            "k8s://NS/name",
            "k8s://ns/name/a/b",
            "k8s://ns//key",
            "file://ns/name",
            "k8s://ns/name/bad key",
        ] {
            assert!(SecretRef::parse(bad).is_err(), "{bad}");
        }
    }
}
