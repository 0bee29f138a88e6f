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
