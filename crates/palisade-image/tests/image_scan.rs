//! End-to-end scans of images the tests build: OCI layout, docker-archive and dir:.

mod common;

use std::collections::BTreeSet;

use common::*;
use palisade_image::catalog::PackageType;
use palisade_image::sbom::{Format, Stamp, render};
use palisade_image::{ImageScan, ScanOptions, scan_reference};

fn scan(reference: &str) -> ImageScan {
    scan_reference(reference, &ScanOptions::default()).unwrap()
}

fn names(s: &ImageScan, kind: PackageType) -> BTreeSet<String> {
    s.inventory
        .packages
        .iter()
        .filter(|p| p.kind == kind)
        .map(|p| format!("{}@{}", p.name, p.version))
        .collect()
}

fn check_main_image(s: &ImageScan) {
    // OS through the etc/os-release symlink.
    let os = s.inventory.os.as_ref().unwrap();
    assert_eq!((os.id.as_str(), os.version_id.as_str()), ("debian", "12"));
    // dpkg: the real status file plus the distroless entry (not its .md5sums).
    let status = host_dpkg_status();
    let debs: Vec<_> = s
        .inventory
        .packages
        .iter()
        .filter(|p| p.kind == PackageType::Deb)
        .collect();
    assert_eq!(debs.len(), count_installed(&status) + 1, "dpkg packages");
    let tz = debs
        .iter()
        .find(|p| p.name == "tzdata" && p.path == "var/lib/dpkg/status.d/tzdata")
        .unwrap();
    assert_eq!(tz.ecosystem, "Debian:12");
    assert!(
        tz.purl
            .starts_with("pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12")
    );
    assert_eq!(tz.layer, s.layers[0].digest);
    // Python: the fixture and the host's dist-infos; the whited-out one is gone.
    let py = names(s, PackageType::Python);
    assert!(py.contains("requests@2.32.3"), "{py:?}");
    assert!(!py.iter().any(|p| p.starts_with("gone@")));
    assert_eq!(py.len(), 1 + host_dist_infos().len());
    assert_eq!(
        names(s, PackageType::Npm),
        ["@types/node@20.11.0", "express@4.19.2"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    assert_eq!(
        names(s, PackageType::Conda),
        ["numpy@1.26.4".to_string()].into()
    );
    let go = names(s, PackageType::Go);
    assert!(
        go.contains("golang.org/x/net@v0.20.0") && go.contains("example.com/srv@(devel)"),
        "{go:?}"
    );
    assert_eq!(
        names(s, PackageType::GoStdlib),
        ["stdlib@v1.22.5".to_string()].into()
    );
    // The view: whiteouts, opaque dirs, hard links, escape-proof symlinks.
    assert!(s.view.get("tmp/build-secret.txt").is_none());
    assert!(s.view.get("opt/old/a.txt").is_none());
    assert!(s.view.get("opt/old/b.txt").is_some());
    assert_eq!(
        s.view.read("usr/lib/os-release.bak"),
        Some(OS_RELEASE.as_bytes())
    );
    let (target, _) = s.view.resolve("evil").unwrap().unwrap();
    assert_eq!(
        target, "etc/shadow",
        "the symlink resolves inside the image"
    );
    assert!(s.view.get("escape.txt").is_none() && s.view.get("../../escape.txt").is_none());
    // The traversal entry is an error naming the layer and entry; the rest was read.
    let errs: Vec<String> = s.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains(&s.layers[1].digest)
            && errs[0].contains("../../escape.txt")
            && errs[0].contains("climbs above"),
        "{errs:?}"
    );
    // Findings: config rules and the pickle, located in the image.
    let codes: Vec<(&str, String)> = s
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.code,
                f.location
                    .member
                    .clone()
                    .unwrap_or_else(|| f.location.pointer.clone()),
            )
        })
        .collect();
    for want in ["PAL600", "PAL601", "PAL602", "PAL603"] {
        assert!(
            codes.iter().any(|(c, _)| *c == want),
            "{want} missing from {codes:?}"
        );
    }
    let pickle = s
        .findings
        .iter()
        .find(|f| f.rule.code.starts_with("PAL8"))
        .expect("pickle finding");
    assert_eq!(pickle.location.file.as_ref(), s.reference);
    assert_eq!(
        pickle.location.member.as_deref(),
        Some(format!("{}/models/evil.pkl", s.layers[1].digest).as_str())
    );
    for f in &s.findings {
        assert!(
            !f.message.contains("hf_abcdefghij"),
            "secret value in message: {}",
            f.message
        );
    }
    assert!(s.layers.iter().all(|l| l.verified));
}

#[test]
fn oci_layout() {
    let dir = tempfile::tempdir().unwrap();
    test_image()
        .write_oci_layout(dir.path(), Some("v1"))
        .unwrap();
    alpine_image()
        .write_oci_layout(dir.path(), Some("alpine"))
        .unwrap();
    let s = scan(&format!("oci:{}:v1", dir.path().display()));
    check_main_image(&s);
    assert!(s.manifest_digest.is_some());
    // Untagged reference to a layout with two images is a clear error.
    let err = scan_reference(
        &format!("oci:{}", dir.path().display()),
        &ScanOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("tags: v1, alpine"), "{err}");
    let err = scan_reference(
        &format!("oci:{}:nope", dir.path().display()),
        &ScanOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no image tagged `nope`"), "{err}");
}

#[test]
fn alpine_apk() {
    let dir = tempfile::tempdir().unwrap();
    alpine_image()
        .write_oci_layout(dir.path(), Some("a"))
        .unwrap();
    let s = scan(&format!("oci:{}:a", dir.path().display()));
    let os = s.inventory.os.as_ref().unwrap();
    assert_eq!(
        (os.id.as_str(), os.version_id.as_str(), os.source.as_str()),
        ("alpine", "3.20.3", "etc/alpine-release")
    );
    let apk: Vec<_> = s
        .inventory
        .packages
        .iter()
        .filter(|p| p.kind == PackageType::Apk)
        .collect();
    assert_eq!(apk.len(), 2);
    assert_eq!(apk[0].name, "busybox-binsh");
    assert_eq!(apk[0].source_name.as_deref(), Some("busybox"));
    assert_eq!(apk[0].ecosystem, "Alpine:v3.20");
    assert!(
        s.findings.is_empty(),
        "non-root, not serving: {:?}",
        s.findings
    );
}

#[test]
fn docker_archive_matches_oci() {
    let dir = tempfile::tempdir().unwrap();
    let img = test_image();
    let tar = dir.path().join("img.tar");
    img.write_docker_archive(&tar, "test/img:1").unwrap();
    let s = scan(&format!("docker-archive:{}", tar.display()));
    let layout = dir.path().join("layout");
    img.write_oci_layout(&layout, Some("v1")).unwrap();
    let o = scan(&format!("oci:{}:v1", layout.display()));
    // docker save layers are named by diff_id; the inventories agree otherwise.
    let strip = |s: &ImageScan| -> Vec<(String, String, String)> {
        s.inventory
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone(), p.path.clone()))
            .collect()
    };
    assert_eq!(strip(&s), strip(&o));
    assert_eq!(s.layers[1].digest, o.layers[1].diff_id.clone().unwrap());
    assert!(s.layers.iter().all(|l| l.verified));
    let tagged = scan(&format!("docker-archive:{}:test/img:1", tar.display()));
    assert_eq!(tagged.inventory.packages.len(), s.inventory.packages.len());
}

#[test]
fn corrupted_layer_is_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let img = test_image();
    img.write_oci_layout(dir.path(), Some("v1")).unwrap();
    // Flip a byte in the uncompressed third layer: its digest no longer matches.
    let (blob, _, _) = &img.layers[2];
    let hex = &palisade_image::digest::sha256_digest(blob)["sha256:".len()..];
    let path = dir.path().join("blobs/sha256").join(hex);
    let mut data = std::fs::read(&path).unwrap();
    data[600] ^= 0xff;
    std::fs::write(&path, data).unwrap();
    let s = scan(&format!("oci:{}:v1", dir.path().display()));
    assert!(!s.layers[2].verified);
    assert!(s.layers[0].verified && s.layers[1].verified);
    assert!(
        s.view.get("app/main.py").is_none(),
        "an unverified layer is not used"
    );
    assert!(s.errors.iter().any(|e| {
        let m = e.to_string();
        m.contains(&s.layers[2].digest) && m.contains("digest mismatch")
    }));
    assert!(
        !s.inventory.packages.is_empty(),
        "the other layers were still scanned"
    );
}

#[test]
fn malformed_manifest_and_missing_layout() {
    let dir = tempfile::tempdir().unwrap();
    let err = scan_reference(
        &format!("oci:{}", dir.path().display()),
        &ScanOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("oci-layout"), "{err}");
    let img = test_image();
    img.write_oci_layout(dir.path(), Some("v1")).unwrap();
    let hex = &palisade_image::digest::sha256_digest(&img.manifest)["sha256:".len()..];
    std::fs::write(
        dir.path().join("blobs/sha256").join(hex),
        b"{\"not\": \"a manifest\"}",
    )
    .unwrap();
    let err = scan_reference(
        &format!("oci:{}:v1", dir.path().display()),
        &ScanOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("digest mismatch"), "{err}");
}

#[test]
fn limits_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    test_image()
        .write_oci_layout(dir.path(), Some("v1"))
        .unwrap();
    let mut opts = ScanOptions::default();
    opts.limits.max_files = 10;
    opts.limits.max_capture = 1000;
    let s = scan_reference(&format!("oci:{}:v1", dir.path().display()), &opts).unwrap();
    let errs: Vec<String> = s.errors.iter().map(ToString::to_string).collect();
    assert!(
        errs.iter().any(|e| e.contains("more than 10 entries")),
        "{errs:?}"
    );
}

#[test]
fn dir_rootfs_never_leaves_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("usr/lib")).unwrap();
    std::fs::write(
        root.join("usr/lib/os-release"),
        "ID=alpine\nVERSION_ID=3.19.1\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("../usr/lib/os-release", root.join("etc/os-release")).unwrap();
        // An absolute link to the host's dpkg status must resolve inside the root.
        std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
        std::os::unix::fs::symlink("/var/lib/dpkg/status", root.join("var/lib/dpkg/status"))
            .unwrap();
    }
    std::fs::create_dir_all(root.join("srv/x.dist-info")).unwrap();
    std::fs::write(
        root.join("srv/x.dist-info/METADATA"),
        "Name: x\nVersion: 1\n",
    )
    .unwrap();
    let s = scan(&format!("dir:{}", root.display()));
    assert_eq!(s.inventory.os.as_ref().unwrap().version_id, "3.19.1");
    assert!(
        s.inventory
            .packages
            .iter()
            .all(|p| p.kind != PackageType::Deb),
        "host dpkg status was read"
    );
    assert_eq!(names(&s, PackageType::Python), ["x@1".to_string()].into());
    assert!(s.findings.is_empty());
}

#[test]
fn sboms() {
    let dir = tempfile::tempdir().unwrap();
    test_image()
        .write_oci_layout(dir.path(), Some("v1"))
        .unwrap();
    let s = scan(&format!("oci:{}:v1", dir.path().display()));
    let stamp = Stamp {
        timestamp: "2026-11-27T10:00:00Z".into(),
        tool_version: "0.1.0".into(),
    };
    let cdx: serde_json::Value =
        serde_json::from_str(&render(&s, Format::CycloneDx, &stamp)).unwrap();
    let comps = cdx["components"].as_array().unwrap();
    assert_eq!(comps.len(), s.inventory.packages.len() + 1);
    assert_eq!(comps[0]["type"], "operating-system");
    cyclonedx_validator(|v| {
        let errors: Vec<String> = v
            .iter_errors(&cdx)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        // A broken document is rejected by the same validator (the test can fail).
        let mut bad = cdx.clone();
        bad["components"][1]["type"] = "nonsense".into();
        assert!(!v.is_valid(&bad));
    });

    let spdx: serde_json::Value = serde_json::from_str(&render(&s, Format::Spdx, &stamp)).unwrap();
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    let pkgs = spdx["packages"].as_array().unwrap();
    assert_eq!(pkgs.len(), s.inventory.packages.len() + 2);
    let ids: BTreeSet<&str> = pkgs.iter().map(|p| p["SPDXID"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), pkgs.len(), "SPDX ids are unique");
    for id in &ids {
        assert!(
            id.starts_with("SPDXRef-")
                && id[8..]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
            "{id}"
        );
    }
    let rels = spdx["relationships"].as_array().unwrap();
    assert_eq!(rels.len(), pkgs.len());
    for r in rels {
        let to = r["relatedSpdxElement"].as_str().unwrap();
        assert!(ids.contains(to));
    }
}

#[test]
fn go_binaries_from_before_go_1_18_in_elf_and_pe() {
    use palisade_image::build::exe::{Bits, GoLegacy, pe};
    use palisade_image::build::{BuiltImage, Entry, layer_tar};
    use palisade_image::decode::Compression;
    let exe = |path: &str, data: Vec<u8>, mode: u32| Entry::File {
        path: path.into(),
        data,
        mode,
    };
    let mut pie = GoLegacy::new(Bits::B64, true);
    pie.headers = [0, 0];
    let tar = layer_tar(&[
        exe(
            "usr/local/bin/old-go",
            GoLegacy::new(Bits::B64, true).elf(),
            0o755,
        ),
        // No x bit: found by its name.
        exe(
            "opt/win/old-go.exe",
            pe(
                Bits::B32,
                0x40_0000,
                &GoLegacy::new(Bits::B32, true).sections(),
            ),
            0o644,
        ),
        exe("usr/local/bin/pie-go", pie.elf(), 0o755),
    ])
    .unwrap();
    let img = BuiltImage::new(
        vec![(tar, Compression::Gzip)],
        serde_json::json!({"User": "1000"}),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    img.write_oci_layout(dir.path(), Some("go")).unwrap();
    let s = scan(&format!("oci:{}:go", dir.path().display()));
    for path in ["usr/local/bin/old-go", "opt/win/old-go.exe"] {
        let found: BTreeSet<String> = s
            .inventory
            .packages
            .iter()
            .filter(|p| p.path == path)
            .map(|p| format!("{} {}@{} {}", p.kind.name(), p.name, p.version, p.ecosystem))
            .collect();
        assert_eq!(
            found,
            [
                "go-stdlib stdlib@v1.16.15 Go",
                "go-module example.com@v1.2.3 Go",
                "go-module golang.org/x/net@v0.20.0 Go",
                "go-module github.com/new/lib@v1.1.0 Go",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            "{path}"
        );
    }
    // The position-independent build lists nothing and says why, naming layer and path.
    assert!(
        !s.inventory
            .packages
            .iter()
            .any(|p| p.path == "usr/local/bin/pie-go")
    );
    let e = s
        .errors
        .iter()
        .map(ToString::to_string)
        .find(|e| e.contains("usr/local/bin/pie-go"))
        .expect("an error for the PIE binary");
    assert!(
        e.contains(&s.layers[0].digest) && e.contains("position-independent"),
        "{e}"
    );
}
