//! Matching through the database's compact match sections (`match_packages`) against the
//! reference path that decodes every advisory from its JSON and evaluates it with the public
//! `match_advisories`: both must give the same matches and notes, over the test fixtures, the
//! shared PyPA advisories (every package at every version its advisories name, the boundary
//! cases) and generated corpora shaped like the two benchmarks.
//!
//! `dump_reports` (ignored) writes the reports of the benchmark-shaped corpora to
//! `$DIFF_OUT` (`DIFF_N` generated advisories, default 200,000), to compare two builds:
//! `DIFF_OUT=/tmp/a.txt cargo test --release -p palisade-vuln --test differential -- --ignored`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use palisade_vuln::matcher::match_advisories;
use palisade_vuln::osv::Advisory;
use palisade_vuln::store::Writer;
use palisade_vuln::{Database, MatchReport, Package, match_packages};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv")
}

fn shared_pypi() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv/pypi")
}

fn read_dir_advisories(dir: &Path, out: &mut Vec<Advisory>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            read_dir_advisories(&p, out);
            continue;
        }
        let Ok(text) = std::fs::read(&p) else {
            continue;
        };
        let adv = match p.extension().and_then(|e| e.to_str()) {
            Some("json") => Advisory::from_json(&text),
            Some("yaml" | "yml") => Advisory::from_yaml(&String::from_utf8_lossy(&text)),
            _ => continue,
        };
        if let Ok(a) = adv {
            out.push(a);
        }
    }
}

fn build(path: &Path, advisories: &[Advisory]) -> Database {
    let mut w = Writer::create(path).unwrap();
    for a in advisories {
        w.add(a).unwrap();
    }
    w.finish().unwrap();
    Database::open(path).unwrap()
}

/// Every package named by an advisory at up to `per_name` of the version strings its entries
/// mention, and versions below and above everything and an invalid one, under its own
/// ecosystem and (for a bare Debian or Ubuntu one) a release of it.
fn boundary_inventory(advisories: &[Advisory], per_name: usize) -> Vec<Package> {
    let mut by_name: std::collections::BTreeMap<(String, String), BTreeSet<String>> =
        std::collections::BTreeMap::new();
    for adv in advisories {
        for a in &adv.affected {
            let Some(p) = &a.package else { continue };
            let mut ecos = vec![p.ecosystem.clone()];
            if matches!(p.ecosystem.as_str(), "Debian" | "Ubuntu") {
                ecos.push(format!("{}:12", p.ecosystem));
            }
            // Of a `versions` list (PyPA lists hundreds) the ends and the middle.
            let listed = [
                a.versions.first(),
                a.versions.get(a.versions.len() / 2),
                a.versions.last(),
            ];
            let events = a.ranges.iter().flat_map(|r| &r.events).flat_map(|e| {
                [&e.introduced, &e.fixed, &e.last_affected, &e.limit]
                    .into_iter()
                    .flatten()
            });
            for eco in ecos {
                let versions = by_name.entry((eco, p.name.clone())).or_default();
                versions.extend(listed.into_iter().flatten().cloned());
                versions.extend(events.clone().cloned());
            }
        }
    }
    let mut out = Vec::new();
    for ((eco, name), versions) in by_name {
        // Spread over the sorted strings so that tests stay quick on big advisory sets.
        let step = versions.len().div_ceil(per_name).max(1);
        let picked = versions.iter().step_by(step).map(String::as_str);
        for v in picked.chain(["0.0.1", "99999", "not a version!"]) {
            out.push(Package::new(&eco, &name, v));
        }
    }
    out
}

/// The reference: each package's advisories looked up by name and decoded from JSON.
fn reference(db: &Database, packages: &[Package]) -> MatchReport {
    let mut report = MatchReport::default();
    let mut notes = BTreeSet::new();
    let mut looked_up = std::collections::BTreeMap::new();
    for (i, p) in packages.iter().enumerate() {
        let advisories = looked_up
            .entry((p.ecosystem.clone(), p.match_name().to_string()))
            .or_insert_with(|| db.lookup(&p.ecosystem, p.match_name()).unwrap());
        let (m, n) = match_advisories(i, p, advisories);
        report.matches.extend(m);
        notes.extend(n);
    }
    report
        .matches
        .sort_by(|a, b| (a.package, &a.id).cmp(&(b.package, &b.id)));
    report.notes = notes.into_iter().collect();
    report
}

fn render(report: &MatchReport) -> String {
    let mut out = String::new();
    for m in &report.matches {
        writeln!(out, "{}", serde_json::to_string(m).unwrap()).unwrap();
    }
    for n in &report.notes {
        writeln!(out, "note {n}").unwrap();
    }
    out
}

fn assert_same(db: &Database, packages: &[Package]) -> usize {
    let fast = match_packages(db, packages).unwrap();
    let slow = reference(db, packages);
    let (a, b) = (render(&fast), render(&slow));
    if a != b {
        let first = a
            .lines()
            .zip(b.lines())
            .find(|(x, y)| x != y)
            .map(|(x, y)| format!("fast: {x}\nslow: {y}"));
        panic!(
            "match_packages differs from the reference ({} vs {} lines)\n{}",
            a.lines().count(),
            b.lines().count(),
            first.unwrap_or_default()
        );
    }
    fast.matches.len()
}

#[test]
fn fixtures_and_shared_advisories_match_as_the_reference_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut advisories = Vec::new();
    read_dir_advisories(&fixtures(), &mut advisories);
    if shared_pypi().is_dir() {
        read_dir_advisories(&shared_pypi(), &mut advisories);
    } else {
        eprintln!("shared PyPA advisories not found; fixtures only");
    }
    let db = build(&dir.path().join("v.db"), &advisories);
    let mut packages = boundary_inventory(&advisories, 12);
    // Binary packages named after their source package, as image catalogers report them.
    let mut bin = Package::new("Debian:12", "libfoo1", "1.0-1");
    bin.source_name = Some("foo".into());
    packages.push(bin);
    let found = assert_same(&db, &packages);
    assert!(found > 0, "{} packages, no matches", packages.len());
}

// The two benchmarks' corpora, smaller: vuln_db's (shared source) and palisade's vuln_scan's.

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

fn db_bench(n: usize) -> (Vec<Advisory>, Vec<Package>) {
    let packages = (n / 8).max(100);
    let advisories = (0..n)
        .map(|i| Advisory::from_json(synthetic::advisory(i, packages).as_bytes()).unwrap())
        .collect();
    (advisories, synthetic::inventory(packages))
}

fn scan_bench_advisory(n: usize) -> String {
    let (eco, name, fixed) = if n.is_multiple_of(2) {
        let src = (n / 2) % 500;
        let v = (src % 7, src % 5);
        let hit = n / 2 < 500 && src.is_multiple_of(4);
        let fixed = format!("{}.{}-{}", v.0, v.1, if hit { 2 } else { 1 });
        ("Debian:12", format!("src-{src}"), fixed)
    } else {
        let p = (n / 2) % 200;
        let hit = n / 2 < 200 && p.is_multiple_of(4);
        let fixed = format!("1.{}.{}", p % 9, u8::from(hit));
        ("PyPI", format!("py-pkg-{p}"), fixed)
    };
    format!(
        r#"{{"id":"BENCH-{n}","modified":"2026-01-01T00:00:00Z","aliases":["CVE-2026-{n}"],"summary":"generated advisory {n}","severity":[{{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}],"affected":[{{"package":{{"ecosystem":"{eco}","name":"{name}"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#
    )
}

fn scan_bench(n: usize) -> (Vec<Advisory>, Vec<Package>) {
    let advisories = (0..n)
        .map(|i| Advisory::from_json(scan_bench_advisory(i).as_bytes()).unwrap())
        .collect();
    let mut inventory = Vec::new();
    for i in 0..1000 {
        let src = i / 2;
        let mut p = Package::new(
            "Debian:12",
            &format!("bin-{i}"),
            &format!("{}.{}-1+deb12u1", src % 7, src % 5),
        );
        p.source_name = Some(format!("src-{src}"));
        inventory.push(p);
    }
    for i in 0..200 {
        inventory.push(Package::new(
            "PyPI",
            &format!("py-pkg-{i}"),
            &format!("1.{}.0", i % 9),
        ));
    }
    (advisories, inventory)
}

#[test]
fn benchmark_shaped_corpora_match_as_the_reference_does() {
    let dir = tempfile::tempdir().unwrap();
    let (adv, inv) = db_bench(4000);
    assert!(assert_same(&build(&dir.path().join("a.db"), &adv), &inv) > 0);
    let (adv, inv) = scan_bench(4000);
    assert!(assert_same(&build(&dir.path().join("b.db"), &adv), &inv) > 0);
}

#[test]
#[ignore = "writes reports for comparing two builds; see the module comment"]
fn dump_reports() {
    let out = std::env::var("DIFF_OUT").expect("DIFF_OUT");
    let n: usize = std::env::var("DIFF_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let mut fixtures_adv = Vec::new();
    read_dir_advisories(&fixtures(), &mut fixtures_adv);
    if shared_pypi().is_dir() {
        read_dir_advisories(&shared_pypi(), &mut fixtures_adv);
    }
    let inv = boundary_inventory(&fixtures_adv, usize::MAX);
    let corpora = [
        ("fixtures+shared", fixtures_adv, inv),
        ("vuln_db", db_bench(n).0, db_bench(n).1),
        ("vuln_scan", scan_bench(20_000).0, scan_bench(20_000).1),
    ];
    for (name, adv, inv) in corpora {
        let db = build(&dir.path().join(format!("{name}.db")), &adv);
        let report = match_packages(&db, &inv).unwrap();
        writeln!(
            text,
            "== {name}: {} advisories, {} packages, {} matches, {} notes",
            adv.len(),
            inv.len(),
            report.matches.len(),
            report.notes.len()
        )
        .unwrap();
        text.push_str(&render(&report));
    }
    std::fs::write(out, text).unwrap();
}
