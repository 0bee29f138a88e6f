//! Building a database from OSV exports: osv.dev's per-ecosystem `all.zip`, a directory of
//! `.json` / `.yaml` advisories (such as the PyPA advisory database), or single files.
//! The new database is written to a temporary file beside the target and renamed over it
//! only when complete, so a failed import leaves the old database as it was.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::osv::Advisory;
use crate::store::{Meta, StoreError, Writer};

/// Zip archives are read with limits: a single advisory larger than this is refused…
const MAX_ENTRY: u64 = 16 << 20;
/// …and so is an archive with more entries than this.
const MAX_ENTRIES: usize = 5_000_000;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {message}")]
    Source { path: PathBuf, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An advisory that could not be read; the import goes on without it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// `file` or `archive.zip!member`.
    pub file: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct ImportReport {
    pub meta: Meta,
    pub skipped: Vec<Skipped>,
    pub files: u64,
}

/// Imports `sources` into a new database at `db`, replacing it atomically.
pub fn import(sources: &[PathBuf], db: &Path) -> Result<ImportReport, ImportError> {
    let tmp = temp_path(db);
    if let Some(dir) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| ImportError::Source {
            path: dir.to_path_buf(),
            message: format!("cannot create database directory: {e}"),
        })?;
    }
    let result = build(sources, &tmp);
    match result {
        Ok(report) => {
            std::fs::rename(&tmp, db).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                ImportError::Source {
                    path: db.to_path_buf(),
                    message: format!("cannot move the new database into place: {e}"),
                }
            })?;
            Ok(report)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// `<db>.tmp-<pid>` beside the database, on the same file system so `rename` is atomic.
#[must_use]
pub fn temp_path(db: &Path) -> PathBuf {
    let name = db.file_name().map_or_else(
        || "palisade-vuln.db".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    db.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

fn build(sources: &[PathBuf], out: &Path) -> Result<ImportReport, ImportError> {
    let mut writer = Writer::create(out)?;
    let mut report = ImportReport::default();
    for src in sources {
        let meta = std::fs::metadata(src).map_err(|e| ImportError::Source {
            path: src.clone(),
            message: format!("cannot read: {e}"),
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(src, &mut files).map_err(|e| ImportError::Source {
                path: src.clone(),
                message: format!("cannot list directory: {e}"),
            })?;
            files.sort();
            for f in files {
                add_file(&f, &mut writer, &mut report)?;
            }
        } else if is_zip(src) {
            add_zip(src, &mut writer, &mut report)?;
        } else {
            add_file(src, &mut writer, &mut report)?;
        }
        writer.meta.sources.push(src.display().to_string());
    }
    if report.files == 0 {
        return Err(ImportError::Source {
            path: sources.first().cloned().unwrap_or_default(),
            message: "no advisories found (expected an OSV all.zip, or .json/.yaml advisory files)"
                .into(),
        });
    }
    writer.meta.invalid_skipped += report.skipped.len() as u64;
    report.meta = writer.finish()?;
    Ok(report)
}

fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == b"PK\x03\x04"
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let ft = entry.file_type()?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if ft.is_dir() && !hidden {
            walk(&path, out)?;
        } else if ft.is_file() && advisory_ext(&path).is_some() {
            out.push(path);
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Ext {
    Json,
    Yaml,
}

fn advisory_ext(path: &Path) -> Option<Ext> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "json" => Some(Ext::Json),
        "yaml" | "yml" => Some(Ext::Yaml),
        _ => None,
    }
}

fn parse(bytes: &[u8], ext: Ext) -> Result<Advisory, String> {
    match ext {
        Ext::Json => Advisory::from_json(bytes),
        Ext::Yaml => match std::str::from_utf8(bytes) {
            Ok(text) => Advisory::from_yaml(text),
            Err(e) => Err(format!(
                "not UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            )),
        },
    }
}

fn add_file(
    path: &Path,
    writer: &mut Writer,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let Some(ext) = advisory_ext(path) else {
        report.skipped.push(Skipped {
            file: path.display().to_string(),
            message: "not a .json or .yaml advisory".into(),
        });
        return Ok(());
    };
    report.files += 1;
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            report.skipped.push(Skipped {
                file: path.display().to_string(),
                message: format!("cannot read: {e}"),
            });
            return Ok(());
        }
    };
    match parse(&bytes, ext) {
        Ok(adv) => writer.add(&adv)?,
        Err(message) => report.skipped.push(Skipped {
            file: path.display().to_string(),
            message,
        }),
    }
    Ok(())
}

/// Reads every advisory of an OSV `all.zip`. A damaged archive (bad structure, a CRC
/// mismatch, a truncated member) fails the whole import: it is not the data it claims to be.
pub fn add_zip(
    path: &Path,
    writer: &mut Writer,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let err = |message: String| ImportError::Source {
        path: path.to_path_buf(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| err(format!("not a valid zip archive: {e}")))?;
    if archive.len() > MAX_ENTRIES {
        return Err(err(format!(
            "{} entries, more than the limit of {MAX_ENTRIES}",
            archive.len()
        )));
    }
    let mut buf = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| err(format!("member {i}: {e}")))?;
        if entry.is_dir() {
            continue;
        }
        let name = match entry.name() {
            Ok(n) => n.to_string(),
            Err(e) => return Err(err(format!("member {i}: invalid name: {e}"))),
        };
        let Some(ext) = advisory_ext(Path::new(&name)) else {
            continue;
        };
        if entry.size() > MAX_ENTRY {
            report.skipped.push(Skipped {
                file: format!("{}!{name}", path.display()),
                message: format!(
                    "{} bytes, more than the {MAX_ENTRY}-byte limit for one advisory",
                    entry.size()
                ),
            });
            continue;
        }
        buf.clear();
        (&mut entry)
            .take(MAX_ENTRY + 1)
            .read_to_end(&mut buf)
            .map_err(|e| {
                err(format!(
                    "member `{name}`: {e} (corrupt or truncated archive)"
                ))
            })?;
        report.files += 1;
        match parse(&buf, ext) {
            Ok(adv) => writer.add(&adv)?,
            Err(message) => report.skipped.push(Skipped {
                file: format!("{}!{name}", path.display()),
                message,
            }),
        }
    }
    Ok(())
}
