//! `palisade harden` on a generated corpus: the scan with fixes, strict-patch resolution and
//! in-place YAML editing, on one core and on all cores.
//!
//! `cargo bench -p palisade --bench harden_throughput [-- DOCS]` (default 10,000 documents).

// The allocator the `palisade` binary uses, so the figures are the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade::corpus;
use palisade_k8s::ScanOptions;
use palisade_k8s::fix::HardenOptions;
use palisade_k8s::harden::harden_source;
use rayon::prelude::*;

const DOCS_PER_FILE: usize = 50;

fn best_of(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut out = 0;
    for _ in 0..runs {
        let start = Instant::now();
        out = f();
        best = best.min(start.elapsed());
    }
    (best, out)
}

fn main() {
    let docs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let files: Vec<String> = (0..docs.div_ceil(DOCS_PER_FILE))
        .map(|f| {
            corpus::file(
                f * DOCS_PER_FILE,
                DOCS_PER_FILE.min(docs - f * DOCS_PER_FILE),
            )
        })
        .collect();
    let bytes: usize = files.iter().map(String::len).sum();
    let name: Arc<str> = Arc::from("corpus.yaml");
    let opts = ScanOptions::default().with_fixes(HardenOptions::default());
    println!(
        "corpus: {docs} resources in {} files, {:.1} MiB",
        files.len(),
        bytes as f64 / (1024.0 * 1024.0)
    );
    let (single, fixed) = best_of(3, || {
        files
            .iter()
            .map(|f| black_box(harden_source(&name, f, &opts)).fixed.len())
            .sum()
    });
    let (parallel, _) = best_of(3, || {
        files
            .par_iter()
            .map(|f| black_box(harden_source(&name, f, &opts)).fixed.len())
            .sum()
    });
    let rate = |d: Duration| docs as f64 / d.as_secs_f64();
    println!(
        "harden, 1 core:   {:>8.0} resources/s ({fixed} findings fixed, {:.2} s)",
        rate(single),
        single.as_secs_f64()
    );
    println!(
        "harden, {} cores: {:>8.0} resources/s ({:.2} s)",
        rayon::current_num_threads(),
        rate(parallel),
        parallel.as_secs_f64()
    );
}
