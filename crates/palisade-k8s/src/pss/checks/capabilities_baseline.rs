use palisade_yaml::push_index;

use super::container_sc_ptr;
use crate::pss::{Level, PodView, PssCheck, VersionedCheck, Violation, container_phrase, quote};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags containers that add a Linux capability outside the container runtime's default
    /// set (Pod Security Standards, baseline check `capabilities_baseline`). Allowed in
    /// `securityContext.capabilities.add`: `AUDIT_WRITE`, `CHOWN`, `DAC_OVERRIDE`, `FOWNER`,
    /// `FSETID`, `KILL`, `MKNOD`, `NET_BIND_SERVICE`, `SETFCAP`, `SETGID`, `SETPCAP`, `SETUID`,
    /// `SYS_CHROOT`. Names are compared exactly, as upstream does: `chown` and `CAP_CHOWN` are
    /// not `CHOWN`.
    ///
    /// ## Why is this bad?
    /// `SYS_ADMIN`, `SYS_PTRACE`, `NET_ADMIN`, `NET_RAW`, `SYS_MODULE` and friends are most of
    /// the way to root on the node: mounting filesystems, tracing other processes, spoofing
    /// traffic, loading kernel modules. GPU and RDMA training pods often ask for `IPC_LOCK`,
    /// `SYS_ADMIN` or `SYS_RESOURCE`, which the NVIDIA device plugin and proper `ulimit`s make
    /// unnecessary.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: trainer
    ///     securityContext:
    ///       capabilities:
    ///         add: ["SYS_ADMIN", "NET_RAW"]
    /// ```
    ///
    /// ## Fix
    /// Remove the extra capabilities; better, drop them all and add back only
    /// `NET_BIND_SERVICE` if the process binds a port below 1024:
    /// ```yaml
    ///     securityContext:
    ///       capabilities:
    ///         drop: ["ALL"]
    /// ```
    pub static RULE = {
        code: "PAL002",
        name: "capabilities-baseline",
        family: "pss-baseline",
        severity: High,
        summary: "Containers must not add capabilities beyond the runtime's default set",
        pss_check: "capabilities_baseline",
        references: [
            Pss "baseline/capabilities" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
            Cis "5.2.9" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security: pod security enforcement" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1611" "https://attack.mitre.org/techniques/T1611/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "capabilities_baseline",
    level: Level::Baseline,
    reason: "non-default capabilities",
    rule: &RULE,
    versions: &[VersionedCheck {
        min_minor: 0,
        check,
        overrides: &[],
    }],
};

const ALLOWED: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn check(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    for c in &pod.spec.containers {
        let Some(caps) = c
            .security_context
            .as_ref()
            .and_then(|sc| sc.capabilities.as_ref())
        else {
            continue;
        };
        for (i, cap) in caps.add.iter().enumerate() {
            if !ALLOWED.contains(&cap.value) {
                out.push(Violation {
                    detail: format!(
                        "{} must not include {} in securityContext.capabilities.add",
                        container_phrase(c.name),
                        quote(cap.value)
                    ),
                    pointer: push_index(&container_sc_ptr(c, &["capabilities", "add"]), i),
                    pos: cap.pos,
                    container: Some(c.name.to_string()),
                });
            }
        }
    }
}

/// Keeps only the capabilities the baseline level allows in `add`.
pub fn fix(
    v: &Violation,
    cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    crate::fix::filtered_capabilities_add(cx, &v.pointer, |c| ALLOWED.contains(&c))
}
