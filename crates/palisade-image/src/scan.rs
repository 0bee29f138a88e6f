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

/// Told how far reading an image's layers has got, to draw a progress bar. Called from the
/// threads that read layers.
pub trait Progress: Send + Sync {
    /// Reading starts: `total` stored (compressed) bytes in `layers` layers.
    fn start(&self, reference: &str, total: u64, layers: usize);
    /// `bytes` more stored bytes were read.
    fn advance(&self, bytes: u64);
    /// Every layer was read.
    fn finish(&self);
}

/// An optional [`Progress`] receiver (`None`: silent).
#[derive(Clone, Default)]
pub struct ProgressHook(pub Option<Arc<dyn Progress>>);

impl std::fmt::Debug for ProgressHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "ProgressHook(on)"
        } else {
            "ProgressHook(off)"
        })
    }
}

/// Counts the stored bytes of a layer as they are read.
struct Counting<R> {
    inner: R,
    progress: Arc<dyn Progress>,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// Everything that decides how a scan runs.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    pub open: OpenOptions,
    pub limits: Limits,
    pub model: palisade_model::ScanOptions,
    /// Read layers in parallel (rayon).
    pub parallel: bool,
    /// Where to report how far the layers have been read.
    pub progress: ProgressHook,
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
            progress: ProgressHook::default(),
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
    /// What the reference names: the index of a multi-platform image, else the manifest.
    pub reference_digest: Option<String>,
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

fn read_layer(
    image: &Image,
    i: usize,
    cap: &Capturer<'_>,
    budget: &Budget,
    progress: &ProgressHook,
) -> LayerScan {
    let layer = &image.layers[i];
    let name = layer.name();
    let raw = match image.open_layer(layer) {
        Ok(r) => match &progress.0 {
            Some(p) => Box::new(Counting {
                inner: r,
                progress: p.clone(),
            }),
            None => r,
        },
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
            if let Some(p) = &opts.progress.0 {
                let total = image.layers.iter().map(|l| l.descriptor.size).sum();
                p.start(&image.reference, total, image.layers.len());
            }
            let read = |&i: &usize| read_layer(image, i, &cap, &budget, &opts.progress);
            let scans = if opts.parallel {
                idx.par_iter().map(read).collect()
            } else {
                idx.iter().map(read).collect()
            };
            if let Some(p) = &opts.progress.0 {
                p.finish();
            }
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
        reference_digest: image.reference_digest.clone(),
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
