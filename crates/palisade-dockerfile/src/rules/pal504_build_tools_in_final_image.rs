use std::collections::HashMap;

use crate::commands::{Manager, build_base_image, build_tool, package_name, pkg_command};
use crate::parser::SrcOffset;
use crate::rules::Ctx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags compilers, `-dev`/`-devel` header packages and build tools (`build-essential`,
    /// `build-base`, `gcc`, `g++`, `clang`, `make`, `cmake`, `gfortran`, `cuda-nvcc`,
    /// `cuda-toolkit`, …) installed by `apt-get`, `apk`, `dnf`/`yum` or `conda` in a stage of
    /// the final image and not removed again (`apt-get purge`, `apk del` of the package or of
    /// its `--virtual` group) later in that image. It also flags a final image based on an
    /// image that ships a toolchain: CUDA and PyTorch `-devel` tags, and the full `python`,
    /// `node` and `ruby` images (built on `buildpack-deps`), `golang`, `rust`, `gcc`.
    ///
    /// ## Why is this bad?
    /// A compiler in a serving image lets an attacker who gets code execution build exploits
    /// and kernel modules in place, and header packages pull in hundreds of megabytes that
    /// scanners will report vulnerabilities in. `nvidia/cuda:*-devel` is several gigabytes
    /// larger than `*-runtime` and adds nvcc for nothing at inference time.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.11
    /// RUN apt-get update && apt-get install -y build-essential libpq-dev
    /// RUN pip install --no-cache-dir -r requirements.txt
    /// ```
    ///
    /// ## Fix
    /// Build in a separate stage and copy only the results into a slim or runtime base:
    /// ```dockerfile
    /// FROM python:3.11 AS build
    /// RUN apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev
    /// RUN pip wheel --wheel-dir /wheels -r requirements.txt
    /// FROM python:3.11-slim
    /// COPY --from=build /wheels /wheels
    /// RUN pip install --no-cache-dir --no-index /wheels/*
    /// ```
    pub static RULE = {
        code: "PAL504",
        name: "build-tools-in-final-image",
        family: "dockerfile",
        severity: Medium,
        summary: "Compilers, -dev packages and build tools must not be in the final image",
        references: [
            Cis "Docker 4.3" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
        ],
    };
}

struct Installed {
    instr: usize,
    at: SrcOffset,
    /// `apk --virtual` group the package was installed in.
    group: Option<String>,
    reason: &'static str,
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    if let Some(&root) = a.final_chain.first()
        && let Some(st) = a.stages.get(root)
        && let Some(img) = st.external_image()
        && let Some(why) = build_base_image(img.short_name(), img.tag.as_deref())
    {
        cx.report(
            &RULE,
            st.from,
            st.base_src,
            format!(
                "the final image is based on `{}`, {why}; use a slim or -runtime variant for the final stage and build in an earlier stage",
                st.base.as_deref().unwrap_or(&st.base_raw)
            ),
        );
    }
    // Package name → where it was installed, in build order; removals delete entries.
    let mut installed: HashMap<String, (String, Installed)> = HashMap::new();
    for run in a.runs_in_order() {
        if !a.in_final(run.instr) {
            continue;
        }
        for cmd in &run.script.commands {
            let Some(p) = pkg_command(cmd) else { continue };
            if p.is_install() {
                for w in &p.packages {
                    if let Some(reason) = build_tool(w.as_str()) {
                        let name = package_name(w.as_str()).to_ascii_lowercase();
                        installed.insert(
                            name,
                            (
                                w.as_str().to_string(),
                                Installed {
                                    instr: run.instr,
                                    at: w.start,
                                    group: p.virtual_name.clone(),
                                    reason,
                                },
                            ),
                        );
                    }
                }
            } else if p.is_removal() {
                for w in &p.packages {
                    let name = package_name(w.as_str()).to_ascii_lowercase();
                    installed.remove(&name);
                    if p.manager == Manager::Apk {
                        installed.retain(|_, (_, i)| i.group.as_deref() != Some(name.as_str()));
                    }
                }
            }
        }
    }
    // One finding per install site, naming every build tool it left behind.
    let mut by_site: Vec<(usize, SrcOffset, Vec<String>)> = Vec::new();
    let mut left: Vec<(String, Installed)> = installed.into_values().collect();
    left.sort_by_key(|(_, i)| (i.instr, i.at));
    for (spec, inst) in left {
        let label = format!("{spec} ({})", inst.reason);
        match by_site.last_mut() {
            Some((instr, _, names)) if *instr == inst.instr => names.push(label),
            _ => by_site.push((inst.instr, inst.at, vec![label])),
        }
    }
    for (instr, at, names) in by_site {
        let stage = a.stage(instr).map(|s| s.label()).unwrap_or_default();
        cx.report(
            &RULE,
            instr,
            at,
            format!(
                "installs build tools into the final image (stage `{stage}`): {}; build in an earlier stage and COPY only the results",
                names.join(", ")
            ),
        );
    }
}
