use super::{container_sc_pos, container_sc_ptr};
use crate::pss::{Level, PodView, PssCheck, VersionedCheck, Violation, container_phrase};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Requires every container to set `securityContext.allowPrivilegeEscalation: false`
    /// explicitly (Pod Security Standards, restricted check `allowPrivilegeEscalation`, from
    /// v1.8). From v1.25, Windows pods (`spec.os.name: windows`) are exempt.
    ///
    /// ## Why is this bad?
    /// The field defaults to `true`, which leaves the kernel's `no_new_privs` flag off: a
    /// set-user-ID binary in the image (`sudo`, `su`, `ping`, `mount`, …) can raise a process
    /// to root inside the container. Python ML base images routinely carry such binaries, and
    /// a foothold in a notebook or a model server through a malicious model file starts as an
    /// unprivileged process.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: jupyter
    ///     image: jupyter/scipy-notebook:2024-05-27
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     securityContext:
    ///       allowPrivilegeEscalation: false
    /// ```
    pub static RULE = {
        code: "PAL013",
        name: "allow-privilege-escalation",
        family: "pss-restricted",
        severity: Medium,
        summary: "Containers must set allowPrivilegeEscalation to false",
        pss_check: "allowPrivilegeEscalation",
        references: [
            Pss "restricted/allowPrivilegeEscalation" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted",
            Cis "5.2.6" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security: non-root containers" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1548.001" "https://attack.mitre.org/techniques/T1548/001/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "allowPrivilegeEscalation",
    level: Level::Restricted,
    reason: "allowPrivilegeEscalation != false",
    rule: &RULE,
    versions: &[
        VersionedCheck {
            min_minor: 8,
            check: check_1_8,
            overrides: &[],
        },
        VersionedCheck {
            min_minor: 25,
            check: check_1_25,
            overrides: &[],
        },
    ],
};

fn check_1_8(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    for c in &pod.spec.containers {
        let value = c
            .security_context
            .as_ref()
            .and_then(|sc| sc.allow_privilege_escalation);
        if value.is_some_and(|v| !v.value) {
            continue;
        }
        out.push(Violation {
            detail: format!(
                "{} must set securityContext.allowPrivilegeEscalation=false",
                container_phrase(c.name)
            ),
            pointer: container_sc_ptr(c, &["allowPrivilegeEscalation"]),
            pos: value.map_or_else(|| container_sc_pos(c), |v| v.pos),
            container: Some(c.name.to_string()),
        });
    }
}

/// Windows pods are exempt: the field cannot be set for them.
fn check_1_25(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    if !pod.spec.is_windows() {
        check_1_8(pod, out);
    }
}

/// Sets `allowPrivilegeEscalation: false` on the container.
pub fn fix(
    v: &Violation,
    _cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    vec![crate::fix::set(v.pointer.clone(), false.into())]
}
