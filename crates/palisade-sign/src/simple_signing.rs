//! cosign's "simple signing" payload: what a classic cosign image signature signs.
//!
//! `{"critical":{"identity":{"docker-reference":"<repo>"},"image":{"docker-manifest-digest":"sha256:…"},"type":"cosign container image signature"},"optional":null|{…}}`

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The `type` cosign writes.
pub const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";

/// A simple-signing payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    /// The signed claims.
    pub critical: Critical,
    /// Annotations (`cosign sign -a k=v`), `null` when none.
    pub optional: Option<BTreeMap<String, serde_json::Value>>,
}

/// `critical`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Critical {
    /// `identity`.
    pub identity: Identity,
    /// `image`.
    pub image: Image,
    /// `type`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// `identity`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// The repository the image was signed as.
    #[serde(rename = "docker-reference")]
    pub docker_reference: String,
}

/// `image`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// `sha256:<hex>` of the signed manifest.
    #[serde(rename = "docker-manifest-digest")]
    pub docker_manifest_digest: String,
}

impl Payload {
    /// A payload for `repository@digest` with optional annotations.
    #[must_use]
    pub fn new(repository: &str, digest: &str, annotations: &BTreeMap<String, String>) -> Self {
        Payload {
            critical: Critical {
                identity: Identity {
                    docker_reference: repository.into(),
                },
                image: Image {
                    docker_manifest_digest: digest.into(),
                },
                kind: COSIGN_SIGNATURE_TYPE.into(),
            },
            optional: if annotations.is_empty() {
                None
            } else {
                Some(
                    annotations
                        .iter()
                        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                        .collect(),
                )
            },
        }
    }

    /// Parses payload bytes.
    pub fn parse(what: &str, bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| {
            Error::format(
                what,
                format!(
                    "expected a simple-signing payload (critical.image.docker-manifest-digest): {e}"
                ),
            )
        })
    }

    /// The exact bytes to sign (compact JSON in cosign's field order).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|e| Error::format("payload", e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_identical_to_cosign() {
        let p = Payload::new(
            "registry-testing.svc.lan/busybox",
            "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b",
            &BTreeMap::new(),
        );
        assert_eq!(
            String::from_utf8(p.to_bytes().unwrap()).unwrap(),
            r#"{"critical":{"identity":{"docker-reference":"registry-testing.svc.lan/busybox"},"image":{"docker-manifest-digest":"sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"},"type":"cosign container image signature"},"optional":null}"#
        );
        let mut a = BTreeMap::new();
        a.insert("creator".to_string(), "OBS".to_string());
        let p = Payload::new("r", "sha256:00", &a);
        assert!(
            String::from_utf8(p.to_bytes().unwrap())
                .unwrap()
                .ends_with(r#""optional":{"creator":"OBS"}}"#)
        );
    }
}
