declare_rule! {
    /// ## What it does
    /// Reports a Keras layer or object whose `module` is not part of Keras or TensorFlow, or
    /// whose module is on the pickle denylist (then with severity critical).
    ///
    /// ## Why is this bad?
    /// Keras imports the named module to deserialize the object: the model decides which Python
    /// code is imported on load.
    ///
    /// ## Example
    /// `{"module": "os", "class_name": "system", ...}`
    ///
    /// ## Fix
    /// Only load models whose custom objects come from packages you install and trust.
    pub struct KerasCustomObject {
        code: "PAL811",
        name: "keras-custom-object",
        severity: Medium,
        atlas: BOTH,
        summary: "Keras model references a custom object from a non-Keras module",
    }
}
