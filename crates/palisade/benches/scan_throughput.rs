//! Throughput of `palisade scan` on manifests.
//!
//! Reports, for a generated corpus of realistic Deployments and ML custom resources:
//! YAML parsing alone, the full scan on one core (resources/s and rule cost on top of
//! parsing), the full scan on all cores, and the whole-directory time and peak memory of
//! the CLI pipeline on `../shared/data/pss/fixtures` when that directory is present.
//!
//! `cargo bench -p palisade --bench scan_throughput [-- DOCS]` (default 20,000 documents).

// The allocator the `palisade` binary uses, so the figures are the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use palisade::cli::{Cli, Command};
use palisade::corpus;
use palisade_k8s::{ScanOptions, scan_source};
use rayon::prelude::*;

const DOCS_PER_FILE: usize = 50;

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

fn corpus_files(docs: usize) -> Vec<String> {
    (0..docs.div_ceil(DOCS_PER_FILE))
        .map(|f| {
            corpus::file(
                f * DOCS_PER_FILE,
                DOCS_PER_FILE.min(docs - f * DOCS_PER_FILE),
            )
        })
        .collect()
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() {
    // `--write-corpus DIR` writes the corpus as files and exits, so `palisade scan` output on
    // it can be compared before and after a change (findings must not move).
    let args: Vec<String> = std::env::args().collect();
    if let Some(dir) = args
        .iter()
        .position(|a| a == "--write-corpus")
        .and_then(|i| args.get(i + 1))
    {
        let docs: usize = args
            .iter()
            .skip(1)
            .find_map(|a| a.parse().ok())
            .unwrap_or(2_000);
        std::fs::create_dir_all(dir).expect("corpus directory");
        for f in 0..docs.div_ceil(DOCS_PER_FILE) {
            let text = corpus::file(
                f * DOCS_PER_FILE,
                DOCS_PER_FILE.min(docs - f * DOCS_PER_FILE),
            );
            std::fs::write(format!("{dir}/corpus-{f:04}.yaml"), text).expect("corpus file");
        }
        return;
    }
    let docs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    // `--once parse|reference|scan|gen` runs one single-threaded pass and nothing else, for
    // instruction counts under callgrind (wall-clock figures mean little on a shared machine).
    if let Some(what) = args
        .iter()
        .position(|a| a == "--once")
        .and_then(|i| args.get(i + 1))
    {
        let name: Arc<str> = Arc::from("corpus.yaml");
        let opts = ScanOptions::default();
        let files = corpus_files(docs);
        let n: usize = match what.as_str() {
            "parse" => files
                .iter()
                .map(|f| black_box(palisade_yaml::parse_stream(f)).len())
                .sum(),
            "reference" => files
                .iter()
                .map(|f| black_box(palisade_yaml::parse_stream_reference(f)).len())
                .sum(),
            "gen" => files.len(),
            _ => files
                .iter()
                .map(|f| black_box(scan_source(&name, f, &opts)).findings.len())
                .sum(),
        };
        println!("{what}: {n}");
        return;
    }
    let fixtures =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/pss/fixtures");

    // Whole-directory run first, so peak memory reflects the CLI pipeline alone.
    if fixtures.is_dir() {
        let cli = Cli::try_parse_from([
            "palisade",
            "scan",
            fixtures.to_str().unwrap_or("."),
            "--format",
            "json",
        ])
        .expect("valid arguments");
        let Command::Scan(args) = cli.command else {
            unreachable!()
        };
        let (elapsed, report) = best_of(5, || palisade::execute_scan(&args).expect("scan runs"));
        println!(
            "pss fixtures dir: {} files, {} resources, {} findings in {:.1} ms (best of 5, all cores); peak RSS {} KiB",
            report.files_scanned,
            report.resources_scanned,
            report.findings.len(),
            elapsed.as_secs_f64() * 1e3,
            peak_rss_kib().unwrap_or(0)
        );
    } else {
        println!("pss fixtures dir: skipped (../shared/data/pss/fixtures not found)");
    }

    let files = corpus_files(docs);
    let bytes: usize = files.iter().map(String::len).sum();
    let pod_specs: usize = (0..docs).map(corpus::pod_specs_in).sum();
    let name: Arc<str> = Arc::from("corpus.yaml");
    let opts = ScanOptions::default();
    println!(
        "corpus: {docs} resources ({pod_specs} pod specs) in {} files, {:.1} MiB",
        files.len(),
        bytes as f64 / (1024.0 * 1024.0)
    );

    let (parse, _) = best_of(3, || {
        files
            .iter()
            .map(|f| black_box(palisade_yaml::parse_stream(f)).len())
            .sum::<usize>()
    });
    // The saphyr path every document falls back to: what parsing costs without the fast
    // parser, to put the rules' share in proportion.
    let (reference, _) = best_of(3, || {
        files
            .iter()
            .map(|f| black_box(palisade_yaml::parse_stream_reference(f)).len())
            .sum::<usize>()
    });
    let (single, found) = best_of(3, || {
        files
            .iter()
            .map(|f| black_box(scan_source(&name, f, &opts)).findings.len())
            .sum::<usize>()
    });
    let (parallel, _) = best_of(3, || {
        files
            .par_iter()
            .map(|f| black_box(scan_source(&name, f, &opts)).findings.len())
            .sum::<usize>()
    });
    let rate = |d: Duration| docs as f64 / d.as_secs_f64();
    let mib = |d: Duration| bytes as f64 / (1024.0 * 1024.0) / d.as_secs_f64();
    println!(
        "parse only, 1 core:  {:>9.0} resources/s  {:>6.1} MiB/s",
        rate(parse),
        mib(parse)
    );
    println!(
        "saphyr parse, 1 core:{:>9.0} resources/s  {:>6.1} MiB/s",
        rate(reference),
        mib(reference)
    );
    println!(
        "full scan, 1 core:   {:>9.0} resources/s  {:>6.1} MiB/s  ({found} findings)",
        rate(single),
        mib(single)
    );
    println!(
        "full scan, {} cores: {:>9.0} resources/s  {:>6.1} MiB/s",
        rayon::current_num_threads(),
        rate(parallel),
        mib(parallel)
    );
    println!(
        "rules + model decoding on top of parsing: {:.0}%",
        (single.as_secs_f64() / parse.as_secs_f64() - 1.0) * 100.0
    );
    println!(
        "rules + model decoding on top of saphyr parsing: {:.0}%",
        ((single.as_secs_f64() - parse.as_secs_f64()) / reference.as_secs_f64()) * 100.0
    );
}
