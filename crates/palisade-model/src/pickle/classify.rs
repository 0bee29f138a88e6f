//! Classification of pickle imports: denylist first, then the allowlist, everything else is
//! unknown.
//!
//! Names are matched on dot boundaries against the full dotted path `module.qualname`, so
//! a denied module covers its submodules and attributes (`os` covers `os.path.join`), and
//! every suffix of the qualname is checked too, because protocol 4 resolves dotted names by
//! attribute lookup: `('torch.serialization', 'os.system')` reaches `os.system` through an
//! allowed module.

use std::borrow::Cow;

/// The verdict for one import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// On the allowlist.
    Safe,
    /// On the denylist; the reason says what the callable can do.
    Dangerous(Cow<'static, str>),
    /// Neither.
    Unknown,
}

/// User extensions of the lists (from the Policy). Entries are dotted names matched on dot
/// boundaries (`mylib.safe_fn`, `mylib`); a trailing `.*` is accepted and means the same.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportPolicy {
    pub allow: Vec<String>,
    pub deny: Vec<String>,
}

impl From<&palisade_policy::ModelPolicy> for ImportPolicy {
    /// The Policy file's `spec.models.allowedImports` / `deniedImports`.
    fn from(p: &palisade_policy::ModelPolicy) -> Self {
        ImportPolicy {
            allow: p.allowed_imports.clone(),
            deny: p.denied_imports.clone(),
        }
    }
}

const SHELL: &str = "runs shell commands or processes";
const CODE: &str = "executes arbitrary Python code";
const FILES: &str = "reads or writes files";
const NET: &str = "opens network connections";
const DYN: &str = "imports modules or resolves attributes dynamically";
const CODEOBJ: &str = "builds code or function objects";
const LOADER: &str = "deserializes further untrusted data (nested pickle/model load)";
const PROC: &str = "manipulates the interpreter or process";

/// The denylist: (dotted prefix, reason).
const DENY: &[(&str, &str)] = &[
    // processes and shells
    ("os", SHELL),
    ("posix", SHELL),
    ("nt", SHELL),
    ("subprocess", SHELL),
    ("_posixsubprocess", SHELL),
    ("commands", SHELL),
    ("popen2", SHELL),
    ("pty", SHELL),
    ("platform.popen", SHELL),
    ("_osx_support", SHELL),
    ("_aix_support", SHELL),
    ("_pyrepl", SHELL),
    ("pydoc", SHELL),
    ("uuid._get_command_stdout", SHELL),
    ("uuid._popen", SHELL),
    ("webbrowser", SHELL),
    ("multiprocessing", SHELL),
    ("concurrent", SHELL),
    ("asyncio", SHELL),
    ("threading", PROC),
    ("_thread", PROC),
    ("signal", PROC),
    ("sys", PROC),
    ("gc", PROC),
    ("atexit", PROC),
    ("ctypes", PROC),
    ("_ctypes", PROC),
    ("mmap", PROC),
    ("resource", PROC),
    ("fcntl", PROC),
    ("inspect", PROC),
    // code execution
    ("builtins.eval", CODE),
    ("builtins.exec", CODE),
    ("builtins.execfile", CODE),
    ("builtins.compile", CODE),
    ("builtins.breakpoint", CODE),
    ("builtins.input", PROC),
    ("builtins.exit", PROC),
    ("builtins.quit", PROC),
    ("builtins.help", SHELL),
    ("builtins.apply", CODE),
    ("builtins.globals", DYN),
    ("builtins.locals", DYN),
    ("builtins.vars", DYN),
    ("builtins.getattr", DYN),
    ("builtins.setattr", DYN),
    ("builtins.delattr", DYN),
    ("builtins.__import__", DYN),
    ("builtins.reload", DYN),
    ("builtins.open", FILES),
    ("builtins.file", FILES),
    ("code", CODE),
    ("codeop", CODE),
    ("runpy", CODE),
    ("timeit", CODE),
    ("cProfile", CODE),
    ("profile", CODE),
    ("trace", CODE),
    ("doctest", CODE),
    ("pdb", CODE),
    ("bdb", CODE),
    ("idlelib", CODE),
    ("lib2to3", CODE),
    ("IPython", CODE),
    ("test", CODE),
    ("numpy.testing", CODE),
    ("numpy.f2py", CODE),
    ("numpy.distutils", CODE),
    ("torch.utils.cpp_extension", CODE),
    ("torch.ops.load_library", CODE),
    ("torch.classes.load_library", CODE),
    ("torch._dynamo", CODE),
    ("torch.fx.graph_module._forward_from_src", CODE),
    ("pandas.eval", CODE),
    ("pandas.core.computation", CODE),
    ("jinja2", CODE),
    ("yaml.load", LOADER),
    ("yaml.load_all", LOADER),
    ("yaml.unsafe_load", LOADER),
    ("yaml.unsafe_load_all", LOADER),
    ("yaml.full_load", LOADER),
    // dynamic import and attribute access
    ("importlib", DYN),
    ("imp", DYN),
    ("pkgutil", DYN),
    ("zipimport", DYN),
    ("operator.attrgetter", DYN),
    ("operator.methodcaller", DYN),
    ("_operator.attrgetter", DYN),
    ("_operator.methodcaller", DYN),
    ("functools.reduce", DYN),
    ("_functools.reduce", DYN),
    ("site", DYN),
    ("venv", SHELL),
    ("ensurepip", SHELL),
    ("pip", SHELL),
    ("setuptools", SHELL),
    ("distutils", SHELL),
    // code objects
    ("marshal", CODEOBJ),
    ("types.CodeType", CODEOBJ),
    ("types.FunctionType", CODEOBJ),
    ("types.LambdaType", CODEOBJ),
    ("types.MethodType", CODEOBJ),
    ("types.ModuleType", CODEOBJ),
    ("dill", CODEOBJ),
    ("cloudpickle", CODEOBJ),
    // nested loaders
    ("pickle", LOADER),
    ("_pickle", LOADER),
    ("cPickle", LOADER),
    ("shelve", LOADER),
    ("torch.load", LOADER),
    ("torch.serialization.load", LOADER),
    ("torch.hub", LOADER),
    ("torch.jit.load", LOADER),
    ("torch.package", LOADER),
    ("torch.multiprocessing", SHELL),
    // torch internals with known gadgets (picklescan advisories): compilers, profilers that
    // run code, environment collectors that spawn processes, decoders that unpickle.
    ("torch._inductor", CODE),
    ("torch._export", CODE),
    ("torch.export", CODE),
    ("torch.compiler", CODE),
    ("torch.fx.experimental", CODE),
    ("torch.fx.graph_module.reduce_graph_module", CODE),
    ("torch.fx.graph_module.reduce_package_graph_module", CODE),
    ("torch.fx.graph_module.reduce_deploy_graph_module", CODE),
    ("torch.jit.unsupported_tensor_ops", CODE),
    ("torch.jit._script", CODE),
    ("torch.jit.frontend", CODE),
    ("torch.utils.bottleneck", CODE),
    ("torch.utils.collect_env", SHELL),
    ("torch.utils.benchmark", CODE),
    ("torch.utils.data.datapipes", LOADER),
    ("torch.utils._config_module", LOADER),
    ("torch.utils.model_zoo", NET),
    ("torch.utils.tensorboard", FILES),
    ("torch.utils.hipify", FILES),
    ("torch.testing", CODE),
    ("torch.distributed", NET),
    ("torch.onnx", FILES),
    ("torch.profiler", FILES),
    ("torch.backends.cudnn.rnn", CODE),
    ("torch.distributed.rpc", NET),
    ("numpy.load", LOADER),
    ("numpy.loads", LOADER),
    ("numpy.lib.npyio", LOADER),
    ("numpy.lib._npyio_impl", LOADER),
    ("numpy.fromfile", FILES),
    ("numpy.memmap", FILES),
    ("numpy.save", FILES),
    ("numpy.savetxt", FILES),
    ("numpy.loadtxt", FILES),
    ("numpy.genfromtxt", FILES),
    ("numpy.ctypeslib", PROC),
    ("joblib.load", LOADER),
    ("sklearn.externals.joblib.load", LOADER),
    ("keras.models.load_model", LOADER),
    ("keras.saving.load_model", LOADER),
    ("tensorflow.keras.models.load_model", LOADER),
    ("pandas.read_pickle", LOADER),
    ("pandas.read_csv", FILES),
    ("pandas.read_json", FILES),
    ("pandas.read_html", NET),
    ("pandas.read_sql", FILES),
    ("pandas.read_parquet", FILES),
    ("pandas.read_excel", FILES),
    ("pandas.read_table", FILES),
    ("pandas.read_hdf", FILES),
    ("pandas.io", FILES),
    // files
    ("shutil", FILES),
    ("tempfile", FILES),
    ("pathlib", FILES),
    ("glob", FILES),
    ("fileinput", FILES),
    ("linecache", FILES),
    ("tarfile", FILES),
    ("zipfile", FILES),
    ("dbm", FILES),
    ("sqlite3", FILES),
    ("mailbox", FILES),
    ("netrc", FILES),
    ("pwd", FILES),
    ("grp", FILES),
    ("spwd", FILES),
    ("io.open", FILES),
    ("io.open_code", FILES),
    ("io.FileIO", FILES),
    ("_io.open", FILES),
    ("_io.open_code", FILES),
    ("_io.FileIO", FILES),
    ("codecs.open", FILES),
    ("logging.FileHandler", FILES),
    ("logging.handlers", FILES),
    ("logging.config", CODE),
    ("tkinter", PROC),
    ("turtle", PROC),
    // network
    ("socket", NET),
    ("_socket", NET),
    ("socketserver", NET),
    ("ssl", NET),
    ("_ssl", NET),
    ("http", NET),
    ("urllib", NET),
    ("urllib2", NET),
    ("httplib", NET),
    ("ftplib", NET),
    ("smtplib", NET),
    ("smtpd", NET),
    ("telnetlib", NET),
    ("imaplib", NET),
    ("poplib", NET),
    ("nntplib", NET),
    ("xmlrpc", NET),
    ("wsgiref", NET),
    ("cgi", NET),
    ("requests", NET),
    ("httpx", NET),
    ("aiohttp", NET),
    ("paramiko", NET),
    ("huggingface_hub", NET),
];

/// Methods (or functions) that fetch and load another model, whatever they are called on:
/// `transformers.AutoModel.from_pretrained('attacker/repo', trust_remote_code=True)` downloads
/// a repository and may run its code; diffusers' `from_single_file` loads a checkpoint.
const LOADER_METHODS: &[&str] = &["from_pretrained", "from_single_file"];

/// Exact names (after compat mapping) known to be safe in model files.
const ALLOW_EXACT: &[&str] = &[
    "builtins.set",
    "builtins.frozenset",
    "builtins.list",
    "builtins.dict",
    "builtins.tuple",
    "builtins.bytearray",
    "builtins.bytes",
    "builtins.complex",
    "builtins.slice",
    "builtins.range",
    "builtins.int",
    "builtins.float",
    "builtins.str",
    "builtins.bool",
    "builtins.object",
    "collections.OrderedDict",
    "collections.defaultdict",
    "collections.deque",
    "collections.Counter",
    "copyreg._reconstructor",
    "copyreg.__newobj__",
    "copyreg.__newobj_ex__",
    "_codecs.encode",
    "datetime.datetime",
    "datetime.date",
    "datetime.time",
    "datetime.timedelta",
    "datetime.timezone",
    "decimal.Decimal",
    "fractions.Fraction",
    "uuid.UUID",
    "numpy.ndarray",
    "numpy.dtype",
    "numpy.core.multiarray._reconstruct",
    "numpy._core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar",
    "numpy.core.numeric._frombuffer",
    "numpy._core.numeric._frombuffer",
    "numpy.ma.core._mareconstruct",
    "numpy.random._pickle.__randomstate_ctor",
    "numpy.random._pickle.__bit_generator_ctor",
    "numpy.random._pickle.__generator_ctor",
    "numpy.random.__RandomState_ctor",
    "torch.Size",
    "torch.device",
    "torch.Tensor",
    "torch.nn.parameter.Parameter",
    "torch.nn.parameter.Buffer",
    "torch._tensor._rebuild_from_type_v2",
    "torch.serialization._get_layout",
    "torch.storage.TypedStorage",
    "torch.storage.UntypedStorage",
    "torch.strided",
    "torch.sparse_coo",
    "torch.sparse_csr",
    "torch.contiguous_format",
    "torch.channels_last",
    "torch.preserve_format",
    "torch.per_tensor_affine",
    "torch.per_channel_affine",
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "joblib.numpy_pickle.NDArrayWrapper",
    "joblib.numpy_pickle_compat.NDArrayWrapper",
    "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
];

const TORCH_DTYPES: &[&str] = &[
    "float32",
    "float",
    "float64",
    "double",
    "float16",
    "half",
    "bfloat16",
    "complex32",
    "complex64",
    "complex128",
    "cfloat",
    "cdouble",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "short",
    "int32",
    "int",
    "int64",
    "long",
    "bool",
    "qint8",
    "quint8",
    "qint32",
    "quint4x2",
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e5m2fnuz",
];

const NUMPY_SCALARS: &[&str] = &[
    "bool_",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "longdouble",
    "complex64",
    "complex128",
    "str_",
    "bytes_",
    "void",
    "datetime64",
    "timedelta64",
    "intc",
    "intp",
    "uintp",
];

/// Module prefixes of ML libraries whose *classes* are model building blocks. A class is
/// restored through `copyreg._reconstructor`/`NEWOBJ` plus `__setstate__` (a dict update for
/// these libraries); their functions are not allowed by this rule.
const CLASS_PREFIXES: &[&str] = &[
    "torch.nn.modules.",
    "torch.nn.utils.",
    "torch.optim.",
    "torch.ao.nn.",
    "torch.nn.intrinsic.",
    "sklearn.",
    "scipy.sparse.",
    "pandas.core.",
    "pandas._libs.",
    "xgboost.",
    "lightgbm.",
    "catboost.",
    "numpy.dtypes.",
    "numpy.random.",
    "transformers.",
    "tokenizers.",
];

/// Python 2 module names that `pickle` maps to Python 3 ones (`_compat_pickle`).
fn compat_module(module: &str) -> &str {
    match module {
        "__builtin__" | "exceptions" => "builtins",
        "copy_reg" => "copyreg",
        "cPickle" => "pickle",
        "commands" => "subprocess",
        "UserDict" | "UserList" | "UserString" => "collections",
        "urllib2" => "urllib.request",
        "httplib" => "http.client",
        "cStringIO" | "StringIO" => "io",
        "thread" => "_thread",
        "SocketServer" => "socketserver",
        "xmlrpclib" => "xmlrpc.client",
        "urlparse" => "urllib.parse",
        "anydbm" | "whichdb" => "dbm",
        "Tkinter" => "tkinter",
        other => other,
    }
}

fn matches_prefix(full: &str, prefix: &str) -> bool {
    let prefix = prefix.strip_suffix(".*").unwrap_or(prefix);
    full == prefix || (full.starts_with(prefix) && full.as_bytes().get(prefix.len()) == Some(&b'.'))
}

fn is_dunder(part: &str) -> bool {
    part.len() > 4 && part.starts_with("__") && part.ends_with("__")
}

fn deny_reason(full: &str) -> Option<&'static str> {
    DENY.iter()
        .find(|(p, _)| matches_prefix(full, p))
        .map(|(_, r)| *r)
}

/// True for `module.name` combinations the built-in denylist covers (used by the sweep of
/// unparsable bytes, where only clearly dangerous names are worth reporting).
pub(crate) fn is_denied(module: &str, name: &str) -> bool {
    matches!(
        classify(module, name, &ImportPolicy::default()),
        Verdict::Dangerous(_)
    )
}

/// Classifies one import.
pub fn classify(module: &str, name: &str, policy: &ImportPolicy) -> Verdict {
    let module = compat_module(module);
    let full = format!("{module}.{name}");

    if let Some(p) = policy.deny.iter().find(|p| matches_prefix(&full, p)) {
        return Verdict::Dangerous(Cow::Owned(format!("denied by policy entry `{p}`")));
    }
    if let Some(reason) = deny_reason(&full) {
        return Verdict::Dangerous(Cow::Borrowed(reason));
    }
    // Attribute traversal: every suffix of a dotted qualname is reachable by getattr, the
    // whole qualname included (`torch.serialization` imports `os`, so its `os.system` is
    // `os.system`).
    let parts: Vec<&str> = name.split('.').collect();
    for i in 0..parts.len() {
        let suffix = parts[i..].join(".");
        if let Some(reason) = deny_reason(&suffix) {
            return Verdict::Dangerous(Cow::Owned(format!(
                "reaches `{suffix}` through attribute lookup ({reason})"
            )));
        }
    }
    if let Some(method) = parts.iter().find(|p| LOADER_METHODS.contains(p)) {
        return Verdict::Dangerous(Cow::Owned(format!(
            "fetches and loads another model (`{method}`), whose code may run"
        )));
    }
    if policy.allow.iter().any(|p| matches_prefix(&full, p)) {
        return Verdict::Safe;
    }
    if ALLOW_EXACT.contains(&full.as_str()) {
        return Verdict::Safe;
    }
    if let Some(p) = parts.iter().find(|p| is_dunder(p)) {
        return Verdict::Dangerous(Cow::Owned(format!(
            "traverses the dunder attribute `{p}` (reaches interpreter internals)"
        )));
    }
    if parts.len() == 1 {
        let torch_type = module == "torch"
            && (name.ends_with("Storage")
                || name.ends_with("Tensor")
                || TORCH_DTYPES.contains(&name));
        let tensor_rebuild = module == "torch._utils" && name.starts_with("_rebuild_");
        let numpy_scalar = module == "numpy" && NUMPY_SCALARS.contains(&name);
        // TorchScript's own list/tensor rebuild helpers (torch.jit.load archives).
        let torchscript_helper = module == "torch.jit._pickle"
            && (name.starts_with("build_") || name == "restore_type_tag");
        // Classes compiled by TorchScript; their code is the archive's TorchScript, not Python.
        let torchscript_class = (module == "__torch__" || module.starts_with("__torch__."))
            && name.starts_with(|c: char| c.is_ascii_uppercase());
        if torch_type || tensor_rebuild || numpy_scalar || torchscript_helper || torchscript_class {
            return Verdict::Safe;
        }
        let prefixed = CLASS_PREFIXES.iter().any(|p| full.starts_with(p));
        if prefixed {
            let class_like = name.starts_with(|c: char| c.is_ascii_uppercase())
                || name.ends_with("_matrix")
                || name.ends_with("_array");
            // Cython's generated unpickle helpers and pandas' reconstructors only restore state.
            let helper = name.starts_with("__pyx_unpickle_")
                || (module.starts_with("pandas.")
                    && (name.starts_with("_unpickle")
                        || name.starts_with("_new_")
                        || name.starts_with("new_block")));
            if class_like || helper {
                return Verdict::Safe;
            }
        }
    }
    if let Some(word) = execution_word(parts.last().copied().unwrap_or(name)) {
        return Verdict::Dangerous(Cow::Owned(format!(
            "is not on the allowlist, and `{word}` in its name marks callables that run code or reach processes, files or the network"
        )));
    }
    Verdict::Unknown
}

/// Words that, in the name of a callable nobody listed, announce code execution, process or
/// file/network access. The advisories of every pickle scanner are full of such gadgets in
/// otherwise trusted libraries (`torch.utils.collect_env.run`,
/// `torch._inductor.codecache.compile_file`, `...ConfigModule.load_config`).
const EXECUTION_WORDS: &[&str] = &[
    "run",
    "exec",
    "execute",
    "eval",
    "evaluate",
    "compile",
    "load",
    "loads",
    "system",
    "popen",
    "spawn",
    "shell",
    "subprocess",
    "cmd",
    "command",
    "import",
    "write",
    "download",
    "urlopen",
    "fetch",
    "request",
    "getattr",
    "setattr",
    "invoke",
    "execfile",
    "script",
    "call",
    "check",
    "output",
];

fn execution_word(name: &str) -> Option<&'static str> {
    // Split snake_case and camelCase: `execWrapper` -> exec, wrapper; `run_cprofile` -> run, cprofile.
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in name.chars() {
        if c == '_' {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
        } else if c.is_uppercase()
            && !cur.is_empty()
            && !cur.chars().last().is_some_and(char::is_uppercase)
        {
            words.push(std::mem::take(&mut cur));
            cur.extend(c.to_lowercase());
        } else {
            cur.extend(c.to_lowercase());
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    // `check_output`/`check_call` need both words; `check` alone is ordinary.
    let has = |w: &str| words.iter().any(|x| x == w);
    if has("check") && !(has("output") || has("call")) {
        return None;
    }
    EXECUTION_WORDS
        .iter()
        .copied()
        .filter(|w| *w != "check" && *w != "output")
        .find(|w| has(w))
        .or_else(|| (has("check") && has("output")).then_some("output"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(m: &str, n: &str) -> Verdict {
        classify(m, n, &ImportPolicy::default())
    }

    #[test]
    fn denylist_covers_submodules_and_aliases() {
        assert!(matches!(v("os", "system"), Verdict::Dangerous(_)));
        assert!(matches!(v("posix", "system"), Verdict::Dangerous(_)));
        assert!(matches!(v("nt", "system"), Verdict::Dangerous(_)));
        assert!(matches!(v("os.path", "join"), Verdict::Dangerous(_)));
        assert!(matches!(v("__builtin__", "eval"), Verdict::Dangerous(_)));
        assert!(matches!(v("torch.hub", "load"), Verdict::Dangerous(_)));
        assert!(matches!(v("torch", "hub.load"), Verdict::Dangerous(_)));
        assert!(matches!(v("commands", "getoutput"), Verdict::Dangerous(_)));
        assert!(matches!(
            v("huggingface_hub", "snapshot_download"),
            Verdict::Dangerous(_)
        ));
    }

    #[test]
    fn loader_methods_on_any_class() {
        assert!(matches!(
            v("transformers", "AutoModel.from_pretrained"),
            Verdict::Dangerous(_)
        ));
        assert!(matches!(
            v("diffusers", "StableDiffusionPipeline.from_single_file"),
            Verdict::Dangerous(_)
        ));
        // Only the exact method names.
        assert_eq!(v("mylib", "from_pretrained_cache"), Verdict::Unknown);
    }

    #[test]
    fn attribute_traversal_through_allowed_modules() {
        // Found as the denied callable it reaches, not by the words of its name.
        for (module, name, reached) in [
            ("torch.serialization", "os.system", "`os.system`"),
            ("torch.serialization", "shutil.rmtree", "`shutil.rmtree`"),
            ("numpy", "core.multiarray.os.remove", "`os.remove`"),
        ] {
            match v(module, name) {
                Verdict::Dangerous(reason) => assert!(
                    reason.contains("through attribute lookup") && reason.contains(reached),
                    "{module}.{name}: {reason}"
                ),
                other => panic!("{module}.{name}: {other:?}"),
            }
        }
        assert!(matches!(
            v("collections", "OrderedDict.__init__.__globals__"),
            Verdict::Dangerous(_)
        ));
    }

    #[test]
    fn allowlist_and_unknown() {
        assert_eq!(v("torch._utils", "_rebuild_tensor_v2"), Verdict::Safe);
        assert_eq!(v("torch", "FloatStorage"), Verdict::Safe);
        assert_eq!(v("collections", "OrderedDict"), Verdict::Safe);
        assert_eq!(v("copy_reg", "_reconstructor"), Verdict::Safe);
        assert_eq!(
            v("sklearn.linear_model._logistic", "LogisticRegression"),
            Verdict::Safe
        );
        assert_eq!(v("torch.nn.modules.linear", "Linear"), Verdict::Safe);
        assert_eq!(v("sklearn.utils", "some_function"), Verdict::Unknown);
        assert_eq!(v("builtins", "print"), Verdict::Unknown);
        assert_eq!(v("mylib", "Thing"), Verdict::Unknown);
    }

    #[test]
    fn execution_words_in_unknown_names() {
        assert!(matches!(
            v("torch._inductor.codecache", "compile_file"),
            Verdict::Dangerous(_)
        ));
        assert!(matches!(v("mylib.jobs", "run_job"), Verdict::Dangerous(_)));
        assert!(matches!(v("mylib", "execWrapper"), Verdict::Dangerous(_)));
        assert!(matches!(
            v("mylib", "ConfigModule.load_config"),
            Verdict::Dangerous(_)
        ));
        assert_eq!(v("mylib", "checkpoint_sizes"), Verdict::Unknown);
        assert_eq!(v("mylib", "runner_state"), Verdict::Unknown);
        assert_eq!(v("mylib", "Loader"), Verdict::Unknown);
    }

    #[test]
    fn policy_extends_both_lists() {
        let policy = ImportPolicy {
            allow: vec!["mylib.*".into()],
            deny: vec!["collections.OrderedDict".into()],
        };
        assert_eq!(classify("mylib.sub", "f", &policy), Verdict::Safe);
        assert!(matches!(
            classify("collections", "OrderedDict", &policy),
            Verdict::Dangerous(_)
        ));
        // The built-in denylist still wins over a user allow entry.
        let policy = ImportPolicy {
            allow: vec!["os".into()],
            deny: vec![],
        };
        assert!(matches!(
            classify("os", "system", &policy),
            Verdict::Dangerous(_)
        ));
    }
}
