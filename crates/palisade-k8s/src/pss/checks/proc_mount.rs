use super::container_sc_ptr;
use crate::pss::{Level, PodView, PssCheck, VersionedCheck, Violation, container_phrase, quote};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags containers that set `securityContext.procMount` to anything but `Default`
    /// (Pod Security Standards, baseline check `procMount`). From v1.35 pods that run in a
    /// user namespace (`hostUsers: false`) may use `Unmasked`; under `restricted` the
    /// stricter `proc-mount-restricted` applies instead.
    ///
    /// ## Why is this bad?
    /// The runtime masks and makes read-only parts of `/proc` (`/proc/sys`, `/proc/kcore`,
    /// `/proc/sysrq-trigger`, …). An `Unmasked` `/proc` outside a user namespace exposes
    /// kernel memory and node-wide knobs to the container, which is a well-worn escape path.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: builder
    ///     securityContext:
    ///       procMount: Unmasked
    /// ```
    ///
    /// ## Fix
    /// Remove `procMount` (or set it to `Default`). Nested container builds that need an
    /// unmasked `/proc` belong in a user-namespaced pod (`hostUsers: false`).
    pub static RULE = {
        code: "PAL008",
        name: "proc-mount",
        family: "pss-baseline",
        severity: High,
        summary: "Containers must use the default masked /proc",
        pss_check: "procMount",
        references: [
            Pss "baseline/procMount" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
            Cis "5.7.3" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security: hardening container environments" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1611" "https://attack.mitre.org/techniques/T1611/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "procMount",
    level: Level::Baseline,
    reason: "procMount",
    rule: &RULE,
    versions: &[
        VersionedCheck {
            min_minor: 0,
            check: check_1_0,
            overrides: &[],
        },
        VersionedCheck {
            min_minor: 35,
            check: check_1_35,
            overrides: &[],
        },
    ],
};

/// Upstream's `procMount_1_0`: unconditional (also used by `procMount_restricted`).
pub(super) fn check_1_0(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    for c in &pod.spec.containers {
        let Some(pm) = c.security_context.as_ref().and_then(|sc| sc.proc_mount) else {
            continue;
        };
        if pm.value != "Default" {
            out.push(Violation {
                detail: format!(
                    "{} must not set securityContext.procMount to {}",
                    container_phrase(c.name),
                    quote(pm.value)
                ),
                pointer: container_sc_ptr(c, &["procMount"]),
                pos: pm.pos,
                container: Some(c.name.to_string()),
            });
        }
    }
}

/// Any value is allowed in a user namespace.
fn check_1_35(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    if !pod.spec.in_user_namespace() {
        check_1_0(pod, out);
    }
}

/// Sets `procMount: Default`.
pub fn fix(
    v: &Violation,
    _cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    vec![crate::fix::set(v.pointer.clone(), "Default".into())]
}
