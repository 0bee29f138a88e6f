declare_rule! {
    /// ## What it does
    /// Reports content that could not be scanned: encrypted archive members, unsupported
    /// compression methods, and scan limits (size, count, nesting depth) that were reached.
    ///
    /// ## Why is this bad?
    /// What was not scanned may hold anything; the finding keeps that visible instead of
    /// reporting the file as clean.
    ///
    /// ## Example
    /// A password-protected zip.
    ///
    /// ## Fix
    /// Scan the decrypted content, or raise the limits in the scan options.
    pub struct UnscannedContent {
        code: "PAL841",
        name: "unscanned-content",
        severity: Low,
        atlas: CHAIN,
        summary: "Part of the artifact could not be scanned",
    }
}
