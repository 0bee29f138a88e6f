//! Building small images from in-memory files: OCI layouts, `docker save` archives and
//! registry pushes. Used by the tests and the benchmark, and handy for fixtures.

use std::io::Write;
use std::path::Path;

pub mod exe;

use crate::decode::Compression;
use crate::digest::sha256_digest;
use crate::error::{Error, Result};
use crate::source::registry::Client;
use crate::spec::{
    Descriptor, Index, Manifest, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD,
    OCI_MANIFEST, Platform,
};

/// One tar entry of a layer.
#[derive(Clone, Debug)]
pub enum Entry {
    Dir(String),
    /// A directory with explicit permission bits (`0o1777`, `0o777`).
    DirMode {
        path: String,
        mode: u32,
    },
    File {
        path: String,
        data: Vec<u8>,
        mode: u32,
    },
    Symlink {
        path: String,
        target: String,
    },
    HardLink {
        path: String,
        target: String,
    },
    /// `.wh.NAME` next to `path`'s file name.
    Whiteout(String),
    /// `.wh..wh..opq` in directory `path`.
    Opaque(String),
    /// A file whose header name is written as is (no validation): for traversal tests.
    RawName {
        name: Vec<u8>,
        data: Vec<u8>,
    },
}

impl Entry {
    #[must_use]
    pub fn file(path: &str, data: impl Into<Vec<u8>>) -> Entry {
        Entry::File {
            path: path.into(),
            data: data.into(),
            mode: 0o644,
        }
    }
}

fn io(e: impl std::fmt::Display) -> Error {
    Error::io("building image", e)
}

/// Writes entries as an uncompressed tar.
pub fn layer_tar(entries: &[Entry]) -> Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    let header = |kind: tar::EntryType, size: u64, mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(mode);
        h.set_mtime(1_700_000_000);
        h
    };
    for e in entries {
        match e {
            Entry::Dir(p) => {
                let mut h = header(tar::EntryType::Directory, 0, 0o755);
                b.append_data(
                    &mut h,
                    format!("{}/", p.trim_end_matches('/')),
                    std::io::empty(),
                )
                .map_err(io)?;
            }
            Entry::DirMode { path, mode } => {
                let mut h = header(tar::EntryType::Directory, 0, *mode);
                b.append_data(
                    &mut h,
                    format!("{}/", path.trim_end_matches('/')),
                    std::io::empty(),
                )
                .map_err(io)?;
            }
            Entry::File { path, data, mode } => {
                let mut h = header(tar::EntryType::Regular, data.len() as u64, *mode);
                b.append_data(&mut h, path, &data[..]).map_err(io)?;
            }
            Entry::Symlink { path, target } => {
                let mut h = header(tar::EntryType::Symlink, 0, 0o777);
                b.append_link(&mut h, path, target).map_err(io)?;
            }
            Entry::HardLink { path, target } => {
                let mut h = header(tar::EntryType::Link, 0, 0o644);
                b.append_link(&mut h, path, target).map_err(io)?;
            }
            Entry::Whiteout(p) => {
                let (dir, name) = p.rsplit_once('/').map_or(("", p.as_str()), |(d, n)| (d, n));
                let wh = if dir.is_empty() {
                    format!(".wh.{name}")
                } else {
                    format!("{dir}/.wh.{name}")
                };
                let mut h = header(tar::EntryType::Regular, 0, 0o644);
                b.append_data(&mut h, wh, std::io::empty()).map_err(io)?;
            }
            Entry::Opaque(d) => {
                let mut h = header(tar::EntryType::Regular, 0, 0o644);
                b.append_data(
                    &mut h,
                    format!("{}/.wh..wh..opq", d.trim_end_matches('/')),
                    std::io::empty(),
                )
                .map_err(io)?;
            }
            Entry::RawName { name, data } => {
                let mut h = header(tar::EntryType::Regular, data.len() as u64, 0o644);
                let n = name.len().min(99);
                h.as_old_mut().name[..n].copy_from_slice(&name[..n]);
                h.set_cksum();
                b.append(&h, &data[..]).map_err(io)?;
            }
        }
    }
    b.into_inner().map_err(io)
}

/// Compresses a tar.
#[must_use]
pub fn compress(tar: &[u8], c: Compression) -> Vec<u8> {
    match c {
        Compression::None => tar.to_vec(),
        Compression::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            // Writing into a Vec cannot fail.
            let _ = gz.write_all(tar);
            gz.finish().unwrap_or_default()
        }
        Compression::Zstd => {
            ruzstd::encoding::compress_to_vec(tar, ruzstd::encoding::CompressionLevel::Fastest)
        }
    }
}

/// A built image: blobs plus the documents that name them.
#[derive(Clone, Debug)]
pub struct BuiltImage {
    pub config: Vec<u8>,
    pub manifest: Vec<u8>,
    /// (stored blob, uncompressed tar, media type)
    pub layers: Vec<(Vec<u8>, Vec<u8>, String)>,
}

impl BuiltImage {
    /// Builds an image from layer tars and the container config (`{"User": …}` etc.).
    pub fn new(
        layers: Vec<(Vec<u8>, Compression)>,
        container_config: serde_json::Value,
    ) -> Result<BuiltImage> {
        let mut stored = Vec::new();
        let mut diff_ids = Vec::new();
        let mut history = Vec::new();
        for (i, (tar, c)) in layers.into_iter().enumerate() {
            diff_ids.push(sha256_digest(&tar));
            history.push(serde_json::json!({"created_by": format!("layer {i}")}));
            let mt = match c {
                Compression::None => OCI_LAYER,
                Compression::Gzip => OCI_LAYER_GZIP,
                Compression::Zstd => OCI_LAYER_ZSTD,
            };
            stored.push((compress(&tar, c), tar, mt.to_string()));
        }
        let p = Platform::host();
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": p.architecture, "os": p.os,
            "config": container_config,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        }))
        .map_err(io)?;
        let manifest = Manifest {
            schema_version: 2,
            media_type: OCI_MANIFEST.into(),
            config: Descriptor {
                media_type: OCI_CONFIG.into(),
                digest: sha256_digest(&config),
                size: config.len() as u64,
                ..Descriptor::default()
            },
            layers: stored
                .iter()
                .map(|(blob, _, mt)| Descriptor {
                    media_type: mt.clone(),
                    digest: sha256_digest(blob),
                    size: blob.len() as u64,
                    ..Descriptor::default()
                })
                .collect(),
        };
        let manifest = serde_json::to_vec(&manifest).map_err(io)?;
        Ok(BuiltImage {
            config,
            manifest,
            layers: stored,
        })
    }

    fn manifest_descriptor(&self, tag: Option<&str>) -> Descriptor {
        let mut d = Descriptor {
            media_type: OCI_MANIFEST.into(),
            digest: sha256_digest(&self.manifest),
            size: self.manifest.len() as u64,
            platform: Some(Platform::host()),
            ..Descriptor::default()
        };
        if let Some(t) = tag {
            d.annotations
                .insert(crate::source::oci::REF_NAME.into(), t.into());
        }
        d
    }

    /// Writes an OCI image layout (adds to an existing one's index).
    pub fn write_oci_layout(&self, dir: &Path, tag: Option<&str>) -> Result<()> {
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).map_err(io)?;
        let put = |data: &[u8]| {
            let d = sha256_digest(data);
            std::fs::write(blobs.join(&d["sha256:".len()..]), data).map_err(io)
        };
        put(&self.config)?;
        put(&self.manifest)?;
        for (blob, _, _) in &self.layers {
            put(blob)?;
        }
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(io)?;
        let index_path = dir.join("index.json");
        let mut index: Index = std::fs::read(&index_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Index {
                schema_version: 2,
                media_type: OCI_INDEX.into(),
                manifests: Vec::new(),
            });
        index.manifests.push(self.manifest_descriptor(tag));
        std::fs::write(index_path, serde_json::to_vec(&index).map_err(io)?).map_err(io)
    }

    /// Writes a `docker save` archive (legacy layout: `<hex>.json`, `<id>/layer.tar`).
    pub fn write_docker_archive(&self, file: &Path, repo_tag: &str) -> Result<()> {
        let f = std::fs::File::create(file).map_err(io)?;
        let mut b = tar::Builder::new(f);
        let mut add = |name: &str, data: &[u8]| {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, data).map_err(io)
        };
        let config_name = format!("{}.json", &sha256_digest(&self.config)["sha256:".len()..]);
        add(&config_name, &self.config)?;
        let mut layer_names = Vec::new();
        for (_, tar, _) in &self.layers {
            let name = format!("{}/layer.tar", &sha256_digest(tar)["sha256:".len()..]);
            add(&name, tar)?;
            layer_names.push(name);
        }
        let manifest = serde_json::json!([{"Config": config_name, "RepoTags": [repo_tag], "Layers": layer_names}]);
        add("manifest.json", &serde_json::to_vec(&manifest).map_err(io)?)?;
        b.into_inner().map_err(io)?.flush().map_err(io)
    }

    /// Pushes blobs and the manifest to a registry under `tag`.
    pub fn push(&self, client: &Client, tag: &str) -> Result<String> {
        client.push_blob(&self.config)?;
        for (blob, _, _) in &self.layers {
            client.push_blob(blob)?;
        }
        client.push_manifest(tag, &self.manifest, OCI_MANIFEST)
    }

    /// An OCI index with this image for the host platform and `others` for other
    /// platforms, as bytes (for multi-arch tests).
    #[must_use]
    pub fn index_with(&self, others: &[(&BuiltImage, Platform)]) -> Vec<u8> {
        let mut manifests = vec![self.manifest_descriptor(None)];
        for (img, p) in others {
            let mut d = img.manifest_descriptor(None);
            d.platform = Some(p.clone());
            manifests.push(d);
        }
        serde_json::to_vec(&Index {
            schema_version: 2,
            media_type: OCI_INDEX.into(),
            manifests,
        })
        .unwrap_or_default()
    }
}
