//! OpenSSF model signing (the `model_signing` tool, signature format v1.0), key-based.
//!
//! A model directory is serialised to a manifest: one resource per file (`files`) or per shard of
//! `shard_size` bytes (`shards`), each `{name, algorithm, digest}` with the SHA-256 of the bytes,
//! sorted by path (component-wise, as Python's `pathlib` orders) and shard offset. The in-toto
//! statement (predicate `https://model_signing/signature/v1.0`) has one subject, the directory
//! name, whose digest is SHA-256 over the concatenated raw resource digests. The statement is
//! signed as a DSSE envelope in a Sigstore v0.3 bundle whose key hint is hex(SHA-256(PEM SPKI)).
//! Verification re-serialises the directory with the parameters recorded in the signature (plus
//! the ignore paths given now) and names every file that changed, appeared or disappeared.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::bundle::{Bundle, IN_TOTO_PAYLOAD_TYPE};
use crate::error::{Error, Result};
use crate::keys::{PublicKey, SigningKey};
use crate::util::{hex, sha256, unhex};

/// The in-toto statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The predicate type of `model_signing` 1.x signatures.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
/// Paths `model_signing` ignores by default (relative to the model root).
pub const DEFAULT_IGNORES: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];
/// `model_signing`'s default shard size.
pub const DEFAULT_SHARD_SIZE: u64 = 1_000_000_000;

/// How the directory is cut into resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// One resource per file.
    Files,
    /// One resource per shard of this many bytes.
    Shards(u64),
}

/// Serialisation options.
#[derive(Clone, Debug)]
pub struct Options {
    /// Files or shards.
    pub method: Method,
    /// Paths to leave out, relative to the model directory (a directory leaves out everything under it).
    pub ignore_paths: Vec<String>,
    /// Add [`DEFAULT_IGNORES`].
    pub ignore_git_paths: bool,
    /// Follow symbolic links to files instead of refusing them.
    pub allow_symlinks: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            method: Method::Files,
            ignore_paths: Vec::new(),
            ignore_git_paths: true,
            allow_symlinks: false,
        }
    }
}

/// One manifest entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// `path` or `path:start:end`.
    pub name: String,
    /// `sha256` or `sha256-sharded-<size>`.
    pub algorithm: String,
    /// hex SHA-256.
    pub digest: String,
}

/// The manifest of a model directory.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// The directory's name (informative only).
    pub model_name: String,
    /// Resources in signing order.
    pub resources: Vec<Resource>,
    /// The serialisation parameters.
    pub serialization: Serialization,
}

/// `predicate.serialization`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Serialization {
    /// `files` or `shards`.
    pub method: String,
    /// `sha256`.
    pub hash_type: String,
    /// Whether symlinks were followed.
    pub allow_symlinks: bool,
    /// Ignored paths, relative to the model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_paths: Vec<String>,
    /// Shard size (`shards` only); Python writes it as a float.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_size: Option<serde_json::Number>,
}

#[derive(Serialize, Deserialize)]
struct Statement {
    #[serde(rename = "_type")]
    kind: String,
    subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    predicate: Predicate,
}

#[derive(Serialize, Deserialize)]
struct Subject {
    name: String,
    digest: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
struct Predicate {
    serialization: Serialization,
    resources: Vec<Resource>,
}

/// A path relative to the model root split into components (the sort key).
type RelPath = Vec<String>;

fn rel_components(what: &Path, rel: &Path) -> Result<RelPath> {
    rel.components()
        .map(|c| {
            c.as_os_str().to_str().map(str::to_owned).ok_or_else(|| {
                Error::format(what.display().to_string(), "expected a UTF-8 file name")
            })
        })
        .collect()
}

/// Normalises an ignore path given relative to the model or as a path that includes the model directory.
fn normalise_ignore(model: &Path, p: &str) -> Option<RelPath> {
    let path = Path::new(p);
    let rel: PathBuf = if path.is_absolute() || path.starts_with(model) {
        let abs_model = std::path::absolute(model).ok()?;
        let abs = std::path::absolute(path).ok()?;
        abs.strip_prefix(&abs_model).ok()?.to_path_buf()
    } else {
        path.to_path_buf()
    };
    let comps: RelPath = rel
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!comps.is_empty()).then_some(comps)
}

fn is_ignored(rel: &RelPath, ignores: &[RelPath]) -> bool {
    ignores.iter().any(|i| rel.starts_with(i))
}

/// Every file under `root` that is not ignored, as (components, absolute path, size).
fn walk(
    root: &Path,
    ignores: &[RelPath],
    allow_symlinks: bool,
) -> Result<Vec<(RelPath, PathBuf, u64)>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let path = entry.path();
            let rel_path = path.strip_prefix(root).unwrap_or(&path);
            let rel = rel_components(&path, rel_path)?;
            if is_ignored(&rel, ignores) {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
            let meta = if meta.file_type().is_symlink() {
                if !allow_symlinks {
                    return Err(Error::Refused(format!(
                        "{}: is a symbolic link (use --allow-symlinks to follow it)",
                        path.display()
                    )));
                }
                match std::fs::metadata(&path) {
                    Ok(m) if m.is_dir() => continue, // model_signing does not descend into linked directories
                    Ok(m) => m,
                    Err(e) => return Err(Error::io(&path, e)),
                }
            } else {
                meta
            };
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                out.push((rel, path, meta.len()));
            } else {
                return Err(Error::Refused(format!(
                    "{}: not a regular file or directory (socket, pipe or device)",
                    path.display()
                )));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn hash_range(path: &Path, start: u64, len: u64) -> Result<[u8; 32]> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    if start > 0 {
        f.seek(SeekFrom::Start(start))
            .map_err(|e| Error::io(path, e))?;
    }
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; (1 << 20).min(usize::try_from(len.max(1)).unwrap_or(1 << 20))];
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        let n = f.read(&mut buf[..want]).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Err(Error::Refused(format!(
                "{}: file shrank while it was being hashed",
                path.display()
            )));
        }
        h.update(&buf[..n]);
        left -= n as u64;
    }
    Ok(h.finalize().into())
}

/// The ignore list recorded in a signature made with `options` (relative paths as strings).
fn ignore_list(model: &Path, options: &Options, extra: &[PathBuf]) -> Vec<RelPath> {
    let mut list: Vec<RelPath> = Vec::new();
    if options.ignore_git_paths {
        list.extend(DEFAULT_IGNORES.iter().map(|s| vec![(*s).to_string()]));
    }
    for p in &options.ignore_paths {
        if let Some(r) = normalise_ignore(model, p) {
            list.push(r);
        }
    }
    for p in extra {
        if let Some(r) = p.to_str().and_then(|s| normalise_ignore(model, s)) {
            list.push(r);
        }
    }
    list.sort();
    list.dedup();
    list
}

/// Serialises a model directory. `extra_ignores` are paths (such as the signature file) to leave
/// out if they lie inside the model.
pub fn serialize(model: &Path, options: &Options, extra_ignores: &[PathBuf]) -> Result<Manifest> {
    let meta = std::fs::metadata(model).map_err(|e| Error::io(model, e))?;
    if !meta.is_dir() {
        return Err(Error::format(
            model.display().to_string(),
            "expected a model directory",
        ));
    }
    let ignores = ignore_list(model, options, extra_ignores);
    let files = walk(model, &ignores, options.allow_symlinks)?;
    let (algorithm, tasks): (String, Vec<(usize, u64, u64)>) = match options.method {
        Method::Files => (
            "sha256".into(),
            files.iter().enumerate().map(|(i, f)| (i, 0, f.2)).collect(),
        ),
        Method::Shards(size) => {
            if size == 0 {
                return Err(Error::Refused("shard size must be positive".into()));
            }
            let mut t = Vec::new();
            for (i, f) in files.iter().enumerate() {
                let mut start = 0;
                while start < f.2 {
                    let end = (start + size).min(f.2);
                    t.push((i, start, end));
                    start = end;
                }
            }
            (format!("sha256-sharded-{size}"), t)
        }
    };
    let digests: Vec<[u8; 32]> = tasks
        .par_iter()
        .map(|&(i, start, end)| hash_range(&files[i].1, start, end - start))
        .collect::<Result<_>>()?;
    let resources = tasks
        .iter()
        .zip(digests)
        .map(|(&(i, start, end), d)| {
            let path = files[i].0.join("/");
            let name = match options.method {
                Method::Files => path,
                Method::Shards(_) => format!("{path}:{start}:{end}"),
            };
            Resource {
                name,
                algorithm: algorithm.clone(),
                digest: hex(&d),
            }
        })
        .collect();
    let model_name = std::path::absolute(model)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "model".into());
    Ok(Manifest {
        model_name,
        resources,
        serialization: Serialization {
            method: match options.method {
                Method::Files => "files".into(),
                Method::Shards(_) => "shards".into(),
            },
            hash_type: "sha256".into(),
            allow_symlinks: options.allow_symlinks,
            ignore_paths: ignores.iter().map(|r| r.join("/")).collect(),
            shard_size: match options.method {
                Method::Files => None,
                Method::Shards(s) => Some(s.into()),
            },
        },
    })
}

impl Manifest {
    /// SHA-256 over the raw digests of the resources, in order: the statement subject's digest.
    pub fn root_digest(&self, what: &str) -> Result<[u8; 32]> {
        let mut h = sha2::Sha256::new();
        for r in &self.resources {
            let d = unhex(&r.digest).ok_or_else(|| {
                Error::format(
                    what,
                    format!("resource `{}`: expected a hex digest", r.name),
                )
            })?;
            h.update(&d);
        }
        Ok(h.finalize().into())
    }

    /// The in-toto statement JSON.
    pub fn statement(&self) -> Result<Vec<u8>> {
        let mut digest = BTreeMap::new();
        digest.insert("sha256".to_string(), hex(&self.root_digest("manifest")?));
        let st = Statement {
            kind: STATEMENT_TYPE.into(),
            subject: vec![Subject {
                name: self.model_name.clone(),
                digest,
            }],
            predicate_type: PREDICATE_TYPE.into(),
            predicate: Predicate {
                serialization: self.serialization.clone(),
                resources: self.resources.clone(),
            },
        };
        serde_json::to_vec(&st).map_err(|e| Error::format("statement", e.to_string()))
    }

    /// Parses and checks a statement (predicate type, one subject, root digest).
    pub fn from_statement(what: &str, payload: &[u8]) -> Result<Self> {
        let st: Statement = serde_json::from_slice(payload).map_err(|e| {
            Error::format(
                what,
                format!("expected an in-toto statement with a model_signing predicate: {e}"),
            )
        })?;
        if st.predicate_type != PREDICATE_TYPE {
            return Err(Error::format(
                what,
                format!(
                    "expected predicateType {PREDICATE_TYPE}, found {}",
                    st.predicate_type
                ),
            ));
        }
        let [subject] = st.subject.as_slice() else {
            return Err(Error::format(
                what,
                format!("expected exactly one subject, found {}", st.subject.len()),
            ));
        };
        let m = Manifest {
            model_name: subject.name.clone(),
            resources: st.predicate.resources,
            serialization: st.predicate.serialization,
        };
        let expected = subject
            .digest
            .get("sha256")
            .ok_or_else(|| Error::format(what, "expected subject digest sha256"))?;
        if !expected.eq_ignore_ascii_case(&hex(&m.root_digest(what)?)) {
            return Err(Error::Verification(format!(
                "{what}: manifest is inconsistent: the resources do not hash to the subject digest {expected}"
            )));
        }
        Ok(m)
    }

    /// The options that reproduce this manifest's serialisation.
    pub fn options(&self, what: &str) -> Result<Options> {
        let method = match self.serialization.method.as_str() {
            "files" => Method::Files,
            "shards" => {
                let n = self
                    .serialization
                    .shard_size
                    .as_ref()
                    .and_then(|n| {
                        n.as_u64().or_else(|| {
                            n.as_f64()
                                .filter(|f| f.fract() == 0.0 && *f >= 1.0)
                                .map(|f| f as u64)
                        })
                    })
                    .ok_or_else(|| Error::format(what, "expected a positive integer shard_size"))?;
                Method::Shards(n)
            }
            other => {
                return Err(Error::format(
                    what,
                    format!("expected serialization method files or shards, found {other}"),
                ));
            }
        };
        if self.serialization.hash_type != "sha256" {
            return Err(Error::format(
                what,
                format!(
                    "hash_type {} is not supported (sha256 only)",
                    self.serialization.hash_type
                ),
            ));
        }
        Ok(Options {
            method,
            ignore_paths: self.serialization.ignore_paths.clone(),
            ignore_git_paths: false,
            allow_symlinks: self.serialization.allow_symlinks,
        })
    }
}

/// Signs a model directory: returns the bundle (write it with [`Bundle::to_json`]).
pub fn sign(
    key: &SigningKey,
    model: &Path,
    options: &Options,
    signature_path: Option<&Path>,
) -> Result<(Bundle, Manifest)> {
    if !matches!(key, SigningKey::EcdsaP256(_)) {
        return Err(Error::Refused(
            "model signing needs an ECDSA key (model_signing verifies EC keys only)".into(),
        ));
    }
    let extra: Vec<PathBuf> = signature_path.map(Path::to_path_buf).into_iter().collect();
    let manifest = serialize(model, options, &extra)?;
    let bundle = Bundle::for_dsse(key, IN_TOTO_PAYLOAD_TYPE, &manifest.statement()?)?;
    Ok((bundle, manifest))
}

/// The outcome of a successful verification.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The manifest that was signed (and matched).
    pub manifest: Manifest,
    /// Number of files covered.
    pub files: usize,
}

/// How a directory differs from its signed manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mismatch {
    /// Files whose content differs.
    pub changed: Vec<String>,
    /// Files present now but not signed.
    pub added: Vec<String>,
    /// Signed files that are missing.
    pub removed: Vec<String>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if !self.changed.is_empty() {
            parts.push(format!("changed: {}", self.changed.join(", ")));
        }
        if !self.added.is_empty() {
            parts.push(format!("not in the signature: {}", self.added.join(", ")));
        }
        if !self.removed.is_empty() {
            parts.push(format!("missing: {}", self.removed.join(", ")));
        }
        f.write_str(&parts.join("; "))
    }
}

fn file_of(name: &str, sharded: bool) -> &str {
    if sharded {
        let mut it = name.rsplitn(3, ':');
        let (_, _, path) = (it.next(), it.next(), it.next());
        path.unwrap_or(name)
    } else {
        name
    }
}

/// Compares the signed manifest with the directory's, per file.
#[must_use]
pub fn diff(expected: &Manifest, actual: &Manifest) -> Mismatch {
    let sharded = expected.serialization.method == "shards";
    let group = |m: &Manifest| {
        let mut g: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
        for r in &m.resources {
            g.entry(file_of(&r.name, sharded).to_string())
                .or_default()
                .insert((r.name.clone(), r.digest.to_ascii_lowercase()));
        }
        g
    };
    let (e, a) = (group(expected), group(actual));
    let mut out = Mismatch::default();
    for (file, shards) in &e {
        match a.get(file) {
            None => out.removed.push(file.clone()),
            Some(s) if s != shards => out.changed.push(file.clone()),
            Some(_) => {}
        }
    }
    out.added = a.keys().filter(|f| !e.contains_key(*f)).cloned().collect();
    out
}

/// Verifies a model directory against a `model_signing` bundle and a public key.
/// `extra_ignores`: the signature path and any ignore paths given now.
pub fn verify(
    key: &PublicKey,
    model: &Path,
    bundle_what: &str,
    bundle_json: &[u8],
    extra_ignores: &[PathBuf],
) -> Result<Verified> {
    let bundle = Bundle::parse(bundle_what, bundle_json)?;
    let (ptype, payload) = bundle.verify_dsse(bundle_what, key)?;
    if ptype != IN_TOTO_PAYLOAD_TYPE {
        return Err(Error::format(
            bundle_what,
            format!("expected payloadType {IN_TOTO_PAYLOAD_TYPE}, found {ptype}"),
        ));
    }
    let expected = Manifest::from_statement(bundle_what, &payload)?;
    let options = expected.options(bundle_what)?;
    let actual = serialize(model, &options, extra_ignores)?;
    let mismatch = diff(&expected, &actual);
    if mismatch != Mismatch::default() {
        return Err(Error::Verification(format!(
            "{}: model does not match the signature: {mismatch}",
            model.display()
        )));
    }
    let files = expected
        .resources
        .iter()
        .map(|r| file_of(&r.name, expected.serialization.method == "shards"))
        .collect::<BTreeSet<_>>()
        .len();
    Ok(Verified {
        manifest: expected,
        files,
    })
}

/// Digest of a statement payload (for reporting).
#[must_use]
pub fn payload_digest(payload: &[u8]) -> String {
    hex(&sha256(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let m = d.path();
        std::fs::write(m.join("a.txt"), b"x").unwrap();
        std::fs::create_dir(m.join("a")).unwrap();
        std::fs::write(m.join("a/b"), b"yy").unwrap();
        std::fs::write(m.join("empty"), b"").unwrap();
        std::fs::create_dir(m.join(".git")).unwrap();
        std::fs::write(m.join(".git/HEAD"), b"ref").unwrap();
        d
    }

    #[test]
    fn order_is_pathlib_order() {
        let d = model();
        let m = serialize(d.path(), &Options::default(), &[]).unwrap();
        let names: Vec<_> = m.resources.iter().map(|r| r.name.as_str()).collect();
        // Component-wise: "a/b" sorts before "a.txt" (string order would put it after).
        assert_eq!(names, ["a/b", "a.txt", "empty"]);
    }

    #[test]
    fn shards_skip_empty_files() {
        let d = model();
        let m = serialize(
            d.path(),
            &Options {
                method: Method::Shards(1),
                ..Options::default()
            },
            &[],
        )
        .unwrap();
        let names: Vec<_> = m.resources.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a/b:0:1", "a/b:1:2", "a.txt:0:1"]);
    }

    #[test]
    fn sign_verify_and_name_every_change() {
        let d = model();
        let key = SigningKey::generate().unwrap();
        for method in [Method::Files, Method::Shards(1)] {
            let opts = Options {
                method,
                ..Options::default()
            };
            let (bundle, _) = sign(&key, d.path(), &opts, None).unwrap();
            let json = bundle.to_json().unwrap();
            let v = verify(&key.public_key(), d.path(), "sig", json.as_bytes(), &[]).unwrap();
            assert_eq!(v.files, if method == Method::Files { 3 } else { 2 });
            std::fs::write(d.path().join("a/b"), b"yz").unwrap();
            std::fs::write(d.path().join("new"), b"n").unwrap();
            std::fs::remove_file(d.path().join("a.txt")).unwrap();
            let e = verify(&key.public_key(), d.path(), "sig", json.as_bytes(), &[])
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("changed: a/b")
                    && e.contains("not in the signature: new")
                    && e.contains("missing: a.txt"),
                "{e}"
            );
            std::fs::write(d.path().join("a/b"), b"yy").unwrap();
            std::fs::remove_file(d.path().join("new")).unwrap();
            std::fs::write(d.path().join("a.txt"), b"x").unwrap();
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_refused_unless_allowed() {
        let d = model();
        std::os::unix::fs::symlink(d.path().join("a.txt"), d.path().join("link")).unwrap();
        assert!(
            serialize(d.path(), &Options::default(), &[])
                .unwrap_err()
                .to_string()
                .contains("symbolic link")
        );
        let m = serialize(
            d.path(),
            &Options {
                allow_symlinks: true,
                ..Options::default()
            },
            &[],
        )
        .unwrap();
        assert!(m.resources.iter().any(|r| r.name == "link"));
    }
}
