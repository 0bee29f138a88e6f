declare_rule! {
    /// ## What it does
    /// Reports TensorFlow SavedModel graphs (`saved_model.pb`, including functions in the
    /// graph library) that use operations which read or write files, list directories, or run
    /// Python: `ReadFile`, `WriteFile`, `MatchingFiles`, `PyFunc`, `EagerPyFunc`, … .
    ///
    /// ## Why is this bad?
    /// A serving graph that writes files or reads `/etc/passwd` does so on every request in
    /// the model server.
    ///
    /// ## Example
    /// A `serving_default` signature whose graph contains `ReadFile(filename="/etc/passwd")`.
    ///
    /// ## Fix
    /// Re-export the model from source code that does not use file or Python ops in the graph.
    pub struct TensorflowDangerousOp {
        code: "PAL815",
        name: "tensorflow-dangerous-op",
        severity: High,
        atlas: BOTH,
        summary: "TensorFlow graph uses an operation that reads/writes files or runs Python",
    }
}
