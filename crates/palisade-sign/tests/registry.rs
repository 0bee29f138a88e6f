//! Image signing against a real registry (Debian's `docker-registry`, which has no referrers API, so
//! the bundle format goes through the `sha256-<hex>` tag fallback): sign, verify, append, tamper,
//! and, where `skopeo` is installed, copy a signed image to another repository and verify there.

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use palisade_sign::SigningKey;
use palisade_sign::image::{
    self, DenyKind, RejectionKind, SignatureFormat, TrustPolicy, TrustRule, TrustedKey, Verdict,
};
use palisade_sign::registry::Reference;

fn trusted(name: &str, k: &SigningKey) -> TrustedKey {
    TrustedKey {
        name: name.into(),
        key: k.public_key(),
    }
}

#[test]
fn sign_verify_append_and_tamper() {
    let Some(reg) = support::Registry::start() else {
        return;
    };
    let client = reg.client();
    let digest = reg.push_image(&client, "ml/server", "v1", b"layer one");
    let r = Reference::parse(&format!("{}/ml/server:v1", reg.host)).unwrap();
    let (alice, bob, mallory) = (
        SigningKey::generate().unwrap(),
        SigningKey::generate().unwrap(),
        SigningKey::generate().unwrap(),
    );

    // Unsigned: nothing verifies.
    let v = image::verify(&client, &r, &[trusted("alice", &alice)]).unwrap();
    assert!(v.verified.is_empty() && v.rejected.is_empty());

    // Classic signature with an annotation.
    let ann = BTreeMap::from([("pipeline".to_string(), "ci-42".to_string())]);
    let s = image::sign_classic(&client, &r, &alice, &ann).unwrap();
    assert_eq!(s.digest, digest);
    assert!(
        s.location
            .ends_with(&format!("{}.sig", digest.replace(':', "-")))
    );
    let v = image::verify(&client, &r, &[trusted("alice", &alice)]).unwrap();
    assert_eq!(v.digest, digest);
    assert_eq!(v.verified.len(), 1);
    assert_eq!(v.verified[0].format, SignatureFormat::Classic);
    assert_eq!(v.verified[0].annotations["pipeline"], "ci-42");

    // A second signer appends; both verify; signing twice does not duplicate.
    image::sign_classic(&client, &r, &bob, &BTreeMap::new()).unwrap();
    let sig_manifest = client
        .get_manifest(&r.registry, &r.repository, &image::signature_tag(&digest))
        .unwrap()
        .unwrap();
    let layers =
        serde_json::from_slice::<serde_json::Value>(&sig_manifest.bytes).unwrap()["layers"]
            .as_array()
            .unwrap()
            .len();
    assert_eq!(layers, 2);
    let v = image::verify(
        &client,
        &r,
        &[trusted("alice", &alice), trusted("bob", &bob)],
    )
    .unwrap();
    assert_eq!(
        v.verified
            .iter()
            .map(|s| s.key.as_str())
            .collect::<Vec<_>>(),
        ["alice", "bob"]
    );

    // An untrusted key verifies nothing, and says why.
    let v = image::verify(&client, &r, &[trusted("mallory", &mallory)]).unwrap();
    assert!(v.verified.is_empty());
    assert_eq!(v.rejected.len(), 2);
    assert!(
        v.rejected[0]
            .message
            .contains("does not verify with any trusted key"),
        "{:?}",
        v.rejected
    );
    assert!(
        v.rejected
            .iter()
            .all(|r| r.kind == RejectionKind::UntrustedKey)
    );

    // Bundle format (cosign v3 style) through the referrers tag fallback.
    let s = image::sign_bundle(&client, &r, &mallory).unwrap();
    assert_eq!(s.format, SignatureFormat::Bundle);
    let v = image::verify(&client, &r, &[trusted("mallory", &mallory)]).unwrap();
    assert_eq!(v.verified.len(), 1);
    assert_eq!(v.verified[0].format, SignatureFormat::Bundle);

    // Tamper 1: the tag now points at other content: the signatures are for the old digest.
    let new_digest = reg.push_image(&client, "ml/server", "v1", b"layer two (backdoored)");
    assert_ne!(new_digest, digest);
    let v = image::verify(
        &client,
        &r,
        &[trusted("alice", &alice), trusted("mallory", &mallory)],
    )
    .unwrap();
    assert_eq!(v.digest, new_digest);
    assert!(v.verified.is_empty());

    // Tamper 2: an attacker copies the old, valid signature manifest to the new digest's tag:
    // the signature checks but the payload names the old digest.
    client
        .put_manifest(
            &r.registry,
            &r.repository,
            &image::signature_tag(&new_digest),
            &sig_manifest.bytes,
            "application/vnd.oci.image.manifest.v1+json",
        )
        .unwrap();
    let v = image::verify(&client, &r, &[trusted("alice", &alice)]).unwrap();
    assert!(v.verified.is_empty());
    assert!(
        v.rejected
            .iter()
            .any(|m| m.kind == RejectionKind::DigestMismatch
                && m.message.contains("signed payload names")
                && m.message.contains(&digest)),
        "{:?}",
        v.rejected
    );

    // Tamper 3: a damaged signature annotation.
    let pinned = Reference::parse(&format!("{}/ml/server@{digest}", reg.host)).unwrap();
    let mut m: serde_json::Value = serde_json::from_slice(&sig_manifest.bytes).unwrap();
    let sig = m["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"]
        .as_str()
        .unwrap()
        .to_string();
    let flipped = format!(
        "{}{}",
        if sig.starts_with('M') { "N" } else { "M" },
        &sig[1..]
    );
    m["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"] =
        serde_json::Value::String(flipped);
    client
        .put_manifest(
            &r.registry,
            &r.repository,
            &image::signature_tag(&digest),
            &serde_json::to_vec(&m).unwrap(),
            "application/vnd.oci.image.manifest.v1+json",
        )
        .unwrap();
    let v = image::verify(&client, &pinned, &[trusted("alice", &alice)]).unwrap();
    assert!(v.verified.is_empty(), "{v:?}");
    // bob's untouched layer still verifies with bob's key.
    assert_eq!(
        image::verify(&client, &pinned, &[trusted("bob", &bob)])
            .unwrap()
            .verified
            .len(),
        1
    );
}

#[test]
fn verdicts_for_the_webhook() {
    let Some(reg) = support::Registry::start() else {
        return;
    };
    let client = reg.client();
    let key = SigningKey::generate().unwrap();
    let other = SigningKey::generate().unwrap();
    reg.push_image(&client, "ml/signed", "v1", b"a");
    reg.push_image(&client, "ml/unsigned", "v1", b"b");
    reg.push_image(&client, "ml/wrongkey", "v1", b"c");
    let signed = format!("{}/ml/signed:v1", reg.host);
    image::sign_classic(
        &client,
        &Reference::parse(&signed).unwrap(),
        &key,
        &BTreeMap::new(),
    )
    .unwrap();
    image::sign_bundle(
        &client,
        &Reference::parse(&format!("{}/ml/wrongkey:v1", reg.host)).unwrap(),
        &other,
    )
    .unwrap();
    let policy = TrustPolicy {
        rules: vec![TrustRule {
            images: vec![format!("{}/ml/*", reg.host)],
            keys: vec![trusted("ml-release", &key)],
            namespaces: vec![],
        }],
    };
    match image::verify_image_with(&client, &signed, Some("serving"), &policy) {
        Verdict::Verified {
            key,
            format,
            digest,
        } => {
            assert_eq!(
                (key.as_str(), format),
                ("ml-release", SignatureFormat::Classic)
            );
            assert!(digest.starts_with("sha256:"));
        }
        v => panic!("{v:?}"),
    }
    match image::verify_image_with(
        &client,
        &format!("{}/ml/unsigned:v1", reg.host),
        None,
        &policy,
    ) {
        Verdict::Denied { reason, kind, .. } => {
            assert_eq!(kind, DenyKind::NoSignature);
            assert!(reason.contains("no signature found"), "{reason}")
        }
        v => panic!("{v:?}"),
    }
    match image::verify_image_with(
        &client,
        &format!("{}/ml/wrongkey:v1", reg.host),
        None,
        &policy,
    ) {
        Verdict::Denied { reason, kind, .. } => {
            assert_eq!(kind, DenyKind::UntrustedKey);
            assert!(
                reason.contains("another key") || reason.contains("does not verify"),
                "{reason}"
            )
        }
        v => panic!("{v:?}"),
    }
    assert_eq!(
        image::verify_image_with(&client, &format!("{}/other/x:v1", reg.host), None, &policy),
        Verdict::NotRequired
    );
    // A registry that is not there: denied with the cause, bounded by the client's timeout.
    match image::verify_image_with(
        &client,
        "127.0.0.1:1/ml/x:v1",
        None,
        &TrustPolicy {
            rules: vec![TrustRule {
                images: vec!["*".into()],
                keys: vec![trusted("k", &key)],
                namespaces: vec![],
            }],
        },
    ) {
        Verdict::Denied { reason, kind, .. } => {
            assert_eq!(kind, DenyKind::Unavailable);
            assert!(reason.contains("cannot verify"), "{reason}")
        }
        v => panic!("{v:?}"),
    }
}

#[test]
fn skopeo_copy_keeps_the_signature_valid() {
    let Some(reg) = support::Registry::start() else {
        return;
    };
    if Command::new("skopeo").arg("--version").output().is_err() {
        eprintln!("skipping: skopeo not installed (apt-get install skopeo)");
        return;
    }
    let client = reg.client();
    let key = SigningKey::generate().unwrap();
    let digest = reg.push_image(&client, "team-a/model", "v1", b"weights");
    let src = format!("{}/team-a/model:v1", reg.host);
    image::sign_classic(
        &client,
        &Reference::parse(&src).unwrap(),
        &key,
        &BTreeMap::new(),
    )
    .unwrap();
    let tag = image::signature_tag(&digest);
    for (from, to) in [
        (src.clone(), format!("{}/team-b/model:v1", reg.host)),
        (
            format!("{}/team-a/model:{tag}", reg.host),
            format!("{}/team-b/model:{tag}", reg.host),
        ),
    ] {
        let out = Command::new("skopeo")
            .args([
                "copy",
                "--quiet",
                "--preserve-digests",
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
            ])
            .arg(format!("docker://{from}"))
            .arg(format!("docker://{to}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo copy {from} {to}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v = image::verify(
        &client,
        &Reference::parse(&format!("{}/team-b/model:v1", reg.host)).unwrap(),
        &[trusted("k", &key)],
    )
    .unwrap();
    assert_eq!(v.digest, digest);
    assert_eq!(v.verified.len(), 1, "{v:?}");
}
