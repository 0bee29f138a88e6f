//! Keys: cosign's encrypted private-key format, PKCS#8 / SPKI PEM, and the password rules.
//!
//! cosign (`pkg/cosign/keys.go`, go-securesystemslib `encrypted`) stores a private key as PEM with
//! the label `ENCRYPTED SIGSTORE PRIVATE KEY` (cosign ≥ 2) or `ENCRYPTED COSIGN PRIVATE KEY`
//! (older), whose body is JSON:
//! `{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"…"},"cipher":{"name":"nacl/secretbox","nonce":"…"},"ciphertext":"…"}`
//! where `ciphertext = secretbox(PKCS#8 DER, key = scrypt(password, salt, N, r, p, 32))`.

use std::io::IsTerminal as _;
use std::path::Path;

use p256::ecdsa::signature::hazmat::{PrehashSigner as _, PrehashVerifier as _};
use p256::pkcs8::{
    DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _, EncodePublicKey as _,
};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::util::{b64, hex, random, sha256, unb64};
use crate::{pem, secretbox};

/// PEM label cosign ≥ 2 writes.
pub const SIGSTORE_PRIVATE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// PEM label older cosign wrote (still read).
pub const COSIGN_PRIVATE_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// cosign's scrypt cost (N = 2^15, r = 8, p = 1).
pub const SCRYPT_LOG_N: u8 = 15;
/// Largest scrypt memory (128·r·N bytes) accepted from a key file: bounds what a hostile file can make us allocate.
const SCRYPT_MAX_MEMORY: u64 = 1 << 30;

/// A private key that can sign.
#[derive(Clone)]
pub enum SigningKey {
    /// ECDSA P-256 with SHA-256 (cosign's default).
    EcdsaP256(p256::ecdsa::SigningKey),
    /// Ed25519 (pure, over the whole message).
    Ed25519(ed25519_dalek::SigningKey),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.public_key().describe())
    }
}

/// A public key that verifies signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// ECDSA P-256 with SHA-256; signatures in ASN.1 DER (or raw r‖s).
    EcdsaP256(p256::ecdsa::VerifyingKey),
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// RSA with SHA-256, PKCS#1 v1.5 or PSS.
    Rsa(rsa::PublicKey),
}

impl SigningKey {
    /// A fresh ECDSA P-256 key from the operating system's randomness.
    pub fn generate() -> Result<Self> {
        loop {
            let bytes: [u8; 32] = random()?;
            if let Ok(k) = p256::ecdsa::SigningKey::from_slice(&bytes) {
                return Ok(SigningKey::EcdsaP256(k));
            }
        }
    }

    /// The matching public key.
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        match self {
            SigningKey::EcdsaP256(k) => PublicKey::EcdsaP256(*k.verifying_key()),
            SigningKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
        }
    }

    /// Reads a private key from PKCS#8 DER (P-256 or Ed25519).
    pub fn from_pkcs8_der(what: &str, der: &[u8]) -> Result<Self> {
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(SigningKey::EcdsaP256(k));
        }
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
            return Ok(SigningKey::Ed25519(k));
        }
        if let Some(k) = ed25519_from_pkcs8_v2(der) {
            return Ok(SigningKey::Ed25519(k));
        }
        Err(Error::format(
            what,
            "expected a PKCS#8 ECDSA P-256 or Ed25519 private key",
        ))
    }

    /// PKCS#8 DER of the key.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>> {
        let doc = match self {
            SigningKey::EcdsaP256(k) => k.to_pkcs8_der(),
            SigningKey::Ed25519(k) => k.to_pkcs8_der(),
        };
        doc.map(|d| d.as_bytes().to_vec())
            .map_err(|e| Error::format("private key", format!("cannot encode PKCS#8: {e}")))
    }

    /// Reads a private key from PEM text: cosign's encrypted format (both labels; the password is
    /// asked of `password` only then), `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` (SEC1).
    pub fn from_pem(
        what: &str,
        text: &str,
        password: impl FnOnce() -> Result<Vec<u8>>,
    ) -> Result<Self> {
        let block = pem::parse_one(what, text)?;
        match block.label.as_str() {
            SIGSTORE_PRIVATE_KEY_LABEL | COSIGN_PRIVATE_KEY_LABEL => {
                let pw = password()?;
                let der = decrypt_cosign(what, &block.der, &pw)?;
                Self::from_pkcs8_der(what, &der)
            }
            "PRIVATE KEY" => Self::from_pkcs8_der(what, &block.der),
            "EC PRIVATE KEY" => {
                let sk = p256::SecretKey::from_sec1_der(&block.der).map_err(|e| {
                    Error::format(what, format!("expected a SEC1 P-256 EC private key: {e}"))
                })?;
                Ok(SigningKey::EcdsaP256(sk.into()))
            }
            other => Err(Error::format(
                what,
                format!(
                    "expected `{SIGSTORE_PRIVATE_KEY_LABEL}`, `{COSIGN_PRIVATE_KEY_LABEL}`, `PRIVATE KEY` or `EC PRIVATE KEY`, found `{other}`"
                ),
            )),
        }
    }

    /// Reads a private key file (see [`SigningKey::from_pem`]).
    pub fn from_file(path: &Path, password: impl FnOnce() -> Result<Vec<u8>>) -> Result<Self> {
        let text = crate::util::read_text(path)?;
        Self::from_pem(&path.display().to_string(), &text, password)
    }

    /// cosign's encrypted PEM (`ENCRYPTED SIGSTORE PRIVATE KEY`) with scrypt cost 2^`log_n`.
    pub fn to_encrypted_pem(&self, password: &[u8], log_n: u8) -> Result<String> {
        let der = self.to_pkcs8_der()?;
        let salt: [u8; 32] = random()?;
        let nonce: [u8; 24] = random()?;
        let key = scrypt_key("new key", password, &salt, log_n, 8, 1)?;
        let ciphertext = secretbox::seal(&key, &nonce, &der);
        let body = EncryptedKey {
            kdf: Kdf {
                name: "scrypt".into(),
                params: ScryptParams {
                    n: 1u64 << log_n,
                    r: 8,
                    p: 1,
                },
                salt: b64(&salt),
            },
            cipher: Cipher {
                name: "nacl/secretbox".into(),
                nonce: b64(&nonce),
            },
            ciphertext: b64(&ciphertext),
        };
        let json =
            serde_json::to_vec(&body).map_err(|e| Error::format("new key", e.to_string()))?;
        Ok(pem::encode(SIGSTORE_PRIVATE_KEY_LABEL, &json))
    }

    /// Signs a SHA-256 digest (ECDSA: ASN.1 DER signature). Ed25519 cannot sign a digest: use [`SigningKey::sign`].
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Result<Vec<u8>> {
        match self {
            SigningKey::EcdsaP256(k) => {
                let sig: p256::ecdsa::Signature = k
                    .sign_prehash(digest)
                    .map_err(|e| Error::Verification(format!("ECDSA signing failed: {e}")))?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            SigningKey::Ed25519(_) => Err(Error::Refused(
                "Ed25519 signs whole messages, not digests".into(),
            )),
        }
    }

    /// Signs a message (ECDSA over its SHA-256; Ed25519 over the bytes).
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>> {
        match self {
            SigningKey::EcdsaP256(_) => self.sign_digest(&sha256(msg)),
            SigningKey::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                Ok(k.sign(msg).to_bytes().to_vec())
            }
        }
    }
}

/// ed25519 PKCS#8 v2 (RFC 8410 `OneAsymmetricKey` with the public key, as sigstore-rs writes) when
/// the `ed25519` crate does not take it: the seed is the OCTET STRING inside the privateKey field.
fn ed25519_from_pkcs8_v2(der: &[u8]) -> Option<ed25519_dalek::SigningKey> {
    use p256::pkcs8::der::Decode as _;
    let info = p256::pkcs8::PrivateKeyInfoRef::from_der(der).ok()?;
    if info.algorithm.oid.to_string() != "1.3.101.112" {
        return None;
    }
    let inner = info.private_key.as_bytes();
    // CurvePrivateKey ::= OCTET STRING (0x04 0x20 <32 bytes>)
    let seed = inner.strip_prefix(&[0x04, 0x20])?;
    let seed: [u8; 32] = seed.try_into().ok()?;
    Some(ed25519_dalek::SigningKey::from_bytes(&seed))
}

impl PublicKey {
    /// Reads a public key from SPKI DER (P-256, Ed25519 or RSA).
    pub fn from_spki_der(what: &str, der: &[u8]) -> Result<Self> {
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::EcdsaP256(k));
        }
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::Ed25519(k));
        }
        if let Ok(k) = rsa::PublicKey::from_public_key_der(der) {
            return Ok(PublicKey::Rsa(k));
        }
        Err(Error::format(
            what,
            "expected an ECDSA P-256, Ed25519 or RSA public key (SubjectPublicKeyInfo)",
        ))
    }

    /// Reads the first public key in PEM text (`PUBLIC KEY`, or PKCS#1 `RSA PUBLIC KEY`).
    pub fn from_pem(what: &str, text: &str) -> Result<Self> {
        let blocks = pem::parse_all(what, text)?;
        let Some(block) = blocks.first() else {
            return Err(Error::format(
                what,
                "expected a PEM public key (`-----BEGIN PUBLIC KEY-----`)",
            ));
        };
        match block.label.as_str() {
            "PUBLIC KEY" => Self::from_spki_der(what, &block.der),
            "RSA PUBLIC KEY" => {
                use rsa::pkcs1::DecodeRsaPublicKey as _;
                rsa::PublicKey::from_pkcs1_der(&block.der)
                    .map(PublicKey::Rsa)
                    .map_err(|e| {
                        Error::format(what, format!("expected a PKCS#1 RSA public key: {e}"))
                    })
            }
            other => Err(Error::format(
                what,
                format!("expected `PUBLIC KEY`, found `{other}`"),
            )),
        }
    }

    /// Reads a public key file; a private key file yields its public half (password asked only if encrypted).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = crate::util::read_text(path)?;
        let what = path.display().to_string();
        match Self::from_pem(&what, &text) {
            Ok(k) => Ok(k),
            Err(e) => match pem::parse_one(&what, &text) {
                Ok(b) if b.label.contains("PRIVATE KEY") => {
                    Ok(SigningKey::from_pem(&what, &text, || {
                        password_from_env_or_prompt(&what, false)
                    })?
                    .public_key())
                }
                _ => Err(e),
            },
        }
    }

    /// SPKI DER.
    pub fn to_spki_der(&self) -> Result<Vec<u8>> {
        let doc = match self {
            PublicKey::EcdsaP256(k) => k.to_public_key_der(),
            PublicKey::Ed25519(k) => k.to_public_key_der(),
            PublicKey::Rsa(k) => k.to_public_key_der(),
        };
        doc.map(|d| d.as_bytes().to_vec())
            .map_err(|e| Error::format("public key", format!("cannot encode SPKI: {e}")))
    }

    /// `-----BEGIN PUBLIC KEY-----` PEM, byte-for-byte what cosign, OpenSSL and pyca/cryptography write.
    pub fn to_pem(&self) -> Result<String> {
        Ok(pem::encode("PUBLIC KEY", &self.to_spki_der()?))
    }

    /// hex(SHA-256(PEM)): the `publicKey.hint` that `model_signing` writes and checks in bundles.
    pub fn hint(&self) -> Result<String> {
        Ok(hex(&sha256(self.to_pem()?.as_bytes())))
    }

    /// Algorithm and short fingerprint for messages, e.g. `ecdsa-p256 SHA256:ab12…`.
    #[must_use]
    pub fn describe(&self) -> String {
        let alg = match self {
            PublicKey::EcdsaP256(_) => "ecdsa-p256",
            PublicKey::Ed25519(_) => "ed25519",
            PublicKey::Rsa(_) => "rsa",
        };
        match self.hint() {
            Ok(h) => format!("{alg} {}", &h[..16]),
            Err(_) => alg.to_string(),
        }
    }

    /// Verifies `sig` over a message whose SHA-256 is `digest` (`msg` is needed for Ed25519 only).
    pub fn verify_parts(&self, msg: Option<&[u8]>, digest: &[u8; 32], sig: &[u8]) -> Result<()> {
        let bad = |why: &str| {
            Error::Verification(format!(
                "signature does not verify with {}: {why}",
                self.describe()
            ))
        };
        match self {
            PublicKey::EcdsaP256(k) => {
                let sig = p256::ecdsa::Signature::from_der(sig)
                    .or_else(|_| p256::ecdsa::Signature::from_slice(sig))
                    .map_err(|_| bad("not an ECDSA signature (ASN.1 DER or r‖s)"))?;
                let sig = sig.normalize_s();
                k.verify_prehash(digest, &sig)
                    .map_err(|_| bad("ECDSA check failed"))
            }
            PublicKey::Ed25519(k) => {
                let msg = msg.ok_or_else(|| bad("Ed25519 needs the whole message"))?;
                let sig = ed25519_dalek::Signature::from_slice(sig)
                    .map_err(|_| bad("not a 64-byte Ed25519 signature"))?;
                k.verify_strict(msg, &sig)
                    .map_err(|_| bad("Ed25519 check failed"))
            }
            PublicKey::Rsa(k) => {
                let pkcs1 = k.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), digest, sig);
                if pkcs1.is_ok() {
                    return Ok(());
                }
                k.verify(rsa::Pss::<sha2::Sha256>::new(), digest, sig)
                    .map_err(|_| bad("RSA PKCS#1 v1.5 and PSS checks failed"))
            }
        }
    }

    /// Verifies `sig` over `msg`.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<()> {
        self.verify_parts(Some(msg), &sha256(msg), sig)
    }
}

#[derive(Serialize, Deserialize)]
struct EncryptedKey {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn scrypt_key(
    what: &str,
    password: &[u8],
    salt: &[u8],
    log_n: u8,
    r: u32,
    p: u32,
) -> Result<[u8; 32]> {
    let memory = 128u64
        .saturating_mul(u64::from(r))
        .saturating_mul(1u64 << log_n.min(63));
    if log_n > 24 || memory > SCRYPT_MAX_MEMORY || u64::from(p).saturating_mul(u64::from(r)) > 256 {
        return Err(Error::format(
            what,
            format!(
                "scrypt parameters N=2^{log_n} r={r} p={p} exceed the accepted bound (128·r·N ≤ 1 GiB)"
            ),
        ));
    }
    let params = scrypt::Params::new(log_n, r, p).map_err(|_| {
        Error::format(
            what,
            format!("invalid scrypt parameters N=2^{log_n} r={r} p={p}"),
        )
    })?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password, salt, &params, &mut key)
        .map_err(|_| Error::format(what, "scrypt failed"))?;
    Ok(key)
}

/// Decrypts the JSON body of a cosign encrypted key to PKCS#8 DER.
pub fn decrypt_cosign(what: &str, body: &[u8], password: &[u8]) -> Result<Vec<u8>> {
    let key: EncryptedKey = serde_json::from_slice(body).map_err(|e| {
        Error::format(
            what,
            format!("expected cosign's encrypted-key JSON (kdf, cipher, ciphertext): {e}"),
        )
    })?;
    if key.kdf.name != "scrypt" {
        return Err(Error::format(
            what,
            format!("expected kdf `scrypt`, found `{}`", key.kdf.name),
        ));
    }
    if key.cipher.name != "nacl/secretbox" {
        return Err(Error::format(
            what,
            format!(
                "expected cipher `nacl/secretbox`, found `{}`",
                key.cipher.name
            ),
        ));
    }
    let n = key.kdf.params.n;
    if !n.is_power_of_two() || n < 2 {
        return Err(Error::format(
            what,
            format!("scrypt N must be a power of two > 1, found {n}"),
        ));
    }
    let log_n = u8::try_from(n.trailing_zeros()).unwrap_or(u8::MAX);
    let salt = unb64(what, &key.kdf.salt)?;
    let nonce: [u8; 24] = unb64(what, &key.cipher.nonce)?
        .try_into()
        .map_err(|_| Error::format(what, "expected a 24-byte secretbox nonce"))?;
    let ciphertext = unb64(what, &key.ciphertext)?;
    let k = scrypt_key(
        what,
        password,
        &salt,
        log_n,
        key.kdf.params.r,
        key.kdf.params.p,
    )?;
    secretbox::open(&k, &nonce, &ciphertext).ok_or_else(|| Error::Decrypt {
        what: what.to_string(),
        reason: "wrong password or damaged key (secretbox authentication failed)".into(),
    })
}

/// The password: `PALISADE_PASSWORD`, else `COSIGN_PASSWORD` (set but empty means the empty
/// password, as in cosign), else a prompt on the terminal. Never prompts when stdin is not a
/// terminal (CI): that is an error saying which variables to set.
pub fn password_from_env_or_prompt(what: &str, confirm: bool) -> Result<Vec<u8>> {
    for var in ["PALISADE_PASSWORD", "COSIGN_PASSWORD"] {
        if let Some(v) = std::env::var_os(var) {
            return Ok(v.into_encoded_bytes());
        }
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Password(format!(
            "{what}: a password is needed and stdin is not a terminal: set PALISADE_PASSWORD or COSIGN_PASSWORD"
        )));
    }
    let first = rpassword::prompt_password(format!("Enter password for {what}: "))
        .map_err(|e| Error::Password(format!("{what}: cannot read the password: {e}")))?;
    if confirm {
        let again = rpassword::prompt_password("Enter password again: ")
            .map_err(|e| Error::Password(format!("{what}: cannot read the password: {e}")))?;
        if again != first {
            return Err(Error::Password("passwords do not match".into()));
        }
    }
    Ok(first.into_bytes())
}

/// Writes a new cosign-compatible key pair: `<prefix>.key` (encrypted, mode 0600) and `<prefix>.pub`.
pub fn write_key_pair(
    key: &SigningKey,
    password: &[u8],
    prefix: &Path,
    overwrite: bool,
) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let mut key_path = prefix.as_os_str().to_owned();
    key_path.push(".key");
    let mut pub_path = prefix.as_os_str().to_owned();
    pub_path.push(".pub");
    let (key_path, pub_path) = (
        std::path::PathBuf::from(key_path),
        std::path::PathBuf::from(pub_path),
    );
    if !overwrite {
        for p in [&key_path, &pub_path] {
            if std::fs::symlink_metadata(p).is_ok() {
                return Err(Error::Refused(format!(
                    "{}: already exists (use --force to replace it)",
                    p.display()
                )));
            }
        }
    }
    let pem = key.to_encrypted_pem(password, SCRYPT_LOG_N)?;
    crate::util::write_atomic(&key_path, pem.as_bytes(), 0o600, overwrite)?;
    crate::util::write_atomic(
        &pub_path,
        key.public_key().to_pem()?.as_bytes(),
        0o644,
        overwrite,
    )?;
    Ok((key_path, pub_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_round_trip_and_wrong_password() {
        let key = SigningKey::generate().unwrap();
        let pem = key.to_encrypted_pem(b"pw", 10).unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        let back = SigningKey::from_pem("k", &pem, || Ok(b"pw".to_vec())).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        let err = SigningKey::from_pem("k", &pem, || Ok(b"nope".to_vec())).unwrap_err();
        assert!(matches!(err, Error::Decrypt { .. }), "{err}");
    }

    #[test]
    fn hostile_scrypt_params_refused() {
        let body = br#"{"kdf":{"name":"scrypt","params":{"N":1099511627776,"r":8,"p":1},"salt":"AA=="},"cipher":{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"ciphertext":"AA=="}"#;
        let e = decrypt_cosign("evil.key", body, b"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("evil.key") && e.contains("bound"), "{e}");
        let e = decrypt_cosign("evil.key", b"{}", b"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected cosign's encrypted-key JSON"), "{e}");
    }

    #[test]
    fn sign_verify_and_tamper() {
        let key = SigningKey::generate().unwrap();
        let sig = key.sign(b"hello").unwrap();
        key.public_key().verify(b"hello", &sig).unwrap();
        assert!(key.public_key().verify(b"hellO", &sig).is_err());
        assert!(key.public_key().verify(b"hello", b"garbage").is_err());
        let other = SigningKey::generate().unwrap();
        assert!(other.public_key().verify(b"hello", &sig).is_err());
    }

    #[test]
    fn pem_round_trip() {
        let key = SigningKey::generate().unwrap();
        let pem = key.public_key().to_pem().unwrap();
        assert_eq!(PublicKey::from_pem("p", &pem).unwrap(), key.public_key());
        assert!(
            PublicKey::from_pem(
                "p.pem",
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
            )
            .unwrap_err()
            .to_string()
            .contains("p.pem")
        );
    }
}
