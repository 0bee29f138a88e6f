//! CVSS v4.0 scores against an oracle: Red Hat's `cvss` Python library, which the FIRST
//! reference calculator's published scores are checked against. `tests/data/cvss4_vectors.tsv`
//! is what `tests/data/gen_cvss4_vectors.py` wrote (the specification's examples, every
//! macro-vector corner, and random vectors over base, threat, environmental and supplemental
//! metrics); when Python and `cvss` are installed, fresh random vectors are checked live too.

use std::path::PathBuf;
use std::process::Command;

use palisade_policy::Severity;
use palisade_vuln::cvss::{Cvss, parse};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn rating(word: &str) -> Severity {
    match word {
        "None" => Severity::Info,
        "Low" => Severity::Low,
        "Medium" => Severity::Medium,
        "High" => Severity::High,
        "Critical" => Severity::Critical,
        other => panic!("unknown rating {other}"),
    }
}

/// Checks every `vector\tscore\trating` line; returns how many were checked.
fn check(tsv: &str) -> usize {
    let mut wrong = Vec::new();
    let mut n = 0;
    for line in tsv.lines().filter(|l| !l.trim().is_empty()) {
        let mut f = line.split('\t');
        let (Some(vector), Some(score), Some(word)) = (f.next(), f.next(), f.next()) else {
            panic!("bad oracle line `{line}`");
        };
        let want: f64 = score.parse().unwrap();
        n += 1;
        match parse(vector) {
            Ok(c @ Cvss::V4 { score }) => {
                if score != want || c.severity() != Some(rating(word)) {
                    wrong.push(format!("{vector}: got {score}, want {want} {word}"));
                }
            }
            other => wrong.push(format!("{vector}: {other:?}")),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {n} vectors differ:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(20)].join("\n")
    );
    n
}

#[test]
fn v4_scores_match_the_oracle_vectors() {
    let tsv = std::fs::read_to_string(data("cvss4_vectors.tsv")).unwrap();
    let n = check(&tsv);
    assert!(n > 3000, "{n}");
    // A bigger oracle file made with the generator, e.g. every base vector, on request.
    if let Some(extra) = std::env::var_os("PALISADE_CVSS4_ORACLE") {
        let n = check(&std::fs::read_to_string(&extra).unwrap());
        eprintln!("{n} vectors of {} match", extra.to_string_lossy());
    }
}

#[test]
fn v4_scores_match_the_python_reference_live() {
    let have = Command::new("python3")
        .args(["-c", "import cvss"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        eprintln!("skipping: python3 with the `cvss` package not found (pip install cvss)");
        return;
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs());
    let out = Command::new("python3")
        .arg(data("gen_cvss4_vectors.py"))
        .args(["2000", &seed.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("seed {seed}");
    check(&String::from_utf8_lossy(&out.stdout));
}
