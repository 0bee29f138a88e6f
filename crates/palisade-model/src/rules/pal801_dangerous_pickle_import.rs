declare_rule! {
    /// ## What it does
    /// Reports a pickle (a raw `.pkl`, or the pickle inside a PyTorch, joblib, numpy or
    /// dill file) that imports a callable from the denylist: `os`/`posix`/`nt`, `subprocess`,
    /// `builtins.eval`/`exec`/`compile`/`open`/`getattr`/`__import__`, `runpy`, `pip`,
    /// `importlib`, `socket`, `shutil`, `pty`, `marshal`, `types.CodeType`,
    /// `operator.attrgetter`/`methodcaller`, `torch.hub`, `pickle.loads`, … and their submodules.
    /// It also fires when an allowed module is used as a stepping stone to a denied one
    /// (`torch.serialization.os.system`) or when a dunder attribute is traversed
    /// (`collections.OrderedDict.__init__.__globals__`).
    ///
    /// ## Why is this bad?
    /// Unpickling imports every `GLOBAL` and calls every `REDUCE`: the file runs
    /// `os.system("curl … | sh")` the moment someone calls `torch.load`, `joblib.load`,
    /// `pickle.load` or `numpy.load(allow_pickle=True)` on it (MITRE ATLAS AML.T0011.000).
    ///
    /// ## Example
    /// ```text
    /// \x80\x04\x95...\x8c\x05posix\x8c\x06system\x93\x8c\x02id\x85R.
    /// ```
    /// `posix.system('id')` runs when the pickle is loaded.
    ///
    /// ## Fix
    /// Do not load the file. Obtain the model from its publisher, or a safetensors/ONNX/GGUF
    /// export, and load PyTorch checkpoints with `torch.load(weights_only=True)`.
    pub struct DangerousPickleImport {
        code: "PAL801",
        name: "dangerous-pickle-import",
        severity: Critical,
        atlas: BOTH,
        summary: "Pickle imports a callable that can run code, touch files or the network",
    }
}
