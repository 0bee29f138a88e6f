//! Image signatures in a registry, as cosign writes them.
//!
//! **Classic format** (cosign ≤ 2 default): a manifest tagged `sha256-<hex>.sig` in the image's
//! repository whose layers are simple-signing payloads (`application/vnd.dev.cosign.simplesigning.v1+json`),
//! each with the base64 signature in the annotation `dev.cosignproject.cosign/signature`. New
//! signatures are appended to the existing layers.
//!
//! **Bundle format** (cosign v3 default): an OCI 1.1 artifact (`artifactType`
//! `application/vnd.dev.sigstore.bundle.v0.3+json`) whose `subject` is the image manifest and whose
//! layer is a Sigstore bundle with a DSSE-signed in-toto statement naming the image digest. It is
//! found through the referrers API (`/v2/<repo>/referrers/<digest>`) or, where the registry lacks
//! it, the referrers tag `sha256-<hex>` (an image index).
//!
//! Verification is key-based: transparency-log (Rekor) entries are not checked.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::bundle::{Bundle, IN_TOTO_PAYLOAD_TYPE};
use crate::error::{Error, Result};
use crate::keys::{PublicKey, SigningKey};
use crate::registry::{Client, Reference};
use crate::simple_signing::Payload;
use crate::util::{b64, hex, sha256, unb64};

/// Layer media type of a classic cosign signature.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Annotation holding the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Artifact type / layer media type of a bundle-format signature.
pub const BUNDLE_ARTIFACT_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// Predicate type cosign v3 uses for image signatures.
pub const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
const MAX_SIGNATURE_BLOB: u64 = 1 << 20;
const MAX_SIGNATURES: usize = 64;

/// Which format a signature was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureFormat {
    /// `sha256-<hex>.sig` simple-signing layers.
    Classic,
    /// A Sigstore bundle referrer.
    Bundle,
}

impl std::fmt::Display for SignatureFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignatureFormat::Classic => "classic (simple signing, .sig tag)",
            SignatureFormat::Bundle => "sigstore bundle (OCI referrer)",
        })
    }
}

/// A key the caller trusts, with a name for messages (file path or secret name).
#[derive(Clone, Debug)]
pub struct TrustedKey {
    /// Shown in verdicts.
    pub name: String,
    /// The key.
    pub key: PublicKey,
}

impl TrustedKey {
    /// Reads a public key file.
    pub fn from_file(path: &Path) -> Result<Self> {
        Ok(TrustedKey {
            name: path.display().to_string(),
            key: PublicKey::from_file(path)?,
        })
    }
}

#[derive(Deserialize)]
struct ImageManifest {
    #[serde(default)]
    layers: Vec<Descriptor>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
    #[serde(default, rename = "artifactType")]
    artifact_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    artifact_type: Option<String>,
}

/// The classic signature tag of a digest: `sha256-<hex>.sig`.
#[must_use]
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replace(':', "-"))
}

/// The OCI 1.1 referrers fallback tag of a digest: `sha256-<hex>`.
#[must_use]
pub fn referrers_tag(digest: &str) -> String {
    digest.replace(':', "-")
}

/// Resolves a reference to its manifest digest (what cosign signs: the index for multi-arch images).
pub fn resolve(client: &Client, r: &Reference) -> Result<(String, String, u64)> {
    let m = client
        .get_manifest(&r.registry, &r.repository, r.version())?
        .ok_or_else(|| Error::Registry {
            registry: r.registry.clone(),
            message: format!("{r}: manifest not found"),
        })?;
    Ok((m.digest, m.media_type, m.bytes.len() as u64))
}

/// The outcome of signing.
#[derive(Clone, Debug)]
pub struct Signed {
    /// The signed manifest digest.
    pub digest: String,
    /// Where the signature went (`repo:sha256-….sig` or `repo@sha256:…`).
    pub location: String,
    /// Which format.
    pub format: SignatureFormat,
}

fn push_json(
    client: &Client,
    r: &Reference,
    value: &serde_json::Value,
) -> Result<(Vec<u8>, String)> {
    let bytes = serde_json::to_vec(value).map_err(|e| Error::format("manifest", e.to_string()))?;
    let digest = client.put_blob(&r.registry, &r.repository, &bytes)?;
    Ok((bytes, digest))
}

/// Signs an image in cosign's classic format, appending to existing signatures.
pub fn sign_classic(
    client: &Client,
    r: &Reference,
    key: &SigningKey,
    annotations: &BTreeMap<String, String>,
) -> Result<Signed> {
    let (digest, _, _) = resolve(client, r)?;
    let payload = Payload::new(&r.repo_name(), &digest, annotations).to_bytes()?;
    let signature = b64(&key.sign(&payload)?);
    let payload_digest = client.put_blob(&r.registry, &r.repository, &payload)?;
    let tag = signature_tag(&digest);

    // Existing layers stay, in order; the same signature is not added twice.
    let mut layers: Vec<Descriptor> = Vec::new();
    if let Some(existing) = client.get_manifest(&r.registry, &r.repository, &tag)? {
        let m: ImageManifest = serde_json::from_slice(&existing.bytes).map_err(|e| {
            Error::format(
                format!("{}:{tag}", r.repo_name()),
                format!("expected an OCI manifest: {e}"),
            )
        })?;
        layers = m.layers;
    }
    let new_layer = Descriptor {
        media_type: SIMPLE_SIGNING_MEDIA_TYPE.into(),
        digest: payload_digest,
        size: payload.len() as u64,
        annotations: BTreeMap::from([(SIGNATURE_ANNOTATION.to_string(), signature.clone())]),
        artifact_type: None,
    };
    if !layers.iter().any(|l| {
        l.digest == new_layer.digest && l.annotations.get(SIGNATURE_ANNOTATION) == Some(&signature)
    }) {
        layers.push(new_layer);
    }
    let config = json!({
        "architecture": "", "os": "", "created": "0001-01-01T00:00:00Z",
        "config": {},
        "history": layers.iter().map(|_| json!({"created": "0001-01-01T00:00:00Z"})).collect::<Vec<_>>(),
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.digest.clone()).collect::<Vec<_>>()},
    });
    let (config_bytes, config_digest) = push_json(client, r, &config)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config_bytes.len(), "digest": config_digest},
        "layers": layers,
    });
    let bytes =
        serde_json::to_vec(&manifest).map_err(|e| Error::format("manifest", e.to_string()))?;
    client.put_manifest(&r.registry, &r.repository, &tag, &bytes, OCI_MANIFEST)?;
    Ok(Signed {
        digest,
        location: format!("{}:{tag}", r.repo_name()),
        format: SignatureFormat::Classic,
    })
}

/// Signs an image in the bundle format (an OCI referrer holding a Sigstore bundle with a DSSE
/// in-toto statement), updating the referrers fallback tag for registries without the API.
pub fn sign_bundle(client: &Client, r: &Reference, key: &SigningKey) -> Result<Signed> {
    let (digest, media_type, size) = resolve(client, r)?;
    let hexd = digest.trim_start_matches("sha256:");
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": r.repo_name(), "digest": {"sha256": hexd}}],
        "predicateType": COSIGN_SIGN_PREDICATE,
        "predicate": {},
    });
    let payload =
        serde_json::to_vec(&statement).map_err(|e| Error::format("statement", e.to_string()))?;
    let bundle = Bundle::for_dsse(key, IN_TOTO_PAYLOAD_TYPE, &payload)?.to_json()?;
    let bundle_digest = client.put_blob(&r.registry, &r.repository, bundle.as_bytes())?;
    let empty_digest = client.put_blob(&r.registry, &r.repository, b"{}")?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": BUNDLE_ARTIFACT_TYPE,
        "config": {"mediaType": OCI_EMPTY, "size": 2, "digest": empty_digest},
        "layers": [{"mediaType": BUNDLE_ARTIFACT_TYPE, "size": bundle.len(), "digest": bundle_digest}],
        "subject": {"mediaType": media_type, "size": size, "digest": digest},
    });
    let bytes =
        serde_json::to_vec(&manifest).map_err(|e| Error::format("manifest", e.to_string()))?;
    let mdigest = format!("sha256:{}", hex(&sha256(&bytes)));
    client.put_manifest(&r.registry, &r.repository, &mdigest, &bytes, OCI_MANIFEST)?;
    if client
        .referrers(&r.registry, &r.repository, &digest)?
        .is_none()
    {
        // No referrers API: maintain the fallback tag's index (OCI distribution spec 1.1, "referrers tag schema").
        let tag = referrers_tag(&digest);
        let mut manifests: Vec<Descriptor> =
            match client.get_manifest(&r.registry, &r.repository, &tag)? {
                Some(m) => serde_json::from_slice::<ImageManifest>(&m.bytes)
                    .map(|m| m.manifests)
                    .unwrap_or_default(),
                None => Vec::new(),
            };
        if !manifests.iter().any(|d| d.digest == mdigest) {
            manifests.push(Descriptor {
                media_type: OCI_MANIFEST.into(),
                digest: mdigest.clone(),
                size: bytes.len() as u64,
                annotations: BTreeMap::new(),
                artifact_type: Some(BUNDLE_ARTIFACT_TYPE.into()),
            });
        }
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
        let ib = serde_json::to_vec(&index).map_err(|e| Error::format("index", e.to_string()))?;
        client.put_manifest(&r.registry, &r.repository, &tag, &ib, OCI_INDEX)?;
    }
    Ok(Signed {
        digest,
        location: format!("{}@{mdigest}", r.repo_name()),
        format: SignatureFormat::Bundle,
    })
}

/// One signature that verified.
#[derive(Clone, Debug, Serialize)]
pub struct VerifiedSignature {
    /// The trusted key's name.
    pub key: String,
    /// The format.
    pub format: SignatureFormat,
    /// Annotations of a classic payload (`optional`).
    pub annotations: BTreeMap<String, serde_json::Value>,
}

/// The outcome of verifying an image.
#[derive(Clone, Debug, Serialize)]
pub struct ImageVerification {
    /// The reference as given.
    pub reference: String,
    /// The manifest digest that was verified.
    pub digest: String,
    /// Every signature that verified with a trusted key.
    pub verified: Vec<VerifiedSignature>,
    /// Why other signatures were not accepted.
    pub rejected: Vec<Rejection>,
}

/// Why a signature found next to an image was not accepted. The webhook's deny message says
/// which, because the fix differs: sign the image, trust the right key, or investigate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectionKind {
    /// The signature does not verify with any trusted key (signed by someone else, or the
    /// signed bytes were changed).
    UntrustedKey,
    /// A trusted key signed it, but for another digest: a signature copied onto another image.
    DigestMismatch,
    /// Not a readable signature (malformed manifest, payload or bundle).
    Invalid,
}

/// A signature that was not accepted, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Rejection {
    pub kind: RejectionKind,
    pub message: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl Rejection {
    fn new(kind: RejectionKind, e: &Error) -> Self {
        Rejection {
            kind,
            message: e.to_string(),
        }
    }
}

/// Parses a referrers response (an OCI image index) and returns the descriptors of bundle artifacts.
pub fn bundle_referrers(what: &str, index: &[u8]) -> Result<Vec<(String, u64)>> {
    let idx: ImageManifest = serde_json::from_slice(index)
        .map_err(|e| Error::format(what, format!("expected an OCI image index: {e}")))?;
    Ok(idx
        .manifests
        .into_iter()
        .filter(|d| {
            d.artifact_type
                .as_deref()
                .is_some_and(|t| t.starts_with("application/vnd.dev.sigstore.bundle"))
        })
        .map(|d| (d.digest, d.size))
        .take(MAX_SIGNATURES)
        .collect())
}

fn classic_signatures(
    client: &Client,
    r: &Reference,
    digest: &str,
    keys: &[TrustedKey],
    out: &mut ImageVerification,
) -> Result<()> {
    let tag = signature_tag(digest);
    let Some(m) = client.get_manifest(&r.registry, &r.repository, &tag)? else {
        return Ok(());
    };
    let what = format!("{}:{tag}", r.repo_name());
    let manifest: ImageManifest = serde_json::from_slice(&m.bytes)
        .map_err(|e| Error::format(&what, format!("expected an OCI manifest: {e}")))?;
    for (i, layer) in manifest.layers.iter().take(MAX_SIGNATURES).enumerate() {
        let Some(sig_b64) = layer.annotations.get(SIGNATURE_ANNOTATION) else {
            continue;
        };
        let lwhat = format!("{what} layer {i}");
        let invalid = |e: Error| Rejection::new(RejectionKind::Invalid, &e);
        // A registry failure is no verdict on the signature: it aborts verification, so the
        // caller can tell "unsigned" from "could not look".
        let payload = client.get_blob(
            &r.registry,
            &r.repository,
            &layer.digest,
            MAX_SIGNATURE_BLOB,
        )?;
        let result = (|| -> Result<VerifiedSignature, Rejection> {
            let sig = unb64(&lwhat, sig_b64).map_err(invalid)?;
            let key = keys
                .iter()
                .find(|k| k.key.verify(&payload, &sig).is_ok())
                .ok_or_else(|| {
                    Rejection::new(
                        RejectionKind::UntrustedKey,
                        &Error::Verification(format!(
                            "{lwhat}: signature does not verify with any trusted key"
                        )),
                    )
                })?;
            let p = Payload::parse(&lwhat, &payload).map_err(invalid)?;
            if !p
                .critical
                .image
                .docker_manifest_digest
                .eq_ignore_ascii_case(digest)
            {
                return Err(Rejection::new(
                    RejectionKind::DigestMismatch,
                    &Error::Verification(format!(
                        "{lwhat}: signed payload names {}, not {digest}",
                        p.critical.image.docker_manifest_digest
                    )),
                ));
            }
            Ok(VerifiedSignature {
                key: key.name.clone(),
                format: SignatureFormat::Classic,
                annotations: p.optional.unwrap_or_default(),
            })
        })();
        match result {
            Ok(v) => out.verified.push(v),
            Err(e) => out.rejected.push(e),
        }
    }
    Ok(())
}

fn bundle_signatures(
    client: &Client,
    r: &Reference,
    digest: &str,
    keys: &[TrustedKey],
    out: &mut ImageVerification,
) -> Result<()> {
    let referrers = match client.referrers(&r.registry, &r.repository, digest)? {
        Some(index) => {
            bundle_referrers(&format!("{} referrers of {digest}", r.repo_name()), &index)?
        }
        None => match client.get_manifest(&r.registry, &r.repository, &referrers_tag(digest))? {
            Some(m) => bundle_referrers(
                &format!("{}:{}", r.repo_name(), referrers_tag(digest)),
                &m.bytes,
            )?,
            None => Vec::new(),
        },
    };
    let hexd = digest.trim_start_matches("sha256:");
    for (mdigest, _) in referrers {
        let what = format!("{}@{mdigest}", r.repo_name());
        let invalid = |e: Error| Rejection::new(RejectionKind::Invalid, &e);
        // Registry failures abort (see classic_signatures); what is fetched is then judged.
        let Some(m) = client.get_manifest(&r.registry, &r.repository, &mdigest)? else {
            out.rejected.push(invalid(Error::Verification(format!(
                "{what}: referrer manifest missing"
            ))));
            continue;
        };
        let manifest: Result<ImageManifest> = serde_json::from_slice(&m.bytes)
            .map_err(|e| Error::format(&what, format!("expected an OCI manifest: {e}")));
        let layer = manifest.and_then(|manifest| {
            let _ = (&manifest.artifact_type, &manifest.config);
            manifest
                .layers
                .into_iter()
                .find(|l| {
                    l.media_type
                        .starts_with("application/vnd.dev.sigstore.bundle")
                })
                .ok_or_else(|| Error::format(&what, "expected a layer holding a Sigstore bundle"))
        });
        let layer = match layer {
            Ok(l) => l,
            Err(e) => {
                out.rejected.push(invalid(e));
                continue;
            }
        };
        let json = client.get_blob(
            &r.registry,
            &r.repository,
            &layer.digest,
            MAX_SIGNATURE_BLOB,
        )?;
        let result = (|| -> Result<VerifiedSignature, Rejection> {
            let bundle = Bundle::parse(&what, &json).map_err(invalid)?;
            let mut last: Option<Rejection> = None;
            for k in keys {
                let untrusted = |e: Error| Rejection::new(RejectionKind::UntrustedKey, &e);
                let checked = (|| -> Result<(), Rejection> {
                    if bundle.dsse_envelope.is_some() {
                        let (_, payload) = bundle.verify_dsse(&what, &k.key).map_err(untrusted)?;
                        let st: serde_json::Value =
                            serde_json::from_slice(&payload).map_err(|e| {
                                invalid(Error::format(
                                    &what,
                                    format!("expected an in-toto statement: {e}"),
                                ))
                            })?;
                        let names_digest = st["subject"].as_array().is_some_and(|s| {
                            s.iter().any(|sub| {
                                sub["digest"]["sha256"]
                                    .as_str()
                                    .is_some_and(|d| d.eq_ignore_ascii_case(hexd))
                            })
                        });
                        if !names_digest {
                            return Err(Rejection::new(
                                RejectionKind::DigestMismatch,
                                &Error::Verification(format!(
                                    "{what}: the signed statement does not name {digest}"
                                )),
                            ));
                        }
                        Ok(())
                    } else if let Some(ms) = &bundle.message_signature {
                        let md = ms.message_digest.as_ref().ok_or_else(|| {
                            invalid(Error::format(
                                &what,
                                "messageSignature without messageDigest",
                            ))
                        })?;
                        let signed: [u8; 32] = unb64(&what, &md.digest)
                            .map_err(invalid)?
                            .try_into()
                            .map_err(|_| {
                                invalid(Error::format(&what, "expected a SHA-256 messageDigest"))
                            })?;
                        let sig = unb64(&what, &ms.signature).map_err(invalid)?;
                        k.key.verify_parts(None, &signed, &sig).map_err(untrusted)?;
                        // Signed by a trusted key: now it must be this image's digest.
                        if crate::util::unhex(hexd).as_deref() != Some(&signed[..]) {
                            return Err(Rejection::new(
                                RejectionKind::DigestMismatch,
                                &Error::Verification(format!(
                                    "{what}: the signed digest is not {digest}"
                                )),
                            ));
                        }
                        Ok(())
                    } else {
                        Err(invalid(Error::format(
                            &what,
                            "bundle has neither dsseEnvelope nor messageSignature",
                        )))
                    }
                })();
                match checked {
                    Ok(()) => {
                        return Ok(VerifiedSignature {
                            key: k.name.clone(),
                            format: SignatureFormat::Bundle,
                            annotations: BTreeMap::new(),
                        });
                    }
                    // The most telling reason wins: a trusted key over the wrong digest says
                    // more than another key's failure.
                    Err(e) => {
                        if last
                            .as_ref()
                            .is_none_or(|l| l.kind != RejectionKind::DigestMismatch)
                        {
                            last = Some(e);
                        }
                    }
                }
            }
            Err(last.unwrap_or_else(|| {
                invalid(Error::Verification(format!("{what}: no trusted keys")))
            }))
        })();
        match result {
            Ok(v) => out.verified.push(v),
            Err(e) => out.rejected.push(e),
        }
    }
    Ok(())
}

/// Verifies an image against trusted keys: every signature (classic and bundle) is checked; the
/// result lists those that verified and why others did not. `Err` only for registry or input
/// errors; an image with no valid signature is `Ok` with an empty `verified`.
pub fn verify(client: &Client, r: &Reference, keys: &[TrustedKey]) -> Result<ImageVerification> {
    let (digest, _, _) = resolve(client, r)?;
    verify_digest(client, r, &digest, keys)
}

/// Verifies the signatures of a digest the caller already resolved (the webhook caches tag
/// lookups). The manifest itself is not fetched: the signature names the digest, and the
/// node checks that what it pulls hashes to it.
pub fn verify_digest(
    client: &Client,
    r: &Reference,
    digest: &str,
    keys: &[TrustedKey],
) -> Result<ImageVerification> {
    let mut out = ImageVerification {
        reference: r.to_string(),
        digest: digest.to_string(),
        verified: Vec::new(),
        rejected: Vec::new(),
    };
    classic_signatures(client, r, digest, keys, &mut out)?;
    bundle_signatures(client, r, digest, keys, &mut out)?;
    Ok(out)
}

/// A trust rule with its keys loaded. The policy file's `spec.verifyImages` is parsed (with
/// line numbers) by `palisade-policy` and loaded by the webhook; this is the library form.
#[derive(Clone, Debug)]
pub struct TrustRule {
    /// Image patterns.
    pub images: Vec<String>,
    /// Trusted keys.
    pub keys: Vec<TrustedKey>,
    /// Namespaces (empty: all).
    pub namespaces: Vec<String>,
}

/// Which keys must have signed which images. The first rule whose pattern and namespace match decides.
#[derive(Clone, Debug, Default)]
pub struct TrustPolicy {
    /// Rules in order.
    pub rules: Vec<TrustRule>,
}

/// `*` matches any run of characters.
#[must_use]
pub fn pattern_matches(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

impl TrustPolicy {
    /// The rule for an image (as `registry/repository`) admitted to `namespace`.
    #[must_use]
    pub fn rule_for(&self, r: &Reference, namespace: Option<&str>) -> Option<&TrustRule> {
        let name = r.repo_name();
        let full = r.to_string();
        self.rules.iter().find(|rule| {
            let ns_ok = rule.namespaces.is_empty()
                || namespace.is_some_and(|n| rule.namespaces.iter().any(|x| x == n));
            ns_ok
                && rule
                    .images
                    .iter()
                    .any(|p| pattern_matches(p, &name) || pattern_matches(p, &full))
        })
    }
}

/// The decision for one image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// Signed by a trusted key.
    Verified {
        /// The digest that was verified (pin it in the mutation).
        digest: String,
        /// The key that verified.
        key: String,
        /// The format it was in.
        format: SignatureFormat,
    },
    /// No rule covers this image.
    NotRequired,
    /// No trusted signature.
    Denied {
        /// The digest, when it could be resolved.
        digest: Option<String>,
        /// Which kind of failure.
        kind: DenyKind,
        /// Why, for the admission message.
        reason: String,
    },
}

/// Why an image is not verified, in the terms an operator acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DenyKind {
    /// Neither a `.sig` tag nor a bundle referrer: sign the image.
    NoSignature,
    /// Signatures exist but none verifies with a trusted key.
    UntrustedKey,
    /// A trusted key signed another digest (a signature copied onto this image).
    DigestMismatch,
    /// Only unreadable signatures.
    InvalidSignature,
    /// The reference cannot be parsed.
    BadReference,
    /// The registry could not be asked (network, auth, timeout, missing manifest): the
    /// webhook's failure policy decides, not this verdict.
    Unavailable,
}

impl DenyKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DenyKind::NoSignature => "no signature",
            DenyKind::UntrustedKey => "wrong key",
            DenyKind::DigestMismatch => "digest mismatch",
            DenyKind::InvalidSignature => "invalid signature",
            DenyKind::BadReference => "bad reference",
            DenyKind::Unavailable => "registry unavailable",
        }
    }
}

/// The denial for a verification in which no signature verified (`None` when one did): the
/// most telling rejection decides the kind, every rejection is in the reason.
#[must_use]
pub fn judge(v: &ImageVerification, keys: &[TrustedKey]) -> Option<(DenyKind, String)> {
    if !v.verified.is_empty() {
        return None;
    }
    let names = keys
        .iter()
        .map(|k| k.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let has = |k: RejectionKind| v.rejected.iter().any(|r| r.kind == k);
    let kind = if v.rejected.is_empty() {
        DenyKind::NoSignature
    } else if has(RejectionKind::DigestMismatch) {
        DenyKind::DigestMismatch
    } else if has(RejectionKind::UntrustedKey) {
        DenyKind::UntrustedKey
    } else {
        DenyKind::InvalidSignature
    };
    let why = if v.rejected.is_empty() {
        "no signature found (neither a .sig tag nor a bundle referrer)".to_string()
    } else {
        v.rejected
            .iter()
            .map(|r| r.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    Some((
        kind,
        format!("no signature by a trusted key ({names}): {why}"),
    ))
}

/// Verifies `reference` against `policy` with a fresh client (10 s per registry request).
#[must_use]
pub fn verify_image(reference: &str, policy: &TrustPolicy) -> Verdict {
    verify_image_with(
        &Client::new(Duration::from_secs(10)),
        reference,
        None,
        policy,
    )
}

/// Verifies `reference` admitted to `namespace` against `policy` with a caller-owned client.
#[must_use]
pub fn verify_image_with(
    client: &Client,
    reference: &str,
    namespace: Option<&str>,
    policy: &TrustPolicy,
) -> Verdict {
    let r = match Reference::parse(reference) {
        Ok(r) => r,
        Err(e) => {
            return Verdict::Denied {
                digest: None,
                kind: DenyKind::BadReference,
                reason: e.to_string(),
            };
        }
    };
    let Some(rule) = policy.rule_for(&r, namespace) else {
        return Verdict::NotRequired;
    };
    match verify(client, &r, &rule.keys) {
        Ok(v) => match (v.verified.first(), judge(&v, &rule.keys)) {
            (Some(s), _) => Verdict::Verified {
                digest: v.digest.clone(),
                key: s.key.clone(),
                format: s.format,
            },
            (None, Some((kind, why))) => Verdict::Denied {
                digest: Some(v.digest),
                kind,
                reason: format!("{reference}: {why}"),
            },
            (None, None) => unreachable!("judge returns a denial when nothing verified"),
        },
        Err(e) => Verdict::Denied {
            digest: None,
            kind: DenyKind::Unavailable,
            reason: format!("{reference}: cannot verify: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(pattern_matches(
            "registry.internal/ml/*",
            "registry.internal/ml/llama"
        ));
        assert!(pattern_matches("*", "anything"));
        assert!(pattern_matches("a*c*e", "abcde"));
        assert!(!pattern_matches(
            "registry.internal/ml/*",
            "registry.internal/other/x"
        ));
        assert!(!pattern_matches("a*a", "a"));
    }

    /// The referrers response as documented by the OCI distribution spec 1.1 ("Listing Referrers").
    #[test]
    fn referrers_wire_format() {
        let index = br#"{
          "schemaVersion": 2,
          "mediaType": "application/vnd.oci.image.index.v1+json",
          "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1234,
             "digest": "sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
             "artifactType": "application/vnd.example.sbom.v1", "annotations": {"org.opencontainers.image.created": "2022-01-01T14:42:55Z"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1234,
             "digest": "sha256:a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2",
             "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json"}
          ]
        }"#;
        let r = bundle_referrers("referrers", index).unwrap();
        assert_eq!(
            r,
            vec![(
                "sha256:a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2"
                    .to_string(),
                1234
            )]
        );
        assert!(bundle_referrers("x", b"\"x\"").is_err());
    }

    #[test]
    fn policy_rules() {
        let key = SigningKey::generate().unwrap().public_key();
        let policy = TrustPolicy {
            rules: vec![TrustRule {
                images: vec!["registry.internal/ml/*".into()],
                keys: vec![TrustedKey {
                    name: "k".into(),
                    key,
                }],
                namespaces: vec!["serving".into()],
            }],
        };
        let r = Reference::parse("registry.internal/ml/llama:1").unwrap();
        assert!(policy.rule_for(&r, Some("serving")).is_some());
        assert!(policy.rule_for(&r, Some("dev")).is_none());
        let other = Reference::parse("docker.io/library/nginx").unwrap();
        assert!(policy.rule_for(&other, Some("serving")).is_none());
        assert_eq!(
            verify_image("UPPER", &policy),
            Verdict::Denied {
                digest: None,
                kind: DenyKind::BadReference,
                reason: "image reference `UPPER`: expected a lower-case repository name".into()
            }
        );
    }
}
