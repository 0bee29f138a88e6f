use crate::analysis::Run;
use crate::commands::{Manager, pip_install, pkg_command};
use crate::parser::{Kind, key_values};
use crate::rules::Ctx;
use crate::shell::basename;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags package-manager caches left in a layer of the final image:
    /// - `apt-get install` without `rm -rf /var/lib/apt/lists/*` in the same `RUN`;
    /// - `apk add` without `--no-cache` (or `rm -rf /var/cache/apk/*`);
    /// - `dnf`/`yum`/`microdnf install` without `… clean all` in the same `RUN`;
    /// - `pip install` without `--no-cache-dir` (`uv pip install` without `--no-cache`),
    ///   unless `PIP_NO_CACHE_DIR` (`UV_NO_CACHE`) is set by an earlier `ENV`.
    ///
    /// A `RUN --mount=type=cache` over the cache directory satisfies the rule, since the
    /// cache then never reaches a layer. Build stages that are not part of the final image
    /// are not checked.
    ///
    /// ## Why is this bad?
    /// A later `RUN rm` cannot shrink an earlier layer: the cache stays in the image that
    /// every node pulls. For ML images, pip's wheel cache alone is often gigabytes (a CUDA
    /// build of `torch` is over 2 GB, cached once more in `/root/.cache/pip`). Stale apt
    /// lists also make a later `apt-get install` in a derived image install outdated
    /// package versions.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg
    /// RUN pip install torch==2.3.1
    /// ```
    ///
    /// ## Fix
    /// ```dockerfile
    /// RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg \
    ///  && rm -rf /var/lib/apt/lists/*
    /// RUN pip install --no-cache-dir torch==2.3.1
    /// # or keep a cache across builds without putting it in the image:
    /// RUN --mount=type=cache,target=/root/.cache/pip pip install torch==2.3.1
    /// ```
    pub static RULE = {
        code: "PAL505",
        name: "package-cache-in-image",
        family: "dockerfile",
        severity: Low,
        summary: "Package-manager caches must not be left in the final image",
        references: [
            Cis "Docker 4.3" "https://www.cisecurity.org/benchmark/docker",
            Doc "hadolint DL3009" "https://github.com/hadolint/hadolint/wiki/DL3009",
            Doc "hadolint DL3019" "https://github.com/hadolint/hadolint/wiki/DL3019",
            Doc "hadolint DL3042" "https://github.com/hadolint/hadolint/wiki/DL3042",
            Doc "hadolint DL3040" "https://github.com/hadolint/hadolint/wiki/DL3040",
        ],
    };
}

fn removes(run: &Run, prefix: &str) -> bool {
    run.script.commands.iter().any(|c| {
        basename(c.program()) == "rm"
            && c.effective().iter().any(|w| w.as_str().starts_with(prefix))
    })
}

fn cache_mounted(run: &Run, dirs: &[&str]) -> bool {
    run.cache_mounts.iter().any(|t| {
        dirs.iter().any(|d| {
            t.trim_end_matches('/') == *d || d.starts_with(t.trim_end_matches('/')) && !t.is_empty()
        })
    })
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    // `ENV PIP_NO_CACHE_DIR=…` seen so far in the final image (stage order = build order).
    let mut pip_env = false;
    let mut uv_env = false;
    for (i, ins) in a.final_instructions() {
        if ins.kind == Kind::Env {
            for kv in key_values(ins) {
                match kv.key.as_str() {
                    "PIP_NO_CACHE_DIR" => pip_env = true,
                    "UV_NO_CACHE" => uv_env = true,
                    _ => {}
                }
            }
            continue;
        }
        let Some(run) = a.runs.get(&i) else { continue };
        let mut reported = [false; 4];
        for cmd in &run.script.commands {
            if let Some(p) = pkg_command(cmd)
                && p.is_install()
            {
                let (slot, ok, msg) = match p.manager {
                    Manager::Apt => (
                        0,
                        removes(run, "/var/lib/apt/lists")
                            || cache_mounted(run, &["/var/lib/apt", "/var/lib/apt/lists"]),
                        "`apt-get install` without `rm -rf /var/lib/apt/lists/*` in the same RUN leaves the package lists in the layer",
                    ),
                    Manager::Apk => (
                        1,
                        p.has_option("--no-cache")
                            || removes(run, "/var/cache/apk")
                            || cache_mounted(run, &["/var/cache/apk"]),
                        "`apk add` without --no-cache leaves the package index in /var/cache/apk",
                    ),
                    Manager::Dnf => (
                        2,
                        run.script.commands.iter().any(|c| {
                            pkg_command(c).is_some_and(|q| {
                                q.manager == Manager::Dnf && q.verb.as_str() == "clean"
                            })
                        }) || removes(run, "/var/cache/yum")
                            || removes(run, "/var/cache/dnf")
                            || cache_mounted(run, &["/var/cache/dnf", "/var/cache/yum"]),
                        "`dnf`/`yum install` without `clean all` in the same RUN leaves the package cache in the layer",
                    ),
                    Manager::Conda => continue,
                };
                if !ok && !reported[slot] {
                    reported[slot] = true;
                    cx.report(&RULE, i, p.verb.start, msg);
                }
            }
            if let Some(p) = pip_install(cmd)
                && !p.no_cache
                && !reported[3]
            {
                let (env, dirs, fix): (bool, &[&str], &str) = if p.uv {
                    (uv_env, &["/root/.cache/uv", "/root/.cache"], "--no-cache")
                } else {
                    (
                        pip_env,
                        &["/root/.cache/pip", "/root/.cache"],
                        "--no-cache-dir",
                    )
                };
                let purged = run.script.commands.iter().any(|c| {
                    let e = c.effective();
                    e.iter().any(|w| w.as_str() == "cache")
                        && e.iter().any(|w| w.as_str() == "purge")
                }) || removes(run, "/root/.cache");
                if !env && !purged && !cache_mounted(run, dirs) {
                    reported[3] = true;
                    let at = p.install.map_or(ins.src, |w| w.start);
                    cx.report(
                        &RULE,
                        i,
                        at,
                        format!(
                            "`{}install` without {fix} keeps downloaded wheels in the layer; add {fix} or mount a build cache",
                            if p.uv { "uv pip " } else { "pip " }
                        ),
                    );
                }
            }
        }
    }
}
