declare_rule! {
    /// ## What it does
    /// Reports a pickle stream that is truncated, contains an invalid opcode, underflows its
    /// stack, reads memo slots that were never written, crosses `FRAME` boundaries or has
    /// other inconsistencies. The scanner keeps emulating after such a problem whenever more
    /// can be learnt, and also sweeps the unparsed remainder for dangerous imports.
    ///
    /// ## Why is this bad?
    /// Parser differentials are the classic scanner bypass: a scanner that stops at the first
    /// error (or trusts `FRAME` lengths) misses the payload that `pickle.load` executes
    /// before it reaches the error.
    ///
    /// ## Example
    /// A pickle that calls `builtins.exec` and then ends with a truncated `BINUNICODE`.
    ///
    /// ## Fix
    /// Regenerate the file with the library that produced it; do not load files that fail
    /// this check.
    pub struct MalformedPickle {
        code: "PAL805",
        name: "malformed-pickle",
        severity: Medium,
        atlas: BOTH,
        summary: "Pickle stream is malformed or inconsistent (parser-differential risk)",
    }
}
