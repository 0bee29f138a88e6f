//! Running Pod Security Standards fixtures the way upstream's harness does: each file at its
//! own level and version, judged by a manifest row.

#![allow(dead_code)] // each test binary uses a different part

use std::path::Path;
use std::sync::Arc;

use palisade_k8s::pss::{Version, active_checks};
use palisade_k8s::{ScanOptions, scan_source};
use palisade_policy::{Finding, Selection, Standard};

/// One row of a fixtures manifest (upstream's columns; Palisade's own adds `source`).
#[derive(Debug, Clone)]
pub struct Row {
    pub level: String,
    pub version: String,
    pub allowed: bool,
    pub target: String,
    pub substring: String,
    pub path: String,
    pub source: Option<String>,
}

impl Row {
    pub fn minor(&self) -> u32 {
        self.version
            .strip_prefix("v1.")
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| panic!("bad version {:?}", self.version))
    }

    pub fn standard(&self) -> Standard {
        self.level.parse().expect("level")
    }
}

/// Reads a manifest TSV (with a header line).
pub fn read_manifest(path: &Path) -> Vec<Row> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    assert!(
        header.starts_with("level\tversion\texpected\ttarget_check"),
        "{header}"
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert!(f.len() >= 6, "short manifest row: {l}");
            assert!(matches!(f[2], "allowed" | "denied"), "bad verdict in {l}");
            Row {
                level: f[0].into(),
                version: f[1].into(),
                allowed: f[2] == "allowed",
                target: f[3].into(),
                substring: f[4].into(),
                path: f[5].into(),
                source: f.get(6).map(|s| (*s).to_string()),
            }
        })
        .collect()
}

/// PSS findings for `src` at the row's level and version.
pub fn pss_findings(row: &Row, src: &str) -> Vec<Finding> {
    let opts = ScanOptions::new(
        row.standard(),
        Version::v1(row.minor()),
        Selection::default(),
        vec![],
    );
    let scan = scan_source(&Arc::from(row.path.as_str()), src, &opts);
    assert!(
        scan.errors.is_empty(),
        "{}: input errors {:?}",
        row.path,
        scan.errors
    );
    assert_eq!(scan.pod_specs, 1, "{}: expected one pod spec", row.path);
    scan.findings
        .into_iter()
        .filter(|f| f.rule.pss_check.is_some())
        .collect()
}

/// Check IDs whose findings satisfy a denied row: the target and, in restricted, the
/// restricted checks that override it at that version.
pub fn accepted_checks(row: &Row) -> Vec<&'static str> {
    let active = active_checks(row.standard(), Version::v1(row.minor()));
    let mut ids: Vec<&'static str> = active
        .iter()
        .filter(|a| {
            a.check.id == row.target || a.implementation.overrides.contains(&row.target.as_str())
        })
        .map(|a| a.check.id)
        .collect();
    ids.sort_unstable();
    ids
}

/// `Ok` when the fixture gets the row's verdict, else a one-line explanation.
pub fn judge(row: &Row, src: &str) -> Result<(), String> {
    let findings = pss_findings(row, src);
    let describe = |fs: &[Finding]| {
        fs.iter()
            .map(|f| format!("{} {}", f.rule.pss_check.unwrap_or(""), f.message))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    if row.allowed {
        return if findings.is_empty() {
            Ok(())
        } else {
            Err(format!("expected allowed, got: {}", describe(&findings)))
        };
    }
    let accepted = accepted_checks(row);
    if accepted.is_empty() {
        return Err(format!(
            "check {} is not active at {} {}",
            row.target, row.level, row.version
        ));
    }
    // Upstream's harness defaults the substring to the check ID.
    let substring = if row.substring.is_empty() {
        row.target.as_str()
    } else {
        row.substring.as_str()
    };
    let hit = findings.iter().any(|f| {
        f.rule.pss_check.is_some_and(|id| accepted.contains(&id)) && f.message.contains(substring)
    });
    if hit {
        Ok(())
    } else {
        Err(format!(
            "expected a {accepted:?} finding containing {substring:?}, got: {}",
            describe(&findings)
        ))
    }
}

/// Judges every row, reading files relative to `root`; returns (passed, failures).
pub fn run_all(root: &Path, rows: &[Row]) -> (usize, Vec<String>) {
    let mut passed = 0;
    let mut failures = Vec::new();
    for row in rows {
        let path = root.join(&row.path);
        let src = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        match judge(row, &src) {
            Ok(()) => passed += 1,
            Err(e) => failures.push(format!("{} ({} {}): {e}", row.path, row.level, row.version)),
        }
    }
    (passed, failures)
}
