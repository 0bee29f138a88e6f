//! A sparse 20 GiB PyTorch checkpoint: the scanner reads the central directory and
//! `data.pkl` only, so the payload is found and the scan is fast whatever the size.

#[path = "../benches/sparse_checkpoint.rs"]
mod sparse_checkpoint;

use std::time::{Duration, Instant};

use palisade_model::{ScanOptions, scan_path};

#[test]
fn sparse_multi_gigabyte_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let benign = dir.path().join("benign.pt");
    sparse_checkpoint::write(&benign, 100, 20 << 30, false).unwrap();
    assert!(std::fs::metadata(&benign).unwrap().len() > 20 << 30);
    let t = Instant::now();
    let findings = scan_path(&benign, &ScanOptions::default());
    let elapsed = t.elapsed();
    assert!(findings.is_empty(), "{findings:?}");
    // Generous for debug builds on a loaded machine; the release figure is in the benchmark.
    assert!(elapsed < Duration::from_secs(2), "scan took {elapsed:?}");

    let evil = dir.path().join("evil.pt");
    sparse_checkpoint::write(&evil, 100, 20 << 30, true).unwrap();
    let findings = scan_path(&evil, &ScanOptions::default());
    let f = findings
        .iter()
        .find(|f| f.code == "PAL801")
        .expect("payload found");
    assert_eq!(f.member.as_deref(), Some("archive/data.pkl"));
}
