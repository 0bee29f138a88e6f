//! The vulnerability stage of `palisade scan image`: a generated Debian 12 image with 1,000
//! dpkg packages (from 500 source packages) and 200 Python dist-infos, against a database of
//! generated advisories (`VULN_SCAN_BENCH_N`, default 20,000: Debian:12 advisories for source
//! packages and PyPI advisories, several per package; one in four packages has one that
//! covers its installed version, about 300 findings, as a real image has).
//!
//! Reports, best of several runs: reading and cataloging the image, the vulnerability stage
//! alone (image packages → database open → match → findings), and `palisade scan image` end to
//! end (`execute_scan`, all rules, the report not rendered).
//!
//! `cargo bench -p palisade --bench vuln_scan`

use std::path::Path;
use std::time::{Duration, Instant};

use clap::Parser;
use palisade::cli::{Cli, Command};
use palisade_image::build::{BuiltImage, Entry, layer_tar};
use palisade_image::decode::Compression;
use palisade_vuln::findings::{ReportOptions, to_findings};
use palisade_vuln::{Database, match_packages};

const DEB_PACKAGES: usize = 1000;
const PY_PACKAGES: usize = 200;

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = f();
        best = best.min(start.elapsed());
        last = Some(out);
    }
    (best, last.expect("at least one run"))
}

fn image(dir: &Path) -> String {
    let mut status = String::new();
    for i in 0..DEB_PACKAGES {
        // Two binary packages per source package, as libssl3/openssl.
        let src = i / 2;
        status.push_str(&format!(
            "Package: bin-{i}\nStatus: install ok installed\nArchitecture: amd64\nSource: src-{src}\nVersion: {}.{}-1+deb12u1\nDescription: generated\n\n",
            src % 7,
            src % 5
        ));
    }
    let mut entries = vec![
        Entry::file(
            "etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
        ),
        Entry::file("var/lib/dpkg/status", status),
    ];
    for i in 0..PY_PACKAGES {
        entries.push(Entry::file(
            &format!(
                "usr/local/lib/python3.11/site-packages/py_pkg_{i}-1.{}.0.dist-info/METADATA",
                i % 9
            ),
            format!(
                "Metadata-Version: 2.1\nName: py-pkg-{i}\nVersion: 1.{}.0\n",
                i % 9
            ),
        ));
    }
    let img = BuiltImage::new(
        vec![(layer_tar(&entries).expect("layer"), Compression::Gzip)],
        serde_json::json!({"User": "10001"}),
    )
    .expect("image");
    img.write_oci_layout(&dir.join("layout"), Some("v1"))
        .expect("layout");
    format!("oci:{}:v1", dir.join("layout").display())
}

fn advisory(n: usize) -> String {
    // Even advisories are for Debian source packages, odd ones for Python packages; each
    // package gets several, and every fourth package's first one covers its installed version.
    let (eco, name, intro, fixed) = if n.is_multiple_of(2) {
        let src = (n / 2) % (DEB_PACKAGES / 2);
        let v = (src % 7, src % 5);
        let hit = n / 2 < DEB_PACKAGES / 2 && src.is_multiple_of(4);
        let fixed = if hit {
            format!("{}.{}-2", v.0, v.1)
        } else {
            format!("{}.{}-1", v.0, v.1)
        };
        ("Debian:12", format!("src-{src}"), "0".to_string(), fixed)
    } else {
        let p = (n / 2) % PY_PACKAGES;
        let hit = n / 2 < PY_PACKAGES && p.is_multiple_of(4);
        let fixed = if hit {
            format!("1.{}.1", p % 9)
        } else {
            format!("1.{}.0", p % 9)
        };
        ("PyPI", format!("py-pkg-{p}"), "0".to_string(), fixed)
    };
    format!(
        r#"{{"id":"BENCH-{n}","modified":"2026-01-01T00:00:00Z","aliases":["CVE-2026-{n}"],"summary":"generated advisory {n}","severity":[{{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}],"affected":[{{"package":{{"ecosystem":"{eco}","name":"{name}"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"{intro}"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#
    )
}

fn main() {
    let n: usize = std::env::var("VULN_SCAN_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let reference = image(dir.path());
    let osv = dir.path().join("osv");
    std::fs::create_dir_all(&osv).expect("osv dir");
    for i in 0..n {
        std::fs::write(osv.join(format!("BENCH-{i}.json")), advisory(i)).expect("advisory");
    }
    let db_path = dir.path().join("vuln.db");
    let t = Instant::now();
    let meta = palisade_vuln::import::import(&[osv], &db_path)
        .expect("import")
        .meta;
    println!(
        "database: {} advisories imported in {:.2} s",
        meta.advisories,
        t.elapsed().as_secs_f64()
    );

    let opts = palisade_image::ScanOptions::default();
    let (read, scan) = best_of(5, || {
        palisade_image::scan_reference(&reference, &opts).expect("scan image")
    });
    let packages = palisade_image::vulns::vuln_packages(&scan);
    println!(
        "image: {} packages cataloged ({} matchable) in {:.1} ms",
        scan.inventory.packages.len(),
        packages.len(),
        read.as_secs_f64() * 1e3
    );

    let (stage, findings) = best_of(20, || {
        let db = Database::open(&db_path).expect("open");
        let packages = palisade_image::vulns::vuln_packages(&scan);
        let matched = match_packages(&db, &packages).expect("match");
        to_findings(&packages, &matched.matches, &ReportOptions::default())
            .findings
            .len()
    });
    println!(
        "vulnerability stage (open + match + findings): {:.1} ms for {} packages, {findings} findings",
        stage.as_secs_f64() * 1e3,
        packages.len()
    );

    let db = db_path.display().to_string();
    let cli = Cli::parse_from(["palisade", "scan", "image", &reference, "--db", &db, "-q"]);
    let Command::Scan(args) = cli.command else {
        unreachable!("a scan command")
    };
    let (whole, report) = best_of(5, || palisade::execute_scan(&args).expect("scan"));
    println!(
        "palisade scan image end to end: {:.1} ms ({} findings, report not rendered)",
        whole.as_secs_f64() * 1e3,
        report.findings.len()
    );
}
