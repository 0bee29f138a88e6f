use super::{container_sc_ptr, pod_sc_ptr};
use crate::pss::{Level, PodView, PssCheck, VersionedCheck, Violation, container_phrase};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags Windows HostProcess containers: `securityContext.windowsOptions.hostProcess:
    /// true` on the pod or any container (Pod Security Standards, baseline check
    /// `windowsHostProcess`).
    ///
    /// ## Why is this bad?
    /// A HostProcess container is not a container: it is a process on the Windows node with
    /// the node's network, filesystem and, usually, `NT AUTHORITY\SYSTEM`. It is the Windows
    /// equivalent of a privileged pod with every host namespace, and exists for node agents
    /// (CNI, CSI, log shippers), not for applications.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     windowsOptions:
    ///       hostProcess: true
    ///       runAsUserName: "NT AUTHORITY\\SYSTEM"
    /// ```
    ///
    /// ## Fix
    /// Remove `hostProcess`; run node agents in a dedicated namespace labelled for the
    /// `privileged` level instead of relaxing the workload namespace.
    pub static RULE = {
        code: "PAL012",
        name: "windows-host-process",
        family: "pss-baseline",
        severity: Critical,
        summary: "Pods must not run Windows HostProcess containers",
        pss_check: "windowsHostProcess",
        references: [
            Pss "baseline/hostProcess" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
            Cis "5.2.11" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security: non-privileged containers" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1611" "https://attack.mitre.org/techniques/T1611/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "windowsHostProcess",
    level: Level::Baseline,
    reason: "hostProcess",
    rule: &RULE,
    versions: &[VersionedCheck {
        min_minor: 0,
        check,
        overrides: &[],
    }],
};

const FIELD: [&str; 2] = ["windowsOptions", "hostProcess"];

fn check(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    let spec = pod.spec;
    if let Some(v) = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.windows_host_process)
        .filter(|v| v.value)
    {
        out.push(Violation {
            detail: "pod must not set securityContext.windowsOptions.hostProcess=true".into(),
            pointer: pod_sc_ptr(spec, &FIELD),
            pos: v.pos,
            container: None,
        });
    }
    for c in &spec.containers {
        if let Some(v) = c
            .security_context
            .as_ref()
            .and_then(|sc| sc.windows_host_process)
            .filter(|v| v.value)
        {
            out.push(Violation {
                detail: format!(
                    "{} must not set securityContext.windowsOptions.hostProcess=true",
                    container_phrase(c.name)
                ),
                pointer: container_sc_ptr(c, &FIELD),
                pos: v.pos,
                container: Some(c.name.to_string()),
            });
        }
    }
}
