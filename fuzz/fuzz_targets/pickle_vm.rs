//! The pickle VM must survive any byte stream: no panic, bounded time and memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_model::pickle::vm::{VmLimits, emulate};

fuzz_target!(|data: &[u8]| {
    let limits = VmLimits {
        max_ops: 1_000_000,
        max_values: 100_000,
        ..VmLimits::default()
    };
    let report = emulate(data, 0, &limits);
    // Offsets never point past the input.
    for imp in &report.imports {
        assert!(imp.offset <= data.len() as u64);
    }
});
