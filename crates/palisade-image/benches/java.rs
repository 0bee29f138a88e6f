//! Java archive throughput: an OCI image with 200 jars (40 of them Spring Boot-style fat
//! jars with 4 stored nested jars each, so 360 archives in all), every archive with a
//! `pom.properties`, a manifest and ~150 deflated class-like entries.
//!
//! `cargo bench -p palisade-image --bench java`. Reports jars/s and MiB/s of jar bytes for
//! the cataloger alone (`catalog::java::read` over the archives in memory) and for the full
//! scan of the image (layers read, view merged, everything cataloged) on one thread and all.

mod support;

use std::io::{Cursor, Write};
use std::time::Instant;

use palisade_image::build::Entry;
use palisade_image::catalog::PackageType;
use palisade_image::catalog::java::{JavaLimits, read};
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

const JARS: usize = 200;
const FAT_EVERY: usize = 5;
const NESTED: usize = 4;

/// Class-file-like bytes: a header and pseudo-random text that deflates about 2×.
fn class_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v = b"\xca\xfe\xba\xbe\x00\x00\x00\x34".to_vec();
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if x.is_multiple_of(3) {
            v.extend_from_slice(b"Ljava/lang/String;");
        } else {
            v.extend_from_slice(&(x >> 16).to_le_bytes()[..3]);
        }
    }
    v.truncate(len);
    v
}

fn library_jar(i: usize, classes: usize) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    w.start_file("META-INF/MANIFEST.MF", deflated).unwrap();
    w.write_all(b"Manifest-Version: 1.0\nCreated-By: bench\n")
        .unwrap();
    w.start_file(
        format!("META-INF/maven/org.bench.g{i}/lib{i}/pom.properties"),
        deflated,
    )
    .unwrap();
    write!(
        w,
        "groupId=org.bench.g{i}\nartifactId=lib{i}\nversion=1.{i}.0\n"
    )
    .unwrap();
    for c in 0..classes {
        w.start_file(format!("org/bench/g{i}/C{c}.class"), deflated)
            .unwrap();
        w.write_all(&class_bytes(
            (i * 1000 + c) as u64,
            1_000 + (c * 37) % 5_000,
        ))
        .unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn fat_jar(i: usize) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    w.start_file(
        format!("BOOT-INF/classes/META-INF/maven/org.bench/app{i}/pom.properties"),
        deflated,
    )
    .unwrap();
    write!(w, "groupId=org.bench\nartifactId=app{i}\nversion=2.0.{i}\n").unwrap();
    for n in 0..NESTED {
        let j = 10_000 + i * NESTED + n;
        w.start_file(format!("BOOT-INF/lib/lib{j}-1.{j}.0.jar"), stored)
            .unwrap();
        w.write_all(&library_jar(j, 150)).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn mib(n: u64) -> f64 {
    n as f64 / (1024.0 * 1024.0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let t = Instant::now();
    let jars: Vec<(String, Vec<u8>)> = (0..JARS)
        .map(|i| {
            if i % FAT_EVERY == 0 {
                (format!("app/fat{i}.jar"), fat_jar(i))
            } else {
                (format!("opt/lib/lib{i}-1.{i}.0.jar"), library_jar(i, 150))
            }
        })
        .collect();
    let archives = JARS + JARS / FAT_EVERY * NESTED;
    let bytes: u64 = jars.iter().map(|(_, d)| d.len() as u64).sum();
    eprintln!(
        "generated {JARS} jars ({archives} archives with nested ones), {:.1} MiB, in {:.1}s",
        mib(bytes),
        t.elapsed().as_secs_f64()
    );

    // The cataloger alone, best of three (the machine is shared).
    let limits = JavaLimits::default();
    let mut best = f64::MAX;
    let mut found = 0;
    for _ in 0..3 {
        let t = Instant::now();
        found = jars
            .iter()
            .map(|(p, d)| read(p, d, &limits).map_or(0, |a| a.packages.len()))
            .sum::<usize>();
        best = best.min(t.elapsed().as_secs_f64());
    }
    assert_eq!(found, archives, "one package per archive");
    println!(
        "java::read 1 thread   {archives:>5} archives {:>7.1} MiB {best:>6.3}s {:>8.0} jars/s {:>8.1} MiB/s",
        mib(bytes),
        archives as f64 / best,
        mib(bytes) / best
    );

    // The same jars in an image: two layers, gzip.
    let entries: Vec<Entry> = jars
        .into_iter()
        .map(|(p, d)| Entry::File {
            path: p,
            data: d,
            mode: 0o644,
        })
        .collect();
    let layout = support::two_gzip_layers(&entries);
    for (label, parallel) in [
        ("scan oci 1 thread   ", false),
        ("scan oci all threads", true),
    ] {
        let (best, packages) = support::best_scan(&layout.reference, parallel, PackageType::Jar);
        assert_eq!(packages, archives);
        println!(
            "{label}  {JARS:>5} jars     {:>7.1} MiB {best:>6.3}s {:>8.0} jars/s {:>8.1} MiB/s  ({packages} Maven packages)",
            mib(bytes),
            JARS as f64 / best,
            mib(bytes) / best
        );
    }
    println!("threads: {}", rayon::current_num_threads());
}
