//! The vulnerability stage shared by `palisade scan image`, `palisade scan PATH` (lock files)
//! and `palisade sbom --db`: open the database, match packages, turn matches into `PAL700`
//! findings.
//!
//! Without a database at the default location the rest of the scan still runs and a notice
//! says how to get one (a database older than [`STALE_DAYS`] gets a notice too); the exit code is not changed by that (nothing was asked of the
//! database). A database named with `--db` that cannot be opened, or one at the default
//! location that is damaged, is an input error (exit 2), and the rest of the scan still runs.

use std::path::Path;

use palisade_policy::{Finding, InputError, Selection};
use palisade_vuln::findings::{IgnoreFile, KNOWN_VULNERABILITY, ReportOptions, to_findings};
use palisade_vuln::{Database, MatchReport, Package, match_packages};

pub use crate::cli::VulnArgs;

/// What the stage added to a report.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub errors: Vec<InputError>,
    pub notices: Vec<String>,
    /// Dropped by the ignore file or `--ignore-unfixed`.
    pub suppressed: usize,
    /// The matches, for callers that need more than findings (the SBOM).
    pub matched: Option<MatchReport>,
}

/// A database older than this many days gets a notice.
pub const STALE_DAYS: u64 = 7;

/// The notice for a database built at `created` (Unix seconds) when it is older than
/// [`STALE_DAYS`] at `now`.
#[must_use]
pub fn stale_notice(path: &Path, created: u64, now: u64) -> Option<String> {
    let age_days = now.saturating_sub(created) / 86_400;
    (age_days > STALE_DAYS).then(|| {
        format!(
            "the vulnerability database {} is {age_days} days old; advisories published since are not known (refresh it with `palisade db update`)",
            path.display()
        )
    })
}

/// The one-line notice printed when there is no database at the default location.
#[must_use]
pub fn missing_db_notice(path: &Path) -> String {
    format!(
        "vulnerabilities not checked: no database at {} (build one with `palisade db update`, or `palisade db import PATH` for OSV files you have; or pass --db PATH)",
        path.display()
    )
}

fn input_error(file: &Path, line: u32, message: String) -> InputError {
    InputError {
        file: file.display().to_string().into(),
        line,
        column: 0,
        message,
    }
}

/// Opens the database: `Ok(None)` with a notice when there is none at the default location.
pub fn open_db(args: &VulnArgs, out: &mut Outcome) -> Option<Database> {
    let path = args
        .db
        .clone()
        .unwrap_or_else(palisade_vuln::update::default_db_path);
    if args.db.is_none() && !path.exists() {
        out.notices.push(missing_db_notice(&path));
        return None;
    }
    match Database::open(&path) {
        Ok(db) => {
            out.notices.extend(stale_notice(
                &path,
                db.meta.created,
                palisade_vuln::store::now(),
            ));
            Some(db)
        }
        Err(e) => {
            out.errors.push(input_error(
                &path,
                0,
                format!(
                    "cannot open the vulnerability database: {e}; vulnerabilities were not checked (rebuild it with `palisade db update` or `palisade db import`)"
                ),
            ));
            None
        }
    }
}

fn ignore_file(args: &VulnArgs, out: &mut Outcome) -> Option<IgnoreFile> {
    let path = args.ignore_file.as_ref()?;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            out.errors.push(input_error(
                path,
                0,
                format!("cannot read ignore file: {e}"),
            ));
            return None;
        }
    };
    let name = path.display().to_string();
    match IgnoreFile::parse(&name, &text) {
        Ok(f) => Some(f),
        Err(errors) => {
            // Messages are `FILE:LINE: what`; keep the line as a position.
            for e in errors {
                let rest = e.strip_prefix(&format!("{name}:")).unwrap_or(&e);
                let (line, msg) = match rest.split_once(": ") {
                    Some((l, m)) if l.parse::<u32>().is_ok() => (l.parse().unwrap_or(0), m),
                    _ => (0, rest),
                };
                out.errors.push(input_error(path, line, msg.to_string()));
            }
            None
        }
    }
}

/// Whether `PAL700` runs under the rule selection.
#[must_use]
pub fn enabled(selection: &Selection) -> bool {
    selection.is_enabled(&KNOWN_VULNERABILITY)
}

/// Matches `packages` against the database and turns the matches into findings. `line_of`
/// gives a line of a package's file (file, 1-based line), for the excerpt of lock-file findings.
pub fn check(
    args: &VulnArgs,
    packages: &[Package],
    line_of: &dyn Fn(&str, u32) -> Option<String>,
) -> Outcome {
    let mut out = Outcome::default();
    let Some(db) = open_db(args, &mut out) else {
        return out;
    };
    let ignore = ignore_file(args, &mut out);
    out.notices.push(format!(
        "checked {} package(s) against {} advisories",
        packages.len(),
        db.meta.advisories
    ));
    let matched = match match_packages(&db, packages) {
        Ok(m) => m,
        Err(e) => {
            out.errors.push(InputError {
                file: "vulnerability database".into(),
                line: 0,
                column: 0,
                message: e.to_string(),
            });
            return out;
        }
    };
    let converted = to_findings(
        packages,
        &matched.matches,
        &ReportOptions {
            ignore_unfixed: args.ignore_unfixed,
            ignore: ignore.as_ref(),
            ..ReportOptions::default()
        },
    );
    out.findings = converted.findings;
    for f in &mut out.findings {
        if f.location.line > 0 {
            f.snippet = line_of(&f.location.file, f.location.line);
        }
    }
    out.suppressed = converted.suppressed;
    out.notices.extend(converted.notices);
    out.notices.extend(matched.notes.iter().cloned());
    out.matched = Some(matched);
    out
}

/// What the lock files of a `palisade scan PATH` gave.
#[derive(Debug, Default)]
pub struct LockScan {
    /// Lock files read.
    pub files: usize,
    pub outcome: Outcome,
}

/// An error message `FILE:LINE[:COL]: what` (as the lock-file readers write them) as an
/// input error with its position.
fn positioned(path: &Path, message: &str) -> InputError {
    let name = path.display().to_string();
    let rest = message
        .strip_prefix(&format!("{name}:"))
        .unwrap_or(message)
        .trim_start();
    let mut parts = rest.splitn(3, ':');
    let (line, column, text) = match (parts.next(), parts.next(), parts.next()) {
        (Some(l), Some(c), Some(t)) if l.parse::<u32>().is_ok() && c.parse::<u32>().is_ok() => (
            l.parse().unwrap_or(0),
            c.parse().unwrap_or(0),
            t.trim_start().to_string(),
        ),
        _ => match rest.split_once(": ") {
            Some((l, t)) if l.parse::<u32>().is_ok() => (l.parse().unwrap_or(0), 0, t.to_string()),
            _ => (0, 0, rest.to_string()),
        },
    };
    InputError {
        file: name.into(),
        line,
        column,
        message: text,
    }
}

/// Reads the lock files found by `palisade scan PATH` and matches their packages. Nothing
/// happens (and no database is opened) when `PAL700` is not selected or no lock file pins a
/// package. A `go.sum` next to a `go.mod` is left out: `go.mod` lists the versions the build
/// uses, `go.sum` also hashes versions it does not.
#[must_use]
pub fn scan_lock_files(
    locks: &[crate::inputs::Input],
    args: &VulnArgs,
    selection: &Selection,
) -> LockScan {
    let mut scan = LockScan::default();
    if locks.is_empty() || !enabled(selection) {
        return scan;
    }
    let paths: std::collections::BTreeSet<&Path> =
        locks.iter().filter_map(|i| i.path.as_deref()).collect();
    let mut packages = Vec::new();
    let mut texts = std::collections::BTreeMap::new();
    for path in &paths {
        if path.file_name().is_some_and(|n| n == "go.sum")
            && paths.contains(path.with_file_name("go.mod").as_path())
        {
            continue;
        }
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                scan.outcome
                    .errors
                    .push(input_error(path, 0, format!("cannot read: {e}")));
                continue;
            }
        };
        match palisade_vuln::lockfile::parse(path, &text) {
            Ok(p) => {
                scan.files += 1;
                packages.extend(p);
                texts.insert(path.display().to_string(), text);
            }
            Err(e) => scan.outcome.errors.push(positioned(path, &e)),
        }
    }
    if packages.is_empty() {
        return scan;
    }
    let line_of = |file: &str, line: u32| {
        texts
            .get(file)
            .and_then(|t: &String| t.lines().nth(line as usize - 1))
            .map(str::to_string)
    };
    let mut outcome = check(args, &packages, &line_of);
    outcome.errors.splice(0..0, scan.outcome.errors.drain(..));
    scan.outcome = outcome;
    scan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_older_than_a_week_gets_a_notice() {
        let day = 86_400;
        let p = Path::new("v.db");
        assert_eq!(stale_notice(p, 100 * day, 107 * day), None);
        let n = stale_notice(p, 100 * day, 108 * day).unwrap();
        assert!(
            n.contains("v.db is 8 days old") && n.contains("palisade db update"),
            "{n}"
        );
        // A clock behind the build time is not "old".
        assert_eq!(stale_notice(p, 100 * day, 50 * day), None);
    }
}
