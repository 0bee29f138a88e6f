//! Every reader behind `scan_bytes` (zip, tar, 7z, gzip/bzip2/xz/lz4/zlib, npy, HDF5 structure and
//! text search, safetensors, GGUF, ONNX and SavedModel protobufs, pickles) on arbitrary input. The
//! first byte picks a file name, because formats without a magic number are routed by name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_model::{ScanOptions, VmLimits, scan_bytes};

const NAMES: &[&str] = &[
    "model.pkl", "model.pt", "model.onnx", "saved_model.pb", "model.safetensors", "model.gguf",
    "model.h5", "model.joblib", "config.json", "model.npy",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let name = NAMES[pick as usize % NAMES.len()];
    let opts = ScanOptions {
        max_member_size: 16 << 20,
        max_total_decompressed: 64 << 20,
        max_members: 1_000,
        parallel: false,
        vm: VmLimits { max_ops: 1_000_000, max_values: 100_000, ..VmLimits::default() },
        ..ScanOptions::default()
    };
    let _ = scan_bytes(name, rest, &opts);
});
