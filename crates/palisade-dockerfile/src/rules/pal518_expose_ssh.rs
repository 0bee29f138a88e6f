use crate::commands::{package_name, pkg_command};
use crate::parser::Kind;
use crate::rules::Ctx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `EXPOSE 22` (also `22/tcp` and port ranges that include 22) in the final image,
    /// and `openssh-server` (or `dropbear`) installed into it.
    ///
    /// ## Why is this bad?
    /// An SSH daemon in a container is a second, unmonitored way in, with its own
    /// credentials to leak and patch; it is a common leftover in GPU development and
    /// notebook images. `kubectl exec` / `docker exec` give operators a shell without one,
    /// audited by the API server.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN apt-get update && apt-get install -y --no-install-recommends openssh-server
    /// EXPOSE 22 8888
    /// ```
    ///
    /// ## Fix
    /// Remove the SSH server and `EXPOSE 22`; use `kubectl exec`, or for MPI jobs the
    /// launcher of the training operator, which sets up SSH only between job pods.
    pub static RULE = {
        code: "PAL518",
        name: "expose-ssh",
        family: "dockerfile",
        severity: Medium,
        summary: "Images must not expose or run an SSH server",
        references: [
            Cis "Docker 5.6" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Doc "hadolint DL3011" "https://github.com/hadolint/hadolint/wiki/DL3011",
            Attack "T1021.004" "https://attack.mitre.org/techniques/T1021/004/",
        ],
    };
}

fn includes_22(spec: &str) -> bool {
    let port = spec.split('/').next().unwrap_or(spec);
    match port.split_once('-') {
        Some((lo, hi)) => match (lo.parse::<u32>(), hi.parse::<u32>()) {
            (Ok(lo), Ok(hi)) => lo <= 22 && 22 <= hi,
            _ => false,
        },
        None => port.parse::<u32>() == Ok(22),
    }
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    for (i, ins) in a.final_instructions() {
        match ins.kind {
            Kind::Expose => {
                for w in ins.words() {
                    if includes_22(&w.text) {
                        cx.report(
                            &RULE,
                            i,
                            w.src,
                            "EXPOSE 22: the image offers SSH; use kubectl exec instead of an SSH server",
                        );
                    }
                }
            }
            Kind::Run => {
                let Some(run) = a.runs.get(&i) else { continue };
                for cmd in &run.script.commands {
                    let Some(p) = pkg_command(cmd) else { continue };
                    if !p.is_install() {
                        continue;
                    }
                    for w in &p.packages {
                        let n = package_name(w.as_str());
                        if matches!(n, "openssh-server" | "dropbear" | "dropbear-bin") {
                            cx.report(
                                &RULE,
                                i,
                                w.start,
                                format!("installs the SSH server `{n}` into the final image"),
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }
}
