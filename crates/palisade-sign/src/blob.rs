//! Blob signatures as `cosign sign-blob --key` writes them: base64 of an ASN.1 DER ECDSA P-256
//! signature over the SHA-256 of the file; optionally a Sigstore v0.3 bundle with a message signature.

use std::io::Read as _;
use std::path::Path;

use sha2::Digest as _;

use crate::bundle::Bundle;
use crate::error::{Error, Result};
use crate::keys::{PublicKey, SigningKey};
use crate::util::{b64, unb64};

/// SHA-256 of a file, streamed.
pub fn hash_file(path: &Path) -> Result<[u8; 32]> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

/// A blob signature.
#[derive(Clone, Debug)]
pub struct BlobSignature {
    /// SHA-256 of the blob.
    pub digest: [u8; 32],
    /// Raw signature bytes (DER for ECDSA).
    pub signature: Vec<u8>,
}

impl BlobSignature {
    /// The base64 text `cosign sign-blob` prints.
    #[must_use]
    pub fn to_base64(&self) -> String {
        b64(&self.signature)
    }

    /// The signature as a Sigstore bundle (v0.3, message signature, no transparency-log entry).
    pub fn to_bundle(&self, key: &PublicKey) -> Result<Bundle> {
        Bundle::for_message(key, &self.digest, &self.signature)
    }
}

/// Signs a file (streamed for ECDSA; Ed25519 reads the file whole).
pub fn sign_file(key: &SigningKey, path: &Path) -> Result<BlobSignature> {
    match key {
        SigningKey::EcdsaP256(_) => {
            let digest = hash_file(path)?;
            Ok(BlobSignature {
                digest,
                signature: key.sign_digest(&digest)?,
            })
        }
        SigningKey::Ed25519(_) => sign_bytes(key, &crate::util::read(path)?),
    }
}

/// Signs bytes.
pub fn sign_bytes(key: &SigningKey, data: &[u8]) -> Result<BlobSignature> {
    Ok(BlobSignature {
        digest: crate::util::sha256(data),
        signature: key.sign(data)?,
    })
}

/// What verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobFormat {
    /// A bare base64 signature.
    Signature,
    /// A Sigstore bundle (the transparency-log entry, if any, is not checked).
    Bundle,
}

/// Verifies a file against a signature file's text: base64 (cosign `sign-blob`) or a bundle (JSON).
/// `sig_what` names the signature file in errors.
pub fn verify_file(
    key: &PublicKey,
    path: &Path,
    sig_what: &str,
    sig_text: &[u8],
) -> Result<BlobFormat> {
    let (digest, msg) = match key {
        PublicKey::Ed25519(_) => {
            let data = crate::util::read(path)?;
            (crate::util::sha256(&data), Some(data))
        }
        _ => (hash_file(path)?, None),
    };
    verify_parts(
        key,
        msg.as_deref(),
        &digest,
        &path.display().to_string(),
        sig_what,
        sig_text,
    )
}

/// Verifies bytes against a signature or bundle.
pub fn verify_bytes(
    key: &PublicKey,
    data: &[u8],
    sig_what: &str,
    sig_text: &[u8],
) -> Result<BlobFormat> {
    verify_parts(
        key,
        Some(data),
        &crate::util::sha256(data),
        "blob",
        sig_what,
        sig_text,
    )
}

fn verify_parts(
    key: &PublicKey,
    msg: Option<&[u8]>,
    digest: &[u8; 32],
    blob_what: &str,
    sig_what: &str,
    sig_text: &[u8],
) -> Result<BlobFormat> {
    let trimmed = sig_text.trim_ascii();
    if trimmed.starts_with(b"{") {
        let bundle = Bundle::parse(sig_what, trimmed)?;
        let ms = bundle.message_signature.as_ref().ok_or_else(|| {
            Error::format(
                sig_what,
                "expected a bundle with a messageSignature (a blob signature)",
            )
        })?;
        if let Some(md) = &ms.message_digest {
            let expected = unb64(sig_what, &md.digest)?;
            if md.algorithm != "SHA2_256" {
                return Err(Error::format(
                    sig_what,
                    format!("expected digest algorithm SHA2_256, found {}", md.algorithm),
                ));
            }
            if expected != digest {
                return Err(Error::Verification(format!(
                    "{blob_what}: content does not match the digest in {sig_what}"
                )));
            }
        }
        let sig = unb64(sig_what, &ms.signature)?;
        key.verify_parts(msg, digest, &sig)
            .map_err(|e| Error::Verification(format!("{blob_what} with {sig_what}: {e}")))?;
        Ok(BlobFormat::Bundle)
    } else {
        let text = std::str::from_utf8(trimmed)
            .map_err(|_| Error::format(sig_what, "expected base64 text or bundle JSON"))?;
        let sig = unb64(sig_what, text)?;
        key.verify_parts(msg, digest, &sig)
            .map_err(|e| Error::Verification(format!("{blob_what} with {sig_what}: {e}")))?;
        Ok(BlobFormat::Signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_both_formats() {
        let key = SigningKey::generate().unwrap();
        let s = sign_bytes(&key, b"data").unwrap();
        let pk = key.public_key();
        assert_eq!(
            verify_bytes(&pk, b"data", "s", s.to_base64().as_bytes()).unwrap(),
            BlobFormat::Signature
        );
        let bundle = s.to_bundle(&pk).unwrap().to_json().unwrap();
        assert_eq!(
            verify_bytes(&pk, b"data", "b", bundle.as_bytes()).unwrap(),
            BlobFormat::Bundle
        );
        assert!(verify_bytes(&pk, b"datA", "s", s.to_base64().as_bytes()).is_err());
        assert!(
            verify_bytes(&pk, b"datA", "b", bundle.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("does not match")
        );
    }

    #[test]
    fn ed25519_blob() {
        let key = SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]));
        let s = sign_bytes(&key, b"data").unwrap();
        verify_bytes(&key.public_key(), b"data", "s", s.to_base64().as_bytes()).unwrap();
        assert!(verify_bytes(&key.public_key(), b"x", "s", s.to_base64().as_bytes()).is_err());
    }
}
