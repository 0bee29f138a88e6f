//! The OCI image-spec and Docker manifest types this crate reads (only the fields it uses).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// Media types accepted when asking a registry for a manifest.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// A content descriptor: what a manifest or index points at.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/arch[/variant]` (`linux/arm64/v8`).
    pub fn parse(s: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: (*os).to_string(),
                architecture: (*arch).to_string(),
                variant: None,
            }),
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: (*os).to_string(),
                architecture: (*arch).to_string(),
                variant: Some((*variant).to_string()),
            }),
            _ => Err(format!(
                "platform `{s}`: expected OS/ARCH or OS/ARCH/VARIANT (linux/amd64)"
            )),
        }
    }

    /// Whether a descriptor's platform satisfies this wanted platform (a wanted variant must
    /// match; an unspecified one matches any).
    #[must_use]
    pub fn matches(&self, have: &Platform) -> bool {
        self.os == have.os
            && self.architecture == have.architecture
            && self
                .variant
                .as_ref()
                .is_none_or(|v| have.variant.as_ref() == Some(v))
    }

    /// The platform of the machine running Palisade, in OCI spelling.
    #[must_use]
    pub fn host() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// An image index (OCI) or manifest list (Docker).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    #[serde(default)]
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub media_type: String,
    pub manifests: Vec<Descriptor>,
}

/// An image manifest (OCI or Docker v2 schema 2).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    #[serde(default)]
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub media_type: String,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

/// The image configuration (`application/vnd.oci.image.config.v1+json`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default)]
    pub config: ContainerConfig,
    #[serde(default)]
    pub rootfs: RootFs,
    #[serde(default)]
    pub history: Vec<History>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default)]
    pub empty_layer: bool,
}

/// What a container of this image runs with.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub healthcheck: Option<Healthcheck>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    #[serde(default)]
    pub test: Option<Vec<String>>,
}

/// A manifest-like document, told apart by media type or shape.
#[derive(Debug)]
pub enum AnyManifest {
    Index(Index),
    Manifest(Manifest),
}

impl AnyManifest {
    /// Decodes a manifest or an index; `media_type` (from a descriptor or a Content-Type
    /// header) decides when given, the document's shape otherwise.
    pub fn parse(bytes: &[u8], media_type: &str) -> Result<AnyManifest, String> {
        let v: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let mt = v
            .get("mediaType")
            .and_then(|m| m.as_str())
            .unwrap_or(media_type);
        let is_index =
            mt == OCI_INDEX || mt == DOCKER_LIST || (mt.is_empty() && v.get("manifests").is_some());
        if is_index {
            serde_json::from_value(v)
                .map(AnyManifest::Index)
                .map_err(|e| format!("invalid image index: {e}"))
        } else if v.get("config").is_some() && v.get("layers").is_some() {
            serde_json::from_value(v)
                .map(AnyManifest::Manifest)
                .map_err(|e| format!("invalid image manifest: {e}"))
        } else if v.get("schemaVersion").and_then(serde_json::Value::as_u64) == Some(1) {
            Err("Docker schema 1 manifests are not supported (deprecated since 2017); push the image again with a current client".into())
        } else {
            Err(format!(
                "unrecognised manifest (media type `{mt}`): expected an OCI manifest or index, or a Docker v2 manifest or list"
            ))
        }
    }
}
