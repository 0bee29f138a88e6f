use crate::commands::pip_install;
use crate::rules::Ctx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `pip install -r FILE` (and `-c FILE`) without `--require-hashes`.
    ///
    /// pip also switches to hash-checking mode by itself when *every* line of the file has
    /// a `--hash`; this rule cannot see the file and asks for the flag, which makes the
    /// intent explicit and turns a missing hash into an error instead of a silent fallback.
    ///
    /// ## Why is this bad?
    /// Version pins say *which version* but not *which file*: a compromised or confused
    /// index (see `pip-extra-index-url`) can serve a different wheel for the same version.
    /// Hashes bind the lock file to the exact artifacts that were reviewed.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN pip install --no-cache-dir -r requirements.txt
    /// ```
    ///
    /// ## Fix
    /// Generate hashes (`pip-compile --generate-hashes`, `uv pip compile --generate-hashes`,
    /// `poetry export`) and require them:
    /// ```dockerfile
    /// RUN pip install --no-cache-dir --require-hashes -r requirements.lock
    /// ```
    pub static RULE = {
        code: "PAL512",
        name: "pip-without-hashes",
        family: "dockerfile",
        severity: Low,
        summary: "pip install from a requirements file should use --require-hashes",
        references: [
            Cis "Docker 4.11" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
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
            if p.require_hashes {
                continue;
            }
            let Some(file) = p.requirements.first() else {
                continue;
            };
            // `--requirement=FILE` and `-rFILE` carry the file in the option word.
            let s = file.as_str();
            let name = s
                .strip_prefix("--requirement=")
                .or_else(|| s.strip_prefix("-r"))
                .unwrap_or(s);
            cx.report(
                &RULE,
                run.instr,
                file.start,
                format!(
                    "`pip install -r {}` without --require-hashes: versions are pinned but the files are not",
                    name
                ),
            );
        }
    }
}
