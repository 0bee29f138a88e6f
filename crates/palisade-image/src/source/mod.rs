//! Image sources: each turns a reference into an [`Image`] (verified config, layer
//! descriptors) and hands out layer blobs as streams.

pub mod archive;
pub mod auth;
pub mod oci;
pub mod registry;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use crate::decode::{Raw, Verify};
use crate::digest;
use crate::error::{Error, Result};
use crate::reference::ImageRef;
use crate::spec::{Descriptor, ImageConfig, Index, Platform};

/// Largest manifest, index or config accepted (Docker Hub's limit is 4 MiB).
pub const MAX_DOCUMENT: u64 = 16 * 1024 * 1024;

/// Where blobs are read from.
pub trait BlobStore: Send + Sync {
    /// The stored bytes of a blob (still compressed for compressed layers).
    fn open(&self, desc: &Descriptor) -> Result<Raw>;
}

/// One layer to read.
#[derive(Clone, Debug)]
pub struct Layer {
    pub descriptor: Descriptor,
    /// The config's `diff_id` for this layer, when present.
    pub diff_id: Option<String>,
    pub verify: Verify,
}

impl Layer {
    /// The name shown in findings and errors: the blob digest.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.descriptor.digest
    }
}

/// Options for opening an image.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// Which image of a multi-platform index (`linux/arm64`); default: the only one, or the
    /// host's platform.
    pub platform: Option<Platform>,
    /// Use plain HTTP for this registry even when it is not on localhost.
    pub insecure: bool,
    /// Docker config file with credentials; default `$DOCKER_CONFIG/config.json` or
    /// `~/.docker/config.json`, then `$REGISTRY_AUTH_FILE` and containers' `auth.json`.
    pub auth_file: Option<PathBuf>,
}

/// An opened image: its verified configuration and the layers to stream.
pub struct Image {
    /// The reference as the user wrote it, normalised (`oci:dir:tag`,
    /// `docker.io/library/python:3.9`).
    pub reference: String,
    pub manifest_digest: Option<String>,
    /// The digest the reference itself names or resolved to: a multi-platform image's index,
    /// else the manifest. Signatures (`cosign sign REF`) are made over this one.
    pub reference_digest: Option<String>,
    pub config_digest: Option<String>,
    pub config: ImageConfig,
    pub layers: Vec<Layer>,
    /// For `dir:` sources: the root filesystem on disk (there are no layers).
    pub rootfs: Option<PathBuf>,
    pub(crate) store: Option<Arc<dyn BlobStore>>,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image")
            .field("reference", &self.reference)
            .field("manifest_digest", &self.manifest_digest)
            .field("layers", &self.layers.len())
            .finish_non_exhaustive()
    }
}

impl Image {
    /// Opens the raw stream of layer `i`.
    pub fn open_layer(&self, layer: &Layer) -> Result<Raw> {
        match &self.store {
            Some(s) => s.open(&layer.descriptor),
            None => Err(Error::Layer {
                layer: layer.name().to_string(),
                message: "this image source has no blobs".into(),
            }),
        }
    }
}

/// Opens an image from any reference.
pub fn open(reference: &ImageRef, opts: &OpenOptions) -> Result<Image> {
    match reference {
        ImageRef::Oci { dir, tag } => oci::open(dir, tag.as_deref(), opts),
        ImageRef::DockerArchive { file, tag } => archive::open(file, tag.as_deref()),
        ImageRef::Dir { root } => {
            let meta =
                std::fs::metadata(root).map_err(|e| Error::io(root.display().to_string(), e))?;
            if !meta.is_dir() {
                return Err(Error::format(
                    root.display().to_string(),
                    "dir: expects a directory holding an unpacked root filesystem",
                ));
            }
            Ok(Image {
                reference: reference.to_string(),
                manifest_digest: None,
                reference_digest: None,
                config_digest: None,
                config: ImageConfig::default(),
                layers: Vec::new(),
                rootfs: Some(root.clone()),
                store: None,
            })
        }
        ImageRef::Registry(r) => registry::open(r, opts),
    }
}

/// Reads a whole (small) blob and checks its digest and size.
pub(crate) fn read_document(
    store: &dyn BlobStore,
    desc: &Descriptor,
    what: &str,
) -> Result<Vec<u8>> {
    if desc.size > MAX_DOCUMENT {
        return Err(Error::format(
            what,
            format!(
                "{} bytes is more than the {MAX_DOCUMENT}-byte limit for manifests and configs",
                desc.size
            ),
        ));
    }
    let mut data = Vec::new();
    store
        .open(desc)?
        .take(MAX_DOCUMENT + 1)
        .read_to_end(&mut data)
        .map_err(|e| Error::io(what, e))?;
    if data.len() as u64 > MAX_DOCUMENT {
        return Err(Error::format(
            what,
            format!("more than {MAX_DOCUMENT} bytes"),
        ));
    }
    digest::verify(what, &data, &desc.digest)?;
    Ok(data)
}

/// Decodes an image config.
pub(crate) fn parse_config(data: &[u8], what: &str) -> Result<ImageConfig> {
    serde_json::from_slice(data)
        .map_err(|e| Error::format(what, format!("invalid image config JSON: {e}")))
}

/// Whether a descriptor in an index is an image for some platform (not a BuildKit
/// attestation manifest, which uses `unknown/unknown`).
fn is_image_entry(d: &Descriptor) -> bool {
    !d.annotations.contains_key("vnd.docker.reference.type")
        && d.platform
            .as_ref()
            .is_none_or(|p| p.os != "unknown" && p.architecture != "unknown")
}

/// Picks the manifest of an index for the wanted platform (or the host's, when the index
/// has more than one image and none was asked for).
pub(crate) fn select_manifest<'a>(
    index: &'a Index,
    platform: Option<&Platform>,
    what: &str,
) -> Result<&'a Descriptor> {
    let images: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| is_image_entry(d))
        .collect();
    let available = || {
        images
            .iter()
            .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(want) = platform {
        return images
            .iter()
            .copied()
            .find(|d| d.platform.as_ref().is_some_and(|p| want.matches(p)))
            .ok_or_else(|| {
                Error::format(
                    what,
                    format!(
                        "no image for platform {want}; the index has: {}",
                        available()
                    ),
                )
            });
    }
    match images.as_slice() {
        [] => Err(Error::format(what, "the index lists no images")),
        [one] => Ok(one),
        many => {
            let host = Platform::host();
            many.iter()
                .copied()
                .find(|d| d.platform.as_ref().is_some_and(|p| host.matches(p)))
                .ok_or_else(|| {
                    Error::format(
                        what,
                        format!(
                            "multi-platform index without an image for this host ({host}); choose one with --platform: {}",
                            available()
                        ),
                    )
                })
        }
    }
}

/// Layers of a manifest, paired with the config's diff_ids.
pub(crate) fn layers_of(
    manifest_layers: &[Descriptor],
    config: &ImageConfig,
    what: &str,
) -> Result<Vec<Layer>> {
    let diff_ids = &config.rootfs.diff_ids;
    if !diff_ids.is_empty() && diff_ids.len() != manifest_layers.len() {
        return Err(Error::format(
            what,
            format!(
                "manifest lists {} layers but the config has {} diff_ids",
                manifest_layers.len(),
                diff_ids.len()
            ),
        ));
    }
    manifest_layers
        .iter()
        .enumerate()
        .map(|(i, d)| {
            digest::parse_sha256(&d.digest)?;
            Ok(Layer {
                descriptor: d.clone(),
                diff_id: diff_ids.get(i).cloned(),
                verify: Verify::Blob {
                    digest: d.digest.clone(),
                    size: Some(d.size),
                },
            })
        })
        .collect()
}
