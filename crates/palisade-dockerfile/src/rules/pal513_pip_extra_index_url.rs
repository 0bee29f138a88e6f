use crate::commands::pip_install;
use crate::parser::{Kind, key_values};
use crate::rules::Ctx;
use crate::shell::basename;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `pip install --extra-index-url` (also `uv pip`), `ENV PIP_EXTRA_INDEX_URL` /
    /// `UV_EXTRA_INDEX_URL`, and `pip config set global.extra-index-url`, in any stage.
    ///
    /// ## Why is this bad?
    /// With an extra index, pip considers every index for every package and picks the
    /// highest version wherever it is. Anyone who registers your internal package name on
    /// PyPI with a higher version gets their code installed: dependency confusion. The
    /// PyTorch nightly compromise of December 2022 (`torchtriton`) worked exactly like
    /// this, through `--extra-index-url https://download.pytorch.org/whl/nightly`.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN pip install --extra-index-url https://pypi.corp.example/simple ml-internal==1.4
    /// ```
    ///
    /// ## Fix
    /// Use one `--index-url` that serves both internal packages and a vetted PyPI mirror
    /// (a proxy repository), or `uv` with an explicit per-package `index` and
    /// `--index-strategy first-index`; and install with `--require-hashes`.
    pub static RULE = {
        code: "PAL513",
        name: "pip-extra-index-url",
        family: "dockerfile",
        severity: High,
        summary: "Do not install Python packages with --extra-index-url",
        references: [
            Nist "SP 800-190 4.1.5" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1195.001" "https://attack.mitre.org/techniques/T1195/001/",
            Atlas "AML.T0010.001" "https://atlas.mitre.org/techniques/AML.T0010.001",
            Doc "PyTorch: compromised nightly dependency" "https://pytorch.org/blog/compromised-nightly-dependency/",
        ],
    };
}

const MSG: &str = "lets packages come from whichever index has the highest version (dependency confusion); use a single --index-url that proxies PyPI";

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    for (i, ins) in a.df.instructions.iter().enumerate() {
        if ins.kind != Kind::Env {
            continue;
        }
        for kv in key_values(ins) {
            if matches!(
                kv.key.as_str(),
                "PIP_EXTRA_INDEX_URL" | "UV_EXTRA_INDEX_URL"
            ) {
                cx.report(&RULE, i, kv.key_src, format!("ENV {} {MSG}", kv.key));
            }
        }
    }
    for run in a.runs_in_order() {
        for cmd in &run.script.commands {
            if let Some(p) = pip_install(cmd) {
                for w in &p.extra_index {
                    cx.report(
                        &RULE,
                        run.instr,
                        w.start,
                        format!("`--extra-index-url` {MSG}"),
                    );
                }
                continue;
            }
            let eff = cmd.effective();
            let is_pip = eff
                .first()
                .is_some_and(|w| basename(w.as_str()).starts_with("pip"));
            if is_pip
                && eff.iter().any(|w| w.as_str() == "config")
                && let Some(w) = eff.iter().find(|w| w.as_str().ends_with("extra-index-url"))
            {
                cx.report(
                    &RULE,
                    run.instr,
                    w.start,
                    format!("`pip config set {}` {MSG}", w.as_str()),
                );
            }
        }
    }
}
