//! `cargo bench -p palisade-model`: scan time of the labelled corpus (one process) and of
//! sparse multi-gigabyte PyTorch checkpoints, whose scan time must not depend on the size
//! of the tensor data. Plain `std::time` measurements: each figure is the median of
//! several runs after a warm-up.

mod sparse_checkpoint;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use palisade_model::{ScanOptions, scan_path};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<F: FnMut() -> usize>(runs: usize, mut f: F) -> (Duration, usize) {
    let n = f(); // warm-up (page cache, allocator)
    let times = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    (median(times), n)
}

fn main() {
    let corpus =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/models/corpus");
    let parallel = ScanOptions::default();
    let serial = ScanOptions {
        parallel: false,
        ..ScanOptions::default()
    };
    if corpus.is_dir() {
        let files = walk_count(&corpus);
        let (t, n) = time(20, || scan_path(&corpus, &parallel).len());
        println!(
            "corpus ({files} files, {n} findings), rayon:        {:>8.2} ms",
            ms(t)
        );
        let (t, _) = time(20, || scan_path(&corpus, &serial).len());
        println!(
            "corpus ({files} files), one thread:              {:>8.2} ms",
            ms(t)
        );
    } else {
        println!("corpus: ../shared/data/models/corpus not present, skipped");
    }
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let (t, n) = time(20, || scan_path(&fixtures, &parallel).len());
    println!(
        "own fixtures ({n} findings), rayon:             {:>8.2} ms",
        ms(t)
    );

    let dir = tempfile::tempdir().expect("temp dir");
    for gib in [1u64, 10, 100] {
        let path = dir.path().join(format!("checkpoint_{gib}g.pt"));
        sparse_checkpoint::write(&path, 200, gib << 30, false).expect("write sparse checkpoint");
        let (t, n) = time(50, || scan_path(&path, &serial).len());
        assert_eq!(n, 0, "the benign checkpoint must be clean");
        println!(
            "sparse PyTorch checkpoint, {gib:>3} GiB, 200 tensors:  {:>8.3} ms",
            ms(t)
        );
        std::fs::remove_file(&path).ok();
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn walk_count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk_count(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}
