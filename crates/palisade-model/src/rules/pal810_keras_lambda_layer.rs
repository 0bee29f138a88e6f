declare_rule! {
    /// ## What it does
    /// Reports a Keras model (`.keras` zip with `config.json`, or legacy HDF5 `.h5` with a
    /// `model_config` attribute) containing a `Lambda` layer whose function is serialized
    /// Python bytecode.
    ///
    /// ## Why is this bad?
    /// The bytecode is unmarshalled and run by `keras.models.load_model` when safe mode is off
    /// (and always by older Keras/TensorFlow versions, CVE-2024-3660).
    ///
    /// ## Example
    /// `{"class_name": "Lambda", "config": {"function": {"class_name": "__lambda__",
    /// "config": {"code": "4wEAAAAA..."}}}}`
    ///
    /// ## Fix
    /// Replace the Lambda layer with a registered custom layer whose code you ship and review.
    pub struct KerasLambdaLayer {
        code: "PAL810",
        name: "keras-lambda-layer",
        severity: High,
        atlas: BOTH,
        summary: "Keras model contains a Lambda layer with serialized Python bytecode",
    }
}
