declare_rule! {
    /// ## What it does
    /// Validates a safetensors header: its size (at most 100 MB), that it is a JSON object,
    /// that every tensor has a known dtype, a shape and `data_offsets` that match
    /// `shape × dtype size`, lie inside the file and do not overlap, and that `__metadata__`
    /// maps strings to strings.
    ///
    /// ## Why is this bad?
    /// Loaders differ in how they treat invalid headers; overlapping or out-of-range offsets
    /// have been used for memory-safety bugs and for tensors that read each other's data.
    ///
    /// ## Example
    /// `{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 1000000]}}` in a 100-byte file.
    ///
    /// ## Fix
    /// Re-save the tensors with the `safetensors` library.
    pub struct SafetensorsInvalidHeader {
        code: "PAL825",
        name: "safetensors-invalid-header",
        severity: Medium,
        atlas: CHAIN,
        summary: "safetensors header is invalid or inconsistent",
    }
}
