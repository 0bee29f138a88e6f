//! Registry credentials (Docker's `config.json`, containers' `auth.json`) and
//! `WWW-Authenticate` challenges.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;

/// A user name and password (or token) for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// The `Authorization: Basic …` value.
    #[must_use]
    pub fn basic(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

/// The files credentials are looked up in, first match wins: an explicit file, then
/// `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json` (podman/skopeo),
/// `$DOCKER_CONFIG/config.json`, `~/.docker/config.json`.
#[must_use]
pub fn candidate_files(explicit: Option<&PathBuf>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Some(p) = explicit {
        files.push(p.clone());
        return files;
    }
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(p) = env("REGISTRY_AUTH_FILE") {
        files.push(p);
    }
    if let Some(p) = env("XDG_RUNTIME_DIR") {
        files.push(p.join("containers/auth.json"));
    }
    if let Some(p) = env("DOCKER_CONFIG") {
        files.push(p.join("config.json"));
    }
    if let Some(home) = env("HOME") {
        files.push(home.join(".docker/config.json"));
    }
    files
}

/// Keys under which a registry's entry may be stored in `auths`.
fn keys_for(registry: &str) -> Vec<String> {
    let mut hosts = vec![registry.to_string()];
    if registry == "docker.io" {
        hosts.extend(["index.docker.io".into(), "registry-1.docker.io".into()]);
    }
    let mut keys = Vec::new();
    for h in &hosts {
        keys.push(h.clone());
        keys.push(format!("https://{h}"));
        keys.push(format!("http://{h}"));
        keys.push(format!("https://{h}/v1/"));
        keys.push(format!("https://{h}/v2/"));
    }
    keys
}

/// Credentials for `registry` from a config document (`{"auths": {host: {"auth": b64}}}`).
#[must_use]
pub fn from_config(doc: &serde_json::Value, registry: &str) -> Option<Credentials> {
    let auths = doc.get("auths")?.as_object()?;
    let normalized: BTreeMap<String, &serde_json::Value> = auths
        .iter()
        .map(|(k, v)| (k.trim_end_matches('/').to_string(), v))
        .collect();
    for key in keys_for(registry) {
        let Some(entry) = auths
            .get(&key)
            .or_else(|| normalized.get(key.trim_end_matches('/')).copied())
        else {
            continue;
        };
        if let Some(b64) = entry.get("auth").and_then(|a| a.as_str())
            && let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim())
            && let Ok(text) = String::from_utf8(raw)
            && let Some((u, p)) = text.split_once(':')
        {
            return Some(Credentials {
                username: u.to_string(),
                password: p.to_string(),
            });
        }
        if let (Some(u), Some(p)) = (
            entry.get("username").and_then(|v| v.as_str()),
            entry.get("password").and_then(|v| v.as_str()),
        ) {
            return Some(Credentials {
                username: u.to_string(),
                password: p.to_string(),
            });
        }
    }
    None
}

/// Looks `registry` up in the candidate files. Credential helpers (`credsStore`) are not
/// run: Palisade executes nothing it was not built with.
#[must_use]
pub fn lookup(registry: &str, explicit: Option<&PathBuf>) -> Option<Credentials> {
    candidate_files(explicit).into_iter().find_map(|p| {
        let text = std::fs::read(&p).ok()?;
        let doc: serde_json::Value = serde_json::from_slice(&text).ok()?;
        from_config(&doc, registry)
    })
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// `bearer` or `basic`, lower-cased.
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

/// Parses `Bearer realm="…",service="…",scope="…"` (quoted or token values).
#[must_use]
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.is_empty() {
        return None;
    }
    let mut params = BTreeMap::new();
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b',') {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i] != b'=' {
            i += 1;
        }
        let key = rest[start..i].trim().to_ascii_lowercase();
        i += 1;
        let mut value = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                let ch_end = (i + 1..=b.len())
                    .find(|&e| rest.is_char_boundary(e))
                    .unwrap_or(b.len());
                value.push_str(&rest[i..ch_end]);
                i = ch_end;
            }
            i += 1;
        } else {
            let s = i.min(b.len());
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            value = rest[s..i.min(b.len())].trim().to_string();
        }
        if !key.is_empty() {
            params.insert(key, value);
        }
    }
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/python:pull""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.docker.io/token");
        assert_eq!(c.params["scope"], "repository:library/python:pull");
        let c = parse_challenge(r#"Basic realm="basic-realm""#).unwrap();
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.params["realm"], "basic-realm");
        assert!(parse_challenge("").is_none());
        // Unterminated quotes and odd bytes do not panic.
        for s in [
            "Bearer realm=\"x",
            "Bearer =,,=\"",
            "Bearer a=\"é\\",
            "Basic",
        ] {
            let _ = parse_challenge(s);
        }
    }

    #[test]
    fn config_lookup() {
        let doc = serde_json::json!({"auths": {
            "https://index.docker.io/v1/": {"auth": "dXNlcjpwYXNz"},
            "localhost:5000": {"username": "a", "password": "b:c"}
        }});
        let c = from_config(&doc, "docker.io").unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("user", "pass"));
        let c = from_config(&doc, "localhost:5000").unwrap();
        assert_eq!(c.password, "b:c");
        assert!(from_config(&doc, "ghcr.io").is_none());
        assert!(!format!("{c:?}").contains("b:c"));
    }
}
