//! Rust binary throughput: 40 executables of 4 MiB of machine-code-like bytes, each with a
//! `cargo auditable` dependency list of 150 crates in `.dep-v0`, and the same executables
//! without one (what every other ELF file costs).
//!
//! `cargo bench -p palisade-image --bench rust`. Reports MiB/s of executable bytes for the
//! Go build-info search alone (what executables cost before Rust lists were read), the
//! Rust search alone, both in one pass as the layer reader runs them, and the full scan
//! of an image holding the binaries (layers read, view merged, everything cataloged).

mod support;

use std::time::Instant;

use palisade_image::build::Entry;
use palisade_image::build::exe::{Section, elf64, filler, zlib};
use palisade_image::catalog::PackageType;
use palisade_image::catalog::rust::{RustLimits, Scanner, Tap, scan_reader};

const BINARIES: usize = 40;
const TEXT: usize = 4 << 20;
const CRATES: usize = 150;

fn audit_json(i: usize) -> String {
    let pkgs: Vec<String> = (0..CRATES)
        .map(|c| {
            format!(
                r#"{{"name":"crate-{c}","version":"1.{i}.{c}","source":"crates.io","dependencies":[{}]}}"#,
                (c + 1) % CRATES
            )
        })
        .collect();
    format!(r#"{{"packages":[{}],"format":1}}"#, pkgs.join(","))
}

fn binary(i: usize, audited: bool) -> Vec<u8> {
    let mut sections = vec![Section::new(".text", filler(i as u64 + 1, TEXT))];
    if audited {
        sections.push(Section::new(".dep-v0", zlib(audit_json(i).as_bytes())));
    }
    sections.push(Section::new(".rodata", filler(i as u64 + 1000, 64 << 10)));
    elf64(&sections)
}

fn mib(n: u64) -> f64 {
    n as f64 / (1024.0 * 1024.0)
}

/// Best of three runs of `f` over every binary; returns seconds.
fn best(bins: &[Vec<u8>], f: impl Fn(&[u8]) -> usize, expect: usize) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let found: usize = bins.iter().map(|b| f(b)).sum();
        best = best.min(t.elapsed().as_secs_f64());
        assert_eq!(found, expect);
    }
    best
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let audited: Vec<Vec<u8>> = (0..BINARIES).map(|i| binary(i, true)).collect();
    let plain: Vec<Vec<u8>> = (0..BINARIES).map(|i| binary(i, false)).collect();
    let bytes: u64 = audited.iter().map(|b| b.len() as u64).sum();
    let limits = RustLimits::default();
    let limit = 512 << 20;
    let go = |b: &[u8]| {
        palisade_image::catalog::golang::scan_reader(&mut &b[..], limit)
            .unwrap()
            .map_or(0, |_| 1)
    };
    let rust = |b: &[u8]| scan_reader(&mut &b[..], limit, &limits).map_or(0, |r| r.crates.len());
    let both = |b: &[u8]| {
        let mut s = Scanner::new(&limits);
        let mut tap = Tap {
            inner: b,
            scanner: &mut s,
            eof: false,
        };
        let go = palisade_image::catalog::golang::scan_reader(&mut tap, limit).unwrap();
        assert!(go.is_none());
        let eof = tap.eof;
        s.finish(eof).map_or(0, |r| r.crates.len())
    };
    let row = |label: &str, secs: f64| {
        println!(
            "{label:<34} {BINARIES:>3} binaries {:>7.1} MiB {secs:>7.3}s {:>8.1} MiB/s",
            mib(bytes),
            mib(bytes) / secs
        );
    };
    row("go build-info search, no list", best(&plain, go, 0));
    row("rust search alone, no list", best(&plain, rust, 0));
    row(
        "rust search alone, with list",
        best(&audited, rust, BINARIES * CRATES),
    );
    row("go + rust in one pass, no list", best(&plain, both, 0));
    row(
        "go + rust in one pass, with list",
        best(&audited, both, BINARIES * CRATES),
    );

    // The binaries in an image: two layers, gzip.
    let entries: Vec<Entry> = audited
        .into_iter()
        .enumerate()
        .map(|(i, data)| Entry::File {
            path: format!("usr/local/bin/tool{i}"),
            data,
            mode: 0o755,
        })
        .collect();
    let layout = support::two_gzip_layers(&entries);
    for (label, parallel) in [
        ("scan oci (gzip) 1 thread", false),
        ("scan oci (gzip) all threads", true),
    ] {
        let (best, crates) = support::best_scan(&layout.reference, parallel, PackageType::Cargo);
        assert_eq!(crates, BINARIES * CRATES);
        row(label, best);
        println!("{:>34} {crates} cargo packages", "");
    }
    println!("threads: {}", rayon::current_num_threads());
}
