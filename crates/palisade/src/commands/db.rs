//! `palisade db`: the local OSV vulnerability database (`import`, `update`, `info`) and
//! `check`, which matches lock files or purls against it.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use palisade_policy::{Date, InputError, apply_policy};
use palisade_report::{Format, RenderOptions, ScanReport, render};
use palisade_vuln::findings::{IgnoreFile, ReportOptions, to_findings};
use palisade_vuln::update::{DEFAULT_BASE_URL, DEFAULT_ECOSYSTEMS, UpdateOptions, default_db_path};
use palisade_vuln::{Database, Package, match_packages};

use crate::cli::{ColorChoice, PolicyArgs, use_color};

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Debug, Args)]
pub struct DbPath {
    /// Database file (default: the user's cache dir, `~/.cache/palisade/vuln.db`)
    #[arg(long, value_name = "PATH", global = true)]
    pub db: Option<PathBuf>,
}

impl DbPath {
    fn path(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(default_db_path)
    }
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Build the database from OSV exports: osv.dev `all.zip` files, directories of
    /// `.json`/`.yaml` advisories, or single advisories (replaces the database atomically)
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        db: DbPath,
    },
    /// Download the per-ecosystem OSV exports and rebuild the database (resumable; the old
    /// database stays in place if anything fails)
    Update {
        /// Where `<ecosystem>/all.zip` files are served
        #[arg(long, value_name = "URL", default_value = DEFAULT_BASE_URL)]
        base_url: String,
        /// Ecosystems to download, comma-separated (default: PyPI, npm, Go, crates.io, Debian, Alpine, Ubuntu)
        #[arg(long = "ecosystem", value_name = "NAME", value_delimiter = ',')]
        ecosystems: Vec<String>,
        /// Per-request timeout in seconds
        #[arg(long, value_name = "SECONDS", default_value_t = 600)]
        timeout: u64,
        #[command(flatten)]
        db: DbPath,
    },
    /// Show the database's ecosystems, counts and age
    Info {
        /// `table` or `json`
        #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
        format: String,
        #[command(flatten)]
        db: DbPath,
    },
    /// Match lock files (requirements*.txt, Pipfile.lock, poetry.lock, uv.lock,
    /// package-lock.json, yarn.lock, pnpm-lock.yaml, Cargo.lock, go.mod, go.sum,
    /// gradle.lockfile) or package URLs against the database
    Check(Box<CheckArgs>),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Lock files to check, or directories to find them in
    pub paths: Vec<PathBuf>,
    /// Package URLs to check (`pkg:pypi/torch@2.1.0`), repeatable
    #[arg(long, value_name = "PURL")]
    pub purl: Vec<String>,
    /// Drop vulnerabilities that have no fixed version yet
    #[arg(long)]
    pub ignore_unfixed: bool,
    /// Ignore file: statements with an id, a justification and an optional expiry
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// Output format
    #[arg(long, short = 'f', default_value = "table", value_parser = clap::builder::PossibleValuesParser::new(palisade_report::Format::NAMES))]
    pub format: String,
    /// Write the report to FILE instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub policy: CheckPolicyArgs,
    /// When to colour the table output
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub db: DbPath,
    #[command(flatten)]
    pub severity: crate::cli::SeverityFilter,
}

/// The policy options that apply to vulnerability findings: the policy file (rule severities,
/// exceptions) and `--fail-on`. The Pod Security Standards level and version, and rule
/// selection, are `scan`'s: lock files have none of those (every finding is PAL700).
#[derive(Debug, Args)]
pub struct CheckPolicyArgs {
    /// Policy file (`kind: Policy`): its rule severities, exceptions and `failOn` apply
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Lowest severity that fails the check (exit 1): info, low, medium, high, critical
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
}

impl CheckPolicyArgs {
    fn policy_args(&self) -> PolicyArgs {
        PolicyArgs {
            config: self.config.clone(),
            standard: None,
            kubernetes_version: None,
            fail_on: self.fail_on.clone(),
            select: Vec::new(),
            ignore: Vec::new(),
        }
    }
}

pub fn run(args: &DbArgs) -> i32 {
    match &args.command {
        DbCommand::Import { paths, db } => import(paths, &db.path()),
        DbCommand::Update {
            base_url,
            ecosystems,
            timeout,
            db,
        } => update(base_url, ecosystems, *timeout, &db.path()),
        DbCommand::Info { format, db } => info(format, &db.path()),
        DbCommand::Check(c) => check(c),
    }
}

fn import(paths: &[PathBuf], db: &std::path::Path) -> i32 {
    let started = std::time::Instant::now();
    match palisade_vuln::import::import(paths, db) {
        Ok(report) => {
            for s in &report.skipped {
                eprintln!("palisade: {}: skipped: {}", s.file, s.message);
            }
            eprintln!(
                "imported {} advisories ({} withdrawn skipped, {} unreadable) into {} in {:.2}s",
                report.meta.advisories,
                report.meta.withdrawn_skipped,
                report.skipped.len(),
                db.display(),
                started.elapsed().as_secs_f64()
            );
            i32::from(!report.skipped.is_empty()) * 2
        }
        Err(e) => super::fail(e),
    }
}

fn update(base_url: &str, ecosystems: &[String], timeout: u64, db: &std::path::Path) -> i32 {
    let tty = std::io::stderr().is_terminal();
    let progress = move |eco: &str, done: u64, total: Option<u64>| {
        if tty {
            let mib = |b: u64| b as f64 / 1_048_576.0;
            match total {
                Some(t) => eprint!("\r{eco}: {:.1} / {:.1} MiB   ", mib(done), mib(t)),
                None => eprint!("\r{eco}: {:.1} MiB   ", mib(done)),
            }
        }
    };
    let opts = UpdateOptions {
        base_url: base_url.to_string(),
        ecosystems: if ecosystems.is_empty() {
            DEFAULT_ECOSYSTEMS
                .iter()
                .map(|s| (*s).to_string())
                .collect()
        } else {
            ecosystems.to_vec()
        },
        db: db.to_path_buf(),
        timeout: Duration::from_secs(timeout),
        progress: Some(&progress),
    };
    let result = palisade_vuln::update::update(&opts);
    if tty {
        eprintln!();
    }
    match result {
        Ok(report) => {
            eprintln!(
                "updated {}: {} advisories in {} ecosystems",
                db.display(),
                report.meta.advisories,
                report.meta.ecosystems.len()
            );
            0
        }
        Err(e) => super::fail(format!("{e} (the existing database, if any, is unchanged)")),
    }
}

fn info(format: &str, db: &std::path::Path) -> i32 {
    let opened = match Database::open(db) {
        Ok(d) => d,
        Err(e) => return super::fail(e),
    };
    let meta = &opened.meta;
    let age_days = palisade_vuln::store::now().saturating_sub(meta.created) / 86_400;
    if format == "json" {
        let v = serde_json::json!({
            "path": db.display().to_string(),
            "format": meta.format,
            "created": meta.created,
            "ageDays": age_days,
            "advisories": meta.advisories,
            "withdrawnSkipped": meta.withdrawn_skipped,
            "sources": meta.sources,
            "ecosystems": meta.ecosystems,
        });
        return super::print_or_fail(
            &(serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"),
            0,
        );
    }
    let mut out = String::new();
    let _ = writeln!(out, "database   {}", db.display());
    let _ = writeln!(out, "format     {}", meta.format);
    let _ = writeln!(
        out,
        "built      {} ({age_days} days ago)",
        Date::from_days_since_epoch(i64::try_from(meta.created / 86_400).unwrap_or(0))
    );
    let _ = writeln!(
        out,
        "advisories {} ({} withdrawn skipped)",
        meta.advisories, meta.withdrawn_skipped
    );
    for s in &meta.sources {
        let _ = writeln!(out, "source     {s}");
    }
    let _ = writeln!(
        out,
        "\n{:<24} {:>10} {:>10}",
        "ECOSYSTEM", "ADVISORIES", "PACKAGES"
    );
    for (eco, c) in &meta.ecosystems {
        let _ = writeln!(out, "{eco:<24} {:>10} {:>10}", c.advisories, c.packages);
    }
    super::print_or_fail(&out, 0)
}

/// The named files, and the lock files found under named directories (walked as `palisade
/// scan` walks them), each once.
fn lock_files(paths: &[PathBuf], errors: &mut Vec<InputError>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let (inputs, walk_errors) = crate::inputs::collect_inputs(std::slice::from_ref(path));
        errors.extend(walk_errors);
        out.extend(
            inputs
                .into_iter()
                .filter(|i| i.kind == crate::inputs::Kind::LockFile)
                .filter_map(|i| i.path),
        );
    }
    // A file named twice, or named and found under a named directory, is checked once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    out
}

fn check(args: &CheckArgs) -> i32 {
    if args.paths.is_empty() && args.purl.is_empty() {
        return super::fail("db check: name lock files or --purl package URLs to check");
    }
    let policy = match super::scan::resolve_policy(&args.policy.policy_args()) {
        Ok(p) => p,
        Err(e) => return super::fail(e),
    };
    let db_path = args.db.path();
    let db = match Database::open(&db_path) {
        Ok(d) => d,
        Err(e) => {
            return super::fail(format!(
                "{e}\npalisade: build the database with `palisade db update` or `palisade db import`"
            ));
        }
    };
    let ignore = match &args.ignore_file {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(text) => match IgnoreFile::parse(&p.display().to_string(), &text) {
                Ok(f) => Some(f),
                Err(errors) => return super::fail(errors.join("\npalisade: ")),
            },
            Err(e) => return super::fail(format!("{}: cannot read ignore file: {e}", p.display())),
        },
        None => None,
    };
    let mut report = ScanReport::new(policy.fail_on);
    let mut packages: Vec<Package> = Vec::new();
    for path in &lock_files(&args.paths, &mut report.errors) {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                report
                    .errors
                    .push(input_error(path, format!("cannot read: {e}")));
                continue;
            }
        };
        match palisade_vuln::lockfile::parse(path, &text) {
            Ok(p) => {
                report.files_scanned += 1;
                packages.extend(p);
            }
            Err(e) => report.errors.push(input_error(path, e)),
        }
    }
    for purl in &args.purl {
        match palisade_vuln::lockfile::package_from_purl(purl) {
            Ok(mut p) => {
                p.file = purl.clone();
                packages.push(p);
            }
            Err(e) => report.errors.push(InputError {
                file: "--purl".into(),
                line: 0,
                column: 0,
                message: e,
            }),
        }
    }
    report.resources_scanned = packages.len();
    let matched = match match_packages(&db, &packages) {
        Ok(m) => m,
        Err(e) => return super::fail(e),
    };
    let converted = to_findings(
        &packages,
        &matched.matches,
        &ReportOptions {
            ignore_unfixed: args.ignore_unfixed,
            ignore: ignore.as_ref(),
            ..ReportOptions::default()
        },
    );
    let applied = apply_policy(&policy, converted.findings, Date::today());
    report.findings = applied.findings;
    report
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    report.suppressed = converted.suppressed + applied.suppressed;
    report.notices = converted.notices;
    report.notices.extend(applied.notices);
    report.notices.extend(matched.notes);
    report.rules = palisade_vuln::findings::rules();
    if let Err(message) = args.severity.apply(&mut report) {
        return super::fail(message);
    }
    let format: Format = args.format.parse().unwrap_or(Format::Table);
    let opts = RenderOptions {
        color: format == Format::Table && use_color(args.color, args.output.is_some()),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let text = render(&report, format, &opts);
    match &args.output {
        Some(path) => {
            if let Err(e) = super::scan::write_atomically(path, text.as_bytes()) {
                return super::fail(format!("{}: cannot write report: {e}", path.display()));
            }
        }
        None => return super::print_or_fail(&text, report.exit_code()),
    }
    report.exit_code()
}

fn input_error(path: &std::path::Path, message: String) -> InputError {
    InputError {
        file: path.display().to_string().into(),
        line: 0,
        column: 0,
        message,
    }
}
