use super::{container_sc_ptr, pod_sc_ptr};
use crate::pss::{Level, PodView, PssCheck, VersionedCheck, Violation, container_phrase};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `runAsUser: 0` on the pod or on any container (Pod Security Standards,
    /// restricted check `runAsUser`, from v1.23). Unset is fine. From v1.35, pods in a user
    /// namespace (`hostUsers: false`) are exempt, since UID 0 there maps to an unprivileged
    /// user on the node.
    ///
    /// ## Why is this bad?
    /// An explicit UID 0 overrides the image's `USER` and defeats `runAsNonRoot` checks done
    /// by humans reading the manifest. Root in the container owns the model files and caches
    /// it mounts and is one kernel bug away from root on the node.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: model-server
    ///     securityContext:
    ///       runAsUser: 0
    /// ```
    ///
    /// ## Fix
    /// Use a non-zero UID (and `runAsNonRoot: true`):
    /// ```yaml
    ///     securityContext:
    ///       runAsUser: 10001
    ///       runAsNonRoot: true
    /// ```
    pub static RULE = {
        code: "PAL018",
        name: "run-as-user",
        family: "pss-restricted",
        severity: High,
        summary: "Pods and containers must not set runAsUser to 0",
        pss_check: "runAsUser",
        references: [
            Pss "restricted/runAsUser" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted",
            Cis "5.2.7" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security: non-root containers" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1611" "https://attack.mitre.org/techniques/T1611/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "runAsUser",
    level: Level::Restricted,
    reason: "runAsUser=0",
    rule: &RULE,
    versions: &[
        VersionedCheck {
            min_minor: 23,
            check: check_1_23,
            overrides: &[],
        },
        VersionedCheck {
            min_minor: 35,
            check: check_1_35,
            overrides: &[],
        },
    ],
};

fn check_1_23(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    let spec = pod.spec;
    if let Some(v) = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.run_as_user)
        .filter(|v| v.value == 0)
    {
        out.push(Violation {
            detail: "pod must not set runAsUser=0".into(),
            pointer: pod_sc_ptr(spec, &["runAsUser"]),
            pos: v.pos,
            container: None,
        });
    }
    for c in &spec.containers {
        if let Some(v) = c
            .security_context
            .as_ref()
            .and_then(|sc| sc.run_as_user)
            .filter(|v| v.value == 0)
        {
            out.push(Violation {
                detail: format!("{} must not set runAsUser=0", container_phrase(c.name)),
                pointer: container_sc_ptr(c, &["runAsUser"]),
                pos: v.pos,
                container: Some(c.name.to_string()),
            });
        }
    }
}

/// UID 0 in a user namespace is not root on the node.
fn check_1_35(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    if !pod.spec.in_user_namespace() {
        check_1_23(pod, out);
    }
}

/// Replaces UID 0 with the hardening UID (`--run-as-user`).
pub fn fix(
    v: &Violation,
    cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    vec![crate::fix::set(
        v.pointer.clone(),
        cx.options.run_as_user.into(),
    )]
}
