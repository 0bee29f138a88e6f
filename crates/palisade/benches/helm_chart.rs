//! A Helm chart scan: how long `helm template` takes for the fixture chart, and how long the
//! scan of what it rendered takes on top, best and median of 20 runs. Skipped (with a line
//! saying so) when `helm` is not installed.
//!
//! `cargo bench -p palisade --bench helm_chart`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_k8s::{ScanOptions, scan_source};

const RUNS: usize = 20;

fn main() {
    let chart = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/helm/model-server");
    let Some(helm) = palisade::helm::helm_binary() else {
        println!("helm chart: skipped (helm is not on the PATH)");
        return;
    };
    let opts = ScanOptions::default();
    let file: Arc<str> = Arc::from(chart.display().to_string());
    let mut render = Vec::with_capacity(RUNS);
    let mut scan = Vec::with_capacity(RUNS);
    let mut findings = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let templates = palisade::helm::render(&helm, &chart, &[]).expect("the fixture renders");
        render.push(start.elapsed());
        let start = Instant::now();
        findings = templates
            .iter()
            .map(|t| {
                std::hint::black_box(scan_source(&file, &t.text, &opts))
                    .findings
                    .len()
            })
            .sum();
        scan.push(start.elapsed());
    }
    let stats = |mut v: Vec<Duration>| {
        v.sort();
        (v[0], v[v.len() / 2])
    };
    let (render_best, render_median) = stats(render);
    let (scan_best, scan_median) = stats(scan);
    println!(
        "helm template:   best {:>8.2} ms  median {:>8.2} ms",
        render_best.as_secs_f64() * 1e3,
        render_median.as_secs_f64() * 1e3
    );
    println!(
        "scan of output:  best {:>8.3} ms  median {:>8.3} ms  ({findings} findings)",
        scan_best.as_secs_f64() * 1e3,
        scan_median.as_secs_f64() * 1e3
    );
}
