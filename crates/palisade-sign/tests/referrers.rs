//! The bundle format through the OCI 1.1 referrers API (Debian's `docker-registry` has none, so
//! `support/referrers_proxy.rs` answers it in the documented wire format in front of the real
//! registry): signing records a referrer and writes no fallback tag, verification finds the
//! bundle through the API, and other artifacts among the referrers are left alone.

#[path = "support/referrers_proxy.rs"]
mod referrers_proxy;
mod support;

use std::time::Duration;

use palisade_sign::SigningKey;
use palisade_sign::image::{self, BUNDLE_ARTIFACT_TYPE, SignatureFormat, TrustedKey};
use palisade_sign::registry::{Client, Reference};

#[test]
fn bundle_signatures_through_the_referrers_api() {
    let Some(reg) = support::Registry::start() else {
        return;
    };
    let proxy = referrers_proxy::ReferrersProxy::start(&reg.host);
    let client = Client::new(Duration::from_secs(10));
    let digest = support::push_image(&client, &proxy.host, "ml/server", "v1", b"weights");
    let r = Reference::parse(&format!("{}/ml/server:v1", proxy.host)).unwrap();

    // An SBOM referrer: a different artifact, which verification must skip silently.
    let sbom = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.example.sbom.v1",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2,
                   "digest": client.put_blob(&proxy.host, "ml/server", b"{}").unwrap()},
        "layers": [],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": 1},
    });
    let bytes = serde_json::to_vec(&sbom).unwrap();
    let sbom_digest = format!(
        "sha256:{}",
        palisade_sign::util::hex(&palisade_sign::util::sha256(&bytes))
    );
    client
        .put_manifest(
            &proxy.host,
            "ml/server",
            &sbom_digest,
            &bytes,
            "application/vnd.oci.image.manifest.v1+json",
        )
        .unwrap();

    let key = SigningKey::generate().unwrap();
    let signed = image::sign_bundle(&client, &r, &key).unwrap();
    assert_eq!(signed.format, SignatureFormat::Bundle);
    // The registry has the API: no `sha256-<hex>` fallback tag is written.
    assert!(
        client
            .get_manifest(&proxy.host, "ml/server", &image::referrers_tag(&digest))
            .unwrap()
            .is_none()
    );
    let recorded = proxy.referrers("ml/server", &digest);
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[1]["artifactType"], BUNDLE_ARTIFACT_TYPE);
    assert!(
        signed
            .location
            .ends_with(recorded[1]["digest"].as_str().unwrap())
    );

    let trusted = |k: &SigningKey| TrustedKey {
        name: "release".into(),
        key: k.public_key(),
    };
    let v = image::verify(&client, &r, &[trusted(&key)]).unwrap();
    assert_eq!(v.verified.len(), 1, "{v:?}");
    assert_eq!(v.verified[0].format, SignatureFormat::Bundle);
    assert!(v.rejected.is_empty(), "the SBOM is not a signature: {v:?}");
    // Another key: the bundle is found and rejected with the reason.
    let v = image::verify(&client, &r, &[trusted(&SigningKey::generate().unwrap())]).unwrap();
    assert!(v.verified.is_empty());
    assert_eq!(v.rejected.len(), 1, "{v:?}");
    assert_eq!(v.rejected[0].kind, image::RejectionKind::UntrustedKey);
}
