//! `cargo bench -p palisade-model`: scan time of the labelled corpus (one process), of
//! sparse multi-gigabyte PyTorch checkpoints and of legacy Keras `.h5` files with large
//! weights, whose scan time must not depend on the size of the tensor data. Plain `std::time` measurements: each figure is the median of
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

    for (mib, corrupt) in [
        (1u64, false),
        (50, false),
        (5 * 1024, false),
        (1, true),
        (50, true),
    ] {
        let path = dir.path().join(format!("keras_{mib}m.h5"));
        write_h5(&path, mib << 20, corrupt);
        let runs = if corrupt { 10 } else { 50 };
        let (t, n) = time(runs, || scan_path(&path, &serial).len());
        let how = if corrupt {
            "corrupt header, text search"
        } else {
            "HDF5 structure read         "
        };
        assert_eq!(
            n,
            usize::from(corrupt),
            "one PAL840 for the corrupt file, none otherwise"
        );
        println!(
            "Keras .h5, {mib:>5} MiB of weights, {how}: {:>8.3} ms",
            ms(t)
        );
        std::fs::remove_file(&path).ok();
    }
}

/// A legacy Keras `.h5` (the benign fixture, written by h5py) followed by `size` bytes of
/// weights, the way a big contiguous dataset sits in the file: the structure read must not
/// look at them. Up to 64 MiB the weights are written (pseudo-random floats' bytes), beyond
/// that the file is extended sparsely. `corrupt` destroys the root object header, so the scan
/// falls back to searching the whole file for config text.
fn write_h5(path: &Path, size: u64, corrupt: bool) {
    use std::io::Write;
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keras");
    let mut head = std::fs::read(fixtures.join("benign.h5")).expect("benign.h5 fixture");
    if corrupt {
        let root = u64::from_le_bytes(head[64..72].try_into().unwrap()) as usize;
        head[root] = 7;
    }
    let mut f = std::fs::File::create(path).expect("create .h5");
    f.write_all(&head).unwrap();
    if size <= 64 << 20 {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut block = vec![0u8; 1 << 20];
        for _ in 0..size >> 20 {
            for c in block.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                c.copy_from_slice(&x.to_le_bytes());
            }
            f.write_all(&block).unwrap();
        }
    } else {
        f.set_len(head.len() as u64 + size).unwrap();
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
