//! Recognisers for the commands the rules care about: package managers (`apt-get`, `apk`,
//! `dnf`/`yum`, `conda`), `pip` (and `python -m pip`, `uv pip`), and model downloads.
//! They work on tokenised [`Command`]s, after `sudo`/`env`/assignment wrappers are skipped.

use crate::shell::{Command, SWord, basename, is_python};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Manager {
    Apt,
    Apk,
    Dnf,
    Conda,
}

impl Manager {
    fn of(prog: &str) -> Option<Manager> {
        Some(match prog {
            "apt-get" | "apt" | "aptitude" => Manager::Apt,
            "apk" => Manager::Apk,
            "yum" | "dnf" | "microdnf" | "tdnf" => Manager::Dnf,
            "conda" | "mamba" | "micromamba" => Manager::Conda,
            _ => return None,
        })
    }

    /// Options that take a separate value word.
    fn valued(self) -> &'static [&'static str] {
        match self {
            Manager::Apt => &["-o", "-t", "-c", "--target-release", "--option"],
            Manager::Apk => &[
                "-t",
                "--virtual",
                "-X",
                "--repository",
                "-p",
                "--root",
                "--arch",
                "--keys-dir",
                "--cache-dir",
                "--repositories-file",
            ],
            Manager::Dnf => &[
                "-c",
                "--config",
                "--releasever",
                "--installroot",
                "--setopt",
                "--enablerepo",
                "--disablerepo",
                "-x",
                "--exclude",
            ],
            Manager::Conda => &[
                "-c",
                "--channel",
                "-n",
                "--name",
                "-p",
                "--prefix",
                "--file",
            ],
        }
    }
}

/// One package-manager invocation: its verb and package arguments.
#[derive(Debug)]
pub struct PkgCommand<'c> {
    pub manager: Manager,
    pub program: &'c SWord,
    pub verb: &'c SWord,
    /// Option words (with their values when separate).
    pub options: Vec<&'c SWord>,
    pub packages: Vec<&'c SWord>,
    /// `apk add --virtual NAME` / `-t NAME`.
    pub virtual_name: Option<String>,
}

impl PkgCommand<'_> {
    #[must_use]
    pub fn has_option(&self, name: &str) -> bool {
        self.options
            .iter()
            .any(|o| o.as_str() == name || o.as_str().starts_with(&format!("{name}=")))
    }

    #[must_use]
    pub fn is_install(&self) -> bool {
        let v = self.verb.as_str();
        match self.manager {
            Manager::Apt => v == "install",
            Manager::Apk => v == "add",
            Manager::Dnf => v == "install" || v == "groupinstall",
            Manager::Conda => v == "install" || v == "create",
        }
    }

    #[must_use]
    pub fn is_removal(&self) -> bool {
        let v = self.verb.as_str();
        match self.manager {
            Manager::Apt => v == "purge" || v == "remove" || v == "autoremove",
            Manager::Apk => v == "del",
            Manager::Dnf => v == "remove" || v == "erase" || v == "autoremove",
            Manager::Conda => v == "remove" || v == "uninstall",
        }
    }
}

#[must_use]
pub fn pkg_command(cmd: &Command) -> Option<PkgCommand<'_>> {
    let eff = cmd.effective();
    let program = eff.first()?;
    let manager = Manager::of(basename(program.as_str()))?;
    let valued = manager.valued();
    let mut options = Vec::new();
    let mut verb = None;
    let mut packages = Vec::new();
    let mut virtual_name = None;
    let mut i = 1;
    while let Some(w) = eff.get(i) {
        let s = w.as_str();
        i += 1;
        if s.starts_with('-') && s.len() > 1 {
            options.push(w);
            if valued.contains(&s) {
                if let Some(v) = eff.get(i) {
                    if (s == "-t" || s == "--virtual") && manager == Manager::Apk {
                        virtual_name = Some(v.as_str().to_string());
                    }
                    options.push(v);
                    i += 1;
                }
            } else if let Some(v) = s.strip_prefix("--virtual=") {
                virtual_name = Some(v.to_string());
            }
            continue;
        }
        if verb.is_none() {
            verb = Some(w);
        } else {
            packages.push(w);
        }
    }
    Some(PkgCommand {
        manager,
        program,
        verb: verb?,
        options,
        packages,
        virtual_name,
    })
}

/// A package name without version, release or architecture (`libssl-dev=3.0*` →
/// `libssl-dev`).
#[must_use]
pub fn package_name(spec: &str) -> &str {
    let end = spec
        .find(['=', ':', '/', '~', '<', '>'])
        .unwrap_or(spec.len());
    spec.get(..end).unwrap_or(spec)
}

/// Why a package is a build tool, or `None`.
#[must_use]
pub fn build_tool(pkg: &str) -> Option<&'static str> {
    let name = package_name(pkg).to_ascii_lowercase();
    let n = name.as_str();
    const EXACT_COMPILERS: &[&str] = &[
        "gcc",
        "g++",
        "gcc-c++",
        "clang",
        "llvm",
        "gfortran",
        "cargo",
        "rustc",
        "golang",
        "golang-go",
        "go",
        "nasm",
        "yasm",
        "cuda-toolkit",
        "nvidia-cuda-toolkit",
        "cuda-nvcc",
        "gxx",
        "gxx_linux-64",
        "gcc_linux-64",
        "compilers",
        "cxx-compiler",
        "c-compiler",
        "fortran-compiler",
    ];
    const EXACT_BUILD: &[&str] = &[
        "build-essential",
        "build-base",
        "alpine-sdk",
        "make",
        "cmake",
        "ninja-build",
        "ninja",
        "autoconf",
        "automake",
        "libtool",
        "pkg-config",
        "pkgconf",
        "development tools",
        "@development-tools",
        "gdb",
    ];
    if EXACT_COMPILERS.contains(&n) {
        return Some("compiler");
    }
    if EXACT_BUILD.contains(&n) {
        return Some("build tool");
    }
    for prefix in ["gcc-", "g++-", "clang-", "cpp-", "gfortran-", "llvm-"] {
        if n.strip_prefix(prefix)
            .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        {
            return Some("compiler");
        }
    }
    if n.starts_with("cuda-nvcc-")
        || n.starts_with("cuda-toolkit-")
        || n.starts_with("cuda-compiler")
    {
        return Some("compiler");
    }
    if n.ends_with("-dev") || n.ends_with("-devel") || n.ends_with("-headers") {
        return Some("development package");
    }
    None
}

/// Why a base image ships compilers, or `None`: CUDA/PyTorch `-devel` images and the
/// full (`buildpack-deps`-based) language images.
#[must_use]
pub fn build_base_image(short_name: &str, tag: Option<&str>) -> Option<&'static str> {
    let tag = tag.unwrap_or("latest").to_ascii_lowercase();
    if tag.split(['-', '.', '_']).any(|p| p == "devel") {
        return Some("a -devel image with compilers and headers (nvcc, gcc)");
    }
    let slim = ["slim", "alpine", "distroless", "runtime"]
        .iter()
        .any(|v| tag.contains(v));
    match short_name {
        "python" | "node" | "ruby" | "buildpack-deps" if !slim => {
            Some("a full language image built on buildpack-deps, with gcc and -dev packages")
        }
        "golang" | "rust" | "gcc" | "maven" | "gradle" => Some("a compiler toolchain image"),
        _ => None,
    }
}

/// `pip install …` (also `pip3`, `python -m pip`, `uv pip`).
#[derive(Debug, Default)]
pub struct PipInstall<'c> {
    pub install: Option<&'c SWord>,
    /// Requirement specifiers given on the command line.
    pub packages: Vec<&'c SWord>,
    /// `-r FILE` values.
    pub requirements: Vec<&'c SWord>,
    pub constraints: bool,
    pub require_hashes: bool,
    pub no_cache: bool,
    /// `--extra-index-url` option words.
    pub extra_index: Vec<&'c SWord>,
    /// `--trusted-host` option words.
    pub trusted_host: Vec<&'c SWord>,
    pub uv: bool,
}

const PIP_VALUED: &[&str] = &[
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--src",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--upgrade-strategy",
    "--progress-bar",
    "--cache-dir",
    "--log",
    "--proxy",
    "--retries",
    "--timeout",
    "--exists-action",
    "--cert",
    "--client-cert",
    "--global-option",
    "--config-settings",
    "-C",
    "--no-binary",
    "--only-binary",
    "--report",
    "--trusted-host",
    "--python",
    "-p",
    "--index",
    "--default-index",
    "--index-strategy",
    "--keyring-provider",
];

#[must_use]
pub fn pip_install(cmd: &Command) -> Option<PipInstall<'_>> {
    let eff = cmd.effective();
    let prog = basename(eff.first()?.as_str());
    let mut uv = false;
    let start = if prog
        .strip_prefix("pip")
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
    {
        1
    } else if is_python(prog) {
        // python [-u -I …] -m pip
        let m = eff
            .iter()
            .position(|w| w.as_str() == "-m" || w.as_str() == "-mpip")?;
        if eff.get(m)?.as_str() == "-mpip" {
            m + 1
        } else if eff.get(m + 1)?.as_str() == "pip" {
            m + 2
        } else {
            return None;
        }
    } else if prog == "uv" && eff.get(1)?.as_str() == "pip" {
        uv = true;
        2
    } else {
        return None;
    };
    let mut p = PipInstall {
        uv,
        ..PipInstall::default()
    };
    let mut i = start;
    while let Some(w) = eff.get(i) {
        let s = w.as_str();
        i += 1;
        if let Some(opt) = s.strip_prefix('-').filter(|_| s.len() > 1) {
            let (name, inline) = match s.split_once('=') {
                Some((n, v)) if s.starts_with("--") => (n, Some(v)),
                _ => (s, None),
            };
            // Short options with the value attached: `-rrequirements.txt`.
            let (name, inline) = match (inline, name.len() > 2 && !name.starts_with("--")) {
                (None, true) if matches!(name.get(..2), Some("-r" | "-c" | "-e" | "-i")) => {
                    (name.get(..2).unwrap_or(name), name.get(2..))
                }
                _ => (name, inline),
            };
            let _ = opt;
            let value: Option<&SWord> = if inline.is_none() && PIP_VALUED.contains(&name) {
                let v = eff.get(i);
                i += 1;
                v
            } else {
                None
            };
            match name {
                "-r" | "--requirement" => p.requirements.extend(value.or(Some(w))),
                "-c" | "--constraint" => p.constraints = true,
                "--require-hashes" => p.require_hashes = true,
                "--no-cache-dir" | "--no-cache" => p.no_cache = true,
                "--extra-index-url" => p.extra_index.push(w),
                "--trusted-host" => p.trusted_host.push(w),
                _ => {}
            }
            continue;
        }
        if p.install.is_none() {
            if s == "install" || s == "sync" {
                p.install = Some(w);
                continue;
            }
            // Another subcommand (`pip download`, `pip freeze`).
            return None;
        }
        p.packages.push(w);
    }
    p.install?;
    Some(p)
}

/// Whether a requirement specifier pins one version (or is a local path, a file or a
/// VCS reference with a revision). Specifiers with variables cannot be judged: `None`.
#[must_use]
pub fn pip_pinned(spec: &str) -> Option<bool> {
    if spec.contains('$') {
        return None;
    }
    if spec.contains("===") || spec.contains("==") {
        // `pkg==1.*` is a range, not a pin.
        return Some(!spec.ends_with(".*"));
    }
    let lower = spec.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("git+").or_else(|| {
        lower
            .split_once(" @ git+")
            .or_else(|| lower.split_once("@git+"))
            .map(|(_, r)| r)
    }) {
        // git+https://host/repo.git@REV — the `@` after the host part names a revision.
        let path = rest.split_once("://").map_or(rest, |(_, p)| p);
        let path = path.split('#').next().unwrap_or(path);
        return Some(
            path.rsplit('/')
                .next()
                .is_some_and(|last| last.contains('@')),
        );
    }
    let is_local = spec.starts_with('.')
        || spec.starts_with('/')
        || spec.starts_with('~')
        || lower.ends_with(".whl")
        || lower.ends_with(".tar.gz")
        || lower.ends_with(".zip")
        || (spec.contains('/') && !spec.contains("://"));
    if is_local || lower.starts_with("file:") {
        return Some(true);
    }
    if lower.contains("://") {
        // A direct URL to an archive is fixed by its URL.
        return Some(true);
    }
    Some(false)
}

/// Model repository downloads in shell commands.
#[derive(Debug)]
pub struct ModelDownload<'c> {
    /// The word to point at.
    pub at: &'c SWord,
    pub what: String,
    /// Why it is not pinned.
    pub problem: &'static str,
}

#[must_use]
pub fn is_commit_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `huggingface-cli download REPO` / `hf download REPO` without a commit revision.
#[must_use]
pub fn hf_cli_download(cmd: &Command) -> Option<ModelDownload<'_>> {
    let eff = cmd.effective();
    let prog = basename(eff.first()?.as_str());
    if !matches!(prog, "huggingface-cli" | "hf") || eff.get(1)?.as_str() != "download" {
        return None;
    }
    let mut revision = None;
    let mut repo = None;
    let mut i = 2;
    while let Some(w) = eff.get(i) {
        let s = w.as_str();
        i += 1;
        if let Some(v) = s.strip_prefix("--revision=") {
            revision = Some(v.to_string());
        } else if s == "--revision" {
            revision = eff.get(i).map(|v| v.as_str().to_string());
            i += 1;
        } else if s.starts_with("--") {
            // Valued options of `download`; boolean ones are harmless to skip a word for
            // only when followed by another option, so list the valued ones.
            if matches!(
                s,
                "--repo-type"
                    | "--local-dir"
                    | "--cache-dir"
                    | "--token"
                    | "--include"
                    | "--exclude"
                    | "--max-workers"
                    | "--local-dir-use-symlinks"
            ) {
                // `--include` takes one or more patterns; the repo comes first anyway.
                i += 1;
            }
        } else if repo.is_none() {
            repo = Some(w);
        }
    }
    let at = repo.or(eff.get(1))?;
    let problem = match revision.as_deref() {
        None => "has no --revision",
        Some(r) if r.contains('$') || is_commit_sha(r) => return None,
        Some(_) => "pins a branch or tag, not a commit",
    };
    Some(ModelDownload {
        at,
        what: format!("`{prog} download {}`", at.as_str()),
        problem,
    })
}

/// `git clone https://huggingface.co/…` with no later checkout of a commit in the script.
#[must_use]
pub fn hf_git_clone<'c>(cmd: &'c Command, later: &[&Command]) -> Option<ModelDownload<'c>> {
    let eff = cmd.effective();
    if basename(eff.first()?.as_str()) != "git" || eff.get(1)?.as_str() != "clone" {
        return None;
    }
    let url = eff.iter().skip(2).find(|w| is_hf_url(w.as_str()))?;
    if eff.iter().any(|w| {
        w.as_str()
            .strip_prefix("--revision=")
            .is_some_and(is_commit_sha)
    }) {
        return None;
    }
    let checked_out = later.iter().any(|c| {
        let e = c.effective();
        basename(e.first().map_or("", |w| w.as_str())) == "git"
            && e.iter()
                .any(|w| matches!(w.as_str(), "checkout" | "reset" | "switch"))
            && e.iter().any(|w| {
                let s = w.as_str();
                (s.len() >= 7 && s.bytes().all(|b| b.is_ascii_hexdigit())) || s.contains('$')
            })
    });
    if checked_out {
        return None;
    }
    Some(ModelDownload {
        at: url,
        what: "`git clone` of a Hugging Face repository".into(),
        problem: "is not followed by `git checkout COMMIT`",
    })
}

fn is_hf_url(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.contains("huggingface.co/") || l.contains("://hf.co/")
}

/// `curl`/`wget` of a Hugging Face `resolve/BRANCH/…` URL.
#[must_use]
pub fn hf_url_fetch(cmd: &Command) -> Option<ModelDownload<'_>> {
    let eff = cmd.effective();
    let prog = basename(eff.first()?.as_str());
    if !matches!(prog, "curl" | "wget" | "aria2c") {
        return None;
    }
    for w in eff.iter().skip(1) {
        let s = w.as_str();
        if !is_hf_url(s) {
            continue;
        }
        if let Some((_, after)) = s.split_once("/resolve/") {
            let rev = after.split('/').next().unwrap_or("");
            if is_commit_sha(rev) || rev.contains('$') {
                continue;
            }
            return Some(ModelDownload {
                at: w,
                what: format!("`{prog}` of a Hugging Face file"),
                problem: "resolves a branch (`resolve/<branch>/`), not a commit",
            });
        }
    }
    None
}

/// Calls in Python code that download from the Hugging Face Hub without `revision=`:
/// returns (byte offset of the call, function name, problem).
#[must_use]
pub fn python_hub_downloads(code: &str) -> Vec<(usize, &'static str, &'static str)> {
    const CALLS: &[&str] = &[
        "from_pretrained",
        "snapshot_download",
        "hf_hub_download",
        "SentenceTransformer",
    ];
    let mut out = Vec::new();
    for &name in CALLS {
        let mut from = 0;
        while let Some(rel) = code.get(from..).and_then(|r| r.find(name)) {
            let at = from + rel;
            from = at + name.len();
            // A whole identifier followed by `(`.
            let before_ok = code
                .get(..at)
                .and_then(|b| b.chars().next_back())
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            let rest = code.get(from..).unwrap_or("");
            let Some(args) = rest.trim_start().strip_prefix('(') else {
                continue;
            };
            if !before_ok {
                continue;
            }
            let args = balanced_args(args);
            let first = args.trim_start();
            // Local directories are not downloads.
            if first.starts_with("\"/")
                || first.starts_with("'/")
                || first.starts_with("\"./")
                || first.starts_with("'./")
            {
                continue;
            }
            match keyword_arg(args, "revision") {
                None => out.push((at, name, "has no revision=")),
                Some(v) => {
                    let lit = v
                        .strip_prefix(['"', '\''])
                        .and_then(|v| v.strip_suffix(['"', '\'']));
                    if let Some(lit) = lit
                        && !is_commit_sha(lit)
                    {
                        out.push((at, name, "pins a branch or tag, not a commit"));
                    }
                }
            }
        }
    }
    out.sort_unstable();
    out
}

/// The argument text up to the `)` that closes the call.
fn balanced_args(s: &str) -> &str {
    let mut level = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '(' | '[' | '{' => level += 1,
                ')' | ']' | '}' => {
                    if level == 0 {
                        return s.get(..i).unwrap_or(s);
                    }
                    level -= 1;
                }
                _ => {}
            },
        }
    }
    s
}

/// The value text of `name=VALUE` among call arguments.
fn keyword_arg<'s>(args: &'s str, name: &str) -> Option<&'s str> {
    let mut from = 0;
    while let Some(rel) = args.get(from..).and_then(|r| r.find(name)) {
        let at = from + rel;
        from = at + name.len();
        let before_ok = args
            .get(..at)
            .and_then(|b| b.chars().next_back())
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let rest = args.get(from..).unwrap_or("").trim_start();
        if before_ok && let Some(v) = rest.strip_prefix('=').filter(|v| !v.starts_with('=')) {
            let v = v.trim_start();
            let end = v.find([',', ')']).unwrap_or(v.len());
            return Some(v.get(..end).unwrap_or(v).trim());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::Text;
    use crate::shell::Script;

    fn script(s: &str) -> Script {
        Script::parse(&Text::contiguous(s, 0), &[])
    }

    #[test]
    fn package_commands() {
        let s = script(
            "apt-get -o Acquire::Retries=3 install -y --no-install-recommends build-essential libssl-dev=3.0 curl",
        );
        let p = pkg_command(&s.commands[0]).unwrap();
        assert!(p.is_install());
        assert!(p.has_option("--no-install-recommends"));
        let names: Vec<_> = p.packages.iter().map(|w| w.as_str()).collect();
        assert_eq!(names, ["build-essential", "libssl-dev=3.0", "curl"]);
        assert_eq!(build_tool("libssl-dev=3.0"), Some("development package"));
        assert_eq!(build_tool("gcc-12"), Some("compiler"));
        assert_eq!(build_tool("curl"), None);
        let s = script("apk add --no-cache --virtual .build-deps gcc musl-dev");
        let p = pkg_command(&s.commands[0]).unwrap();
        assert_eq!(p.virtual_name.as_deref(), Some(".build-deps"));
        assert_eq!(p.packages.len(), 2);
    }

    #[test]
    fn pip_forms() {
        for (cmd, pkgs, reqs) in [
            ("pip install torch==2.3.0 transformers", 2, 0),
            (
                "python3 -m pip install --no-cache-dir -r requirements.txt",
                0,
                1,
            ),
            ("uv pip install --system -rreq.txt numpy", 1, 1),
            (
                "pip3 install -i https://pypi.org/simple --extra-index-url https://x vllm",
                1,
                0,
            ),
        ] {
            let s = script(cmd);
            let p = pip_install(&s.commands[0]).unwrap_or_else(|| panic!("{cmd}"));
            assert_eq!(p.packages.len(), pkgs, "{cmd}");
            assert_eq!(p.requirements.len(), reqs, "{cmd}");
        }
        assert!(pip_install(&script("pip download torch").commands[0]).is_none());
        assert_eq!(pip_pinned("torch==2.3.0"), Some(true));
        assert_eq!(pip_pinned("torch>=2"), Some(false));
        assert_eq!(pip_pinned("torch==2.*"), Some(false));
        assert_eq!(
            pip_pinned("git+https://github.com/x/y.git@abc123"),
            Some(true)
        );
        assert_eq!(pip_pinned("git+https://github.com/x/y.git"), Some(false));
        assert_eq!(pip_pinned("./dist/pkg.whl"), Some(true));
        assert_eq!(pip_pinned("$PKG"), None);
    }

    #[test]
    fn model_downloads() {
        let s = script("huggingface-cli download meta-llama/Llama-3-8B --local-dir /models");
        assert!(hf_cli_download(&s.commands[0]).is_some());
        let s = script(&format!("hf download org/m --revision {}", "a".repeat(40)));
        assert!(hf_cli_download(&s.commands[0]).is_none());
        let s = script("hf download org/m --revision main");
        assert_eq!(
            hf_cli_download(&s.commands[0]).unwrap().problem,
            "pins a branch or tag, not a commit"
        );
        let code = "AutoModel.from_pretrained('gpt2'); AutoTokenizer.from_pretrained(\"gpt2\", revision=\"0123456789012345678901234567890123456789\"); m.from_pretrained('/models/x')";
        let found = python_hub_downloads(code);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 10);
        let s = script("wget https://huggingface.co/org/m/resolve/main/model.safetensors");
        assert!(hf_url_fetch(&s.commands[0]).is_some());
    }
}
