use palisade_yaml::push_key;

use crate::pss::{Level, PodView, PssCheck, VersionedCheck, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags pods that share the node's network, process or IPC namespace: `hostNetwork`,
    /// `hostPID` or `hostIPC` set to `true` (Pod Security Standards, baseline check
    /// `hostNamespaces`).
    ///
    /// ## Why is this bad?
    /// With `hostPID` a container sees, signals and (with `ptrace`) injects into every process
    /// on the node, including the kubelet and other tenants' model servers; `hostIPC` exposes
    /// shared memory segments that inference servers such as Triton use to pass tensors;
    /// `hostNetwork` lets it sniff node traffic, reach the kubelet and cloud metadata endpoints
    /// and bypass NetworkPolicies. Multi-node training jobs often set `hostNetwork` for NCCL
    /// or RDMA; a secondary network (Multus, SR-IOV) gives the same bandwidth without it.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   hostNetwork: true
    ///   hostIPC: true
    /// ```
    ///
    /// ## Fix
    /// Remove the fields (or set them to `false`).
    pub static RULE = {
        code: "PAL003",
        name: "host-namespaces",
        family: "pss-baseline",
        severity: High,
        summary: "Pods must not share the host's network, PID or IPC namespace",
        pss_check: "hostNamespaces",
        references: [
            Pss "baseline/hostNamespaces" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
            Cis "5.2.3-5.2.5" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security: pod security enforcement" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1611" "https://attack.mitre.org/techniques/T1611/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "hostNamespaces",
    level: Level::Baseline,
    reason: "host namespaces",
    rule: &RULE,
    versions: &[VersionedCheck {
        min_minor: 0,
        check,
        overrides: &[],
    }],
};

fn check(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    let spec = pod.spec;
    for (field, value) in [
        ("hostNetwork", spec.host_network),
        ("hostPID", spec.host_pid),
        ("hostIPC", spec.host_ipc),
    ] {
        if let Some(v) = value.filter(|v| v.value) {
            out.push(Violation {
                detail: format!("{field}=true"),
                pointer: push_key(&spec.ptr, field),
                pos: v.pos,
                container: None,
            });
        }
    }
}
