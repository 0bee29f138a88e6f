//! What the cataloger benches share: the image under test as an OCI layout, and the timed
//! full scan of it.

use std::time::Instant;

use palisade_image::build::{BuiltImage, Entry, layer_tar};
use palisade_image::catalog::PackageType;
use palisade_image::decode::Compression;
use palisade_image::{ScanOptions, scan_reference};

/// An OCI layout on disk, removed when dropped.
pub struct Layout {
    _dir: tempfile::TempDir,
    /// `oci:DIR:bench`.
    pub reference: String,
}

/// `entries` as an image of two gzip layers (half each), the way real images spread files.
pub fn two_gzip_layers(entries: &[Entry]) -> Layout {
    let (a, b) = entries.split_at(entries.len() / 2);
    let img = BuiltImage::new(
        vec![
            (layer_tar(a).unwrap(), Compression::Gzip),
            (layer_tar(b).unwrap(), Compression::Gzip),
        ],
        serde_json::json!({"User": "1000"}),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    img.write_oci_layout(dir.path(), Some("bench")).unwrap();
    let reference = format!("oci:{}:bench", dir.path().display());
    Layout {
        _dir: dir,
        reference,
    }
}

/// The best of three full scans of `reference` (seconds), and how many packages of `kind`
/// the last one found. A scan with errors fails the bench: it would time the wrong work.
pub fn best_scan(reference: &str, parallel: bool, kind: PackageType) -> (f64, usize) {
    let opts = ScanOptions {
        parallel,
        ..ScanOptions::default()
    };
    let mut best = f64::MAX;
    let mut found = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let s = scan_reference(reference, &opts).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        found = s
            .inventory
            .packages
            .iter()
            .filter(|p| p.kind == kind)
            .count();
        assert!(s.errors.is_empty(), "{:?}", s.errors);
    }
    (best, found)
}
