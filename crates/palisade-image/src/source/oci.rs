//! OCI image layouts (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{
    BlobStore, Image, OpenOptions, layers_of, parse_config, read_document, select_manifest,
};
use crate::decode::Raw;
use crate::digest;
use crate::error::{Error, Result};
use crate::spec::{AnyManifest, Descriptor, Index};

/// The tag annotation of an index entry.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Blobs of a layout directory.
pub struct LayoutStore {
    pub dir: PathBuf,
}

impl LayoutStore {
    fn blob_path(&self, d: &str) -> Result<PathBuf> {
        let hex = digest::parse_sha256(d)?;
        Ok(self.dir.join("blobs").join("sha256").join(hex))
    }
}

impl BlobStore for LayoutStore {
    fn open(&self, desc: &Descriptor) -> Result<Raw> {
        let p = self.blob_path(&desc.digest)?;
        let f = File::open(&p)
            .map_err(|e| Error::io(format!("{}: blob {}", self.dir.display(), desc.digest), e))?;
        Ok(Box::new(f))
    }
}

/// Opens `oci:DIR[:TAG]`; TAG may also be a manifest digest.
pub fn open(dir: &Path, tag: Option<&str>, opts: &OpenOptions) -> Result<Image> {
    let shown = dir.display().to_string();
    let layout = dir.join("oci-layout");
    let marker = std::fs::read(&layout).map_err(|e| {
        Error::io(
            format!("{shown}/oci-layout"),
            format!("{e}; expected an OCI image layout directory"),
        )
    })?;
    let v: serde_json::Value = serde_json::from_slice(&marker)
        .map_err(|e| Error::format(format!("{shown}/oci-layout"), format!("not JSON: {e}")))?;
    if v.get("imageLayoutVersion").and_then(|x| x.as_str()) != Some("1.0.0") {
        return Err(Error::format(
            format!("{shown}/oci-layout"),
            "expected {\"imageLayoutVersion\": \"1.0.0\"}",
        ));
    }
    let index_path = dir.join("index.json");
    let bytes =
        std::fs::read(&index_path).map_err(|e| Error::io(format!("{shown}/index.json"), e))?;
    let index: Index = serde_json::from_slice(&bytes).map_err(|e| {
        Error::format(
            format!("{shown}/index.json"),
            format!("invalid image index: {e}"),
        )
    })?;
    let store = Arc::new(LayoutStore {
        dir: dir.to_path_buf(),
    });
    let what = match tag {
        Some(t) => format!("oci:{shown}:{t}"),
        None => format!("oci:{shown}"),
    };
    let entry = pick_entry(&index, tag, &what)?;
    let mut desc = entry.clone();
    let reference_digest = desc.digest.clone();
    // Follow nested indexes (a multi-platform image stored under one tag).
    for _ in 0..4 {
        let data = read_document(
            store.as_ref(),
            &desc,
            &format!("{what}: manifest {}", desc.digest),
        )?;
        match AnyManifest::parse(&data, &desc.media_type)
            .map_err(|m| Error::format(format!("{what}: manifest {}", desc.digest), m))?
        {
            AnyManifest::Index(inner) => {
                desc = select_manifest(&inner, opts.platform.as_ref(), &what)?.clone();
            }
            AnyManifest::Manifest(m) => {
                let cwhat = format!("{what}: config {}", m.config.digest);
                let cdata = read_document(store.as_ref(), &m.config, &cwhat)?;
                let config = parse_config(&cdata, &cwhat)?;
                let layers = layers_of(&m.layers, &config, &what)?;
                return Ok(Image {
                    reference: what,
                    manifest_digest: Some(desc.digest),
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
    Err(Error::format(what, "indexes nested more than 4 deep"))
}

fn pick_entry<'a>(index: &'a Index, tag: Option<&str>, what: &str) -> Result<&'a Descriptor> {
    let tags = || {
        index
            .manifests
            .iter()
            .filter_map(|d| d.annotations.get(REF_NAME).cloned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match tag {
        Some(t) if t.starts_with("sha256:") => index
            .manifests
            .iter()
            .find(|d| d.digest == t)
            .ok_or_else(|| Error::format(what, format!("no manifest {t} in index.json"))),
        Some(t) => index
            .manifests
            .iter()
            .find(|d| {
                d.annotations.get(REF_NAME).is_some_and(|n| n == t)
                    || d.annotations
                        .get("io.containerd.image.name")
                        .is_some_and(|n| n.ends_with(&format!(":{t}")))
            })
            .ok_or_else(|| {
                Error::format(
                    what,
                    format!("no image tagged `{t}` in index.json (tags: {})", tags()),
                )
            }),
        None => match index.manifests.as_slice() {
            [one] => Ok(one),
            [] => Err(Error::format(what, "index.json lists no images")),
            _ => Err(Error::format(
                what,
                format!(
                    "index.json lists several images; name one as oci:DIR:TAG (tags: {})",
                    tags()
                ),
            )),
        },
    }
}
