declare_rule! {
    /// ## What it does
    /// Reports a pickle import that is neither on the allowlist of callables known to be safe
    /// in model files (tensor rebuild functions, `collections.OrderedDict`, numpy
    /// reconstruction, model classes of PyTorch and scikit-learn, …) nor on the denylist.
    ///
    /// ## Why is this bad?
    /// Every import runs the imported module's top-level code and every call runs arbitrary
    /// library code. Each new scanner bypass so far has been a callable nobody had listed
    /// (`pip.main`, `ssl.get_server_certificate`, `uuid._get_command_stdout`, …). Reporting
    /// unknown imports means a new bypass is never silently clean.
    ///
    /// ## Example
    /// A pickle importing `mylib.helpers.load_config` is reported with severity medium.
    ///
    /// ## Fix
    /// Review the callable. If it is safe, add it to the policy's model allowlist; otherwise
    /// treat the file as dangerous.
    pub struct UnknownPickleImport {
        code: "PAL802",
        name: "unknown-pickle-import",
        severity: Medium,
        atlas: BOTH,
        summary: "Pickle imports a callable that is not on the allowlist",
    }
}
