declare_rule! {
    /// ## What it does
    /// Reports a `BUILD` opcode applied to an imported global (a module, class or function)
    /// instead of to an object the pickle created.
    ///
    /// ## Why is this bad?
    /// `BUILD` on a global sets attributes on it: a pickle can overwrite
    /// `torch._utils._rebuild_tensor` with `builtins.eval` and then "rebuild a tensor" with only
    /// allowlisted names in the stream. No model file does this.
    ///
    /// ## Example
    /// `GLOBAL torch._utils; {'_rebuild_tensor': <builtins.eval>}; BUILD`.
    ///
    /// ## Fix
    /// Do not load the file.
    pub struct PickleGlobalStateOverwrite {
        code: "PAL804",
        name: "pickle-global-state-overwrite",
        severity: Critical,
        atlas: BOTH,
        summary: "Pickle overwrites attributes of an imported module or class",
    }
}
