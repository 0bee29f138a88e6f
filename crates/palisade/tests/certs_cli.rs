//! `palisade certs generate` as a user runs it: the caBundle alone on stdout (so
//! `CA=$(palisade certs generate …)` works), the files in the output directory, the webhook
//! configurations of a manifest patched in place, and no silent overwrite.

use std::process::{Command, Output};

fn palisade(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn certs_generate_prints_the_ca_bundle_and_patches_webhooks() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("palisade.yaml");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../deploy/manifests/palisade.yaml"),
        &manifest,
    )
    .unwrap();
    let out = palisade(
        &[
            "certs",
            "generate",
            "--namespace",
            "security",
            "-o",
            "out",
            "--patch-webhooks",
            "palisade.yaml",
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let bundle = stdout.trim_end();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let ca = std::fs::read_to_string(dir.path().join("out/ca.crt")).unwrap();
    assert_eq!(
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, bundle).unwrap(),
        ca.as_bytes()
    );
    for f in ["ca.key", "tls.crt", "tls.key", "secret.yaml"] {
        assert!(dir.path().join("out").join(f).exists(), "{f}");
    }
    assert!(
        stderr.contains("certificate for palisade.security.svc"),
        "{stderr}"
    );
    assert!(stderr.contains("set caBundle in 2 webhook(s)"), "{stderr}");
    let patched = std::fs::read_to_string(&manifest).unwrap();
    assert_eq!(patched.matches(&format!("caBundle: {bundle}")).count(), 2);

    // Run again: refused, exit 2, and neither the keys nor the manifest change.
    let key = std::fs::read(dir.path().join("out/ca.key")).unwrap();
    let again = palisade(
        &[
            "certs",
            "generate",
            "-o",
            "out",
            "--patch-webhooks",
            "palisade.yaml",
        ],
        dir.path(),
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists (use --force"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read(dir.path().join("out/ca.key")).unwrap(), key);
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), patched);

    // Renewal with the same CA: the same caBundle, and the CA key stays where it was.
    let renewed = palisade(
        &[
            "certs",
            "generate",
            "--namespace",
            "security",
            "-o",
            "renewed",
            "--ca-cert",
            "out/ca.crt",
            "--ca-key",
            "out/ca.key",
        ],
        dir.path(),
    );
    assert_eq!(
        renewed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&renewed.stderr)
    );
    assert_eq!(
        String::from_utf8(renewed.stdout).unwrap().trim_end(),
        bundle
    );
    assert!(!dir.path().join("renewed/ca.key").exists());
    assert_ne!(
        std::fs::read(dir.path().join("renewed/tls.crt")).unwrap(),
        std::fs::read(dir.path().join("out/tls.crt")).unwrap()
    );
}
