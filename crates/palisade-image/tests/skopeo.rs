//! Interoperability with skopeo (containers/image): the test image, written as an OCI layout
//! by this crate, is copied by `skopeo copy` into a real `docker-registry` (blobs kept), into
//! a `docker-archive:` tarball (layers stored uncompressed, verified by `diff_id`; from a
//! gzip-only variant, since skopeo 1.9 cannot convert zstd layers to Docker formats), and,
//! decompressed into skopeo's `dir:` transport, recompressed by skopeo's own zstd encoder into
//! a second registry and from there into an OCI layout. Every copy must scan to the same
//! inventory, file view and findings as the original. Skipped with one line when skopeo or
//! docker-registry is not installed (`.ci/run` installs both).

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::registry::start;
use common::*;
use palisade_image::decode::Compression;
use palisade_image::{ImageScan, ScanOptions, scan_reference};

fn skopeo() -> bool {
    match Command::new("skopeo").arg("--version").output() {
        Ok(o) if o.status.success() => true,
        _ => {
            eprintln!("skipping: skopeo is not installed (apt-get install skopeo)");
            false
        }
    }
}

fn copy(args: &[&str]) {
    let out = Command::new("skopeo")
        .args(["--insecure-policy", "copy", "--quiet"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo copy {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn scan(reference: &str) -> ImageScan {
    scan_reference(reference, &ScanOptions::default())
        .unwrap_or_else(|e| panic!("{reference}: {e}"))
}

/// Everything about a scan that must not depend on how the image was stored.
fn fingerprint(s: &ImageScan) -> (Vec<String>, Option<String>, BTreeSet<String>, Vec<String>) {
    let packages = s
        .inventory
        .packages
        .iter()
        .map(|p| {
            format!(
                "{} {} {} {} {}",
                p.kind.name(),
                p.name,
                p.version,
                p.purl,
                p.path
            )
        })
        .collect();
    let os = s
        .inventory
        .os
        .as_ref()
        .map(|o| format!("{} {}", o.id, o.version_id));
    let files = s.view.iter().map(|(p, _)| p.to_string()).collect();
    // Findings without the layer digests (docker-archive stores layers uncompressed, so
    // their digests differ) but with the path inside the layer.
    let mut findings: Vec<String> = s
        .findings
        .iter()
        .map(|f| {
            let member = f.location.member.as_deref().unwrap_or("");
            let path = member
                .strip_prefix("sha256:")
                .and_then(|m| m.split_once('/'))
                .map_or(member, |(_, p)| p);
            format!("{} {} {}", f.rule.code, path, f.location.pointer)
        })
        .collect();
    findings.sort();
    (packages, os, files, findings)
}

#[test]
fn skopeo_copies_scan_the_same() {
    if !skopeo() {
        return;
    }
    let Some(reg) = start(None) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    test_image().write_oci_layout(&layout, Some("v1")).unwrap();
    let oci = format!("oci:{}:v1", layout.display());
    let original = scan(&oci);
    assert!(!original.inventory.packages.is_empty());
    let want = fingerprint(&original);

    // Into the registry.
    let remote = format!("localhost:{}/interop/img:1", reg.port);
    copy(&[
        "--dest-tls-verify=false",
        &oci,
        &format!("docker://{remote}"),
    ]);
    let from_registry = scan(&remote);
    assert_eq!(fingerprint(&from_registry), want, "registry copy");
    // skopeo keeps compressed blobs as they are (and compresses the uncompressed layer).
    for (a, b) in original.layers.iter().zip(&from_registry.layers) {
        if a.media_type.ends_with("+gzip") || a.media_type.ends_with("+zstd") {
            assert_eq!(a.digest, b.digest, "{}", a.media_type);
        } else {
            assert!(b.media_type.ends_with("+gzip"), "{}", b.media_type);
        }
    }

    // Into a docker save tarball (uncompressed layers, verified by diff_id). Docker's
    // formats have no zstd media type and skopeo 1.9 will not convert one, so this copy
    // starts from the same layers compressed with gzip.
    let gz_layout = dir.path().join("layout-gz");
    test_image_compressed([Compression::Gzip, Compression::Gzip, Compression::None])
        .write_oci_layout(&gz_layout, Some("v1"))
        .unwrap();
    let tar = dir.path().join("img.tar");
    copy(&[
        &format!("oci:{}:v1", gz_layout.display()),
        &format!("docker-archive:{}:interop/img:1", tar.display()),
    ]);
    let archive = scan(&format!("docker-archive:{}", tar.display()));
    assert!(
        archive
            .errors
            .iter()
            .all(|e| !e.to_string().contains("digest")),
        "{:?}",
        archive.errors
    );
    assert_eq!(fingerprint(&archive), want, "docker-archive copy");

    // Decompressed by skopeo into its `dir:` transport, then compressed by skopeo's zstd
    // encoder (klauspost/compress) on the way into a registry.
    let plain = dir.path().join("plain");
    copy(&[
        "--src-tls-verify=false",
        "--dest-decompress",
        &format!("docker://{remote}"),
        &format!("dir:{}", plain.display()),
    ]);
    // A second registry: in the first, skopeo's blob-info cache would reuse the gzip blobs.
    let Some(reg2) = start(None) else {
        return;
    };
    let zstd_remote = format!("localhost:{}/interop/img:zstd", reg2.port);
    copy(&[
        "--dest-tls-verify=false",
        "--dest-compress",
        "--dest-compress-format",
        "zstd",
        &format!("dir:{}", plain.display()),
        &format!("docker://{zstd_remote}"),
    ]);
    let zstd = scan(&zstd_remote);
    assert!(
        zstd.layers.iter().all(|l| l.media_type.ends_with("+zstd")),
        "{:?}",
        zstd.layers
            .iter()
            .map(|l| &l.media_type)
            .collect::<Vec<_>>()
    );
    assert_eq!(fingerprint(&zstd), want, "zstd copy");

    // And back into an OCI layout by skopeo.
    let out = dir.path().join("copied");
    copy(&[
        "--src-tls-verify=false",
        &format!("docker://{zstd_remote}"),
        &format!("oci:{}:v2", out.display()),
    ]);
    assert_eq!(
        fingerprint(&scan(&format!("oci:{}:v2", out.display()))),
        want,
        "oci copy"
    );
}
