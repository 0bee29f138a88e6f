//! `palisade keys …`, `palisade sign …`, `palisade verify …`: cosign-compatible keys, blob and
//! image signatures, OpenSSF model signing. Exit codes: 0 verified/signed, 1 verification failed,
//! 2 usage or input error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use palisade_sign::image::{self, SignatureFormat, TrustedKey};
use palisade_sign::keys::{self, password_from_env_or_prompt};
use palisade_sign::kube::{KubeClient, SecretRef};
use palisade_sign::model::{self, Method, Options};
use palisade_sign::registry::{Client, Reference};
use palisade_sign::{Error, PublicKey, SigningKey, blob};

use super::fail;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a cosign-compatible ECDSA P-256 key pair (`<prefix>.key` encrypted, `<prefix>.pub`)
    Generate {
        /// Path prefix of the two files
        #[arg(long, value_name = "PREFIX", default_value = "cosign")]
        output_key_prefix: PathBuf,
        /// Replace existing files
        #[arg(long)]
        force: bool,
    },
    /// Print the public key of a private key (or re-print a public key) as PEM
    PublicKey {
        /// Private or public key file
        #[arg(long)]
        key: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum SignCommand {
    /// Sign a file: prints the base64 signature `cosign sign-blob --key` prints
    Blob {
        /// The file to sign
        file: PathBuf,
        #[command(flatten)]
        key: PrivateKeyArg,
        /// Also write the signature to FILE
        #[arg(long, value_name = "FILE")]
        output_signature: Option<PathBuf>,
        /// Write a Sigstore bundle (v0.3, no transparency-log entry) to FILE
        #[arg(long, value_name = "FILE")]
        bundle: Option<PathBuf>,
    },
    /// Sign a model directory (OpenSSF model signing v1.0, as `model_signing sign key`)
    Model {
        /// The model directory
        dir: PathBuf,
        #[command(flatten)]
        key: PrivateKeyArg,
        /// Where to write the signature bundle
        #[arg(long, value_name = "FILE", default_value = "model.sig")]
        signature: PathBuf,
        #[command(flatten)]
        model: ModelArgs,
        /// Hash shards of this many bytes instead of whole files
        #[arg(long, value_name = "BYTES")]
        shard_size: Option<u64>,
    },
    /// Sign an image in a registry (cosign's classic `.sig` format, appended to existing signatures)
    Image {
        /// Image reference (`registry/repo:tag` or `@sha256:…`)
        reference: String,
        #[command(flatten)]
        key: PrivateKeyArg,
        /// Annotation `key=value` placed in the signed payload (repeatable)
        #[arg(short = 'a', long = "annotation", value_name = "KEY=VALUE")]
        annotations: Vec<String>,
        /// Write the newer Sigstore-bundle format (an OCI referrer) instead of the classic one
        #[arg(long)]
        bundle_format: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    /// Verify a file's signature (base64 from `cosign sign-blob`) or Sigstore bundle
    Blob {
        /// The file
        file: PathBuf,
        #[command(flatten)]
        key: PublicKeyArg,
        /// Signature file (base64), or a bundle
        #[arg(long, value_name = "FILE", required_unless_present = "bundle")]
        signature: Option<PathBuf>,
        /// Sigstore bundle file
        #[arg(long, value_name = "FILE", conflicts_with = "signature")]
        bundle: Option<PathBuf>,
    },
    /// Verify a model directory against its `model_signing` signature; names every changed file
    Model {
        /// The model directory
        dir: PathBuf,
        #[command(flatten)]
        key: PublicKeyArg,
        /// The signature bundle
        #[arg(long, value_name = "FILE", default_value = "model.sig")]
        signature: PathBuf,
        /// More paths to leave out, relative to the model or including it (repeatable)
        #[arg(long = "ignore-paths", value_name = "PATH")]
        ignore_paths: Vec<String>,
    },
    /// Verify an image's signatures (classic and bundle formats) against one or more keys
    Image {
        /// Image reference
        reference: String,
        /// Trusted public key file or `k8s://namespace/name[/key]` Secret (repeatable; any one suffices)
        #[arg(long, value_name = "FILE", required = true)]
        key: Vec<PathBuf>,
        /// `table` (messages on stderr; `text` is an alias) or `json` (the result on stdout)
        #[arg(long, short = 'f', default_value = "table", value_parser = clap::builder::PossibleValuesParser::new([
            clap::builder::PossibleValue::new("table").alias("text"),
            clap::builder::PossibleValue::new("json"),
        ]))]
        format: String,
    },
}

#[derive(Debug, Args)]
pub struct PrivateKeyArg {
    /// Private key: cosign's encrypted PEM (password from PALISADE_PASSWORD, COSIGN_PASSWORD or a prompt) or PKCS#8 / SEC1 PEM, or `k8s://namespace/name` in a cluster
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
}

#[derive(Debug, Args)]
pub struct PublicKeyArg {
    /// Public key (SPKI PEM: ECDSA P-256, Ed25519, RSA), or a private key whose public half is used
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
}

#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Paths to leave out, relative to the model or including it (repeatable)
    #[arg(long = "ignore-paths", value_name = "PATH")]
    pub ignore_paths: Vec<String>,
    /// Do not leave out .git, .gitattributes, .github, .gitignore
    #[arg(long)]
    pub no_ignore_git_paths: bool,
    /// Follow symbolic links to files (refused by default)
    #[arg(long)]
    pub allow_symlinks: bool,
}

fn load_private(path: &Path) -> Result<SigningKey, Error> {
    let what = path.display().to_string();
    if SecretRef::is_secret_url(&what) {
        // cosign's `k8s://ns/name`: read in the cluster with the pod's service account.
        let r = SecretRef::parse(&what)?;
        return KubeClient::in_cluster(Duration::from_secs(10))?
            .signing_key(&r, || password_from_env_or_prompt(&what, false));
    }
    SigningKey::from_file(path, || password_from_env_or_prompt(&what, false))
}

fn load_trusted(path: &Path) -> Result<TrustedKey, Error> {
    let what = path.display().to_string();
    if SecretRef::is_secret_url(&what) {
        let r = SecretRef::parse(&what)?;
        return Ok(TrustedKey {
            key: KubeClient::in_cluster(Duration::from_secs(10))?.public_key(&r)?,
            name: what,
        });
    }
    TrustedKey::from_file(path)
}

fn code(e: &Error) -> i32 {
    match e {
        Error::Verification(_) => 1,
        _ => 2,
    }
}

fn report(e: &Error) -> i32 {
    eprintln!("palisade: {e}");
    code(e)
}

pub fn run_keys(cmd: &KeysCommand) -> i32 {
    match cmd {
        KeysCommand::Generate {
            output_key_prefix,
            force,
        } => {
            let result = (|| {
                let key = SigningKey::generate()?;
                let pw = password_from_env_or_prompt("the new private key", true)?;
                keys::write_key_pair(&key, &pw, output_key_prefix, *force)
            })();
            match result {
                Ok((k, p)) => {
                    eprintln!("Private key written to {}", k.display());
                    eprintln!("Public key written to {}", p.display());
                    0
                }
                Err(e) => report(&e),
            }
        }
        KeysCommand::PublicKey { key } => {
            match PublicKey::from_file(key).and_then(|k| k.to_pem()) {
                Ok(pem) => super::print_or_fail(&pem, 0),
                Err(e) => report(&e),
            }
        }
    }
}

fn model_options(m: &ModelArgs, method: Method) -> Options {
    Options {
        method,
        ignore_paths: m.ignore_paths.clone(),
        ignore_git_paths: !m.no_ignore_git_paths,
        allow_symlinks: m.allow_symlinks,
    }
}

pub fn run_sign(cmd: &SignCommand) -> i32 {
    match cmd {
        SignCommand::Blob {
            file,
            key,
            output_signature,
            bundle,
        } => {
            let result = (|| {
                let k = load_private(&key.key)?;
                let sig = blob::sign_file(&k, file)?;
                if let Some(out) = output_signature {
                    palisade_sign::util::write_atomic(
                        out,
                        sig.to_base64().as_bytes(),
                        0o644,
                        true,
                    )?;
                }
                if let Some(out) = bundle {
                    let json = sig.to_bundle(&k.public_key())?.to_json()?;
                    palisade_sign::util::write_atomic(out, json.as_bytes(), 0o644, true)?;
                }
                Ok::<_, Error>(sig.to_base64())
            })();
            match result {
                Ok(b64) => super::print_or_fail(&format!("{b64}\n"), 0),
                Err(e) => report(&e),
            }
        }
        SignCommand::Model {
            dir,
            key,
            signature,
            model: m,
            shard_size,
        } => {
            let method = shard_size.map_or(Method::Files, Method::Shards);
            let result = (|| {
                let k = load_private(&key.key)?;
                let (bundle, manifest) =
                    model::sign(&k, dir, &model_options(m, method), Some(signature))?;
                palisade_sign::util::write_atomic(
                    signature,
                    bundle.to_json()?.as_bytes(),
                    0o644,
                    true,
                )?;
                Ok::<_, Error>(manifest)
            })();
            match result {
                Ok(manifest) => {
                    eprintln!(
                        "Signed {} ({} resources) to {}",
                        dir.display(),
                        manifest.resources.len(),
                        signature.display()
                    );
                    0
                }
                Err(e) => report(&e),
            }
        }
        SignCommand::Image {
            reference,
            key,
            annotations,
            bundle_format,
        } => {
            let mut ann = BTreeMap::new();
            for a in annotations {
                match a.split_once('=') {
                    Some((k, v)) if !k.is_empty() => {
                        ann.insert(k.to_string(), v.to_string());
                    }
                    _ => return fail(format!("annotation `{a}`: expected KEY=VALUE")),
                }
            }
            if *bundle_format && !ann.is_empty() {
                return fail("annotations are only supported in the classic format");
            }
            let result = (|| {
                let r = Reference::parse(reference)?;
                let k = load_private(&key.key)?;
                let client = Client::new(Duration::from_secs(30));
                if *bundle_format {
                    image::sign_bundle(&client, &r, &k)
                } else {
                    image::sign_classic(&client, &r, &k, &ann)
                }
            })();
            match result {
                Ok(s) => {
                    eprintln!(
                        "Signed {reference} ({}) in the {} format: {}",
                        s.digest, s.format, s.location
                    );
                    0
                }
                Err(e) => report(&e),
            }
        }
    }
}

pub fn run_verify(cmd: &VerifyCommand) -> i32 {
    match cmd {
        VerifyCommand::Blob {
            file,
            key,
            signature,
            bundle,
        } => {
            let sig_path = signature.as_ref().or(bundle.as_ref());
            let Some(sig_path) = sig_path else {
                return fail("--signature or --bundle is required");
            };
            let result = (|| {
                let k = PublicKey::from_file(&key.key)?;
                let text = palisade_sign::util::read(sig_path)?;
                blob::verify_file(&k, file, &sig_path.display().to_string(), &text).map(|f| (f, k))
            })();
            match result {
                Ok((format, k)) => {
                    let what = match format {
                        blob::BlobFormat::Signature => "signature",
                        blob::BlobFormat::Bundle => "bundle (transparency log not checked)",
                    };
                    eprintln!(
                        "Verified OK: {} with {} ({})",
                        file.display(),
                        key.key.display(),
                        k.describe()
                    );
                    eprintln!("Format: {what}");
                    0
                }
                Err(e) => report(&e),
            }
        }
        VerifyCommand::Model {
            dir,
            key,
            signature,
            ignore_paths,
        } => {
            let result = (|| {
                let k = PublicKey::from_file(&key.key)?;
                let json = palisade_sign::util::read(signature)?;
                let mut extra: Vec<PathBuf> = ignore_paths.iter().map(PathBuf::from).collect();
                extra.push(signature.clone());
                model::verify(&k, dir, &signature.display().to_string(), &json, &extra)
            })();
            match result {
                Ok(v) => {
                    eprintln!(
                        "Verified OK: {} ({} files, {} serialization) with {}",
                        dir.display(),
                        v.files,
                        v.manifest.serialization.method,
                        key.key.display()
                    );
                    0
                }
                Err(e) => report(&e),
            }
        }
        VerifyCommand::Image {
            reference,
            key,
            format,
        } => {
            let result = (|| {
                let keys = key
                    .iter()
                    .map(|p| load_trusted(p))
                    .collect::<Result<Vec<_>, _>>()?;
                let r = Reference::parse(reference)?;
                image::verify(&Client::new(Duration::from_secs(30)), &r, &keys)
            })();
            match result {
                Ok(v) => {
                    // As cosign: what was verified is a message on stderr (as for blobs and
                    // models); only the machine-readable result goes to stdout.
                    let mut out = String::new();
                    if format == "json" {
                        out = serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
                    } else {
                        for s in &v.verified {
                            eprintln!(
                                "Verified OK: {} ({}) signed by {} in the {} format",
                                reference, v.digest, s.key, s.format
                            );
                            for (k, val) in &s.annotations {
                                eprintln!("  annotation {k}={val}");
                            }
                        }
                        for why in &v.rejected {
                            eprintln!("rejected: {why}");
                        }
                        if v.verified.is_empty() {
                            eprintln!(
                                "palisade: {reference} ({}): no signature verifies with the given keys",
                                v.digest
                            );
                        } else {
                            eprintln!(
                                "Note: transparency-log (Rekor) entries are not checked; verification is key-based."
                            );
                        }
                    }
                    let _ = SignatureFormat::Classic;
                    super::print_or_fail(&out, i32::from(v.verified.is_empty()))
                }
                Err(e) => report(&e),
            }
        }
    }
}
