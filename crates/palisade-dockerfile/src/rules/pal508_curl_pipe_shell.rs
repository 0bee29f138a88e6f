use crate::rules::Ctx;
use crate::shell::{Command, SWord, basename, is_python, is_shell};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `RUN` commands that download a script and execute it without looking at it:
    /// `curl … | sh`, `wget -qO- … | sudo bash -s -- …`, `curl … | python3 -`, and the
    /// substitution forms `bash <(curl …)` and `sh -c "$(curl …)"`, in any stage, also
    /// inside `sh -c '…'` and `RUN <<EOF` scripts. A pipe into an interpreter that runs a
    /// script *file* or `-c CODE` (such as `curl … | python3 -c 'import json…'`) reads data,
    /// not code, and is not flagged.
    ///
    /// ## Why is this bad?
    /// The script is whatever the server returns at build time: a compromised CDN, a
    /// hijacked domain or a man in the middle of a `http://` URL runs code as root in the
    /// build, and the result is baked into the image. Installers for ML tooling (`uv`,
    /// `ollama`, `conda`, CUDA repos) are common targets because they are fetched this way.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN curl -fsSL https://ollama.com/install.sh | sh
    /// ```
    ///
    /// ## Fix
    /// Download a pinned version, verify its checksum or signature, then run it:
    /// ```dockerfile
    /// ADD --checksum=sha256:<sha256> https://example.com/install-1.2.3.sh /tmp/install.sh
    /// RUN sh /tmp/install.sh && rm /tmp/install.sh
    /// ```
    /// or install from a package repository whose signing key is pinned.
    pub static RULE = {
        code: "PAL508",
        name: "curl-pipe-shell",
        family: "dockerfile",
        severity: High,
        summary: "Do not pipe downloaded scripts into a shell",
        references: [
            Cis "Docker 4.11" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1195.002" "https://attack.mitre.org/techniques/T1195/002/",
            Attack "T1059.004" "https://attack.mitre.org/techniques/T1059/004/",
        ],
    };
}

fn is_fetcher(prog: &str) -> bool {
    matches!(
        prog,
        "curl" | "wget" | "fetch" | "http" | "https" | "aria2c"
    )
}

fn is_interpreter(prog: &str) -> bool {
    is_shell(prog) || is_python(prog) || matches!(prog, "perl" | "ruby" | "node" | "php")
}

/// Whether an interpreter reads its program from standard input: no script file and no
/// `-c`/`-e` code (`bash`, `bash -s -- args`, `python3 -`).
fn reads_stdin(eff: &[SWord]) -> bool {
    for w in eff.iter().skip(1) {
        let s = w.as_str();
        if s == "--" || s == "-" || s == "-s" {
            return true;
        }
        if s == "-c" || s == "-e" || s == "-m" {
            return false;
        }
        if !s.starts_with('-') && !s.starts_with('+') {
            return false;
        }
    }
    true
}

fn substitution_fetch(cmd: &Command) -> Option<&SWord> {
    let eff = cmd.effective();
    if !is_interpreter(basename(eff.first()?.as_str())) {
        return None;
    }
    eff.iter().skip(1).find(|w| {
        let s = w.as_str();
        ["<(curl", "<(wget", "$(curl", "$(wget", "`curl", "`wget"]
            .iter()
            .any(|p| s.contains(p))
    })
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    for run in a.runs_in_order() {
        let cmds = &run.script.commands;
        for (k, c) in cmds.iter().enumerate() {
            if let Some(w) = substitution_fetch(c) {
                cx.report(
                    &RULE,
                    run.instr,
                    w.start,
                    format!(
                        "`{}` runs a script downloaded at build time without verifying it",
                        c.program()
                    ),
                );
                continue;
            }
            let eff = c.effective();
            if !is_fetcher(c.program()) {
                continue;
            }
            let sink = cmds.iter().skip(k + 1).find(|d| {
                d.pipeline == c.pipeline
                    && d.depth == c.depth
                    && d.pipe_pos > c.pipe_pos
                    && is_interpreter(d.program())
                    && reads_stdin(d.effective())
            });
            if let Some(d) = sink {
                let at = eff.first().map_or(run.instr, |w| w.start);
                cx.report(
                    &RULE,
                    run.instr,
                    at,
                    format!(
                        "`{} … | {}` runs a script downloaded at build time without verifying it; download a pinned version, check its sha256, then run it",
                        c.program(),
                        d.program()
                    ),
                );
            }
        }
    }
}
