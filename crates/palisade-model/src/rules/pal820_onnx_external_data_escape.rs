declare_rule! {
    /// ## What it does
    /// Reports an ONNX tensor whose `external_data` `location` is absolute or climbs out of
    /// the model's directory with `..`.
    ///
    /// ## Why is this bad?
    /// The runtime reads the referenced file as tensor data: a model can exfiltrate
    /// `/etc/passwd` or service-account tokens through its outputs (CVE-2024-27318,
    /// CVE-2024-5187).
    ///
    /// ## Example
    /// `external_data { key: "location" value: "../../../../etc/passwd" }`
    ///
    /// ## Fix
    /// Keep external data files next to the model and reference them by plain file name.
    pub struct OnnxExternalDataEscape {
        code: "PAL820",
        name: "onnx-external-data-escape",
        severity: High,
        atlas: BOTH,
        summary: "ONNX external data path escapes the model directory",
    }
}
