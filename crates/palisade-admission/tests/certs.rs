//! `palisade certs generate`: the serving certificate verifies for the Service's DNS names
//! against the generated CA (rustls' webpki verifier, as a Go or Rust client would check it),
//! the Secret and the patched webhook configurations are valid Kubernetes objects
//! (k8s-openapi types), and files are written atomically with private keys at 0600.

use std::sync::Arc;

use base64::Engine as _;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::core::v1::Secret;
use palisade_admission::certs::{
    CertRequest, ExistingCa, ca_bundle, generate, generate_with, patch_webhooks, secret_manifest,
    write_files,
};
use rustls::client::danger::ServerCertVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use serde_json::Value;

fn verifier(ca_pem: &str) -> Arc<rustls::client::WebPkiServerVerifier> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(rustls::crypto::ring::default_provider()),
    )
    .build()
    .unwrap()
}

fn verify(ca_pem: &str, cert_pem: &str, name: &str) -> Result<(), rustls::Error> {
    let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap();
    verifier(ca_pem)
        .verify_server_cert(
            &cert,
            &[],
            &ServerName::try_from(name.to_string()).unwrap(),
            &[],
            UnixTime::now(),
        )
        .map(|_| ())
}

fn documents(src: &str) -> Vec<Value> {
    palisade_yaml::parse_stream(src)
        .into_iter()
        .map(|d| serde_json::from_str(&d.unwrap().root.to_json()).unwrap())
        .collect()
}

#[test]
fn the_serving_certificate_verifies_for_the_service_names_against_the_ca() {
    let req = CertRequest {
        service: "palisade".into(),
        namespace: "security".into(),
        ..CertRequest::default()
    };
    let g = generate(&req).unwrap();
    for name in [
        "palisade.security.svc",
        "palisade.security.svc.cluster.local",
        "palisade.security",
    ] {
        verify(&g.ca_cert_pem, &g.cert_pem, name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // Another Service's name, or another CA, is refused.
    assert!(verify(&g.ca_cert_pem, &g.cert_pem, "other.security.svc").is_err());
    let other = generate(&req).unwrap();
    assert!(verify(&other.ca_cert_pem, &g.cert_pem, "palisade.security.svc").is_err());
    // The key belongs to the certificate (what `palisade serve` checks when it loads them).
    palisade_admission::tls::certified_key(g.cert_pem.as_bytes(), g.key_pem.as_bytes()).unwrap();
}

#[test]
fn bad_names_and_validity_are_refused_with_a_reason() {
    let e = generate(&CertRequest {
        namespace: "Palisade_System".into(),
        ..CertRequest::default()
    })
    .unwrap_err();
    assert!(
        e.contains("namespace `Palisade_System` is not a DNS label"),
        "{e}"
    );
    let e = generate(&CertRequest {
        days: 400,
        ca_days: 30,
        ..CertRequest::default()
    })
    .unwrap_err();
    assert!(e.contains("validity"), "{e}");
}

#[test]
fn the_secret_is_a_kubernetes_tls_secret() {
    let req = CertRequest::default();
    let g = generate(&req).unwrap();
    let docs = documents(&secret_manifest(&req, &g));
    assert_eq!(docs.len(), 1);
    let secret: Secret = serde_json::from_value(docs[0].clone()).unwrap();
    assert_eq!(secret.type_.as_deref(), Some("kubernetes.io/tls"));
    assert_eq!(secret.metadata.name.as_deref(), Some("palisade-tls"));
    assert_eq!(
        secret.metadata.namespace.as_deref(),
        Some("palisade-system")
    );
    let data = secret.data.unwrap();
    assert_eq!(data["tls.crt"].0, g.cert_pem.as_bytes());
    assert_eq!(data["tls.key"].0, g.key_pem.as_bytes());
    assert_eq!(data["ca.crt"].0, g.ca_cert_pem.as_bytes());
}

#[test]
fn the_ca_bundle_is_patched_into_every_webhook_and_nothing_else_changes() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/manifests/palisade.yaml");
    let src = std::fs::read_to_string(path).unwrap();
    let g = generate(&CertRequest::default()).unwrap();
    let bundle = ca_bundle(&g);
    let (patched, count) = patch_webhooks(&src, &bundle).unwrap();
    let before = documents(&src);
    let after = documents(&patched);
    assert_eq!(before.len(), after.len());
    let mut webhooks = 0;
    for (b, a) in before.iter().zip(&after) {
        match a["kind"].as_str().unwrap() {
            "ValidatingWebhookConfiguration" => {
                let c: ValidatingWebhookConfiguration = serde_json::from_value(a.clone()).unwrap();
                for w in c.webhooks.unwrap() {
                    assert_eq!(
                        w.client_config.ca_bundle.unwrap().0,
                        g.ca_cert_pem.as_bytes()
                    );
                    webhooks += 1;
                }
            }
            "MutatingWebhookConfiguration" => {
                let c: MutatingWebhookConfiguration = serde_json::from_value(a.clone()).unwrap();
                for w in c.webhooks.unwrap() {
                    assert_eq!(
                        w.client_config.ca_bundle.unwrap().0,
                        g.ca_cert_pem.as_bytes()
                    );
                    webhooks += 1;
                }
            }
            _ => assert_eq!(a, b),
        }
    }
    assert!(webhooks >= 2);
    assert_eq!(count, webhooks);
    // Only lines were added (one per webhook): comments and layout are kept.
    let mut original = src.lines().peekable();
    let mut added = 0;
    for line in patched.lines() {
        if original.peek() == Some(&line) {
            original.next();
        } else {
            assert!(line.trim_start().starts_with("caBundle: "), "{line}");
            added += 1;
        }
    }
    assert!(original.next().is_none());
    assert_eq!(added, webhooks);
    // Patching again replaces the bundle instead of adding a second one.
    let g2 = generate(&CertRequest::default()).unwrap();
    let (again, _) = patch_webhooks(&patched, &ca_bundle(&g2)).unwrap();
    assert_eq!(again.lines().count(), patched.lines().count());
    assert!(again.contains(&ca_bundle(&g2)) && !again.contains(&bundle));
}

#[cfg(unix)]
#[test]
fn files_are_written_with_private_keys_at_0600_and_never_replaced_silently() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("certs");
    let req = CertRequest::default();
    let g = generate(&req).unwrap();
    let written = write_files(&out, &req, &g, false).unwrap();
    assert_eq!(written.len(), 5);
    let mode = |name: &str| {
        std::fs::metadata(out.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("ca.key"), 0o600);
    assert_eq!(mode("tls.key"), 0o600);
    assert_eq!(mode("secret.yaml"), 0o600);
    assert_eq!(mode("ca.crt"), 0o644);
    assert_eq!(
        std::fs::read_to_string(out.join("tls.crt")).unwrap(),
        g.cert_pem
    );
    // No temporary files are left behind.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 5);
    // A second run refuses, and writes nothing.
    let g2 = generate(&req).unwrap();
    let e = write_files(&out, &req, &g2, false).unwrap_err();
    assert!(e.contains("already exists (use --force"), "{e}");
    assert_eq!(
        std::fs::read_to_string(out.join("ca.key")).unwrap(),
        g.ca_key_pem.clone().unwrap()
    );
    write_files(&out, &req, &g2, true).unwrap();
    assert_eq!(
        std::fs::read_to_string(out.join("ca.key")).unwrap(),
        g2.ca_key_pem.clone().unwrap()
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    let secret = std::fs::read_to_string(out.join("secret.yaml")).unwrap();
    assert!(secret.contains(&b64.encode(&g2.cert_pem)));
}

#[test]
fn an_existing_ca_signs_a_renewed_certificate_and_the_bundle_stays() {
    let req = CertRequest::default();
    let first = generate(&req).unwrap();
    let ca = ExistingCa {
        cert_pem: &first.ca_cert_pem,
        key_pem: first.ca_key_pem.as_deref().unwrap(),
    };
    let renewed = generate_with(&req, Some(ca)).unwrap();
    assert_eq!(ca_bundle(&renewed), ca_bundle(&first));
    assert_ne!(renewed.cert_pem, first.cert_pem);
    verify(
        &first.ca_cert_pem,
        &renewed.cert_pem,
        "palisade.palisade-system.svc",
    )
    .unwrap();
    // The CA's key is not copied into the output.
    assert!(renewed.ca_key_pem.is_none());
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &req, &renewed, false).unwrap();
    assert!(!dir.path().join("ca.key").exists());
    assert!(dir.path().join("tls.key").exists());
    // Another CA's key is refused, saying so.
    let other = generate(&req).unwrap();
    let e = generate_with(
        &req,
        Some(ExistingCa {
            cert_pem: &first.ca_cert_pem,
            key_pem: other.ca_key_pem.as_deref().unwrap(),
        }),
    )
    .unwrap_err();
    assert!(e.contains("does not belong to the CA certificate"), "{e}");
    let e = generate_with(
        &req,
        Some(ExistingCa {
            cert_pem: "not a certificate",
            key_pem: first.ca_key_pem.as_deref().unwrap(),
        }),
    )
    .unwrap_err();
    assert!(e.starts_with("CA certificate:"), "{e}");
}
