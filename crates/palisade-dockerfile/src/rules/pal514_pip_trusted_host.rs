use crate::commands::pip_install;
use crate::parser::{Kind, key_values};
use crate::rules::Ctx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `pip install --trusted-host HOST` and `ENV PIP_TRUSTED_HOST`, in any stage.
    ///
    /// ## Why is this bad?
    /// `--trusted-host` turns off TLS verification for that host and allows plain `http://`
    /// indexes: anyone on the network path of the build (a CI runner's network, a proxy)
    /// can serve modified packages. It is usually added to silence a certificate error
    /// that the corporate CA bundle would fix properly.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN pip install --index-url http://pypi.corp/simple --trusted-host pypi.corp torch==2.3.1
    /// ```
    ///
    /// ## Fix
    /// Serve the index over HTTPS and give pip the CA (`--cert /etc/ssl/certs/corp-ca.pem`
    /// or `PIP_CERT`), then drop `--trusted-host`.
    pub static RULE = {
        code: "PAL514",
        name: "pip-trusted-host",
        family: "dockerfile",
        severity: Medium,
        summary: "Do not disable TLS verification for package indexes",
        references: [
            Nist "SP 800-190 4.1.5" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1557" "https://attack.mitre.org/techniques/T1557/",
            Atlas "AML.T0010.001" "https://atlas.mitre.org/techniques/AML.T0010.001",
        ],
    };
}

const MSG: &str =
    "turns off TLS verification for the package index; configure its CA with --cert instead";

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    for (i, ins) in a.df.instructions.iter().enumerate() {
        if ins.kind != Kind::Env {
            continue;
        }
        for kv in key_values(ins) {
            if kv.key == "PIP_TRUSTED_HOST" {
                cx.report(&RULE, i, kv.key_src, format!("ENV PIP_TRUSTED_HOST {MSG}"));
            }
        }
    }
    for run in a.runs_in_order() {
        for cmd in &run.script.commands {
            if let Some(p) = pip_install(cmd) {
                for w in &p.trusted_host {
                    cx.report(&RULE, run.instr, w.start, format!("`--trusted-host` {MSG}"));
                }
            }
        }
    }
}
