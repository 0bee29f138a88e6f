//! Maven version ordering against Maven itself: `tests/data/maven_pairs.tsv` holds what
//! maven-artifact 3.8.7's `ComparableVersion` answered for Maven's own ComparableVersionTest
//! cases and for random versions (written by `tests/data/gen_maven_vectors.py`). When java
//! and the maven-artifact jar are installed, fresh random pairs are asked live too.

use std::cmp::Ordering;
use std::path::PathBuf;
use std::process::Command;

use palisade_vuln::version::Scheme;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Checks every `a\top\tb` line, both ways round; returns how many pairs were checked.
fn check(tsv: &str) -> usize {
    let mut wrong = Vec::new();
    let mut n = 0;
    for line in tsv.lines().filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let [a, op, b] = f[..] else {
            panic!("bad oracle line `{line}`");
        };
        let want = match op {
            "<" => Ordering::Less,
            "=" => Ordering::Equal,
            ">" => Ordering::Greater,
            other => panic!("bad operator {other}"),
        };
        n += 1;
        let got = Scheme::Maven.compare(a, b).unwrap();
        let back = Scheme::Maven.compare(b, a).unwrap();
        if got != want || back != want.reverse() {
            wrong.push(format!("{a} {op} {b}: got {got:?} (reversed {back:?})"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {n} pairs differ:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(20)].join("\n")
    );
    n
}

#[test]
fn maven_pairs_match_comparable_version() {
    let n = check(&std::fs::read_to_string(data("maven_pairs.tsv")).unwrap());
    assert!(n > 3000, "{n}");
    // A bigger oracle file made with the generator, on request.
    if let Some(extra) = std::env::var_os("PALISADE_MAVEN_ORACLE") {
        let n = check(&std::fs::read_to_string(&extra).unwrap());
        eprintln!("{n} pairs of {} match", extra.to_string_lossy());
    }
}

#[test]
fn maven_ordering_sorts_comparable_version_tests_lists() {
    // ComparableVersionTest's VERSIONS_QUALIFIER, shuffled, sorts back into Maven's order.
    let sorted = [
        "1-alpha2snapshot",
        "1-alpha2",
        "1-alpha-123",
        "1-beta-2",
        "1-beta123",
        "1-m2",
        "1-m11",
        "1-rc",
        "1-cr2",
        "1-rc123",
        "1-SNAPSHOT",
        "1",
        "1-sp",
        "1-sp2",
        "1-sp123",
        "1-abc",
        "1-def",
        "1-pom-1",
        "1-1-snapshot",
        "1-1",
        "1-2",
        "1-123",
    ];
    let mut shuffled: Vec<&str> = sorted.iter().rev().copied().collect();
    shuffled.rotate_left(7);
    shuffled.sort_by(|a, b| Scheme::Maven.compare(a, b).unwrap());
    assert_eq!(shuffled, sorted);
}

#[test]
fn maven_pairs_match_live_maven() {
    let java = Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !java {
        eprintln!("skipping: java not found (the live Maven oracle needs java and maven-artifact)");
        return;
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs());
    let out = match Command::new("python3")
        .arg(data("gen_maven_vectors.py"))
        .args(["2000", &seed.to_string()])
        .output()
    {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            eprintln!("skipping: {}", String::from_utf8_lossy(&o.stderr).trim());
            return;
        }
        Err(e) => {
            eprintln!("skipping: python3: {e}");
            return;
        }
    };
    eprintln!("seed {seed}");
    check(&String::from_utf8_lossy(&out.stdout));
}
