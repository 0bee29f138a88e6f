//! `palisade scan image` and `palisade sbom` on an OCI layout and a docker archive built
//! here.

use std::process::Command;

use palisade_image::build::{BuiltImage, Entry, layer_tar};
use palisade_image::decode::Compression;

fn image(dir: &std::path::Path) {
    let l = vec![
        Entry::file("etc/os-release", "ID=debian\nVERSION_ID=12\n"),
        Entry::file(
            "var/lib/dpkg/status",
            "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\n",
        ),
        Entry::file(
            "models/m.pkl",
            b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.".to_vec(),
        ),
    ];
    let img = BuiltImage::new(
        vec![(layer_tar(&l).unwrap(), Compression::Gzip)],
        serde_json::json!({"ExposedPorts": {"22/tcp": {}}}),
    )
    .unwrap();
    img.write_oci_layout(&dir.join("layout"), Some("v1"))
        .unwrap();
    img.write_docker_archive(&dir.join("img.tar"), "t/i:1")
        .unwrap();
}

fn palisade(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn scan_image_and_sbom() {
    let dir = tempfile::tempdir().unwrap();
    image(dir.path());
    let layout = format!("oci:{}:v1", dir.path().join("layout").display());
    let (code, out, err) = palisade(&["scan", "image", &layout, "-f", "json"]);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // An image is a resource (the JSON schema's `summary.resources`), as well as a file.
    assert_eq!(v["summary"]["files"], 1, "{out}");
    assert_eq!(v["summary"]["resources"], 1, "{out}");
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"PAL600") && codes.contains(&"PAL603") && codes.contains(&"PAL801"),
        "{codes:?}"
    );
    // A plain path to a docker save tarball works too; --select narrows to the family.
    let tar = dir.path().join("img.tar").display().to_string();
    let (code, out, _) = palisade(&["scan", "image", &tar, "--select", "image", "-f", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["family"] == "image")
    );
    // Unreadable references are input errors (exit 2).
    let (code, _, _) = palisade(&["scan", "image", "oci:/nonexistent/layout"]);
    assert_eq!(code, 2);
    let (code, out, err) = palisade(&["sbom", &layout, "--format", "cyclonedx"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["specVersion"], "1.6");
    assert!(v["components"].as_array().unwrap().iter().any(|c| {
        c["purl"]
            .as_str()
            .is_some_and(|p| p.starts_with("pkg:deb/debian/bash@"))
    }));
    let (code, out, _) = palisade(&["sbom", &tar, "--format", "spdx"]);
    assert_eq!(code, 0);
    assert!(out.contains("\"spdxVersion\": \"SPDX-2.3\""));
    let (code, out, _) = palisade(&["explain", "PAL603"]);
    assert_eq!(code, 0);
    assert!(out.contains("## Fix") || out.contains("Fix"));
}

/// Runs `palisade ARGS` under a pseudo-terminal (`script`), so stderr is a terminal;
/// returns everything written to it.
fn palisade_on_a_terminal(args: &[&str]) -> Option<String> {
    let cmd = std::iter::once(env!("CARGO_BIN_EXE_palisade").to_string())
        .chain(args.iter().map(|a| format!("'{a}'")))
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &format!("{cmd} > /dev/null"), "/dev/null"])
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn attack_surface_notices_and_progress_bar() {
    let dir = tempfile::tempdir().unwrap();
    image(dir.path());
    let layout = format!("oci:{}:v1", dir.path().join("layout").display());
    let (_, out, err) = palisade(&["scan", "image", &layout, "-f", "json"]);
    assert!(
        err.is_empty(),
        "nothing on stderr when it is not a terminal: {err}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let notices: Vec<&str> = v["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notices
            .iter()
            .any(|n| n.contains("attack surface: user root (unset)")
                && n.contains("exposed ports: 22/tcp")),
        "{notices:#?}"
    );
    assert!(
        notices.iter().any(|n| n.contains("layer sizes: #1 ")),
        "{notices:#?}"
    );
    assert!(
        notices
            .iter()
            .any(|n| n.contains("to minimise") && n.contains("USER")),
        "{notices:#?}"
    );
    let Some(tty) = palisade_on_a_terminal(&["scan", "image", &layout]) else {
        eprintln!("skipped the terminal half: `script` (util-linux) is not installed");
        return;
    };
    // The bar: `[=====…] 317 B/317 B 64 KiB/s eta 0s oci:/tmp/…` (the reference is cut to
    // the terminal's width).
    let drawn = |out: &str| out.contains("eta ") && out.contains("[======");
    assert!(drawn(&tty), "progress bar on a terminal: {tty:?}");
    let quiet = palisade_on_a_terminal(&["scan", "image", &layout, "--quiet"]).unwrap();
    assert!(!quiet.contains("eta "), "--quiet: {quiet:?}");
    let sbom = palisade_on_a_terminal(&["sbom", &layout]).unwrap();
    assert!(drawn(&sbom), "sbom on a terminal: {sbom:?}");
    let sbom_quiet = palisade_on_a_terminal(&["sbom", &layout, "-q"]).unwrap();
    assert!(!sbom_quiet.contains("eta "), "sbom -q: {sbom_quiet:?}");
}

/// The SARIF 2.1.0 schema from the shared reference data, when it is there.
fn sarif_schema() -> Option<serde_json::Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/schemas/sarif-schema-2.1.0.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipped SARIF validation: {} not found", path.display());
        return None;
    };
    Some(serde_json::from_str(&text).unwrap())
}

/// `images` in JSON and `runs[0].properties.images` in SARIF: every fact of an image built
/// here, to the value.
#[test]
fn image_facts_in_json_and_sarif() {
    use palisade_image::build::exe::{CARGO_AUDITABLE_JSON, auditable_binary};
    use palisade_image::digest::sha256_digest;
    let dir = tempfile::tempdir().unwrap();
    let exe = |path: &str, data: Vec<u8>, mode: u32| Entry::File {
        path: path.into(),
        data,
        mode,
    };
    let base = vec![
        Entry::file(
            "etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
        ),
        Entry::file(
            "var/lib/dpkg/status",
            "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\n",
        ),
        exe("bin/sh", b"\x7fELF shell".to_vec(), 0o755),
        exe("usr/bin/passwd", b"\x7fELF passwd".to_vec(), 0o4755),
    ];
    let app = vec![exe(
        "usr/local/bin/audbin",
        auditable_binary(CARGO_AUDITABLE_JSON, 100_000),
        0o755,
    )];
    let (t0, t1) = (layer_tar(&base).unwrap(), layer_tar(&app).unwrap());
    let img = BuiltImage::new(
        vec![
            (t0.clone(), Compression::Gzip),
            (t1.clone(), Compression::None),
        ],
        serde_json::json!({"User": "10001", "ExposedPorts": {"8080/tcp": {}}}),
    )
    .unwrap();
    img.write_oci_layout(&dir.path().join("layout"), Some("v1"))
        .unwrap();
    let layout = format!("oci:{}:v1", dir.path().join("layout").display());
    let (code, out, err) = palisade(&["scan", "image", &layout, "-f", "json"]);
    assert_eq!(code, 0, "{err}\n{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let manifest = sha256_digest(&img.manifest);
    let host = palisade_image::Platform::host();
    let layer = |i: usize, tar: &[u8], entries: usize| {
        let (blob, _, media_type) = &img.layers[i];
        (
            serde_json::json!({
                "digest": sha256_digest(blob), "diffId": sha256_digest(tar),
                "mediaType": media_type,
                "size": blob.len(), "uncompressed": tar.len(), "entries": entries,
                "verified": true, "createdBy": format!("layer {i}"),
            }),
            serde_json::json!({
                "digest": sha256_digest(blob), "size": blob.len(), "uncompressed": tar.len(),
                "entries": entries, "createdBy": format!("layer {i}"),
            }),
        )
    };
    let (l0, s0) = layer(0, &t0, 4);
    let (l1, s1) = layer(1, &t1, 1);
    let expected = serde_json::json!({
        "reference": layout,
        "manifestDigest": manifest,
        "referenceDigest": manifest,
        "configDigest": sha256_digest(&img.config),
        "platform": {"os": host.os, "architecture": host.architecture, "variant": null},
        "os": {
            "id": "debian", "versionId": "12", "prettyName": "Debian GNU/Linux 12 (bookworm)",
            "ecosystem": "Debian:12",
        },
        "layers": [l0, l1],
        "files": 5,
        "bytes": t0.len() + t1.len(),
        "packages": {
            "total": 3,
            "byType": {"cargo": 2, "deb": 1},
            "byEcosystem": {"Debian:12": 1, "crates.io": 1},
        },
        "surface": {
            "user": "10001",
            "runsAsRoot": false,
            "shells": [{"name": "sh", "path": "bin/sh", "layer": 0}],
            "packageManagers": [],
            "compilers": [],
            "debuggers": [],
            "networkTools": [],
            "setuid": [{"path": "usr/bin/passwd", "mode": 0o4755, "uid": 0, "gid": 0, "layer": 0}],
            "worldWritable": [],
            "exposedPorts": ["8080/tcp"],
            "listenHints": [],
            "layers": [s0, s1],
            "plan": report["images"][0]["surface"]["plan"].clone(),
        },
    });
    assert_eq!(report["images"], serde_json::json!([expected]));
    let plan: Vec<&str> = report["images"][0]["surface"]["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(
        plan,
        vec![
            "move to a distroless or minimal base (gcr.io/distroless/python3, cgr.dev/chainguard/python, ubi-micro, or FROM scratch for static binaries): it drops the shells (sh) and package managers (none) an intruder would use",
            "strip setuid/setgid bits (1 files: RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +) and run with allowPrivilegeEscalation: false",
            "layer 2 holds 95% of the image (layer 1): check it for caches and build leftovers (apt lists, pip cache, model weights better mounted at run time)",
        ]
    );
    // The table keeps the notices; JSON has them too.
    let notices = report["notices"].as_array().unwrap();
    assert!(
        notices[0]
            .as_str()
            .unwrap()
            .ends_with(": 2 layer(s), 0.1 MiB, 5 files, 3 packages, debian 12"),
        "{notices:?}"
    );

    // SARIF: the same facts in the run's property bag, and the log is still valid SARIF.
    let (_, out, _) = palisade(&["scan", "image", &layout, "-f", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(sarif["runs"][0]["properties"]["images"], report["images"]);
    if let Some(schema) = sarif_schema() {
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&sarif)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
    // And the JSON report still matches its own schema.
    let own: serde_json::Value = serde_json::from_str(palisade_report::JSON_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&own).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}
