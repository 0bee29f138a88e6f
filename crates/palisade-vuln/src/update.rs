//! `palisade db update`: download osv.dev's per-ecosystem exports (`<base>/<ecosystem>/all.zip`)
//! and swap a database built from them into place.
//!
//! - **Resumable**: bytes go to `<db dir>/downloads/<ecosystem>-all.zip.part`; a later run asks
//!   for the rest with `Range` and `If-Range` (the validator saved beside the part), and starts
//!   over when the server sends the whole object instead.
//! - **Verified**: the size must match `Content-Length` / `Content-Range`, the MD5 must match
//!   the `x-goog-hash` header when the server sends one (osv.dev's bucket does), and the
//!   archive must then read completely, every member's CRC-32 included, before anything is
//!   replaced.
//! - **Atomic**: the database is rebuilt in a temporary file and renamed over the old one; any
//!   failure leaves the old database in place and usable.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use md5::Digest;

use crate::import::{ImportError, ImportReport};

/// osv.dev's public export bucket.
pub const DEFAULT_BASE_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// Ecosystems downloaded when none are named: what Palisade finds in ML images.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &[
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Debian",
    "Alpine",
    "Ubuntu",
];

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("{url}: {message}")]
    Download { url: String, message: String },
    #[error("{path}: {message}")]
    Local { path: PathBuf, message: String },
    #[error(transparent)]
    Import(#[from] ImportError),
}

/// Progress of one download: ecosystem, bytes so far, total when known.
pub type Progress<'a> = &'a dyn Fn(&str, u64, Option<u64>);

pub struct UpdateOptions<'a> {
    pub base_url: String,
    pub ecosystems: Vec<String>,
    pub db: PathBuf,
    pub timeout: Duration,
    pub progress: Option<Progress<'a>>,
}

/// Downloads every ecosystem, verifies it, and rebuilds the database from the downloads.
pub fn update(opts: &UpdateOptions<'_>) -> Result<ImportReport, UpdateError> {
    let dir = opts
        .db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("downloads");
    std::fs::create_dir_all(&dir).map_err(|e| UpdateError::Local {
        path: dir.clone(),
        message: format!("cannot create download directory: {e}"),
    })?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(opts.timeout))
        .max_redirects(5)
        .build()
        .into();
    let mut zips = Vec::new();
    for eco in &opts.ecosystems {
        let url = format!(
            "{}/{}/all.zip",
            opts.base_url.trim_end_matches('/'),
            eco.replace(' ', "%20").replace(':', "%3A")
        );
        let file = dir.join(format!("{}-all.zip", eco.replace(['/', ' ', ':'], "_")));
        download(&agent, &url, &file, eco, opts.progress)?;
        zips.push(file);
    }
    let report = crate::import::import(&zips, &opts.db)?;
    for z in zips {
        let _ = std::fs::remove_file(z);
    }
    Ok(report)
}

fn header(resp: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Downloads `url` to `dest`, resuming `dest.part` when the server allows it.
pub fn download(
    agent: &ureq::Agent,
    url: &str,
    dest: &Path,
    label: &str,
    progress: Option<Progress<'_>>,
) -> Result<(), UpdateError> {
    let part = dest.with_extension("zip.part");
    let validator_path = dest.with_extension("zip.part.validator");
    let local = |path: &Path, message: String| UpdateError::Local {
        path: path.to_path_buf(),
        message,
    };
    let dl = |message: String| UpdateError::Download {
        url: url.to_string(),
        message,
    };
    let have = std::fs::metadata(&part).map_or(0, |m| m.len());
    let validator = std::fs::read_to_string(&validator_path).ok();
    let mut req = agent.get(url);
    if have > 0
        && let Some(v) = &validator
    {
        req = req
            .header("Range", &format!("bytes={have}-"))
            .header("If-Range", v.trim());
    }
    let resp = req.call().map_err(|e| dl(e.to_string()))?;
    let status = resp.status().as_u16();
    let (mut offset, total) = match status {
        200 => (
            0,
            header(&resp, "content-length").and_then(|v| v.parse::<u64>().ok()),
        ),
        206 => {
            let range = header(&resp, "content-range").unwrap_or_default();
            // bytes START-END/TOTAL
            let spec = range.strip_prefix("bytes ").unwrap_or("");
            let (span, total) = spec.split_once('/').unwrap_or(("", ""));
            let start = span.split('-').next().and_then(|s| s.parse::<u64>().ok());
            if start != Some(have) {
                let _ = std::fs::remove_file(&part);
                return Err(dl(format!(
                    "asked to resume at byte {have}, server answered `Content-Range: {range}`; the partial download was discarded, run the update again"
                )));
            }
            (have, total.parse::<u64>().ok())
        }
        416 => {
            let _ = std::fs::remove_file(&part);
            return Err(dl("server refused the resume range (416); the partial download was discarded, run the update again".into()));
        }
        s => {
            return Err(dl(format!(
                "HTTP {s} (expected 200 with the ecosystem's all.zip)"
            )));
        }
    };
    let validator_new = header(&resp, "etag").or_else(|| header(&resp, "last-modified"));
    let md5_expected = header(&resp, "x-goog-hash").and_then(|h| {
        h.split(',')
            .filter_map(|p| p.trim().strip_prefix("md5="))
            .next()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
    });
    if let Some(v) = &validator_new {
        std::fs::write(&validator_path, v).map_err(|e| local(&validator_path, e.to_string()))?;
    }
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(offset > 0)
        .truncate(offset == 0)
        .open(&part)
        .map_err(|e| local(&part, format!("cannot write: {e}")))?;
    let mut reader = resp.into_body().into_reader();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                let _ = out.flush();
                return Err(dl(format!(
                    "download interrupted after {offset} bytes: {e}; run the update again to resume"
                )));
            }
        };
        out.write_all(&buf[..n])
            .map_err(|e| local(&part, format!("cannot write: {e}")))?;
        offset += n as u64;
        if let Some(p) = progress {
            p(label, offset, total);
        }
    }
    out.sync_all().map_err(|e| local(&part, e.to_string()))?;
    drop(out);
    if let Some(t) = total
        && offset != t
    {
        return Err(dl(format!(
            "download ended after {offset} of {t} bytes; run the update again to resume"
        )));
    }
    if let Some(want) = md5_expected {
        let mut hasher = md5::Md5::new();
        let mut f = std::fs::File::open(&part).map_err(|e| local(&part, e.to_string()))?;
        loop {
            let n = f.read(&mut buf).map_err(|e| local(&part, e.to_string()))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        if hasher.finalize().as_slice() != want.as_slice() {
            let _ = std::fs::remove_file(&part);
            let _ = std::fs::remove_file(&validator_path);
            return Err(dl(
                "MD5 of the download does not match the server's x-goog-hash; discarded".into(),
            ));
        }
    }
    std::fs::rename(&part, dest).map_err(|e| local(dest, e.to_string()))?;
    let _ = std::fs::remove_file(&validator_path);
    Ok(())
}

/// The default database path: `$XDG_CACHE_HOME/palisade/vuln.db`, else
/// `~/.cache/palisade/vuln.db` (`%LOCALAPPDATA%` on Windows).
#[must_use]
pub fn default_db_path() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("LOCALAPPDATA").map(PathBuf::from))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("palisade").join("vuln.db")
}
