//! Scans against a real registry: Debian's `docker-registry` (distribution 2.8) started on
//! 127.0.0.1 with a temporary storage directory, images pushed with the project's own
//! distribution client. Skipped (one line on stderr) when the binary is not installed.

mod common;

use std::path::Path;

use common::registry::start;
use common::*;
use palisade_image::catalog::PackageType;
use palisade_image::source::auth::Credentials;
use palisade_image::source::registry::Client;
use palisade_image::spec::{OCI_INDEX, Platform};
use palisade_image::{OpenOptions, ScanOptions, parse_registry_ref, scan_reference};

fn client(port: u16, repo: &str, creds: Option<Credentials>) -> Client {
    let r = parse_registry_ref(&format!("localhost:{port}/{repo}:x")).unwrap();
    Client::new(
        &r,
        &OpenOptions {
            auth_file: Some("/nonexistent".into()),
            ..OpenOptions::default()
        },
    )
    .with_credentials(creds)
}

#[test]
fn pull_by_tag_digest_and_platform() {
    let Some(reg) = start(None) else { return };
    let port = reg.port;
    let img = test_image();
    let c = client(port, "test/img", None);
    let digest = img.push(&c, "1").unwrap();

    let s = scan_reference(
        &format!("localhost:{port}/test/img:1"),
        &ScanOptions::default(),
    )
    .unwrap();
    assert_eq!(s.manifest_digest.as_deref(), Some(digest.as_str()));
    assert!(s.layers.iter().all(|l| l.verified), "{:?}", s.errors);
    assert_eq!(
        s.errors.len(),
        1,
        "only the traversal entry: {:?}",
        s.errors
    );
    // Same inventory as from an OCI layout of the same image.
    let dir = tempfile::tempdir().unwrap();
    img.write_oci_layout(dir.path(), Some("v1")).unwrap();
    let o = scan_reference(
        &format!("oci:{}:v1", dir.path().display()),
        &ScanOptions::default(),
    )
    .unwrap();
    assert_eq!(s.inventory.packages, o.inventory.packages);
    assert!(s.inventory.packages.iter().any(|p| p.name == "requests"));
    let pickle = s
        .findings
        .iter()
        .find(|f| f.rule.code.starts_with("PAL8"))
        .unwrap();
    assert_eq!(
        pickle.location.file.as_ref(),
        format!("localhost:{port}/test/img:1")
    );

    let by_digest = scan_reference(
        &format!("localhost:{port}/test/img@{digest}"),
        &ScanOptions::default(),
    )
    .unwrap();
    assert_eq!(
        by_digest.inventory.packages.len(),
        s.inventory.packages.len()
    );

    // A multi-platform index: the host image plus an "arm64" Alpine image.
    let alpine = alpine_image();
    alpine.push(&c, "alpine").unwrap();
    let other = if Platform::host().architecture == "arm64" {
        "riscv64"
    } else {
        "arm64"
    };
    let arm = Platform {
        os: "linux".into(),
        architecture: other.into(),
        variant: None,
    };
    c.push_manifest(
        "multi",
        &img.index_with(&[(&alpine, arm.clone())]),
        OCI_INDEX,
    )
    .unwrap();
    let host = scan_reference(
        &format!("localhost:{port}/test/img:multi"),
        &ScanOptions::default(),
    )
    .unwrap();
    assert_eq!(host.manifest_digest.as_deref(), Some(digest.as_str()));
    let mut opts = ScanOptions::default();
    opts.open.platform = Some(arm);
    let a = scan_reference(&format!("localhost:{port}/test/img:multi"), &opts).unwrap();
    assert!(
        a.inventory
            .packages
            .iter()
            .all(|p| p.kind == PackageType::Apk)
            && !a.inventory.packages.is_empty()
    );
    opts.open.platform = Some(Platform::parse("windows/amd64").unwrap());
    let err = scan_reference(&format!("localhost:{port}/test/img:multi"), &opts).unwrap_err();
    assert!(
        err.to_string()
            .contains("no image for platform windows/amd64"),
        "{err}"
    );

    // Missing tags are registry errors with the registry's code.
    let err = scan_reference(
        &format!("localhost:{port}/test/img:nope"),
        &ScanOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("MANIFEST_UNKNOWN"), "{err}");
}

fn docker_config(dir: &Path, port: u16, user: &str, password: &str) -> std::path::PathBuf {
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let p = dir.join("config.json");
    std::fs::write(
        &p,
        serde_json::json!({"auths": {format!("localhost:{port}"): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    p
}

#[test]
fn basic_auth_with_docker_config() {
    let Some(reg) = start(Some(("alice", "s3cret-pw"))) else {
        return;
    };
    let port = reg.port;
    let creds = Credentials {
        username: "alice".into(),
        password: "s3cret-pw".into(),
    };
    alpine_image()
        .push(&client(port, "private/app", Some(creds)), "1")
        .unwrap();
    let reference = format!("localhost:{port}/private/app:1");

    let dir = tempfile::tempdir().unwrap();
    let mut opts = ScanOptions::default();
    opts.open.auth_file = Some(dir.path().join("missing.json"));
    let err = scan_reference(&reference, &opts).unwrap_err().to_string();
    assert!(
        err.contains("requires credentials") && err.contains("docker login"),
        "{err}"
    );

    opts.open.auth_file = Some(docker_config(dir.path(), port, "alice", "wrong"));
    let err = scan_reference(&reference, &opts).unwrap_err().to_string();
    assert!(err.contains("refused"), "{err}");
    assert!(!err.contains("wrong"), "password in error: {err}");

    opts.open.auth_file = Some(docker_config(dir.path(), port, "alice", "s3cret-pw"));
    let s = scan_reference(&reference, &opts).unwrap();
    assert_eq!(s.inventory.packages.len(), 2);
    assert!(s.layers.iter().all(|l| l.verified));
}
