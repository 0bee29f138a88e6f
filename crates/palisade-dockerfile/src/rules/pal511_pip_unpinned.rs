use crate::commands::{pip_install, pip_pinned};
use crate::rules::Ctx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `pip install` (also `pip3`, `python -m pip`, `uv pip`) of packages named on the
    /// command line without an exact version: `torch`, `transformers>=4.40`, `vllm~=0.6`,
    /// `numpy==1.*`, or a `git+https://…` URL without `@revision`. Exact pins
    /// (`torch==2.3.1`), local paths and wheels, direct archive URLs and installs constrained
    /// by `-c constraints.txt` pass; packages installed from `-r requirements.txt` are the
    /// business of `pip-without-hashes`. Every stage counts: what a build stage installs is
    /// what it builds with.
    ///
    /// ## Why is this bad?
    /// An unpinned install takes whatever version is newest at build time. ML stacks break
    /// silently this way (a new `transformers` or `numpy` changes numerics or APIs), and a
    /// malicious release of a popular package — as happened to `torchtriton` and
    /// `ultralytics` — is installed by the next build without any change to the repository.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN pip install --no-cache-dir torch transformers accelerate
    /// ```
    ///
    /// ## Fix
    /// Pin exact versions, or better install from a lock file with hashes:
    /// ```dockerfile
    /// RUN pip install --no-cache-dir torch==2.3.1 transformers==4.44.2 accelerate==0.33.0
    /// # or
    /// RUN pip install --no-cache-dir --require-hashes -r requirements.lock
    /// ```
    pub static RULE = {
        code: "PAL511",
        name: "pip-unpinned",
        family: "dockerfile",
        severity: Medium,
        summary: "pip install must pin exact versions",
        references: [
            Cis "Docker 4.11" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Doc "hadolint DL3013" "https://github.com/hadolint/hadolint/wiki/DL3013",
            Attack "T1195.001" "https://attack.mitre.org/techniques/T1195/001/",
            Atlas "AML.T0010.001" "https://atlas.mitre.org/techniques/AML.T0010.001",
        ],
    };
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    for run in a.runs_in_order() {
        for cmd in &run.script.commands {
            let Some(p) = pip_install(cmd) else { continue };
            if p.constraints {
                continue;
            }
            let unpinned: Vec<_> = p
                .packages
                .iter()
                .filter(|w| pip_pinned(w.as_str()) == Some(false))
                .collect();
            let Some(first) = unpinned.first() else {
                continue;
            };
            let names: Vec<&str> = unpinned.iter().map(|w| w.as_str()).collect();
            cx.report(
                &RULE,
                run.instr,
                first.start,
                format!(
                    "`pip install` of packages without an exact version: {}; pin them (`name==version`) or install from a hashed lock file",
                    names.join(", ")
                ),
            );
        }
    }
}
