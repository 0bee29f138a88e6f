use crate::commands::{Manager, pkg_command};
use crate::rules::Ctx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `apt-get install` (and `apt install`) in the final image without
    /// `--no-install-recommends` (or `-o APT::Install-Recommends=false`), unless an earlier
    /// `RUN` of the image wrote `APT::Install-Recommends "false"` into apt's configuration.
    ///
    /// ## Why is this bad?
    /// Recommended packages are installed by default and are rarely needed in a container:
    /// `apt-get install python3-pip` alone pulls in a compiler toolchain and `-dev`
    /// packages through recommends. Each of them is attack surface and vulnerability noise
    /// in the final image.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN apt-get update && apt-get install -y libgl1 && rm -rf /var/lib/apt/lists/*
    /// ```
    ///
    /// ## Fix
    /// ```dockerfile
    /// RUN apt-get update && apt-get install -y --no-install-recommends libgl1 \
    ///  && rm -rf /var/lib/apt/lists/*
    /// ```
    pub static RULE = {
        code: "PAL506",
        name: "apt-install-recommends",
        family: "dockerfile",
        severity: Low,
        summary: "apt-get install must use --no-install-recommends",
        references: [
            Cis "Docker 4.3" "https://www.cisecurity.org/benchmark/docker",
            Doc "hadolint DL3015" "https://github.com/hadolint/hadolint/wiki/DL3015",
        ],
    };
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    let mut configured = false;
    for (i, ins) in a.final_instructions() {
        let Some(run) = a.runs.get(&i) else { continue };
        for cmd in &run.script.commands {
            let Some(p) = pkg_command(cmd) else { continue };
            if p.manager != Manager::Apt
                || !p.is_install()
                || p.program.as_str().ends_with("aptitude")
            {
                continue;
            }
            let off = p.has_option("--no-install-recommends")
                || p.options.iter().any(|o| {
                    let s = o.as_str().to_ascii_lowercase();
                    s.contains("install-recommends=false") || s.contains("install-recommends=0")
                });
            if !off && !configured {
                cx.report(
                    &RULE,
                    i,
                    p.verb.start,
                    "`apt-get install` without --no-install-recommends installs recommended packages too",
                );
            }
        }
        // `echo 'APT::Install-Recommends "false";' > /etc/apt/apt.conf.d/…` turns them off
        // for every later install.
        let mut text = ins.args.s.clone();
        for h in &ins.heredocs {
            text.push_str(&h.body.s);
        }
        let lower = text.to_ascii_lowercase();
        if lower.contains("apt::install-recommends")
            && (lower.contains("\"false\"")
                || lower.contains("\"0\"")
                || lower.contains(" false")
                || lower.contains(" 0"))
        {
            configured = true;
        }
    }
}
