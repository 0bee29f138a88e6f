declare_rule! {
    /// ## What it does
    /// Validates a GGUF header: version, counts of tensors and metadata entries, value types,
    /// string and array lengths within the file, tensor dimensions and data offsets.
    ///
    /// ## Why is this bad?
    /// GGUF parsers in C/C++ have had heap overflows from oversized counts and lengths
    /// (CVE-2024-25664 and related); a file that violates the format is an exploit attempt or
    /// corrupt.
    ///
    /// ## Example
    /// A metadata string whose declared length is 2^63.
    ///
    /// ## Fix
    /// Re-download or re-convert the model.
    pub struct GgufInvalidHeader {
        code: "PAL831",
        name: "gguf-invalid-header",
        severity: Medium,
        atlas: CHAIN,
        summary: "GGUF header is invalid or exceeds sane limits",
    }
}
