//! `palisade certs generate`: a CA and a serving certificate for the webhook Service, for
//! clusters without cert-manager.
//!
//! The API server calls the webhook at `https://<service>.<namespace>.svc:443` and checks the
//! certificate against the `caBundle` of the webhook configuration, so the certificate names
//! that host (and the `.cluster.local` and shorter forms), and the CA goes into `caBundle`.
//! Outputs: PEM files, a `kubernetes.io/tls` Secret manifest (what `palisade serve` mounts),
//! and the `caBundle` patched into a manifest's webhook configurations, with the rest of the
//! file kept byte for byte.

use std::path::Path;

use base64::Engine as _;
use palisade_policy::Date;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use serde_json::Value;

/// What to certify.
#[derive(Clone, Debug)]
pub struct CertRequest {
    pub service: String,
    pub namespace: String,
    /// Name of the `kubernetes.io/tls` Secret.
    pub secret_name: String,
    /// Validity of the serving certificate, in days.
    pub days: u32,
    /// Validity of the CA, in days (longer: rotating the CA means updating `caBundle`).
    pub ca_days: u32,
}

impl Default for CertRequest {
    fn default() -> Self {
        CertRequest {
            service: "palisade".into(),
            namespace: "palisade-system".into(),
            secret_name: "palisade-tls".into(),
            days: 365,
            ca_days: 3650,
        }
    }
}

/// A CA and the serving certificate it signed, PEM-encoded.
#[derive(Clone)]
pub struct Generated {
    pub ca_cert_pem: String,
    /// `None` when an existing CA signed the certificate: its key is not copied anywhere.
    pub ca_key_pem: Option<String>,
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for Generated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys.
        f.debug_struct("Generated").finish_non_exhaustive()
    }
}

/// The names the API server may use for the Service: it calls `<svc>.<ns>.svc`; the others
/// cover clients inside the namespace and the fully qualified form.
#[must_use]
pub fn dns_names(service: &str, namespace: &str) -> Vec<String> {
    vec![
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
        format!("{service}.{namespace}"),
        service.to_string(),
    ]
}

fn dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn days_from_today(days: i64) -> Date {
    let today = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    Date::from_days_since_epoch(i64::try_from(today).unwrap_or(0) + days)
}

/// An existing CA, PEM: certificate and private key.
#[derive(Clone, Copy, Debug)]
pub struct ExistingCa<'a> {
    pub cert_pem: &'a str,
    pub key_pem: &'a str,
}

/// Generates a new CA (ECDSA P-256) and a serving certificate for the Service.
///
/// # Errors
/// A service or namespace that is not a DNS label, or a failure of the key generator.
pub fn generate(req: &CertRequest) -> Result<Generated, String> {
    generate_with(req, None)
}

/// As [`generate`], with the serving certificate signed by `ca` when given: renewing the
/// serving certificate then leaves `caBundle` as it is.
///
/// # Errors
/// As [`generate`]; a CA that does not parse, or whose key does not belong to it (checked by
/// verifying the new certificate against the CA, as a client would).
pub fn generate_with(req: &CertRequest, ca: Option<ExistingCa<'_>>) -> Result<Generated, String> {
    for (what, v) in [("service", &req.service), ("namespace", &req.namespace)] {
        if !dns_label(v) {
            return Err(format!(
                "{what} `{v}` is not a DNS label (lower-case letters, digits and `-`, at most 63)"
            ));
        }
    }
    if req.days == 0 || req.ca_days < req.days {
        return Err(format!(
            "validity: the certificate needs at least one day and the CA at least as many ({} < {})",
            req.ca_days, req.days
        ));
    }
    let err = |e: rcgen::Error| e.to_string();
    let ymd = |d: Date| rcgen::date_time_ymd(d.year, d.month, d.day);
    // Valid from yesterday: a node whose clock is a little behind must not reject it.
    let not_before = days_from_today(-1);

    if let Some(existing) = ca {
        let key = KeyPair::from_pem(existing.key_pem).map_err(|e| format!("CA key: {e}"))?;
        let issuer = rcgen::Issuer::from_ca_cert_pem(existing.cert_pem, key)
            .map_err(|e| format!("CA certificate: {e}"))?;
        let (cert_pem, key_pem) = serving_cert(req, &issuer, not_before)?;
        let generated = Generated {
            ca_cert_pem: existing.cert_pem.to_string(),
            ca_key_pem: None,
            cert_pem,
            key_pem,
        };
        verify_chain(&generated, &dns_names(&req.service, &req.namespace)[0])
            .map_err(|e| format!("the CA key does not belong to the CA certificate: {e}"))?;
        return Ok(generated);
    }
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name.push(
        DnType::CommonName,
        format!("palisade-webhook-ca ({}/{})", req.namespace, req.service),
    );
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = ymd(not_before);
    ca.not_after = ymd(days_from_today(i64::from(req.ca_days)));
    let issuer = CertifiedIssuer::self_signed(ca, ca_key).map_err(err)?;
    let (cert_pem, key_pem) = serving_cert(req, &issuer, not_before)?;
    Ok(Generated {
        ca_cert_pem: issuer.pem(),
        ca_key_pem: Some(issuer.key().serialize_pem()),
        cert_pem,
        key_pem,
    })
}

/// A new key and a serving certificate for the Service, signed by `issuer`.
fn serving_cert(
    req: &CertRequest,
    issuer: &rcgen::Issuer<'_, KeyPair>,
    not_before: Date,
) -> Result<(String, String), String> {
    let err = |e: rcgen::Error| e.to_string();
    let key = KeyPair::generate().map_err(err)?;
    let names = dns_names(&req.service, &req.namespace);
    let mut leaf = CertificateParams::new(names.clone()).map_err(err)?;
    leaf.distinguished_name = DistinguishedName::new();
    leaf.distinguished_name
        .push(DnType::CommonName, names[0].clone());
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let ymd = |d: Date| rcgen::date_time_ymd(d.year, d.month, d.day);
    leaf.not_before = ymd(not_before);
    leaf.not_after = ymd(days_from_today(i64::from(req.days)));
    let cert = leaf.signed_by(&key, issuer).map_err(err)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Verifies the serving certificate against the CA for `name`, with rustls' webpki verifier.
fn verify_chain(g: &Generated, name: &str) -> Result<(), String> {
    use rustls::client::danger::ServerCertVerifier as _;
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(g.ca_cert_pem.as_bytes()) {
        roots
            .add(c.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        std::sync::Arc::new(roots),
        std::sync::Arc::new(rustls::crypto::ring::default_provider()),
    )
    .build()
    .map_err(|e| e.to_string())?;
    let cert = CertificateDer::from_pem_slice(g.cert_pem.as_bytes()).map_err(|e| e.to_string())?;
    let name = ServerName::try_from(name.to_string()).map_err(|e| e.to_string())?;
    verifier
        .verify_server_cert(&cert, &[], &name, &[], UnixTime::now())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The `caBundle` value: the CA certificate, PEM, base64-encoded.
#[must_use]
pub fn ca_bundle(g: &Generated) -> String {
    b64(&g.ca_cert_pem)
}

/// A `kubernetes.io/tls` Secret with `tls.crt`, `tls.key` and `ca.crt`, as
/// `kubectl create secret tls` writes it (plus the CA, which cert-manager adds too).
#[must_use]
pub fn secret_manifest(req: &CertRequest, g: &Generated) -> String {
    format!(
        "# Generated by `palisade certs generate`: the webhook's serving certificate for\n\
         # {svc}.{ns}.svc. It holds a private key: apply it, do not commit it.\n\
         apiVersion: v1\n\
         kind: Secret\n\
         metadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    app.kubernetes.io/name: palisade\n\
         type: kubernetes.io/tls\n\
         data:\n  tls.crt: {crt}\n  tls.key: {key}\n  ca.crt: {ca}\n",
        svc = req.service,
        ns = req.namespace,
        name = req.secret_name,
        crt = b64(&g.cert_pem),
        key = b64(&g.key_pem),
        ca = b64(&g.ca_cert_pem),
    )
}

/// Sets `caBundle` in every webhook of every `ValidatingWebhookConfiguration` and
/// `MutatingWebhookConfiguration` of a manifest stream; everything else is kept byte for byte.
/// Returns the new text and how many webhooks were patched.
///
/// # Errors
/// A document that does not parse, or an edit that cannot be made in place.
pub fn patch_webhooks(src: &str, ca_bundle: &str) -> Result<(String, usize), String> {
    let mut per_doc = Vec::new();
    let mut patched = 0;
    for doc in palisade_yaml::parse_stream(src) {
        let doc = doc.map_err(|e| format!("{}:{}: {}", e.line, e.column, e.message))?;
        let value: Value = serde_json::from_str(&doc.root.to_json())
            .map_err(|e| format!("document {}: {e}", doc.index + 1))?;
        let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
        if !matches!(
            kind,
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration"
        ) {
            continue;
        }
        let webhooks = value
            .get("webhooks")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let mut ops = Vec::new();
        for i in 0..webhooks {
            let op = palisade_yaml::edit::ensure_op(
                &value,
                &format!("/webhooks/{i}/clientConfig/caBundle"),
                Value::String(ca_bundle.to_string()),
            )
            .map_err(|e| format!("document {}: {e}", doc.index + 1))?;
            ops.push(op);
        }
        patched += webhooks;
        per_doc.push((doc.index, ops));
    }
    let text =
        palisade_yaml::edit::apply_patches_to_stream(src, &per_doc).map_err(|e| e.to_string())?;
    Ok((text, patched))
}

/// Writes the PEM files (keys 0600) and `secret.yaml` (0600: it holds the key) into `dir`,
/// each atomically. Refuses to replace existing files unless `overwrite`: a CA key lost to a
/// typo would mean re-issuing everything it signed.
///
/// # Errors
/// The first file that cannot be written, named.
pub fn write_files(
    dir: &Path,
    req: &CertRequest,
    g: &Generated,
    overwrite: bool,
) -> Result<Vec<std::path::PathBuf>, String> {
    let mut files: Vec<(&str, &str, u32)> = vec![
        ("ca.crt", &g.ca_cert_pem, 0o644),
        ("tls.crt", &g.cert_pem, 0o644),
        ("tls.key", &g.key_pem, 0o600),
        ("secret.yaml", "", 0o600),
    ];
    if let Some(ca_key) = &g.ca_key_pem {
        files.insert(1, ("ca.key", ca_key, 0o600));
    }
    if !overwrite {
        // All or nothing: check every name before writing any.
        for &(name, _, _) in &files {
            let path = dir.join(name);
            if std::fs::symlink_metadata(&path).is_ok() {
                return Err(format!(
                    "{}: already exists (use --force to replace it)",
                    path.display()
                ));
            }
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let secret = secret_manifest(req, g);
    let mut written = Vec::new();
    for (name, text, mode) in files {
        let path = dir.join(name);
        let text = if name == "secret.yaml" { &secret } else { text };
        palisade_sign::util::write_atomic(&path, text.as_bytes(), mode, true)
            .map_err(|e| e.to_string())?;
        written.push(path);
    }
    Ok(written)
}
