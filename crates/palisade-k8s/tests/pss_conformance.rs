//! Upstream conformance: every fixture of k8s.io/pod-security-admission shipped in
//! `../shared/data/pss` must get upstream's verdict at its own level and version.

mod pss_common;

use std::path::PathBuf;

use pss_common::{read_manifest, run_all};

fn shared_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/pss"
    ))
}

#[test]
fn every_upstream_fixture_gets_upstream_verdict() {
    let dir = shared_dir();
    let manifest = dir.join("fixtures-manifest.tsv");
    if !manifest.exists() {
        println!(
            "skipping upstream PSS conformance: {} not found",
            manifest.display()
        );
        return;
    }
    let rows = read_manifest(&manifest);
    let yaml_files = walk_yaml(&dir.join("fixtures"));
    assert_eq!(
        rows.len(),
        yaml_files,
        "the manifest must list every fixture file"
    );
    let (passed, failures) = run_all(&dir, &rows);
    println!("upstream PSS fixtures: {passed}/{} passed", rows.len());
    assert!(
        failures.is_empty(),
        "{} of {} upstream fixtures failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    assert!(rows.iter().any(|r| r.allowed) && rows.iter().any(|r| !r.allowed));
}

fn walk_yaml(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("fixtures dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            n += walk_yaml(&path);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            n += 1;
        }
    }
    n
}
