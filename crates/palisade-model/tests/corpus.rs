//! The labelled corpus in `../shared/data/models/corpus` (see its README): every malicious
//! file must get a finding of severity high or critical (for `[nested-inert]`,
//! `[metadata-only]` and `[malformed]` any finding that explains), and no benign file may get
//! a high or critical finding. Skipped when the shared data is absent (a fresh clone).

use std::path::PathBuf;

use palisade_model::{ModelFinding, ScanOptions, Severity, scan_path};

fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/models/corpus");
    dir.join("labels.csv").is_file().then_some(dir)
}

/// Minimal CSV splitting: the notes column may be quoted and contain commas.
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn describe(findings: &[ModelFinding]) -> String {
    findings
        .iter()
        .map(|f| format!("    {} {} {}", f.code, f.severity, f.message))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn labelled_corpus() {
    let Some(dir) = corpus_dir() else {
        eprintln!("skipping: ../shared/data/models/corpus not present");
        return;
    };
    let labels = std::fs::read_to_string(dir.join("labels.csv")).expect("labels.csv");
    let opts = ScanOptions::default();
    let mut failures = Vec::new();
    let (mut malicious, mut benign) = (0, 0);
    for line in labels.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols = split_csv(line);
        let (path, expected, notes) = (&cols[0], &cols[1], &cols[3]);
        let findings = scan_path(&dir.join(path), &opts);
        let worst = findings.iter().map(|f| f.severity).max();
        let lenient = ["[nested-inert]", "[metadata-only]", "[malformed]"]
            .iter()
            .any(|t| notes.starts_with(t));
        let ok = match expected.as_str() {
            "malicious" => {
                malicious += 1;
                if lenient {
                    worst.is_some()
                } else {
                    worst >= Some(Severity::High)
                }
            }
            "benign" => {
                benign += 1;
                worst < Some(Severity::High)
            }
            other => panic!("unknown label {other}"),
        };
        if !ok {
            failures.push(format!(
                "{expected} {path} ({notes}) worst={worst:?}\n{}",
                describe(&findings)
            ));
        }
    }
    eprintln!(
        "corpus: {malicious} malicious, {benign} benign, {} misclassified",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} misclassified:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
