//! Cosign-compatible signatures and OpenSSF model signing.
//!
//! - [`keys`]: cosign's encrypted private keys (scrypt + NaCl secretbox), PKCS#8 / SPKI PEM,
//!   ECDSA P-256, Ed25519 and RSA public keys.
//! - [`blob`]: `cosign sign-blob --key` signatures (base64 DER) and Sigstore bundles.
//! - [`image`]: classic and bundle-format image signatures in a registry ([`registry`]).
//! - [`kube`]: keys in Kubernetes Secrets (`k8s://namespace/name[/key]`).
//!
//! Transparency-log (Rekor) and keyless (Fulcio) checks are out of scope: verification is
//! against keys the caller trusts.

pub mod blob;
pub mod bundle;
pub mod error;
pub mod image;
pub mod keys;
pub mod kube;
pub mod model;
pub mod pem;
pub mod registry;
pub mod secretbox;
pub mod simple_signing;
pub mod util;

pub use error::{Error, Result};
pub use keys::{PublicKey, SigningKey};
