declare_rule! {
    /// ## What it does
    /// Reports a file whose content is a different format from what its extension says,
    /// for example a raw pickle named `.bin` or `.safetensors`, or a zip named `.pt` that is
    /// not a PyTorch archive. Palisade scans by content either way.
    ///
    /// ## Why is this bad?
    /// Scanners that route by extension skip such files (CVE-2025-10155); loaders that sniff
    /// content load them.
    ///
    /// ## Example
    /// `model.safetensors` that starts with `\x80\x04` (a pickle).
    ///
    /// ## Fix
    /// Rename the file after its content, or regenerate it in the expected format.
    pub struct FormatMismatch {
        code: "PAL860",
        name: "format-mismatch",
        severity: Info,
        atlas: CHAIN,
        summary: "File content does not match its extension",
    }
}
