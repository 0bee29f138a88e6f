use crate::commands::{package_name, pkg_command};
use crate::rules::Ctx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `sudo` in `RUN` commands (any stage, also inside `sh -c` and heredoc scripts),
    /// and the `sudo` package installed into the final image.
    ///
    /// ## Why is this bad?
    /// `RUN` already runs as the current `USER`; switching with `USER root` … `USER app` is
    /// explicit and leaves no privilege path behind. `sudo` in the image is a setuid-root
    /// binary: with a permissive sudoers entry (the usual `NOPASSWD: ALL` added to make the
    /// build work) any code running as the app user becomes root, which defeats
    /// `runAsNonRoot`. `sudo` also behaves unpredictably without a TTY and with signals.
    ///
    /// ## Example
    /// ```dockerfile
    /// USER app
    /// RUN sudo apt-get update && sudo apt-get install -y --no-install-recommends ffmpeg
    /// ```
    ///
    /// ## Fix
    /// ```dockerfile
    /// USER root
    /// RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg \
    ///  && rm -rf /var/lib/apt/lists/*
    /// USER app
    /// ```
    /// If something must switch users at run time, use `gosu` or `setpriv` without setuid.
    pub static RULE = {
        code: "PAL516",
        name: "sudo",
        family: "dockerfile",
        severity: Medium,
        summary: "Do not use or install sudo",
        references: [
            Cis "Docker 4.8" "https://www.cisecurity.org/benchmark/docker",
            Doc "hadolint DL3004" "https://github.com/hadolint/hadolint/wiki/DL3004",
            Attack "T1548.003" "https://attack.mitre.org/techniques/T1548/003/",
        ],
    };
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    for run in a.runs_in_order() {
        for cmd in &run.script.commands {
            if let Some(w) = cmd.sudo_word() {
                cx.report(
                    &RULE,
                    run.instr,
                    w.start,
                    "`sudo` in RUN: switch users with USER instead; sudo leaves a setuid privilege path in the image",
                );
            }
            if a.in_final(run.instr)
                && let Some(p) = pkg_command(cmd)
                && p.is_install()
                && let Some(w) = p
                    .packages
                    .iter()
                    .find(|w| package_name(w.as_str()) == "sudo")
            {
                cx.report(
                    &RULE,
                    run.instr,
                    w.start,
                    "installs `sudo` into the final image: a setuid binary that turns the app user into root",
                );
            }
        }
    }
}
