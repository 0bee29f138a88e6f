declare_rule! {
    /// ## What it does
    /// Reports a Hugging Face model directory whose `config.json` (or `tokenizer_config.json`)
    /// has an `auto_map` pointing at Python code, and Python files shipped with the model.
    ///
    /// ## Why is this bad?
    /// `from_pretrained(..., trust_remote_code=True)` imports and runs that code; whoever can
    /// push to the model repository runs code in your training or serving pods.
    ///
    /// ## Example
    /// `"auto_map": {"AutoModel": "modeling_custom.CustomModel"}` next to `modeling_custom.py`.
    ///
    /// ## Fix
    /// Review the code and pin the model revision, or use a model supported natively by
    /// `transformers`.
    pub struct RemoteCode {
        code: "PAL850",
        name: "huggingface-remote-code",
        severity: High,
        atlas: BOTH,
        summary: "Model directory runs custom Python code with trust_remote_code",
    }
}
