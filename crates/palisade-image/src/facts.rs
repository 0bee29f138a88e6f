//! What `palisade scan image` reports about each image as data (the `images` section of
//! the JSON report and the SARIF run's properties): identity, platform, OS, layers, size,
//! package counts and the attack surface. The table output says the same in notices.
//!
//! Every key is always present; what an image does not have is `null` (a `dir:` root
//! filesystem has no digests or platform; an image without os-release has no `os`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::scan::ImageScan;
use crate::surface::AttackSurface;

/// One scanned image.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageFacts<'a> {
    pub reference: &'a str,
    /// Digest of the image manifest that was read.
    pub manifest_digest: Option<&'a str>,
    /// Digest of what the reference names: the index of a multi-platform image, else the
    /// manifest. Signatures are checked against this one.
    pub reference_digest: Option<&'a str>,
    pub config_digest: Option<&'a str>,
    /// From the image config; `null` for a root filesystem.
    pub platform: Option<Platform<'a>>,
    /// From os-release (or the release files catalogers fall back to).
    pub os: Option<Os<'a>>,
    pub layers: Vec<Layer<'a>>,
    /// Paths in the merged filesystem (files, directories, links).
    pub files: usize,
    /// Uncompressed bytes of all layers read.
    pub bytes: u64,
    pub packages: PackageCounts,
    pub surface: &'a AttackSurface,
}

#[derive(Clone, Debug, Serialize)]
pub struct Platform<'a> {
    pub os: &'a str,
    pub architecture: &'a str,
    pub variant: Option<&'a str>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Os<'a> {
    /// `ID` (`debian`, `alpine`).
    pub id: &'a str,
    /// `VERSION_ID` (`12`, `3.20.3`).
    pub version_id: &'a str,
    pub pretty_name: Option<&'a str>,
    /// The OSV ecosystem of the distribution's packages (`Debian:12`); `null` for a
    /// distribution OSV has none for.
    pub ecosystem: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Layer<'a> {
    pub digest: &'a str,
    pub diff_id: Option<&'a str>,
    pub media_type: &'a str,
    /// Stored (compressed) bytes.
    pub size: u64,
    pub uncompressed: u64,
    pub entries: usize,
    /// Whether the digest matched; an unverified layer is not part of the view.
    pub verified: bool,
    /// The history instruction that made the layer.
    pub created_by: Option<&'a str>,
}

/// Packages per type (`deb`, `python`, `cargo`, …) and per OSV ecosystem (`Debian:12`,
/// `crates.io`); packages without an ecosystem (conda, crates from git) are counted only
/// by type.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageCounts {
    pub total: usize,
    pub by_type: BTreeMap<&'static str, usize>,
    pub by_ecosystem: BTreeMap<String, usize>,
}

/// The facts of a scanned image.
#[must_use]
pub fn facts(scan: &ImageScan) -> ImageFacts<'_> {
    let nonempty = |s: &str| !s.is_empty();
    let config = &scan.config;
    let platform = (nonempty(&config.os) || nonempty(&config.architecture)).then(|| Platform {
        os: &config.os,
        architecture: &config.architecture,
        variant: config.variant.as_deref(),
    });
    let os = scan.inventory.os.as_ref().map(|o| Os {
        id: &o.id,
        version_id: &o.version_id,
        pretty_name: Some(o.pretty_name.as_str()).filter(|s| nonempty(s)),
        ecosystem: Some(o.ecosystem()).filter(|e| nonempty(e)),
    });
    let mut packages = PackageCounts::default();
    for p in &scan.inventory.packages {
        packages.total += 1;
        *packages.by_type.entry(p.kind.name()).or_default() += 1;
        if !p.ecosystem.is_empty() {
            *packages
                .by_ecosystem
                .entry(p.ecosystem.clone())
                .or_default() += 1;
        }
    }
    ImageFacts {
        reference: &scan.reference,
        manifest_digest: scan.manifest_digest.as_deref(),
        reference_digest: scan.reference_digest.as_deref(),
        config_digest: scan.config_digest.as_deref(),
        platform,
        os,
        layers: scan
            .layers
            .iter()
            .map(|l| Layer {
                digest: &l.digest,
                diff_id: l.diff_id.as_deref(),
                media_type: &l.media_type,
                size: l.size,
                uncompressed: l.uncompressed,
                entries: l.entries,
                verified: l.verified,
                created_by: l.created_by.as_deref(),
            })
            .collect(),
        files: scan.view.len(),
        bytes: scan.bytes_read(),
        packages,
        surface: &scan.surface,
    }
}
