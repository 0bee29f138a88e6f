//! Scanning an image end to end: open, read every layer (in parallel), merge the view,
//! catalog, check the config, scan model files.

use std::sync::Arc;

use palisade_policy::{Finding, InputError};
use rayon::prelude::*;

use crate::catalog::{Inventory, catalog};
use crate::decode::LayerReader;
use crate::error::{Error, Result};
use crate::fs::{Budget, Capturer, FileView, LayerScan, Limits, scan_dir, scan_layer};
use crate::reference::ImageRef;
use crate::source::{Image, OpenOptions, open};
use crate::spec::ImageConfig;
use crate::surface::AttackSurface;

/// Everything that decides how a scan runs.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    pub open: OpenOptions,
    pub limits: Limits,
    pub model: palisade_model::ScanOptions,
    /// Read layers in parallel (rayon).
    pub parallel: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            open: OpenOptions::default(),
            limits: Limits::default(),
            model: palisade_model::ScanOptions {
                parallel: false,
                ..palisade_model::ScanOptions::default()
            },
            parallel: true,
        }
    }
}

/// What was read of one layer.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerInfo {
    pub digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff_id: Option<String>,
    pub media_type: String,
    /// Stored (compressed) size from the descriptor.
    pub size: u64,
    /// Bytes of the uncompressed tar.
    pub uncompressed: u64,
    pub entries: usize,
    /// Whether the digest matched and the layer is part of the view.
    pub verified: bool,
    /// The instruction that made the layer, from the config history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// The result of scanning one image.
#[derive(Debug)]
pub struct ImageScan {
    pub reference: String,
    pub manifest_digest: Option<String>,
    pub config_digest: Option<String>,
    pub config: ImageConfig,
    pub layers: Vec<LayerInfo>,
    pub view: FileView,
    pub inventory: Inventory,
    /// Shells, package managers, compilers, setuid files, layer sizes and a plan.
    pub surface: AttackSurface,
    /// Image config rule findings and model findings, in the shared finding model.
    pub findings: Vec<Finding>,
    /// Problems with layers and entries; the rest of the image was still scanned.
    pub errors: Vec<Error>,
}

impl ImageScan {
    /// Errors in the shared model (file = the image reference).
    #[must_use]
    pub fn input_errors(&self) -> Vec<InputError> {
        self.errors
            .iter()
            .map(|e| InputError {
                file: self.reference.as_str().into(),
                line: 0,
                column: 0,
                message: e.to_string(),
            })
            .collect()
    }

    /// Bytes of uncompressed layer content read.
    #[must_use]
    pub fn bytes_read(&self) -> u64 {
        self.layers.iter().map(|l| l.uncompressed).sum()
    }
}

/// Parses `reference` and scans it.
pub fn scan_reference(reference: &str, opts: &ScanOptions) -> Result<ImageScan> {
    let r = ImageRef::parse(reference)?;
    let image = open(&r, &opts.open)?;
    Ok(scan_image(&image, opts))
}

fn read_layer(image: &Image, i: usize, cap: &Capturer<'_>, budget: &Budget) -> LayerScan {
    let layer = &image.layers[i];
    let name = layer.name();
    let raw = match image.open_layer(layer) {
        Ok(r) => r,
        Err(e) => {
            return LayerScan {
                errors: vec![Error::Layer {
                    layer: name.to_string(),
                    message: e.to_string(),
                }],
                ..LayerScan::default()
            };
        }
    };
    match LayerReader::new(raw, &layer.verify) {
        Ok(reader) => scan_layer(reader, i, name, cap, budget),
        Err(e) => LayerScan {
            errors: vec![Error::Layer {
                layer: name.to_string(),
                message: format!("cannot read: {e}"),
            }],
            ..LayerScan::default()
        },
    }
}

/// Scans an opened image. Never fails: problems become [`ImageScan::errors`].
#[must_use]
pub fn scan_image(image: &Image, opts: &ScanOptions) -> ImageScan {
    let cap = Capturer {
        limits: &opts.limits,
        model_opts: &opts.model,
    };
    let budget = Budget::new(&opts.limits);
    let (scans, layer_names): (Vec<LayerScan>, Vec<String>) = match &image.rootfs {
        Some(root) => (
            vec![scan_dir(root, &cap, &budget)],
            vec![format!("dir:{}", root.display())],
        ),
        None => {
            let idx: Vec<usize> = (0..image.layers.len()).collect();
            let scans = if opts.parallel {
                idx.par_iter()
                    .map(|&i| read_layer(image, i, &cap, &budget))
                    .collect()
            } else {
                idx.iter()
                    .map(|&i| read_layer(image, i, &cap, &budget))
                    .collect()
            };
            (
                scans,
                image.layers.iter().map(|l| l.name().to_string()).collect(),
            )
        }
    };
    // History entries that made layers, in order.
    let history: Vec<Option<String>> = image
        .config
        .history
        .iter()
        .filter(|h| !h.empty_layer)
        .map(|h| h.created_by.clone())
        .collect();
    let mut view = FileView::new(opts.limits.max_symlink_hops);
    let mut errors = Vec::new();
    let mut layers = Vec::new();
    for (i, s) in scans.into_iter().enumerate() {
        let name = &layer_names[i];
        let (digest, diff_id, media_type, size) = match image.layers.get(i) {
            Some(l) => (
                l.descriptor.digest.clone(),
                l.diff_id.clone(),
                l.descriptor.media_type.clone(),
                l.descriptor.size,
            ),
            None => (name.clone(), None, "directory".into(), s.bytes),
        };
        layers.push(LayerInfo {
            digest,
            diff_id,
            media_type,
            size,
            uncompressed: s.bytes,
            entries: s.entries,
            verified: s.verified,
            created_by: history.get(i).cloned().flatten(),
        });
        errors.extend(s.errors);
        if s.verified {
            errors.extend(view.apply(i, name, s.ops));
        }
    }
    let inventory = catalog(&view, &layer_names);
    for (path, message) in &inventory.errors {
        let layer = view
            .get(path)
            .and_then(|n| layer_names.get(n.layer))
            .cloned()
            .unwrap_or_default();
        errors.push(Error::Entry {
            layer,
            entry: path.clone(),
            message: message.clone(),
        });
    }
    let file: Arc<str> = image.reference.as_str().into();
    let mut findings = if image.rootfs.is_some() {
        Vec::new()
    } else {
        crate::rules::check(&file, &image.config)
    };
    let surface = AttackSurface::of(&view, &image.config, &layers, image.rootfs.is_none());
    findings.extend(crate::rules::check_view(
        &file,
        &view,
        &surface,
        &layer_names,
    ));
    for (path, node) in view.iter() {
        for m in node.model.iter() {
            let mut f = m.to_policy();
            f.location.file = file.clone();
            let layer = layer_names.get(node.layer).map_or("", String::as_str);
            f.location.member = Some(match &m.member {
                Some(inner) => format!("{layer}/{path}!/{inner}"),
                None => format!("{layer}/{path}"),
            });
            findings.push(f);
        }
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    ImageScan {
        reference: image.reference.clone(),
        manifest_digest: image.manifest_digest.clone(),
        config_digest: image.config_digest.clone(),
        config: image.config.clone(),
        layers,
        view,
        inventory,
        surface,
        findings,
        errors,
    }
}
