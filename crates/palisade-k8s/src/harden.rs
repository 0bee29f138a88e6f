//! `palisade harden`: the fixes of a scan, applied.
//!
//! Fix operations say "set this field" (parents created as needed). For one document they are
//! deduplicated, turned into strict RFC 6902 operations against the document as it evolves
//! (`ensure_op`), and applied to the source text by `palisade_yaml::edit`, which keeps
//! comments, key order and untouched documents byte for byte. The strict operations are kept:
//! they are the patch a GitOps user can commit and the one the mutating webhook returns.

use std::sync::Arc;

use palisade_policy::{Finding, InputError};
use palisade_yaml::edit::{PatchOp, apply_patches_to_stream, ensure_op};
use serde_json::Value;

use crate::scan::{FileScan, ScanOptions, scan_source};

/// The outcome of hardening one stream.
#[derive(Debug, Default)]
pub struct Hardened {
    /// The new text (equal to the input when nothing was fixable).
    pub text: String,
    /// Strict RFC 6902 patches per document index, as applied.
    pub patches: Vec<(usize, Vec<PatchOp>)>,
    /// Findings that were fixed.
    pub fixed: Vec<Finding>,
    /// Findings without a fix (they need a person: a hostPath volume, a host port…).
    pub unfixable: Vec<Finding>,
    /// Where a fix may need the image's cooperation.
    pub notes: Vec<String>,
    pub errors: Vec<InputError>,
    /// As [`FileScan::not_kubernetes`]: YAML/JSON without Kubernetes objects (a Helm
    /// `values.yaml`); `errors` then says so for each document.
    pub not_kubernetes: bool,
}

/// Hardens one YAML/JSON stream. `opts` must carry hardening options
/// ([`ScanOptions::with_fixes`]) or nothing is fixable.
#[must_use]
pub fn harden_source(file: &Arc<str>, src: &str, opts: &ScanOptions) -> Hardened {
    let scan: FileScan = scan_source(file, src, opts);
    let mut out = Hardened {
        errors: scan.errors,
        not_kubernetes: scan.not_kubernetes,
        ..Hardened::default()
    };
    let mut per_doc: Vec<(usize, Vec<PatchOp>)> = Vec::new();
    for f in scan.findings {
        if f.fix.is_empty() {
            out.unfixable.push(f);
            continue;
        }
        let doc = f.location.document.unwrap_or(0);
        match per_doc.iter_mut().find(|(d, _)| *d == doc) {
            Some((_, ops)) => ops.extend(f.fix.iter().cloned()),
            None => per_doc.push((doc, f.fix.clone())),
        }
        out.fixed.push(f);
    }
    if per_doc.is_empty() {
        out.text = src.to_string();
        return out;
    }
    let docs: Vec<Option<Value>> = palisade_yaml::parse_stream(src)
        .into_iter()
        .map(|d| {
            // Built directly; the text round trip only where the direct form declines.
            d.ok().and_then(|d| {
                d.root
                    .to_json_value()
                    .or_else(|| serde_json::from_str(&d.root.to_json()).ok())
            })
        })
        .collect();
    per_doc.sort_by_key(|(d, _)| *d);
    for (doc, ops) in &per_doc {
        let Some(Some(json)) = docs.get(*doc) else {
            continue;
        };
        match strict_patch(json.clone(), ops.clone()) {
            Ok(strict) if !strict.is_empty() => out.patches.push((*doc, strict)),
            Ok(_) => {}
            Err(message) => out.errors.push(InputError {
                file: file.clone(),
                line: 0,
                column: 0,
                message: format!("document {}: cannot harden: {message}", doc + 1),
            }),
        }
    }
    match apply_patches_to_stream(src, &out.patches) {
        Ok(text) => out.text = text,
        Err(e) => {
            out.errors.push(InputError {
                file: file.clone(),
                line: 0,
                column: 0,
                message: format!("cannot write the fixes into the YAML: {e}"),
            });
            out.text = src.to_string();
            out.patches.clear();
        }
    }
    out.notes = notes(&out.patches);
    out
}

/// One document's fix operations as the strict RFC 6902 patch that is applied: ordered for
/// application, then resolved against the document. `harden` and the mutating webhook both
/// call this, so their patches are the same.
pub fn strict_patch(json: Value, mut ops: Vec<PatchOp>) -> Result<Vec<PatchOp>, String> {
    crate::fix::order_for_application(&mut ops);
    strict_ops(json, &ops)
}

/// Resolves "set" operations into strict RFC 6902 against the document as each one lands,
/// skipping duplicates and operations that are already true.
pub fn strict_ops(mut json: Value, ops: &[PatchOp]) -> Result<Vec<PatchOp>, String> {
    let mut strict: Vec<PatchOp> = Vec::new();
    let mut seen: Vec<&PatchOp> = Vec::new();
    for op in ops {
        if seen.contains(&op) {
            continue;
        }
        seen.push(op);
        let resolved = match op {
            PatchOp::Add { path, value } => {
                if path.ends_with("/-") {
                    // Append only when the value is not in the list yet.
                    let list = json
                        .pointer(&path[..path.len() - 2])
                        .and_then(Value::as_array);
                    match list {
                        Some(l) if l.contains(value) => continue,
                        Some(_) => op.clone(),
                        // No list yet: create it with this one item.
                        None => ensure_op(&json, path, value.clone()).map_err(|e| e.to_string())?,
                    }
                } else if json.pointer(path) == Some(value) {
                    continue;
                } else {
                    ensure_op(&json, path, value.clone()).map_err(|e| e.to_string())?
                }
            }
            PatchOp::Remove { path } => {
                if json.pointer(path).is_none() {
                    continue;
                }
                op.clone()
            }
            other => other.clone(),
        };
        let patch: json_patch::Patch =
            serde_json::from_value(serde_json::json!([&resolved])).map_err(|e| e.to_string())?;
        json_patch::patch(&mut json, &patch).map_err(|e| e.to_string())?;
        strict.push(resolved);
    }
    Ok(strict)
}

fn notes(patches: &[(usize, Vec<PatchOp>)]) -> Vec<String> {
    let mut notes = Vec::new();
    for (doc, ops) in patches {
        for op in ops {
            let path = op.path();
            let mentions_uid = path.ends_with("/runAsUser")
                || matches!(op, PatchOp::Add { value, .. } if value.get("runAsUser").is_some());
            if mentions_uid {
                notes.push(format!(
                    "document {}: {path}: the pod now runs as a non-root UID; the image must not need root (for example to write to /var/cache or bind ports below 1024)",
                    doc + 1
                ));
            }
            let read_only = path.ends_with("/readOnlyRootFilesystem")
                || matches!(op, PatchOp::Add { value, .. } if value.get("readOnlyRootFilesystem").is_some());
            if read_only {
                notes.push(format!(
                    "document {}: {path}: the root filesystem is now read-only; /tmp and the caches the env names have volumes, other paths the image writes (a cache under the home directory) need one too",
                    doc + 1
                ));
            }
            if let PatchOp::Add { value, .. } = op
                && let (Some(name), Some(dir)) = (
                    value.get("name").and_then(serde_json::Value::as_str),
                    value.get("mountPath").and_then(serde_json::Value::as_str),
                )
                && name.starts_with(
                    crate::rules::filesystem::read_only_root_filesystem::CACHE_VOLUME_PREFIX,
                )
            {
                notes.push(format!(
                    "document {}: {path}: {dir}, a cache the container writes, is now an emptyDir volume (--cache-size-limit); mount a persistentVolumeClaim there to keep downloaded models across pod restarts",
                    doc + 1
                ));
            }
        }
    }
    notes
}
