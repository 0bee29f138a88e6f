//! Secrets in layer files: which files are searched, and what is kept of a find.
//!
//! The detector is `palisade-secrets` (the one the Dockerfile and image-config rules use).
//! Here: regular files up to [`Limits::max_secret_scan`] bytes whose first 8 KiB hold no NUL
//! byte (binaries are skipped), outside the trees that distributions and package managers
//! own (the same idea as Trivy's built-in allow rules: documentation, headers, vendored
//! packages, test suites). A find keeps the kind, line, column and a redacted hint, never the
//! value. Documented samples and placeholders (`AKIAIOSFODNN7EXAMPLE`, `hf_xxxx…`) are not
//! kept.

use std::io::Read;
use std::sync::Arc;

use serde::Serialize;

use crate::fs::Limits;

/// One secret in a file of a layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretHit {
    /// What it is: `Hugging Face token`, `AWS secret access key`, `private key`.
    pub kind: &'static str,
    /// 1-based line and column in the file.
    pub line: u32,
    pub column: u32,
    /// A printable hint that gives nothing away (`hf_… (37 characters)`).
    pub hint: String,
}

/// Bytes sniffed for a NUL to tell binaries from text.
const SNIFF: usize = 8 * 1024;

/// Directory components under which files belong to packages, not to whoever built the
/// image.
const VENDORED_DIRS: &[&str] = &[
    "site-packages",
    "dist-packages",
    "node_modules",
    "vendor",
    "gems",
    "test",
    "tests",
    "testdata",
    "__tests__",
    "testing",
];

/// Trees owned by the distribution and its package managers.
const DISTRIBUTION_TREES: &[&str] = &[
    "usr/share/",
    "usr/include/",
    "usr/src/",
    "usr/lib/",
    "usr/lib64/",
    "lib/",
    "lib64/",
    "var/lib/dpkg/",
    "var/lib/apt/",
    "var/lib/rpm/",
    "var/cache/",
    "proc/",
    "sys/",
    "dev/",
    "opt/conda/pkgs/",
];

/// File types that are never text with credentials.
const BINARY_EXT: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "ico", "bmp", "webp", "svg", "woff", "woff2", "ttf", "otf", "eot",
    "so", "a", "o", "pyc", "pyo", "class", "jar", "war", "zip", "gz", "tgz", "bz2", "xz", "zst",
    "whl", "egg", "mo", "pdf", "mp3", "mp4", "wav", "wasm", "db", "sqlite", "map",
];

/// Whether the file at `path` of `size` bytes is searched for secrets.
#[must_use]
pub fn wanted(path: &str, size: u64, limits: &Limits) -> bool {
    if size == 0 || size > limits.max_secret_scan {
        return false;
    }
    if DISTRIBUTION_TREES.iter().any(|t| path.starts_with(t)) {
        return false;
    }
    let (dir, base) = path.rsplit_once('/').unwrap_or(("", path));
    if dir.split('/').any(|c| VENDORED_DIRS.contains(&c)) || dir.contains(".git/objects") {
        return false;
    }
    if let Some((_, ext)) = base.rsplit_once('.')
        && BINARY_EXT.iter().any(|e| ext.eq_ignore_ascii_case(e))
    {
        return false;
    }
    true
}

/// Searches `data`, the content of `path`, and keeps what is not a placeholder.
#[must_use]
pub fn scan_bytes(path: &str, data: &[u8], limits: &Limits) -> Arc<[SecretHit]> {
    let sniff = &data[..data.len().min(SNIFF)];
    if sniff.contains(&0) {
        return Arc::from(Vec::new());
    }
    let hits: Vec<SecretHit> = palisade_secrets::scan_file(path, data, limits.max_secrets_per_file)
        .into_iter()
        .filter(|s| !s.placeholder)
        .map(|s| {
            let (line, column) = palisade_secrets::line_col(data, s.start);
            SecretHit {
                kind: s.kind,
                line,
                column,
                hint: palisade_secrets::redact(data, &s),
            }
        })
        .collect();
    Arc::from(hits)
}

thread_local! {
    static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads a tar entry (or file) that no cataloger wanted and searches it when it is a
/// candidate. Binaries are recognised from their first 8 KiB, and the rest is not read.
pub(crate) fn scan_entry(
    path: &str,
    size: u64,
    r: &mut dyn Read,
    limits: &Limits,
) -> Result<Arc<[SecretHit]>, String> {
    if !wanted(path, size, limits) {
        return Ok(Arc::from(Vec::new()));
    }
    BUF.with_borrow_mut(|buf| {
        buf.clear();
        let head = usize::try_from(size).unwrap_or(usize::MAX).min(SNIFF) as u64;
        r.take(head)
            .read_to_end(buf)
            .map_err(|e| format!("reading for secrets: {e}"))?;
        if buf.contains(&0) {
            return Ok(Arc::from(Vec::new()));
        }
        r.take(limits.max_secret_scan.saturating_sub(head))
            .read_to_end(buf)
            .map_err(|e| format!("reading for secrets: {e}"))?;
        let out = scan_bytes(path, buf, limits);
        // Keep the buffer for the next file unless one large file grew it.
        if buf.capacity() > 4 << 20 {
            *buf = Vec::new();
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_files() {
        let l = Limits::default();
        assert!(wanted("app/.env", 100, &l));
        assert!(wanted("root/.aws/credentials", 100, &l));
        assert!(wanted("etc/ssl/private/server.key", 100, &l));
        assert!(!wanted("app/.env", 0, &l));
        assert!(!wanted("app/big.txt", l.max_secret_scan + 1, &l));
        assert!(!wanted("usr/share/doc/x/README", 100, &l));
        assert!(!wanted(
            "usr/local/lib/python3.11/site-packages/botocore/data.json",
            100,
            &l
        ));
        assert!(!wanted("app/node_modules/x/index.js", 100, &l));
        assert!(!wanted("app/static/logo.png", 100, &l));
    }

    #[test]
    fn binaries_and_placeholders_are_skipped() {
        let l = Limits::default();
        let mut bin = b"\x7fELF\0\0".to_vec();
        bin.extend_from_slice(b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx3k9pL2qRt7Vw2Yz5Ab8Cd1Ef4Gh6Jm0NAbc\n");
        assert!(scan_bytes("app/tool", &bin, &l).is_empty());
        assert!(scan_bytes("app/conf", b"key = AKIAIOSFODNN7EXAMPLE\n", &l).is_empty());
        let hits = scan_bytes("app/conf", b"a\nkey = AKIAZ4Q7RT2WX5MPL3KD\n", &l);
        assert_eq!(
            &*hits,
            &[SecretHit {
                kind: "AWS access key ID",
                line: 2,
                column: 7,
                hint: "AKIA… (20 characters)".into()
            }]
        );
    }
}
