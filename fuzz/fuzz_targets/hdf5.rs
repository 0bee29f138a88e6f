//! The HDF5 reader and the Keras config walk behind it (`formats/hdf5.rs`, `formats/keras.rs`)
//! on arbitrary input, named `.h5`. Seed it with `tests/fixtures/keras/*.h5`: random bytes
//! rarely get past the superblock.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_model::{ScanOptions, scan_bytes};

fuzz_target!(|data: &[u8]| {
    let opts = ScanOptions {
        parallel: false,
        ..ScanOptions::default()
    };
    let _ = scan_bytes("model.h5", data, &opts);
});
