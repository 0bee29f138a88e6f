declare_rule! {
    /// ## What it does
    /// Reports a GGUF `tokenizer.chat_template` (or any `*chat_template*` key) whose Jinja
    /// template reaches Python internals: dunder attributes (`__class__`, `__mro__`,
    /// `__subclasses__`, `__globals__`, `__builtins__`, `__import__`), or known gadgets such as
    /// `lipsum`, `cycler`, `joiner`, `namespace` followed by attribute access to `os`/`popen`.
    ///
    /// ## Why is this bad?
    /// Runtimes render the chat template with Jinja2 for every prompt; an unsandboxed
    /// environment turns the template into remote code execution (CVE-2024-34359,
    /// llama-cpp-python).
    ///
    /// ## Example
    /// `{{ ''.__class__.__mro__[1].__subclasses__() }}`
    ///
    /// ## Fix
    /// Replace the template with the publisher's, and render templates in a sandboxed
    /// environment.
    pub struct GgufTemplateInjection {
        code: "PAL830",
        name: "gguf-template-injection",
        severity: Critical,
        atlas: BOTH,
        summary: "GGUF chat template reaches Python objects (Jinja SSTI)",
    }
}
