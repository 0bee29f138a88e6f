//! End-to-end image scan throughput on a generated image: ~1 GiB uncompressed in 20
//! layers (gzip, zstd and plain), tens of thousands of files, package metadata and an
//! executable in some layers.
//!
//! `cargo bench -p palisade-image --bench image_scan` (size: `PALISADE_BENCH_MB`, default
//! 1024). Reports the raw read speed of the same blobs (`cat > /dev/null`), the
//! decompression-only speed, and the full scan (one thread and all threads) from the OCI
//! layout and, when `docker-registry` is installed, from a local registry.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use palisade_image::build::{BuiltImage, Entry, layer_tar};
use palisade_image::decode::{Compression, LayerReader, Verify};
use palisade_image::{ScanOptions, scan_reference};

#[path = "../../palisade-sign/tests/support/docker_registry.rs"]
mod docker_registry;

const LAYERS: usize = 20;

/// Text-like pseudo-random bytes (compress about 2–3× with gzip, like real files).
fn content(seed: u64, len: usize) -> Vec<u8> {
    const WORDS: &[&[u8]] = &[
        b"tensor ",
        b"model ",
        b"weight ",
        b"import ",
        b"return ",
        b"self.",
        b"layer",
        b"0x",
        b"\n",
        b"    ",
        b"def ",
        b"class ",
        b"cuda",
        b"=",
        b"(",
        b")",
        b"[",
        b"]",
        b"gpu",
        b"float32 ",
    ];
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if x.is_multiple_of(3) {
            v.extend_from_slice(WORDS[(x >> 8) as usize % WORDS.len()]);
        } else {
            v.extend_from_slice(&(x >> 16).to_le_bytes()[..3]);
        }
    }
    v.truncate(len);
    v
}

fn generate(dir: &Path, total_mb: usize) {
    let per_layer = total_mb * 1024 * 1024 / LAYERS;
    let mut layers = Vec::new();
    for l in 0..LAYERS {
        let mut entries = Vec::new();
        let mut size = 0;
        let mut i = 0u64;
        if l == 0 {
            entries.push(Entry::file("etc/os-release", "ID=debian\nVERSION_ID=12\n"));
            let status = std::fs::read_to_string("/var/lib/dpkg/status").unwrap_or_default();
            entries.push(Entry::file("var/lib/dpkg/status", status));
        }
        entries.push(Entry::file(
            &format!("usr/lib/python3/dist-packages/pkg{l}-1.0.dist-info/METADATA"),
            format!("Name: pkg{l}\nVersion: 1.0\n"),
        ));
        while size < per_layer {
            // Mostly small files, some large ones (a few MiB), like real images.
            let len = if i.is_multiple_of(97) {
                4 << 20
            } else {
                2_000 + (i as usize * 7919) % 30_000
            };
            let len = len.min(per_layer - size).max(1);
            let mode = if i.is_multiple_of(53) { 0o755 } else { 0o644 };
            entries.push(Entry::File {
                path: format!("opt/layer{l}/d{}/f{i}.dat", i % 64),
                data: content(l as u64 * 1_000_003 + i, len),
                mode,
            });
            size += len;
            i += 1;
        }
        let c = match l % 4 {
            0 | 1 => Compression::Gzip,
            2 => Compression::Zstd,
            _ => Compression::None,
        };
        layers.push((layer_tar(&entries).expect("tar"), c));
        eprint!(".");
    }
    eprintln!();
    let img = BuiltImage::new(layers, serde_json::json!({"User": "1000"})).expect("image");
    img.write_oci_layout(dir, Some("bench")).expect("layout");
}

fn blobs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("blobs/sha256"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

fn mib(n: u64) -> f64 {
    n as f64 / (1024.0 * 1024.0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let total_mb: usize = std::env::var("PALISADE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    // The workspace's target directory: `cargo bench` runs benches from the crate's own
    // directory, where a relative `target` would leave a gigabyte beside the sources.
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    let dir = target.join(format!("palisade-image-bench-{total_mb}mb"));
    if !dir.join("index.json").exists() {
        eprintln!(
            "generating a {total_mb} MiB, {LAYERS}-layer image in {}",
            dir.display()
        );
        let t = Instant::now();
        generate(&dir, total_mb);
        eprintln!("generated in {:.1}s", t.elapsed().as_secs_f64());
    }
    // `PALISADE_BENCH_ONLY=decompress|scan` runs one stage once (for callgrind, whose
    // instruction counts do not depend on what else the machine is doing).
    let only = std::env::var("PALISADE_BENCH_ONLY").ok();
    if let Some(stage) = only.as_deref() {
        let reference = format!("oci:{}:bench", dir.display());
        match stage {
            "decompress" => {
                let image = palisade_image::open(
                    &palisade_image::ImageRef::parse(&reference).unwrap(),
                    &Default::default(),
                )
                .unwrap();
                let mut total = 0;
                for l in &image.layers {
                    let mut r = LayerReader::new(
                        image.open_layer(l).unwrap(),
                        &Verify::Blob {
                            digest: l.descriptor.digest.clone(),
                            size: Some(l.descriptor.size),
                        },
                    )
                    .unwrap();
                    std::io::copy(&mut r, &mut std::io::sink()).unwrap();
                    total += r.uncompressed;
                }
                println!("decompressed {total} bytes");
            }
            _ => {
                let opts = ScanOptions {
                    parallel: false,
                    ..ScanOptions::default()
                };
                let s = scan_reference(&reference, &opts).unwrap();
                println!(
                    "scanned {} bytes, {} packages",
                    s.bytes_read(),
                    s.inventory.packages.len()
                );
            }
        }
        return;
    }
    let stored: u64 = blobs(&dir)
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();

    // Raw read speed of the same files (cat > /dev/null), page cache warm.
    for _ in 0..2 {
        let t = Instant::now();
        let status = Command::new("cat")
            .args(blobs(&dir))
            .stdout(Stdio::null())
            .status();
        let secs = t.elapsed().as_secs_f64();
        if status.is_ok_and(|s| s.success()) {
            println!(
                "cat > /dev/null      {:>8.1} MiB stored   {secs:>6.2}s  {:>8.1} MiB/s",
                mib(stored),
                mib(stored) / secs
            );
        }
    }
    let reference = format!("oci:{}:bench", dir.display());
    let image = palisade_image::open(
        &palisade_image::ImageRef::parse(&reference).unwrap(),
        &Default::default(),
    )
    .unwrap();

    // Decompression only (no tar, no view), one thread, per compression; best of two runs
    // (the machine is shared, so the faster run is the one less disturbed).
    let mut by_codec: Vec<(Compression, u64, f64)> = Vec::new();
    let mut best_total = f64::MAX;
    let mut uncompressed = 0u64;
    for _ in 0..2 {
        let mut runs: Vec<(Compression, u64, f64)> = Vec::new();
        let t = Instant::now();
        uncompressed = 0;
        for l in &image.layers {
            let tl = Instant::now();
            let mut r = LayerReader::new(
                image.open_layer(l).unwrap(),
                &Verify::Blob {
                    digest: l.descriptor.digest.clone(),
                    size: Some(l.descriptor.size),
                },
            )
            .unwrap();
            let mut buf = vec![0u8; 1 << 20];
            while let Ok(n) = r.read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
            let c = r.compression;
            uncompressed += r.uncompressed;
            let secs = tl.elapsed().as_secs_f64();
            match runs.iter_mut().find(|(k, _, _)| *k == c) {
                Some(e) => {
                    e.1 += r.uncompressed;
                    e.2 += secs;
                }
                None => runs.push((c, r.uncompressed, secs)),
            }
        }
        let secs = t.elapsed().as_secs_f64();
        if secs < best_total {
            best_total = secs;
            by_codec = runs;
        }
    }
    println!(
        "decompress+verify 1T {:>8.1} MiB tar      {best_total:>6.2}s  {:>8.1} MiB/s",
        mib(uncompressed),
        mib(uncompressed) / best_total
    );
    for (c, bytes, secs) in &by_codec {
        println!(
            "  {:<19} {:>8.1} MiB tar      {secs:>6.2}s  {:>8.1} MiB/s",
            format!("{c:?}"),
            mib(*bytes),
            mib(*bytes) / secs
        );
    }

    for (label, parallel) in [
        ("scan oci 1 thread   ", false),
        ("scan oci all threads", true),
    ] {
        let opts = ScanOptions {
            parallel,
            ..ScanOptions::default()
        };
        let t = Instant::now();
        let s = scan_reference(&reference, &opts).unwrap();
        let secs = t.elapsed().as_secs_f64();
        let bytes = s.bytes_read();
        println!(
            "{label} {:>8.1} MiB tar      {secs:>6.2}s  {:>8.1} MiB/s  ({} files, {} packages, {} errors)",
            mib(bytes),
            mib(bytes) / secs,
            s.view.len(),
            s.inventory.packages.len(),
            s.errors.len()
        );
    }
    println!("threads: {}", rayon::current_num_threads());

    registry_scan(&dir, &reference);
}

/// Pushes the layout to a local docker-registry and scans it from there.
fn registry_scan(dir: &Path, reference: &str) {
    let Some(reg) = docker_registry::Registry::start() else {
        println!("scan registry: skipped (docker-registry not installed)");
        return;
    };
    let port = reg.port;
    let r = palisade_image::parse_registry_ref(&format!("localhost:{port}/bench/img:1")).unwrap();
    let client = palisade_image::source::registry::Client::new(&r, &Default::default());
    let image = palisade_image::open(
        &palisade_image::ImageRef::parse(reference).unwrap(),
        &Default::default(),
    )
    .unwrap();
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let mdigest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let read =
        |d: &str| std::fs::read(dir.join("blobs/sha256").join(&d["sha256:".len()..])).unwrap();
    client
        .push_blob(&read(image.config_digest.as_deref().unwrap()))
        .unwrap();
    for l in &image.layers {
        client.push_blob(&read(&l.descriptor.digest)).unwrap();
    }
    client
        .push_manifest("1", &read(&mdigest), palisade_image::spec::OCI_MANIFEST)
        .unwrap();
    let t = Instant::now();
    let s = scan_reference(
        &format!("localhost:{port}/bench/img:1"),
        &ScanOptions::default(),
    )
    .unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "scan registry all thr {:>8.1} MiB tar      {secs:>6.2}s  {:>8.1} MiB/s  ({} packages, {} errors)",
        mib(s.bytes_read()),
        mib(s.bytes_read()) / secs,
        s.inventory.packages.len(),
        s.errors.len()
    );
}
