//! `docker save` archives: `manifest.json` naming a config and uncompressed layer tars
//! (legacy `<id>/layer.tar` or, since Docker 25, `blobs/sha256/<hex>`). Members are read in
//! place from the tarball (seek + length), never extracted.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::{BlobStore, Image, Layer, parse_config};
use crate::decode::{Raw, Verify};
use crate::digest;
use crate::error::{Error, Result};
use crate::spec::{Descriptor, OCI_LAYER};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Where each member's data is inside the tarball.
pub struct ArchiveStore {
    file: std::path::PathBuf,
    members: HashMap<String, (u64, u64)>,
    /// Blob digest (diff_id) → member path.
    by_digest: HashMap<String, String>,
}

const MAX_MEMBERS: usize = 100_000;

fn normalize(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.join("/")
}

impl ArchiveStore {
    fn index(file: &Path) -> Result<ArchiveStore> {
        let shown = file.display().to_string();
        let f = File::open(file).map_err(|e| Error::io(&shown, e))?;
        let mut ar = tar::Archive::new(f);
        let mut members = HashMap::new();
        let mut links: Vec<(String, String)> = Vec::new();
        let entries = ar
            .entries_with_seek()
            .map_err(|e| Error::io(&shown, format!("{e}; expected a tar archive (docker save)")))?;
        for (i, entry) in entries.enumerate() {
            let entry = entry.map_err(|e| Error::format(&shown, format!("tar entry #{i}: {e}")))?;
            if members.len() >= MAX_MEMBERS {
                return Err(Error::format(
                    &shown,
                    format!("more than {MAX_MEMBERS} members"),
                ));
            }
            let path = normalize(&String::from_utf8_lossy(&entry.path_bytes()));
            let kind = entry.header().entry_type();
            if kind.is_file() {
                members.insert(path, (entry.raw_file_position(), entry.size()));
            } else if kind.is_symlink() || kind.is_hard_link() {
                // Legacy archives link duplicate layers: `b/layer.tar -> ../a/layer.tar`.
                if let Some(target) = entry.link_name_bytes().map(|t| t.into_owned()) {
                    let target = String::from_utf8_lossy(&target).into_owned();
                    let joined = if kind.is_symlink() {
                        match path.rsplit_once('/') {
                            Some((dir, _)) => format!("{dir}/{target}"),
                            None => target,
                        }
                    } else {
                        target
                    };
                    links.push((path, normalize(&joined)));
                }
            }
        }
        for (from, to) in links {
            if let Some(&m) = members.get(&to) {
                members.insert(from, m);
            }
        }
        Ok(ArchiveStore {
            file: file.to_path_buf(),
            members,
            by_digest: HashMap::new(),
        })
    }

    fn open_member(&self, member: &str) -> Result<Raw> {
        let shown = format!("{}: {member}", self.file.display());
        let &(offset, size) = self
            .members
            .get(&normalize(member))
            .ok_or_else(|| Error::format(&shown, "no such member in the archive"))?;
        let mut f = File::open(&self.file).map_err(|e| Error::io(&shown, e))?;
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io(&shown, e))?;
        Ok(Box::new(f.take(size)))
    }

    fn read_member(&self, member: &str, limit: u64) -> Result<Vec<u8>> {
        let shown = format!("{}: {member}", self.file.display());
        let mut data = Vec::new();
        self.open_member(member)?
            .take(limit + 1)
            .read_to_end(&mut data)
            .map_err(|e| Error::io(&shown, e))?;
        if data.len() as u64 > limit {
            return Err(Error::format(&shown, format!("more than {limit} bytes")));
        }
        Ok(data)
    }
}

impl BlobStore for ArchiveStore {
    fn open(&self, desc: &Descriptor) -> Result<Raw> {
        let member = self.by_digest.get(&desc.digest).ok_or_else(|| {
            Error::format(
                self.file.display().to_string(),
                format!("no layer {} in the archive", desc.digest),
            )
        })?;
        self.open_member(member)
    }
}

/// The digest a member's name states (`blobs/sha256/<hex>`, `<hex>.json`), if any.
fn named_digest(member: &str) -> Option<String> {
    let base = member.rsplit('/').next().unwrap_or(member);
    let hex = base.strip_suffix(".json").unwrap_or(base);
    let d = format!("sha256:{hex}");
    digest::parse_sha256(&d).is_ok().then_some(d)
}

/// Opens `docker-archive:FILE[:REPO:TAG]`.
pub fn open(file: &Path, tag: Option<&str>) -> Result<Image> {
    let shown = file.display().to_string();
    let mut store = ArchiveStore::index(file)?;
    let manifest = store.read_member("manifest.json", super::MAX_DOCUMENT)?;
    let entries: Vec<Entry> = serde_json::from_slice(&manifest).map_err(|e| {
        Error::format(
            format!("{shown}: manifest.json"),
            format!("{e}; expected [{{\"Config\", \"RepoTags\", \"Layers\"}}]"),
        )
    })?;
    let entry = match tag {
        Some(t) => {
            let want = crate::reference::parse_registry(t).ok();
            entries
                .iter()
                .find(|e| {
                    e.repo_tags.iter().flatten().any(|rt| {
                        rt == t
                            || want.is_some() && crate::reference::parse_registry(rt).ok() == want
                    })
                })
                .ok_or_else(|| {
                    Error::format(
                        format!("{shown}: manifest.json"),
                        format!("no image tagged `{t}`"),
                    )
                })?
        }
        None => match entries.as_slice() {
            [one] => one,
            [] => {
                return Err(Error::format(
                    format!("{shown}: manifest.json"),
                    "lists no images",
                ));
            }
            [first, ..] => first,
        },
    };
    let cwhat = format!("{shown}: {}", entry.config);
    let cdata = store.read_member(&entry.config, super::MAX_DOCUMENT)?;
    let config_digest = digest::sha256_digest(&cdata);
    if let Some(named) = named_digest(&entry.config)
        && named != config_digest
    {
        return Err(Error::Digest {
            what: cwhat,
            expected: named,
            actual: config_digest,
        });
    }
    let config = parse_config(&cdata, &cwhat)?;
    if config.rootfs.diff_ids.len() != entry.layers.len() {
        return Err(Error::format(
            &cwhat,
            format!(
                "manifest.json lists {} layers but the config has {} diff_ids",
                entry.layers.len(),
                config.rootfs.diff_ids.len()
            ),
        ));
    }
    let mut layers = Vec::new();
    for (member, diff_id) in entry.layers.iter().zip(&config.rootfs.diff_ids) {
        digest::parse_sha256(diff_id)?;
        let size = store.members.get(&normalize(member)).map_or(0, |m| m.1);
        store.by_digest.insert(diff_id.clone(), member.clone());
        layers.push(Layer {
            descriptor: Descriptor {
                media_type: OCI_LAYER.into(),
                digest: diff_id.clone(),
                size,
                ..Descriptor::default()
            },
            diff_id: Some(diff_id.clone()),
            verify: Verify::DiffId(diff_id.clone()),
        });
    }
    let reference = match tag {
        Some(t) => format!("docker-archive:{shown}:{t}"),
        None => format!("docker-archive:{shown}"),
    };
    Ok(Image {
        reference,
        manifest_digest: None,
        reference_digest: None,
        config_digest: Some(config_digest),
        config,
        layers,
        rootfs: None,
        store: Some(Arc::new(store)),
    })
}
