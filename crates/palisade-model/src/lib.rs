//! Model artifact scanning for Palisade: malicious pickles and unsafe model files.
//!
//! Files are recognised by content ([`detect::detect`]), never by extension alone, and
//! nothing is ever unpickled, imported or executed: pickles are emulated by a VM that
//! records every import and call ([`pickle::vm`]), containers are read with size, count
//! and depth limits, and for large checkpoints only the parts that can carry code are read
//! (a PyTorch zip's central directory and pickle members, never tensor data).
//!
//! ```no_run
//! use palisade_model::{ScanOptions, scan_path};
//! let findings = scan_path(std::path::Path::new("model.pt"), &ScanOptions::default());
//! for f in &findings {
//!     println!("{f}");
//! }
//! ```

pub mod detect;
pub mod finding;
mod formats;
pub mod pickle;
pub mod rules;
mod scan;
mod source;

use std::fs::File;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use detect::{Format, is_model_file};
pub use finding::{ModelFinding, Severity};
pub use pickle::classify::ImportPolicy;
pub use pickle::vm::VmLimits;
pub use rules::{RuleMeta, policy_rules};

use scan::{Ctx, Loc};
use source::Src;

/// Limits and policy of a scan. The defaults suit CI and admission use: generous enough
/// for real checkpoints, bounded for adversarial files.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Deepest nesting of archives/streams inside each other.
    pub max_depth: u32,
    /// Most archive members scanned per file.
    pub max_members: usize,
    /// Most bytes decompressed for one member or stream.
    pub max_member_size: u64,
    /// Most bytes decompressed for one file, all members together (zip-bomb guard).
    pub max_total_decompressed: u64,
    /// Most files scanned under a directory.
    pub max_files: usize,
    /// User extensions of the pickle allowlist/denylist (from the Policy).
    pub import_policy: ImportPolicy,
    /// Pickle VM limits.
    pub vm: VmLimits,
    /// Scan the files of a directory in parallel (rayon).
    pub parallel: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_depth: 8,
            max_members: 100_000,
            max_member_size: 2 * 1024 * 1024 * 1024,
            max_total_decompressed: 8 * 1024 * 1024 * 1024,
            max_files: 1_000_000,
            import_policy: ImportPolicy::default(),
            vm: VmLimits::default(),
            parallel: true,
        }
    }
}

/// A file or directory entry that could not be scanned at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    pub path: PathBuf,
    pub message: String,
}

/// Findings plus the inputs that could not be read.
#[derive(Debug, Clone, Default)]
pub struct ScanReport {
    pub findings: Vec<ModelFinding>,
    pub errors: Vec<ScanError>,
    pub files_scanned: usize,
}

/// Every rule of the model scanner, for `palisade rules`.
pub fn rules() -> &'static [RuleMeta] {
    rules::all()
}

/// The documentation of a rule (by code or name), for `palisade explain`.
pub fn explain(code_or_name: &str) -> Option<String> {
    rules::find(code_or_name).map(|r| {
        format!(
            "# {} {}\n\n{}\n\n{}",
            r.code,
            r.name,
            r.summary,
            r.documentation()
        )
    })
}

/// Scans a file or a directory (recursively, following symlinks to files but not to
/// directories).
pub fn scan_path(path: &Path, opts: &ScanOptions) -> Vec<ModelFinding> {
    scan_path_report(path, opts).findings
}

/// Like [`scan_path`], but also returns what could not be read.
pub fn scan_path_report(path: &Path, opts: &ScanOptions) -> ScanReport {
    let mut report = ScanReport::default();
    if path.is_dir() {
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        walk(
            path,
            0,
            opts.max_files,
            &mut files,
            &mut dirs,
            &mut report.errors,
        );
        let per_file = |p: &PathBuf| scan_file(p, opts);
        let results: Vec<Result<Vec<ModelFinding>, ScanError>> = if opts.parallel {
            files.par_iter().map(per_file).collect()
        } else {
            files.iter().map(per_file).collect()
        };
        for r in results {
            match r {
                Ok(f) => {
                    report.files_scanned += 1;
                    report.findings.extend(f);
                }
                Err(e) => report.errors.push(e),
            }
        }
        for (dir, names) in dirs {
            let (findings, errors) = dir_findings(&dir, &names, opts);
            report.files_scanned += names.iter().filter(|n| is_dir_config(n)).count();
            report.findings.extend(findings);
            report.errors.extend(errors);
        }
    } else {
        match scan_file(&path.to_path_buf(), opts) {
            Ok(f) => {
                report.files_scanned = 1;
                report.findings = f;
            }
            Err(e) => report.errors.push(e),
        }
    }
    sort(&mut report.findings);
    report
}

/// The Hugging Face checks of one directory, not of its subdirectories: `auto_map` in its
/// JSON configs and the Python files that `trust_remote_code=True` would import. For callers
/// that walk directories themselves (`palisade scan`) and hand every other file to
/// [`scan_path`]; the `*config.json` files are scanned here, by content like any file.
pub fn scan_model_dir(dir: &Path, opts: &ScanOptions) -> ScanReport {
    let mut report = ScanReport::default();
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .filter(is_file)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) => {
            report.errors.push(ScanError {
                path: dir.to_path_buf(),
                message: e.to_string(),
            });
            return report;
        }
    };
    names.sort();
    let (findings, errors) = dir_findings(dir, &names, opts);
    report.files_scanned = names.iter().filter(|n| is_dir_config(n)).count();
    report.findings = findings;
    report.errors = errors;
    sort(&mut report.findings);
    report
}

/// A regular file, or a symlink to one: a Hugging Face cache snapshot is all links into
/// `blobs/`. Directory links are not followed, so a link loop cannot trap a walk.
fn is_file(entry: &std::fs::DirEntry) -> bool {
    entry.file_type().is_ok_and(|t| {
        t.is_file()
            || (t.is_symlink() && std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()))
    })
}

/// Files scanned by the directory pass rather than one by one: the configs that say what
/// `from_pretrained` loads (`config.json`, `tokenizer_config.json`, …).
fn is_dir_config(name: &str) -> bool {
    name.ends_with("config.json")
}

fn dir_findings(
    dir: &Path,
    names: &[String],
    opts: &ScanOptions,
) -> (Vec<ModelFinding>, Vec<ScanError>) {
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    for name in names.iter().filter(|n| is_dir_config(n)) {
        match scan_file(&dir.join(name), opts) {
            Ok(f) => findings.extend(f),
            Err(e) => errors.push(e),
        }
    }
    let mut ctx = Ctx::new(opts, dir.to_path_buf());
    formats::hf::scan_dir(&mut ctx, dir, names);
    findings.extend(ctx.findings);
    (findings, errors)
}

fn walk(
    dir: &Path,
    depth: u32,
    max: usize,
    files: &mut Vec<PathBuf>,
    dirs: &mut Vec<(PathBuf, Vec<String>)>,
    errors: &mut Vec<ScanError>,
) {
    if depth > 64 {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(ScanError {
                path: dir.to_path_buf(),
                message: e.to_string(),
            });
            return;
        }
    };
    let mut names = Vec::new();
    let mut subdirs = Vec::new();
    for entry in entries.flatten() {
        let Ok(ft) = entry.file_type() else { continue };
        let p = entry.path();
        if ft.is_dir() {
            subdirs.push(p);
        } else if is_file(&entry) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if files.len() < max && !is_dir_config(&name) {
                files.push(p);
            }
            names.push(name);
        }
    }
    names.sort();
    dirs.push((dir.to_path_buf(), names));
    subdirs.sort();
    for d in subdirs {
        walk(&d, depth + 1, max, files, dirs, errors);
    }
}

fn scan_file(path: &PathBuf, opts: &ScanOptions) -> Result<Vec<ModelFinding>, ScanError> {
    let err = |e: std::io::Error| ScanError {
        path: path.clone(),
        message: e.to_string(),
    };
    let file = File::open(path).map_err(err)?;
    let len = file.metadata().map_err(err)?.len();
    let mut ctx = Ctx::new(opts, path.clone());
    let name = path.to_string_lossy().into_owned();
    scan::scan_src(
        &mut ctx,
        &Loc::default(),
        &name,
        Src::File {
            file: &file,
            base: 0,
            len,
        },
    );
    Ok(ctx.findings)
}

/// Scans bytes held in memory; `name` is reported as the file and used as a format hint
/// for formats without a magic number.
pub fn scan_bytes(name: &str, data: &[u8], opts: &ScanOptions) -> Vec<ModelFinding> {
    let mut ctx = Ctx::new(opts, PathBuf::from(name));
    scan::scan_src(&mut ctx, &Loc::default(), name, Src::Mem(data));
    let mut f = ctx.findings;
    sort(&mut f);
    f
}

fn sort(findings: &mut [ModelFinding]) {
    findings.sort_by(|a, b| {
        (&a.file, &a.member, a.offset, a.code).cmp(&(&b.file, &b.member, b.offset, b.code))
    });
}
