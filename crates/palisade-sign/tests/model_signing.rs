//! OpenSSF model signing: the `model_signing`-signed sample in `shared/data/signing/model-signing`
//! verifies (plain and sharded) and tampering is named; and, where `model_signing` is installed
//! (`pip install model-signing pyopenssl`), each tool verifies what the other signs and both reject
//! the same tampering.

use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_sign::model::{self, Method, Options};
use palisade_sign::{PublicKey, SigningKey};

fn shared() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/signing/model-signing");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("skipping: {} not present", d.display());
        None
    }
}

/// Copies a directory tree (the shared one is read-only) and makes the copy writable.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
            let mut p = std::fs::metadata(&target).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            p.set_readonly(false);
            std::fs::set_permissions(&target, p).unwrap();
        }
    }
}

#[test]
fn shared_signatures_verify_and_tampering_is_named() {
    let Some(d) = shared() else { return };
    let key = PublicKey::from_file(&d.join("ec-p256.pub.pem")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("tiny-model");
    copy_tree(&d.join("tiny-model"), &m);
    for (sig, files) in [("tiny-model.sig", 4), ("tiny-model.sharded.sig", 4)] {
        let json = std::fs::read(d.join(sig)).unwrap();
        let v = model::verify(&key, &m, sig, &json, &[]).unwrap_or_else(|e| panic!("{sig}: {e}"));
        assert_eq!(v.files, files);
        // The decoded statement in the README is exactly what was signed.
        let statement: serde_json::Value = serde_json::from_slice(
            &std::fs::read(d.join(format!("{sig}.statement.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(
            statement["subject"][0]["digest"]["sha256"]
                .as_str()
                .unwrap(),
            palisade_sign::util::hex(&v.manifest.root_digest("m").unwrap())
        );
    }
    // Palisade's own serialisation of the directory reproduces model_signing's resources.
    let ours = model::serialize(
        &m,
        &Options {
            ignore_paths: vec!["README.ignored".into()],
            ..Options::default()
        },
        &[],
    )
    .unwrap();
    let json = std::fs::read(d.join("tiny-model.sig")).unwrap();
    let theirs = model::verify(&key, &m, "tiny-model.sig", &json, &[])
        .unwrap()
        .manifest;
    assert_eq!(ours.resources, theirs.resources);
    assert_eq!(
        ours.root_digest("m").unwrap(),
        theirs.root_digest("m").unwrap()
    );
    let sharded = model::serialize(
        &m,
        &Options {
            method: Method::Shards(1_000_000),
            ignore_paths: vec!["README.ignored".into()],
            ..Options::default()
        },
        &[],
    )
    .unwrap();
    let json = std::fs::read(d.join("tiny-model.sharded.sig")).unwrap();
    let theirs = model::verify(&key, &m, "s", &json, &[]).unwrap().manifest;
    assert_eq!(sharded.resources, theirs.resources);

    // Tampering: append a byte to weights.bin (as in the README), add a file, remove one.
    std::fs::write(
        m.join("weights.bin"),
        [std::fs::read(m.join("weights.bin")).unwrap(), vec![0]].concat(),
    )
    .unwrap();
    std::fs::write(m.join("extra.bin"), b"x").unwrap();
    std::fs::remove_file(m.join("sub/tokenizer.json")).unwrap();
    for sig in ["tiny-model.sig", "tiny-model.sharded.sig"] {
        let json = std::fs::read(d.join(sig)).unwrap();
        let e = model::verify(&key, &m, sig, &json, &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("changed: weights.bin"), "{e}");
        assert!(e.contains("not in the signature: extra.bin"), "{e}");
        assert!(e.contains("missing: sub/tokenizer.json"), "{e}");
    }
    // A wrong key is rejected by the hint check and by the signature check.
    let other = SigningKey::generate().unwrap().public_key();
    let json = std::fs::read(d.join("tiny-model.sig")).unwrap();
    assert!(model::verify(&other, &m, "s", &json, &[]).is_err());
}

#[test]
fn signing_with_the_shared_private_key_matches_the_shared_signature() {
    let Some(d) = shared() else { return };
    let key = SigningKey::from_file(&d.join("ec-p256.key.pem"), || Ok(Vec::new())).unwrap();
    assert_eq!(
        key.public_key(),
        PublicKey::from_file(&d.join("ec-p256.pub.pem")).unwrap()
    );
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("tiny-model");
    copy_tree(&d.join("tiny-model"), &m);
    let (bundle, manifest) = model::sign(
        &key,
        &m,
        &Options {
            ignore_paths: vec!["README.ignored".into()],
            ..Options::default()
        },
        None,
    )
    .unwrap();
    // Same key hint as model_signing wrote.
    let theirs = palisade_sign::bundle::Bundle::parse(
        "tiny-model.sig",
        &std::fs::read(d.join("tiny-model.sig")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        bundle
            .verification_material
            .public_key
            .as_ref()
            .unwrap()
            .hint,
        theirs.verification_material.public_key.unwrap().hint
    );
    assert_eq!(
        palisade_sign::util::hex(&manifest.root_digest("m").unwrap()),
        "8d106f46e364f3b04f01e346a7205661a928028bbcc91313e0df55d35819745d"
    );
}

fn model_signing_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import model_signing"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!(
            "skipping: python3 module model_signing not installed (pip install model-signing pyopenssl)"
        );
    }
    ok
}

fn interop_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/model_signing_interop.py")
}

fn run_python(args: &[&Path]) -> (bool, String) {
    let out = Command::new("python3")
        .arg(interop_script())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn make_model(root: &Path) -> PathBuf {
    let m = root.join("my-model");
    std::fs::create_dir_all(m.join("tokenizer")).unwrap();
    std::fs::write(m.join("config.json"), br#"{"layers": 2}"#).unwrap();
    std::fs::write(m.join("model.safetensors"), vec![7u8; 2_500_000]).unwrap();
    std::fs::write(m.join("tokenizer/vocab.txt"), b"a\nb\n").unwrap();
    std::fs::write(m.join("empty.txt"), b"").unwrap();
    std::fs::create_dir_all(m.join(".git")).unwrap();
    std::fs::write(m.join(".git/HEAD"), b"ref: refs/heads/main\n").unwrap();
    m
}

#[test]
fn model_signing_verifies_palisade_and_palisade_verifies_model_signing() {
    if !model_signing_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let m = make_model(tmp.path());
    let key = SigningKey::generate().unwrap();
    let priv_pem = palisade_sign::pem::encode("PRIVATE KEY", &key.to_pkcs8_der().unwrap());
    let (priv_path, pub_path) = (tmp.path().join("k.pem"), tmp.path().join("k.pub"));
    std::fs::write(&priv_path, priv_pem).unwrap();
    std::fs::write(&pub_path, key.public_key().to_pem().unwrap()).unwrap();

    for (label, method, shard_arg) in [
        ("files", Method::Files, None),
        ("shards", Method::Shards(1_000_000), Some("1000000")),
    ] {
        // Palisade signs, model_signing verifies.
        let ours = tmp.path().join(format!("palisade-{label}.sig"));
        let (bundle, _) = model::sign(
            &key,
            &m,
            &Options {
                method,
                ..Options::default()
            },
            Some(&ours),
        )
        .unwrap();
        std::fs::write(&ours, bundle.to_json().unwrap()).unwrap();
        let (ok, out) = run_python(&[Path::new("verify"), &m, &ours, &pub_path]);
        assert!(
            ok,
            "{label}: model_signing rejected Palisade's signature: {out}"
        );

        // model_signing signs, Palisade verifies.
        let theirs = tmp.path().join(format!("model-signing-{label}.sig"));
        let shard_path;
        let mut args: Vec<&Path> = vec![Path::new("sign"), &m, &theirs, &priv_path];
        if let Some(s) = shard_arg {
            shard_path = PathBuf::from(s);
            args.push(&shard_path);
        }
        let (ok, out) = run_python(&args);
        assert!(ok, "{label}: model_signing sign failed: {out}");
        let json = std::fs::read(&theirs).unwrap();
        model::verify(&key.public_key(), &m, "theirs", &json, &[])
            .unwrap_or_else(|e| panic!("{label}: {e}"));

        // Both reject the same tampering, and both accept again once it is undone.
        let original = std::fs::read(m.join("tokenizer/vocab.txt")).unwrap();
        std::fs::write(m.join("tokenizer/vocab.txt"), b"a\nc\n").unwrap();
        for sig in [&ours, &theirs] {
            let (ok, out) = run_python(&[Path::new("verify"), &m, sig, &pub_path]);
            assert!(
                !ok && out.contains("tokenizer/vocab.txt"),
                "{label}: model_signing accepted a tampered model: {out}"
            );
            let e = model::verify(
                &key.public_key(),
                &m,
                "sig",
                &std::fs::read(sig).unwrap(),
                &[],
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains("changed: tokenizer/vocab.txt"), "{e}");
        }
        std::fs::write(m.join("tokenizer/vocab.txt"), &original).unwrap();
        std::fs::write(m.join("new.bin"), b"n").unwrap();
        for sig in [&ours, &theirs] {
            let (ok, out) = run_python(&[Path::new("verify"), &m, sig, &pub_path]);
            assert!(!ok, "{label}: model_signing accepted an added file: {out}");
            assert!(
                model::verify(
                    &key.public_key(),
                    &m,
                    "sig",
                    &std::fs::read(sig).unwrap(),
                    &[]
                )
                .is_err()
            );
        }
        std::fs::remove_file(m.join("new.bin")).unwrap();
    }
}
