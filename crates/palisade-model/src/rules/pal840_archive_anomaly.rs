declare_rule! {
    /// ## What it does
    /// Reports container tricks: zip members whose local header disagrees with the central
    /// directory (name, sizes, compression), encryption/flag bits on members that are not
    /// encrypted, CRC mismatches, entries whose paths escape the archive (`../`, absolute),
    /// and decompression bombs.
    ///
    /// ## Why is this bad?
    /// These are the parser differentials behind scanner bypasses CVE-2025-1944, CVE-2025-1945
    /// and CVE-2025-10156: the scanner reads one thing and `torch.load` another. Palisade scans
    /// the members anyway; this finding says the container itself was crafted.
    ///
    /// ## Example
    /// A PyTorch zip whose central directory names `archive/data.pkl` while the local header
    /// says `archive/data.txt`.
    ///
    /// ## Fix
    /// Re-save the model with the library that produced it.
    pub struct ArchiveAnomaly {
        code: "PAL840",
        name: "archive-anomaly",
        severity: Medium,
        atlas: CHAIN,
        summary: "Archive structure is inconsistent or crafted",
    }
}
