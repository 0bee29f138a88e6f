//! The attack surface of an image (what DockerSlim trims): shells, package managers,
//! compilers, debuggers and download/tunnel tools on the `PATH` of the final filesystem,
//! setuid/setgid executables, world-writable paths, the user, exposed ports and the size of
//! each layer, plus a short plan towards a minimal or distroless image.
//!
//! Tools are found by name in the usual executable directories of the final view (symlinks
//! count when they resolve inside the image, as busybox applets do); nothing is run.

use serde::Serialize;

use crate::fs::{FileView, Kind};
use crate::scan::LayerInfo;
use crate::spec::ImageConfig;

/// Directories searched for tools, as a default `PATH` would.
pub const BIN_DIRS: &[&str] = &[
    "bin",
    "sbin",
    "usr/bin",
    "usr/sbin",
    "usr/local/bin",
    "usr/local/sbin",
    "opt/conda/bin",
];

const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox",
];

const PACKAGE_MANAGERS: &[&str] = &[
    "apt",
    "apt-get",
    "aptitude",
    "dpkg",
    "apk",
    "yum",
    "dnf",
    "microdnf",
    "rpm",
    "zypper",
    "tdnf",
    "pip",
    "pip3",
    "pipx",
    "uv",
    "poetry",
    "conda",
    "mamba",
    "micromamba",
    "npm",
    "npx",
    "yarn",
    "pnpm",
    "gem",
    "cargo",
];

const COMPILERS: &[&str] = &[
    "gcc", "g++", "cc", "c++", "cpp", "clang", "clang++", "gfortran", "rustc", "go", "javac",
    "nvcc", "as", "ld", "make", "cmake", "ninja",
];

const DEBUGGERS: &[&str] = &[
    "gdb",
    "lldb",
    "strace",
    "ltrace",
    "perf",
    "valgrind",
    "tcpdump",
    "bpftrace",
    "gdbserver",
];

const NETWORK_TOOLS: &[&str] = &[
    "curl", "wget", "nc", "ncat", "netcat", "socat", "ssh", "scp", "sftp", "telnet", "ftp", "nmap",
    "sshd",
];

/// The category a tool's file name falls in. Versioned names count (`gcc-12`, `pip3.11`,
/// `python3-config` does not).
fn category(name: &str) -> Option<&'static str> {
    let base = |list: &[&str]| {
        list.iter().any(|t| {
            name == *t
                || name.strip_prefix(t).is_some_and(|rest| {
                    let rest = rest.strip_prefix(['-', '.']).unwrap_or(rest);
                    !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                })
        })
    };
    if base(SHELLS) {
        Some("shell")
    } else if base(PACKAGE_MANAGERS) {
        Some("package manager")
    } else if base(COMPILERS) {
        Some("compiler")
    } else if base(DEBUGGERS) {
        Some("debugger")
    } else if base(NETWORK_TOOLS) {
        Some("network tool")
    } else {
        None
    }
}

/// A tool found on the `PATH`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tool {
    pub name: String,
    /// Path in the image, without the leading `/`.
    pub path: String,
    /// Layer that provides the executable.
    pub layer: usize,
}

/// A setuid or setgid executable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpecialFile {
    pub path: String,
    /// Permission bits, `0o4755`.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub layer: usize,
}

/// Size of one layer and what made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerSize {
    pub digest: String,
    pub size: u64,
    pub uncompressed: u64,
    pub entries: usize,
    /// `null` when the config history does not say (reports keep every key present).
    pub created_by: Option<String>,
}

/// Everything an attacker who gets a shell in the container would find useful.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttackSurface {
    /// The config's `User` (empty: root).
    pub user: String,
    pub runs_as_root: bool,
    pub shells: Vec<Tool>,
    pub package_managers: Vec<Tool>,
    pub compilers: Vec<Tool>,
    pub debuggers: Vec<Tool>,
    pub network_tools: Vec<Tool>,
    pub setuid: Vec<SpecialFile>,
    /// World-writable directories without the sticky bit, and world-writable files.
    pub world_writable: Vec<SpecialFile>,
    pub exposed_ports: Vec<String>,
    /// What the command line says about listening: `--port 8000`, `--bind 0.0.0.0:8080`,
    /// `--host 0.0.0.0` (all interfaces).
    pub listen_hints: Vec<String>,
    pub layers: Vec<LayerSize>,
    /// Steps towards a minimal or distroless image, most effective first.
    pub plan: Vec<String>,
}

/// Listening hints in a command line: port flags, `HOST:PORT` binds and all-interface hosts.
/// Shell-form commands (`sh -c "…"`) are split on white space.
#[must_use]
pub fn listen_hints(command: &[&str]) -> Vec<String> {
    let words: Vec<&str> = command.iter().flat_map(|a| a.split_whitespace()).collect();
    let port_ok = |p: &str| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit());
    let mut out = Vec::new();
    let mut push = |h: String| {
        if !out.contains(&h) {
            out.push(h);
        }
    };
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).copied().unwrap_or("");
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v)),
            _ => (*w, None),
        };
        let value = inline.unwrap_or(next);
        match flag {
            "--port" | "-p" | "--http-port" | "--grpc-port" | "--rest_api_port"
            | "--listen-port"
                if port_ok(value) =>
            {
                push(format!("port {value} ({flag})"));
            }
            "--host" | "--ip" | "--address" | "--listen-address"
                if matches!(value, "0.0.0.0" | "::" | "[::]" | "*") =>
            {
                push(format!("all interfaces ({flag} {value})"));
            }
            "--bind" | "-b" | "--listen" | "--http-address" => {
                if let Some((host, port)) = value.rsplit_once(':')
                    && port_ok(port)
                {
                    let all = matches!(host, "" | "0.0.0.0" | "[::]" | "*");
                    push(format!(
                        "port {port}{} ({flag} {value})",
                        if all { " on all interfaces" } else { "" }
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether `user` (`name`, `uid`, `uid:gid`, empty) means root.
#[must_use]
pub fn is_root_user(user: &str) -> bool {
    let u = user.split(':').next().unwrap_or("").trim();
    u.is_empty() || u == "root" || u == "0"
}

/// Paths the kernel provides at run time: their modes in a layer mean nothing.
fn runtime_path(path: &str) -> bool {
    ["proc", "sys", "dev", "run"]
        .iter()
        .any(|d| path == *d || path.strip_prefix(d).is_some_and(|r| r.starts_with('/')))
}

impl AttackSurface {
    /// Computes the surface of a merged view. `has_config` is false for a bare root
    /// filesystem (`dir:`), which has no user or ports to judge.
    #[must_use]
    pub fn of(
        view: &FileView,
        config: &ImageConfig,
        layers: &[LayerInfo],
        has_config: bool,
    ) -> AttackSurface {
        let mut s = AttackSurface {
            user: config.config.user.clone().unwrap_or_default(),
            ..AttackSurface::default()
        };
        s.runs_as_root = has_config && is_root_user(&s.user);
        let mut seen = std::collections::BTreeSet::new();
        for dir in BIN_DIRS {
            for (path, node) in view.under(dir) {
                let Some((parent, name)) = path.rsplit_once('/') else {
                    continue;
                };
                if parent != *dir {
                    continue;
                }
                let Some(cat) = category(name) else {
                    continue;
                };
                // A tool is there when the name resolves to an executable file.
                let exec = match view.resolve(path) {
                    Ok(Some((_, n))) => n.kind == Kind::File && n.mode & 0o111 != 0,
                    _ => false,
                };
                // `/bin` → `/usr/bin` on merged-/usr systems: count a tool once.
                if !exec || !seen.insert((cat, name.to_string())) {
                    continue;
                }
                let t = Tool {
                    name: name.to_string(),
                    path: path.to_string(),
                    layer: node.layer,
                };
                match cat {
                    "shell" => s.shells.push(t),
                    "package manager" => s.package_managers.push(t),
                    "compiler" => s.compilers.push(t),
                    "debugger" => s.debuggers.push(t),
                    _ => s.network_tools.push(t),
                }
            }
        }
        for (path, node) in view.iter() {
            if runtime_path(path) {
                continue;
            }
            let special = |n: &crate::fs::Node| SpecialFile {
                path: path.to_string(),
                mode: n.mode & 0o7777,
                uid: n.uid,
                gid: n.gid,
                layer: n.layer,
            };
            match node.kind {
                Kind::File if node.mode & 0o6000 != 0 && node.mode & 0o111 != 0 => {
                    s.setuid.push(special(node));
                }
                Kind::File if node.mode & 0o002 != 0 => s.world_writable.push(special(node)),
                Kind::Dir if node.mode & 0o002 != 0 && node.mode & 0o1000 == 0 => {
                    s.world_writable.push(special(node));
                }
                _ => {}
            }
        }
        s.exposed_ports = config
            .config
            .exposed_ports
            .as_ref()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let command: Vec<&str> = config
            .config
            .entrypoint
            .iter()
            .flatten()
            .chain(config.config.cmd.iter().flatten())
            .map(String::as_str)
            .collect();
        s.listen_hints = listen_hints(&command);
        s.layers = layers
            .iter()
            .map(|l| LayerSize {
                digest: l.digest.clone(),
                size: l.size,
                uncompressed: l.uncompressed,
                entries: l.entries,
                created_by: l.created_by.clone(),
            })
            .collect();
        s.plan = s.plan();
        s
    }

    fn plan(&self) -> Vec<String> {
        let names = |tools: &[Tool]| {
            tools
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut plan = Vec::new();
        if !self.compilers.is_empty() || !self.debuggers.is_empty() {
            plan.push(format!(
                "build in a separate stage and COPY --from only the artifacts: the final image has build and debug tools ({})",
                names(&[self.compilers.clone(), self.debuggers.clone()].concat())
            ));
        }
        if !self.shells.is_empty() || !self.package_managers.is_empty() {
            plan.push(format!(
                "move to a distroless or minimal base (gcr.io/distroless/python3, cgr.dev/chainguard/python, ubi-micro, or FROM scratch for static binaries): it drops the shells ({}) and package managers ({}) an intruder would use",
                if self.shells.is_empty() { "none".into() } else { names(&self.shells) },
                if self.package_managers.is_empty() { "none".into() } else { names(&self.package_managers) }
            ));
        }
        if !self.network_tools.is_empty() {
            plan.push(format!(
                "remove download and tunnel tools ({}) or fetch at build time in a build stage",
                names(&self.network_tools)
            ));
        }
        if !self.setuid.is_empty() {
            plan.push(format!(
                "strip setuid/setgid bits ({} files: RUN find / -xdev -perm /6000 -type f -exec chmod a-s {{}} +) and run with allowPrivilegeEscalation: false",
                self.setuid.len()
            ));
        }
        if !self.world_writable.is_empty() {
            plan.push(format!(
                "remove world-write permission from {} paths (chmod o-w), or make them sticky like /tmp",
                self.world_writable.len()
            ));
        }
        if self.runs_as_root {
            plan.push(
                "add USER with a numeric non-root UID (USER 65532) so runAsNonRoot can be enforced"
                    .into(),
            );
        }
        if let Some((i, big)) = self
            .layers
            .iter()
            .enumerate()
            .max_by_key(|(_, l)| l.uncompressed)
        {
            let total: u64 = self.layers.iter().map(|l| l.uncompressed).sum();
            if self.layers.len() > 1 && total > 0 && big.uncompressed * 2 > total {
                plan.push(format!(
                    "layer {} holds {}% of the image ({}): check it for caches and build leftovers (apt lists, pip cache, model weights better mounted at run time)",
                    i + 1,
                    big.uncompressed * 100 / total,
                    big.created_by.as_deref().unwrap_or("no history")
                ));
            }
        }
        plan
    }

    /// One-line summaries for a report's notices.
    #[must_use]
    pub fn summary_lines(&self, reference: &str) -> Vec<String> {
        let list = |tools: &[Tool]| {
            if tools.is_empty() {
                "none".to_string()
            } else {
                tools
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        };
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        let mut out = vec![format!(
            "{reference}: attack surface: user {}; shells: {}; package managers: {}; compilers: {}; debuggers: {}; network tools: {}; setuid/setgid: {}; world-writable: {}; exposed ports: {}; listening: {}",
            if self.user.is_empty() {
                "root (unset)"
            } else {
                &self.user
            },
            list(&self.shells),
            list(&self.package_managers),
            list(&self.compilers),
            list(&self.debuggers),
            list(&self.network_tools),
            self.setuid.len(),
            self.world_writable.len(),
            if self.exposed_ports.is_empty() {
                "none".to_string()
            } else {
                self.exposed_ports.join(" ")
            },
            if self.listen_hints.is_empty() {
                "no hint in the command".to_string()
            } else {
                self.listen_hints.join(", ")
            },
        )];
        let layers: Vec<String> = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let by = l.created_by.as_deref().unwrap_or("");
                let by: String = by.chars().take(60).collect();
                format!(
                    "#{} {:.1} MiB ({:.1} MiB stored) {by}",
                    i + 1,
                    mib(l.uncompressed),
                    mib(l.size)
                )
            })
            .collect();
        if !layers.is_empty() {
            out.push(format!("{reference}: layer sizes: {}", layers.join("; ")));
        }
        for (i, step) in self.plan.iter().enumerate() {
            out.push(format!("{reference}: to minimise ({}): {step}", i + 1));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories() {
        for (n, c) in [
            ("bash", "shell"),
            ("apt-get", "package manager"),
            ("pip3.11", "package manager"),
            ("gcc-12", "compiler"),
            ("gdb", "debugger"),
            ("curl", "network tool"),
        ] {
            assert_eq!(category(n), Some(c), "{n}");
        }
        for n in [
            "python3-config",
            "gccgo-wrapper",
            "shasum",
            "ldd",
            "gold",
            "pipe",
        ] {
            assert_eq!(category(n), None, "{n}");
        }
        assert_eq!(
            listen_hints(&["uvicorn", "app:app", "--host", "0.0.0.0", "--port=8000"]),
            ["all interfaces (--host 0.0.0.0)", "port 8000 (--port)"]
        );
        assert_eq!(
            listen_hints(&["sh", "-c", "gunicorn -b 0.0.0.0:8080 app:app"]),
            ["port 8080 on all interfaces (-b 0.0.0.0:8080)"]
        );
        assert_eq!(
            listen_hints(&[
                "tritonserver",
                "--http-port",
                "8000",
                "--model-repository=/m"
            ]),
            ["port 8000 (--http-port)"]
        );
        assert!(listen_hints(&["python", "train.py", "--epochs", "3", "-p", "x"]).is_empty());
        assert!(is_root_user("") && is_root_user("0:0") && is_root_user("root"));
        assert!(!is_root_user("1000") && !is_root_user("app:app"));
    }
}
