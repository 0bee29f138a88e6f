declare_rule! {
    /// ## What it does
    /// Reports a pickle carried as data inside another pickle: raw bytes, a hex string or a
    /// base64 string that decodes to a pickle stream. The inner pickle is emulated too; the
    /// finding is **high** when the inner pickle imports dangerous or unresolvable callables,
    /// **medium** when it imports unknown ones, and **low** when it only holds data.
    ///
    /// ## Why is this bad?
    /// The inner pickle does not run when the outer one is loaded, but any code that later
    /// calls `pickle.loads` on that field runs it. It is a common way to smuggle a payload
    /// past scanners that only look at the outer stream.
    ///
    /// ## Example
    /// `{'weights': b'\x80\x04\x95...\x8c\x05posix\x8c\x06system\x93...'}`.
    ///
    /// ## Fix
    /// Do not store pickles inside pickles; store tensors in safetensors.
    pub struct NestedPickle {
        code: "PAL806",
        name: "nested-pickle",
        severity: High,
        atlas: BOTH,
        summary: "A pickle stream is carried as data inside another pickle",
    }
}
