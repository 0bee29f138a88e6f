//! Sigstore bundle (v0.1–v0.3 JSON) and DSSE envelopes, as far as key-based verification needs them.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keys::{PublicKey, SigningKey};
use crate::util::{b64, sha256, unb64};

/// Media type of the bundles written here (and by cosign v3 and `model_signing`).
pub const BUNDLE_V03_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// DSSE payload type of in-toto statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A Sigstore bundle.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// `application/vnd.dev.sigstore.bundle.v0.3+json` (or an older version).
    pub media_type: String,
    /// Key hint, certificate, transparency-log entries.
    pub verification_material: VerificationMaterial,
    /// A signature over a message digest (blobs).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub message_signature: Option<MessageSignature>,
    /// A DSSE envelope (attestations, model signatures).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dsse_envelope: Option<Envelope>,
}

/// What identifies the signer.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    /// A key hint (key-based signing).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub public_key: Option<PublicKeyIdentifier>,
    /// A Fulcio certificate (keyless; not verified here).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub certificate: Option<serde_json::Value>,
    /// A certificate chain (keyless, older bundles; not verified here).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub x509_certificate_chain: Option<serde_json::Value>,
    /// Rekor entries (not verified here).
    #[serde(default)]
    pub tlog_entries: Vec<serde_json::Value>,
    /// RFC 3161 timestamps (not verified here).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub timestamp_verification_data: Option<serde_json::Value>,
}

/// `{"hint": "…"}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PublicKeyIdentifier {
    /// Free-form key hint; `model_signing` uses hex(SHA-256(PEM SPKI)).
    #[serde(default)]
    pub hint: String,
}

/// A signature over a digest.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSignature {
    /// The digest that was signed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub message_digest: Option<MessageDigest>,
    /// base64 signature.
    pub signature: String,
}

/// `{"algorithm": "SHA2_256", "digest": "<base64>"}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MessageDigest {
    /// `SHA2_256`.
    pub algorithm: String,
    /// base64 digest.
    pub digest: String,
}

/// A DSSE envelope.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// base64 payload.
    pub payload: String,
    /// Payload type, e.g. `application/vnd.in-toto+json`.
    pub payload_type: String,
    /// Signatures over the PAE.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One DSSE signature.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// base64 signature.
    pub sig: String,
    /// Key id (empty in `model_signing` and cosign output).
    #[serde(default)]
    pub keyid: String,
}

/// DSSE pre-authentication encoding: `DSSEv1 <len(type)> <type> <len(body)> <body>`.
#[must_use]
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

impl Bundle {
    /// Parses bundle JSON; `what` names the file.
    pub fn parse(what: &str, json: &[u8]) -> Result<Self> {
        let b: Bundle = serde_json::from_slice(json)
            .map_err(|e| Error::format(what, format!("expected a Sigstore bundle (JSON): {e}")))?;
        if !b
            .media_type
            .starts_with("application/vnd.dev.sigstore.bundle")
        {
            return Err(Error::format(
                what,
                format!(
                    "expected mediaType application/vnd.dev.sigstore.bundle…, found `{}`",
                    b.media_type
                ),
            ));
        }
        Ok(b)
    }

    /// Serialises compactly.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::format("bundle", e.to_string()))
    }

    /// A key-based v0.3 bundle with a message signature (what `cosign sign-blob --bundle` writes, minus the tlog).
    pub fn for_message(key: &PublicKey, digest: &[u8; 32], signature: &[u8]) -> Result<Self> {
        Ok(Bundle {
            media_type: BUNDLE_V03_MEDIA_TYPE.into(),
            verification_material: VerificationMaterial {
                public_key: Some(PublicKeyIdentifier { hint: key.hint()? }),
                ..VerificationMaterial::default()
            },
            message_signature: Some(MessageSignature {
                message_digest: Some(MessageDigest {
                    algorithm: "SHA2_256".into(),
                    digest: b64(digest),
                }),
                signature: b64(signature),
            }),
            dsse_envelope: None,
        })
    }

    /// A key-based v0.3 bundle around a DSSE envelope signed by `key`.
    pub fn for_dsse(key: &SigningKey, payload_type: &str, payload: &[u8]) -> Result<Self> {
        let sig = key.sign(&pae(payload_type, payload))?;
        Ok(Bundle {
            media_type: BUNDLE_V03_MEDIA_TYPE.into(),
            verification_material: VerificationMaterial {
                public_key: Some(PublicKeyIdentifier {
                    hint: key.public_key().hint()?,
                }),
                ..VerificationMaterial::default()
            },
            message_signature: None,
            dsse_envelope: Some(Envelope {
                payload: b64(payload),
                payload_type: payload_type.into(),
                signatures: vec![EnvelopeSignature {
                    sig: b64(&sig),
                    keyid: String::new(),
                }],
            }),
        })
    }

    /// Checks the DSSE envelope against `key` and returns (payload type, payload bytes).
    /// A key hint that names another key is rejected (as `model_signing` does).
    pub fn verify_dsse(&self, what: &str, key: &PublicKey) -> Result<(String, Vec<u8>)> {
        let env = self
            .dsse_envelope
            .as_ref()
            .ok_or_else(|| Error::format(what, "expected a bundle with a dsseEnvelope"))?;
        self.check_hint(what, key)?;
        let payload = unb64(what, &env.payload)?;
        let pae = pae(&env.payload_type, &payload);
        let digest = sha256(&pae);
        let mut last = None;
        for s in &env.signatures {
            let sig = unb64(what, &s.sig)?;
            match key.verify_parts(Some(&pae), &digest, &sig) {
                Ok(()) => return Ok((env.payload_type.clone(), payload)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            Error::Verification(format!("{what}: the DSSE envelope has no signature"))
        }))
    }

    fn check_hint(&self, what: &str, key: &PublicKey) -> Result<()> {
        if let Some(pk) = &self.verification_material.public_key
            && !pk.hint.is_empty()
            && pk.hint.len() == 64
            && pk.hint.chars().all(|c| c.is_ascii_hexdigit())
            && !pk.hint.eq_ignore_ascii_case(&key.hint()?)
        {
            return Err(Error::Verification(format!(
                "{what}: signed by another key (bundle key hint {}, given key {})",
                pk.hint,
                key.describe()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_spec_example() {
        // From the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn dsse_round_trip_and_wrong_key() {
        let key = SigningKey::generate().unwrap();
        let b = Bundle::for_dsse(&key, IN_TOTO_PAYLOAD_TYPE, b"{}").unwrap();
        let json = b.to_json().unwrap();
        let back = Bundle::parse("b", json.as_bytes()).unwrap();
        assert_eq!(back.verify_dsse("b", &key.public_key()).unwrap().1, b"{}");
        let other = SigningKey::generate().unwrap().public_key();
        assert!(
            back.verify_dsse("b", &other)
                .unwrap_err()
                .to_string()
                .contains("another key")
        );
        assert!(
            Bundle::parse(
                "x.json",
                b"{\"mediaType\":\"nope\",\"verificationMaterial\":{}}"
            )
            .is_err()
        );
    }
}
