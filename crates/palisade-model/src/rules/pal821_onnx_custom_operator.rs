declare_rule! {
    /// ## What it does
    /// Reports ONNX nodes (and opset imports) in an operator domain other than the standard
    /// ones (`ai.onnx`, `ai.onnx.ml`, `ai.onnx.training`, `ai.onnx.preview.training`) and the
    /// ONNX Runtime contrib domain `com.microsoft`.
    ///
    /// ## Why is this bad?
    /// A custom domain needs a native custom-op library registered with the runtime; the model
    /// dictates which native code must be loaded to run it.
    ///
    /// ## Example
    /// `node { op_type: "Exec" domain: "com.evil" }`
    ///
    /// ## Fix
    /// Export with standard operators, or ship and review the custom-op library.
    pub struct OnnxCustomOperator {
        code: "PAL821",
        name: "onnx-custom-operator",
        severity: Medium,
        atlas: CHAIN,
        summary: "ONNX model uses a custom operator domain",
    }
}
