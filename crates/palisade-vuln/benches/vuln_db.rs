//! Database benchmark with a corpus generator: import time and size for the shared PyPA
//! advisories and for N synthetic advisories (`VULN_BENCH_N`, default 200,000) spread over
//! PyPI, npm, Go and Debian:12; open time; per-package lookup latency; matching throughput for a
//! 2,000-package inventory; open + match end to end; CVSS scoring (v3.1 and v4.0 vectors);
//! Maven version comparison; reading lock files. `VULN_BENCH_DIR=DIR` keeps the generated database in DIR (and
//! reuses it), `VULN_BENCH_RUNS` sets the open + match repetitions (default 20).
//! Run: `cargo bench -p palisade-vuln`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use palisade_vuln::{Database, Package, match_packages};

mod support {
    pub mod synthetic;
}

use support::synthetic::{advisory, inventory};

/// Parse-and-score time per vector, over the v4.0 oracle vectors and v3.1 vectors.
fn bench_cvss() {
    let tsv = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/cvss4_vectors.tsv"),
    )
    .expect("oracle vectors");
    let v4: Vec<&str> = tsv.lines().filter_map(|l| l.split('\t').next()).collect();
    let v3: Vec<String> = (0..v4.len())
        .map(|i| {
            let pick = |vals: &[&str], k: usize| vals[(i / k) % vals.len()].to_string();
            format!(
                "CVSS:3.1/AV:{}/AC:{}/PR:{}/UI:{}/S:{}/C:{}/I:{}/A:{}",
                pick(&["N", "A", "L", "P"], 1),
                pick(&["L", "H"], 4),
                pick(&["N", "L", "H"], 8),
                pick(&["N", "R"], 24),
                pick(&["U", "C"], 48),
                pick(&["H", "L", "N"], 96),
                pick(&["H", "L", "N"], 3),
                pick(&["H", "L", "N"], 7)
            )
        })
        .collect();
    for (name, vectors) in [
        (
            "v4.0",
            v4.iter().map(|s| (*s).to_string()).collect::<Vec<_>>(),
        ),
        ("v3.1", v3),
    ] {
        let rounds = 20;
        let t = Instant::now();
        let mut sum = 0.0;
        for _ in 0..rounds {
            for v in &vectors {
                sum += palisade_vuln::cvss::parse(v)
                    .ok()
                    .and_then(|c| c.score())
                    .unwrap_or(0.0);
            }
        }
        let per = t.elapsed().as_secs_f64() / (rounds * vectors.len()) as f64;
        println!(
            "CVSS {name}: {:.2} µs per vector ({} vectors x {rounds}, checksum {sum:.1})",
            per * 1e6,
            vectors.len()
        );
    }
}

/// Maven version comparisons per second over the committed oracle pairs.
fn bench_maven() {
    let tsv = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/maven_pairs.tsv"),
    )
    .expect("maven pairs");
    let pairs: Vec<(&str, &str)> = tsv
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((f.next()?, f.nth(1)?))
        })
        .collect();
    let rounds = 20;
    let scheme = palisade_vuln::version::Scheme::Maven;
    let t = Instant::now();
    let mut less = 0usize;
    for _ in 0..rounds {
        for (a, b) in &pairs {
            less += usize::from(scheme.compare(a, b).expect("maven") == std::cmp::Ordering::Less);
        }
    }
    let per = t.elapsed().as_secs_f64() / (rounds * pairs.len()) as f64;
    println!(
        "Maven: {:.2} µs per comparison, both versions parsed ({} pairs x {rounds}, {less} less)",
        per * 1e6,
        pairs.len()
    );
}

/// Lock-file reading: generated lock files of 5,000 packages in each format.
fn bench_lockfiles() {
    let n = 5000;
    let mut req = String::new();
    let mut cargo = String::from("version = 4\n\n");
    let mut npm = String::from("{\"lockfileVersion\": 3, \"packages\": {\"\": {\"name\": \"app\"}");
    let mut gomod = String::from("module example.com/app\n\ngo 1.22\n\nrequire (\n");
    let mut yarn = String::from("# yarn lockfile v1\n\n");
    let mut gradle = String::from("# This is a Gradle generated file for dependency locking.\n");
    let mut pnpm = String::from("lockfileVersion: '9.0'\n\npackages:\n\n");
    for i in 0..n {
        req.push_str(&format!(
            "package-{i}=={}.{}.{}  # via app\n",
            i % 7,
            i % 11,
            i % 3
        ));
        cargo.push_str(&format!(
            "[[package]]\nname = \"crate-{i}\"\nversion = \"{}.{}.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{:064x}\"\n\n",
            i % 5,
            i % 13,
            i
        ));
        npm.push_str(&format!(
            ",\n\"node_modules/pkg-{i}\": {{\"version\": \"{}.{}.1\", \"resolved\": \"https://registry.invalid/pkg-{i}.tgz\"}}",
            i % 4,
            i % 9
        ));
        gomod.push_str(&format!(
            "\texample.com/mod{i} v1.{}.0 // indirect\n",
            i % 17
        ));
        yarn.push_str(&format!(
            "\"pkg-{i}@^{0}.0.0\", pkg-{i}@^{0}.1.0:\n  version \"{0}.{1}.2\"\n  resolved \"https://registry.invalid/pkg-{i}.tgz\"\n  integrity sha512-{2:064x}\n\n",
            i % 6,
            i % 10,
            i
        ));
        gradle.push_str(&format!(
            "org.example{}:artifact-{i}:{}.{}.0=compileClasspath,runtimeClasspath\n",
            i % 50,
            i % 6,
            i % 10
        ));
        pnpm.push_str(&format!(
            "  pkg-{i}@{}.{}.3:\n    resolution: {{integrity: sha512-{:064x}}}\n\n",
            i % 6,
            i % 10,
            i
        ));
    }
    npm.push_str("}}");
    gomod.push_str(")\n");
    for (name, text) in [
        ("requirements.txt", req),
        ("Cargo.lock", cargo),
        ("package-lock.json", npm),
        ("go.mod", gomod),
        ("yarn.lock", yarn),
        ("pnpm-lock.yaml", pnpm),
        ("gradle.lockfile", gradle),
    ] {
        let path = PathBuf::from(name);
        let rounds = 5;
        let t = Instant::now();
        let mut count = 0;
        for _ in 0..rounds {
            count = palisade_vuln::lockfile::parse(&path, &text)
                .expect("lock file")
                .len();
        }
        println!(
            "lock file {name}: {count} packages ({} KiB) read in {:.2} ms",
            text.len() / 1024,
            t.elapsed().as_secs_f64() * 1e3 / f64::from(rounds)
        );
    }
}

fn main() {
    bench_cvss();
    bench_maven();
    bench_lockfiles();
    let n: usize = std::env::var("VULN_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv/pypi");
    if shared.is_dir() {
        let db = dir.path().join("pypi.db");
        let t = Instant::now();
        let r = palisade_vuln::import::import(&[shared], &db).expect("import");
        println!(
            "shared PyPA advisories: {} imported in {:.0} ms, {} KiB",
            r.meta.advisories,
            t.elapsed().as_secs_f64() * 1e3,
            std::fs::metadata(&db).map_or(0, |m| m.len()) / 1024
        );
    } else {
        eprintln!("skipping shared advisories: {} not found", shared.display());
    }

    let packages = (n / 8).max(100);
    // VULN_BENCH_DIR keeps the generated database between runs (for profiling the match).
    let work =
        std::env::var_os("VULN_BENCH_DIR").map_or_else(|| dir.path().to_path_buf(), PathBuf::from);
    let zip_path = work.join("all.zip");
    let db_path = work.join("big.db");
    if !db_path.is_file() {
        let t = Instant::now();
        {
            let f = std::fs::File::create(&zip_path).expect("zip");
            let mut w = zip::ZipWriter::new(std::io::BufWriter::new(f));
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(1));
            for i in 0..n {
                w.start_file(format!("SYN-{i}.json"), opts).expect("entry");
                w.write_all(advisory(i, packages).as_bytes())
                    .expect("write");
            }
            w.finish().expect("finish");
        }
        println!(
            "generated {n} advisories ({} MiB zip) in {:.1} s",
            std::fs::metadata(&zip_path).map_or(0, |m| m.len()) >> 20,
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let r = palisade_vuln::import::import(&[zip_path], &db_path).expect("import");
        println!(
            "import: {} advisories, {} keys in {:.2} s; database {} MiB",
            r.meta.advisories,
            r.meta.keys,
            t.elapsed().as_secs_f64(),
            std::fs::metadata(&db_path).map_or(0, |m| m.len()) >> 20
        );
    }

    let inventory: Vec<Package> = inventory(packages);

    let runs: u32 = std::env::var("VULN_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let mut open_total = 0.0;
    let mut match_total = 0.0;
    let mut found = 0;
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let t = Instant::now();
        let db = Database::open(&db_path).expect("open");
        let opened = t.elapsed().as_secs_f64();
        let report = match_packages(&db, &inventory).expect("match");
        let all = t.elapsed().as_secs_f64();
        open_total += opened;
        match_total += all - opened;
        best = best.min(all);
        found = report.matches.len();
    }
    // The best run is the least disturbed by other work on the machine.
    println!(
        "open: {:.2} ms; match 2,000 packages: {:.1} ms ({:.0} packages/s, {found} vulnerabilities); open + match: {:.1} ms mean, {:.1} ms best of {runs}",
        open_total / f64::from(runs) * 1e3,
        match_total / f64::from(runs) * 1e3,
        2000.0 / (match_total / f64::from(runs)),
        (open_total + match_total) / f64::from(runs) * 1e3,
        best * 1e3
    );
    let db = Database::open(&db_path).expect("open");
    let t = Instant::now();
    let mut hits = 0;
    for p in inventory.iter().take(1000) {
        hits += db.lookup(&p.ecosystem, &p.name).expect("lookup").len();
    }
    println!(
        "lookup (cold cache, one package at a time): {:.1} µs per package ({hits} advisories read)",
        t.elapsed().as_secs_f64() * 1e6 / 1000.0
    );
}
