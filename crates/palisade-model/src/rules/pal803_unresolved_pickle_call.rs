declare_rule! {
    /// ## What it does
    /// Reports a `STACK_GLOBAL` whose module or name cannot be determined statically (built from
    /// values that are not strings, fetched from a memo slot that was never written, …) and a
    /// call (`REDUCE`, `NEWOBJ`, `OBJ`, `INST`) whose callee cannot be resolved.
    ///
    /// ## Why is this bad?
    /// A legitimate model never needs this; it is the shape of scanner evasions such as the
    /// memo key-error and type-confusion tricks, where the scanner gives up but `pickle.load`
    /// still imports and calls the hidden target.
    ///
    /// ## Example
    /// `BINGET 7; BINGET 8; STACK_GLOBAL` where memo slots 7 and 8 were never stored.
    ///
    /// ## Fix
    /// Do not load the file.
    pub struct UnresolvedPickleCall {
        code: "PAL803",
        name: "unresolved-pickle-call",
        severity: High,
        atlas: BOTH,
        summary: "Pickle imports or calls something that cannot be resolved statically",
    }
}
