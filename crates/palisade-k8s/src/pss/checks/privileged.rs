use super::container_sc_ptr;
use crate::pss::{Level, PodView, PssCheck, VersionedCheck, Violation, container_phrase};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags containers that set `securityContext.privileged: true` (Pod Security Standards,
    /// baseline check `privileged`).
    ///
    /// ## Why is this bad?
    /// A privileged container has every capability, sees every host device (including every
    /// GPU under `/dev/nvidia*`) and can trivially take over the node. GPU pods are often made
    /// privileged "to reach the GPU", which the NVIDIA device plugin makes unnecessary.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: trainer
    ///     securityContext:
    ///       privileged: true
    /// ```
    ///
    /// ## Fix
    /// Remove `privileged` (or set it to `false`) and request devices through resource limits
    /// such as `nvidia.com/gpu: 1`.
    pub static RULE = {
        code: "PAL007",
        name: "privileged",
        family: "pss-baseline",
        severity: Critical,
        summary: "Containers must not run privileged",
        pss_check: "privileged",
        references: [
            Pss "baseline/privileged" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
            Cis "5.2.2" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security: non-privileged containers" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1611" "https://attack.mitre.org/techniques/T1611/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "privileged",
    level: Level::Baseline,
    reason: "privileged",
    rule: &RULE,
    versions: &[VersionedCheck {
        min_minor: 0,
        check,
        overrides: &[],
    }],
};

fn check(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    for c in &pod.spec.containers {
        let Some(sc) = &c.security_context else {
            continue;
        };
        if let Some(p) = sc.privileged.filter(|p| p.value) {
            out.push(Violation {
                detail: format!(
                    "{} must not set securityContext.privileged=true",
                    container_phrase(c.name)
                ),
                pointer: container_sc_ptr(c, &["privileged"]),
                pos: p.pos,
                container: Some(c.name.to_string()),
            });
        }
    }
}

/// Sets `privileged: false`; devices such as GPUs come from resource limits instead.
pub fn fix(
    v: &Violation,
    _cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    vec![crate::fix::set(v.pointer.clone(), false.into())]
}
