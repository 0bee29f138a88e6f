//! `palisade keys|sign|verify` end to end through the real binary, without a terminal (as in CI).

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn palisade(dir: &Path, args: &[&str], password: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("PALISADE_PASSWORD")
        .env_remove("COSIGN_PASSWORD");
    if let Some(p) = password {
        cmd.env("PALISADE_PASSWORD", p);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn keys_blob_and_model_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();

    // No password and no terminal: a clear error, not a hang.
    let o = palisade(d, &["keys", "generate"], None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("PALISADE_PASSWORD"), "{}", text(&o));

    let o = palisade(
        d,
        &["keys", "generate", "--output-key-prefix", "release"],
        Some("s3cret"),
    );
    assert!(o.status.success(), "{}", text(&o));
    let key_pem = std::fs::read_to_string(d.join("release.key")).unwrap();
    assert!(key_pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(d.join("release.key"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    // Existing keys are not replaced without --force.
    let o = palisade(
        d,
        &["keys", "generate", "--output-key-prefix", "release"],
        Some("x"),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("release.key")).unwrap(),
        key_pem
    );

    // Blob: sign, verify, tamper.
    std::fs::write(d.join("artifact.bin"), b"model weights v1").unwrap();
    let o = palisade(
        d,
        &[
            "sign",
            "blob",
            "artifact.bin",
            "--key",
            "release.key",
            "--output-signature",
            "artifact.sig",
            "--bundle",
            "artifact.bundle",
        ],
        Some("s3cret"),
    );
    assert!(o.status.success(), "{}", text(&o));
    let printed = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert_eq!(
        printed,
        std::fs::read_to_string(d.join("artifact.sig")).unwrap()
    );
    let wrong = palisade(
        d,
        &["sign", "blob", "artifact.bin", "--key", "release.key"],
        Some("wrong"),
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        text(&wrong).contains("release.key") && text(&wrong).contains("wrong password"),
        "{}",
        text(&wrong)
    );
    for (flag, file) in [
        ("--signature", "artifact.sig"),
        ("--bundle", "artifact.bundle"),
    ] {
        let o = palisade(
            d,
            &[
                "verify",
                "blob",
                "artifact.bin",
                "--key",
                "release.pub",
                flag,
                file,
            ],
            None,
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    // OpenSSL accepts the signature over the file (cosign's format is plain DER ECDSA/SHA-256).
    if Command::new("openssl").arg("version").output().is_ok() {
        let o = Command::new("openssl")
            .args([
                "base64",
                "-d",
                "-A",
                "-in",
                "artifact.sig",
                "-out",
                "artifact.der",
            ])
            .current_dir(d)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let o = Command::new("openssl")
            .args([
                "dgst",
                "-sha256",
                "-verify",
                "release.pub",
                "-signature",
                "artifact.der",
                "artifact.bin",
            ])
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            o.status.success() && text(&o).contains("Verified OK"),
            "{}",
            text(&o)
        );
    } else {
        eprintln!("skipping openssl check: openssl not installed");
    }
    std::fs::write(d.join("artifact.bin"), b"model weights v2").unwrap();
    let o = palisade(
        d,
        &[
            "verify",
            "blob",
            "artifact.bin",
            "--key",
            "release.pub",
            "--signature",
            "artifact.sig",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // Model directory.
    let m = d.join("my-model");
    std::fs::create_dir_all(m.join("sub")).unwrap();
    std::fs::write(m.join("config.json"), b"{}").unwrap();
    std::fs::write(m.join("sub/weights.bin"), vec![1u8; 3000]).unwrap();
    for shard in [None, Some("1024")] {
        let mut args = vec![
            "sign",
            "model",
            "my-model",
            "--key",
            "release.key",
            "--signature",
            "my-model.sig",
        ];
        if let Some(s) = shard {
            args.extend(["--shard-size", s]);
        }
        let o = palisade(d, &args, Some("s3cret"));
        assert!(o.status.success(), "{}", text(&o));
        let o = palisade(
            d,
            &[
                "verify",
                "model",
                "my-model",
                "--key",
                "release.pub",
                "--signature",
                "my-model.sig",
            ],
            None,
        );
        assert!(o.status.success(), "{}", text(&o));
        std::fs::write(m.join("sub/weights.bin"), vec![2u8; 3000]).unwrap();
        let o = palisade(
            d,
            &[
                "verify",
                "model",
                "my-model",
                "--key",
                "release.pub",
                "--signature",
                "my-model.sig",
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains("changed: sub/weights.bin"),
            "{}",
            text(&o)
        );
        std::fs::write(m.join("sub/weights.bin"), vec![1u8; 3000]).unwrap();
    }

    // Input errors name the file and exit 2.
    std::fs::write(d.join("bad.pub"), "not a key").unwrap();
    let o = palisade(
        d,
        &[
            "verify",
            "blob",
            "artifact.bin",
            "--key",
            "bad.pub",
            "--signature",
            "artifact.sig",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("bad.pub"), "{}", text(&o));
}

/// `verify image -f` names the human format `table`, as every other command does (`text`
/// stays accepted as an alias but is not advertised).
#[test]
fn verify_image_help_offers_table_and_json() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["verify", "image", "--help"])
        .output()
        .unwrap();
    // Words only: clap wraps to the terminal's width.
    let help = String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(o.status.success(), "{help}");
    assert!(help.contains("[default: table]"), "{help}");
    assert!(help.contains("[possible values: table, json]"), "{help}");
}
