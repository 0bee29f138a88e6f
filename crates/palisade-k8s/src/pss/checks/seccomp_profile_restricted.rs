use super::seccomp_profile_baseline::{
    forbidden_container_profile, forbidden_pod_profile, valid_type,
};
use super::{container_sc_pos, container_sc_ptr};
use crate::pss::{Level, PodView, PssCheck, VersionedCheck, Violation, container_phrase};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Requires a seccomp profile on every container: `seccompProfile.type` set to
    /// `RuntimeDefault` or `Localhost` on the pod (covering containers that set none) or on
    /// each container, and never any other value (Pod Security Standards, restricted check
    /// `seccompProfile_restricted`, from v1.19, where it replaces
    /// `seccomp-profile-baseline`). From v1.25, Windows pods are exempt.
    ///
    /// ## Why is this bad?
    /// Without a profile most runtimes run containers `Unconfined`: every system call is
    /// available, including the ones kernel exploits need. `RuntimeDefault` costs nothing for
    /// Python, CUDA and model-server workloads and closes most container-escape paths that go
    /// through the kernel.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: tgi
    ///       image: ghcr.io/huggingface/text-generation-inference:2.4.1
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     seccompProfile:
    ///       type: RuntimeDefault
    /// ```
    pub static RULE = {
        code: "PAL019",
        name: "seccomp-profile-restricted",
        family: "pss-restricted",
        severity: Medium,
        summary: "Pods must set a RuntimeDefault or Localhost seccomp profile",
        pss_check: "seccompProfile_restricted",
        references: [
            Pss "restricted/seccomp" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted",
            Cis "5.7.2" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security: hardening container environments" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1562.001" "https://attack.mitre.org/techniques/T1562/001/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "seccompProfile_restricted",
    level: Level::Restricted,
    reason: "seccompProfile",
    rule: &RULE,
    versions: &[
        VersionedCheck {
            min_minor: 19,
            check: check_1_19,
            overrides: &["seccompProfile_baseline"],
        },
        VersionedCheck {
            min_minor: 25,
            check: check_1_25,
            overrides: &["seccompProfile_baseline"],
        },
    ],
};

/// Upstream reports explicit bad values first and, only when there are none, the
/// containers that no valid pod-level profile covers.
fn check_1_19(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    let spec = pod.spec;
    let pod_profile_valid = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.seccomp_profile.as_ref())
        .is_some_and(|p| valid_type(p.type_.map_or("", |t| t.value)));
    let mut explicit: Vec<Violation> = forbidden_pod_profile(spec).into_iter().collect();
    let mut implicit = Vec::new();
    for c in &spec.containers {
        let own = c
            .security_context
            .as_ref()
            .and_then(|sc| sc.seccomp_profile.as_ref());
        if own.is_some() {
            explicit.extend(forbidden_container_profile(c));
        } else if !pod_profile_valid {
            implicit.push(Violation {
                detail: format!(
                    r#"pod or {} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#,
                    container_phrase(c.name)
                ),
                pointer: container_sc_ptr(c, &["seccompProfile", "type"]),
                pos: container_sc_pos(c),
                container: Some(c.name.to_string()),
            });
        }
    }
    out.extend(if explicit.is_empty() {
        implicit
    } else {
        explicit
    });
}

/// Windows pods are exempt.
fn check_1_25(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    if !pod.spec.is_windows() {
        check_1_19(pod, out);
    }
}

/// An explicit bad profile is replaced where it is; a missing one is set once at pod level,
/// which covers every container that does not set its own.
pub fn fix(
    v: &Violation,
    cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    let Some(pod) = cx.pod else { return Vec::new() };
    let explicit = match crate::fix::container_of(cx.pod, &v.pointer) {
        Some(c) => c
            .security_context
            .as_ref()
            .and_then(|sc| sc.seccomp_profile.as_ref())
            .is_some_and(|p| p.type_.is_some()),
        None => true,
    };
    let target = if explicit {
        crate::fix::parent(&v.pointer, 1).to_string()
    } else {
        format!("{}/securityContext/seccompProfile", pod.spec.ptr)
    };
    vec![crate::fix::set(target, cx.options.seccomp_profile())]
}
