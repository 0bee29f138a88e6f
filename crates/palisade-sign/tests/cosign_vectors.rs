//! cosign / sigstore-rs vectors from `shared/data/signing/cosign` (see its README): every key
//! decrypts with its password, every signature verifies, tampering is rejected.

use std::path::PathBuf;

use palisade_sign::blob::{self, BlobFormat};
use palisade_sign::bundle::Bundle;
use palisade_sign::{Error, PublicKey, SigningKey};

fn dir() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/signing/cosign");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("skipping: {} not present", d.display());
        None
    }
}

fn key(d: &std::path::Path, name: &str, pw: &str) -> SigningKey {
    let pw = pw.as_bytes().to_vec();
    SigningKey::from_file(&d.join(name), move || Ok(pw)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn encrypted_keys_decrypt_with_their_passwords() {
    let Some(d) = dir() else { return };
    // (file, password, algorithm)
    let cases = [
        (
            "sigstore-rs-ecdsa_encrypted_private.key",
            "123",
            "ecdsa-p256",
        ), // ENCRYPTED COSIGN PRIVATE KEY, N=32768
        (
            "sigstore-rs-cosign_generated_encrypted_empty_private.key",
            "",
            "ecdsa-p256",
        ), // SIGSTORE label, N=65536, empty
        (
            "sigstore-rs-ed25519_encrypted_private.key",
            "123",
            "ed25519",
        ),
        ("cosign-keys_test-pemsigstorekey.key", "hello", "ecdsa-p256"),
        ("cosign-keys_test-pemcosignkey.key", "hello", "ecdsa-p256"),
        ("sigstore-rs-ecdsa_private.key", "unused", "ecdsa-p256"),
    ];
    for (name, pw, alg) in cases {
        let k = key(&d, name, pw);
        assert!(
            k.public_key().describe().starts_with(alg),
            "{name}: {}",
            k.public_key().describe()
        );
        // A signature made with the decrypted key verifies with its public half.
        let sig = k.sign(b"payload").unwrap();
        k.public_key().verify(b"payload", &sig).unwrap();
    }
}

#[test]
fn wrong_password_is_a_clear_error() {
    let Some(d) = dir() else { return };
    let err = SigningKey::from_file(&d.join("sigstore-rs-ecdsa_encrypted_private.key"), || {
        Ok(b"1234".to_vec())
    })
    .unwrap_err();
    assert!(matches!(err, Error::Decrypt { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("sigstore-rs-ecdsa_encrypted_private.key") && msg.contains("wrong password"),
        "{msg}"
    );
}

#[test]
fn decrypted_key_matches_published_public_key() {
    let Some(d) = dir() else { return };
    let k = key(&d, "sigstore-rs-ecdsa_encrypted_private.key", "123");
    let pubkey = PublicKey::from_file(&d.join("sigstore-rs-ecdsa_encrypted_private.pub")).unwrap();
    assert_eq!(k.public_key(), pubkey);
}

#[test]
fn cosign_style_blob_signature_verifies() {
    let Some(d) = dir() else { return };
    let pubkey = PublicKey::from_file(&d.join("sigstore-rs-ecdsa_encrypted_private.pub")).unwrap();
    let sig = std::fs::read(d.join("local-blob.txt.sig")).unwrap();
    assert_eq!(
        blob::verify_file(
            &pubkey,
            &d.join("local-blob.txt"),
            "local-blob.txt.sig",
            &sig
        )
        .unwrap(),
        BlobFormat::Signature
    );
    let mut data = std::fs::read(d.join("local-blob.txt")).unwrap();
    data.push(b'!');
    assert!(blob::verify_bytes(&pubkey, &data, "local-blob.txt.sig", &sig).is_err());
    let other = PublicKey::from_file(&d.join("sigstore-rs-ecdsa-p256.pub")).unwrap();
    assert!(blob::verify_file(&other, &d.join("local-blob.txt"), "sig", &sig).is_err());
}

#[test]
fn simple_signing_payloads_verify_ecdsa_and_rsa() {
    let Some(d) = dir() else { return };
    for (pubkey, payload, sig, alg) in [
        (
            "sigstore-rs-ecdsa-p256.pub",
            "sigstore-rs-simplesigning-payload.json",
            "sigstore-rs-simplesigning-payload.sig.b64",
            "ecdsa",
        ),
        (
            "sigstore-rs-rsa.pub",
            "sigstore-rs-rsa-simplesigning-payload.json",
            "sigstore-rs-rsa-simplesigning-payload.sig.b64",
            "rsa",
        ),
    ] {
        let k = PublicKey::from_file(&d.join(pubkey)).unwrap();
        assert!(k.describe().starts_with(alg));
        let payload = std::fs::read(d.join(payload)).unwrap();
        let sig_text = std::fs::read_to_string(d.join(sig)).unwrap();
        let sig = palisade_sign::util::unb64(sig, &sig_text).unwrap();
        k.verify(&payload, &sig)
            .unwrap_or_else(|e| panic!("{pubkey}: {e}"));
        // The payload names an image digest; changing one byte breaks the signature.
        let mut tampered = payload.clone();
        let last = tampered.len() - 3;
        tampered[last] ^= 1;
        assert!(k.verify(&tampered, &sig).is_err());
        let parsed = palisade_sign::simple_signing::Payload::parse("payload", &payload).unwrap();
        assert!(
            parsed
                .critical
                .image
                .docker_manifest_digest
                .starts_with("sha256:")
        );
    }
}

#[test]
fn keyless_bundles_parse() {
    let Some(d) = dir() else { return };
    for name in [
        "sigstore-rs-bundle_v03.json",
        "cosign-oci-attestation.sigstore.json",
    ] {
        let text = std::fs::read(d.join(name)).unwrap();
        let b = Bundle::parse(name, &text).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            b.dsse_envelope.is_some() || b.message_signature.is_some(),
            "{name}"
        );
        // No key of ours signed them: verification with a key fails cleanly, not by panic.
        let k = SigningKey::generate().unwrap().public_key();
        if b.dsse_envelope.is_some() {
            assert!(b.verify_dsse(name, &k).is_err());
        }
    }
}
