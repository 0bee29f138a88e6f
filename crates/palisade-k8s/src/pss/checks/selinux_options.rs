use crate::model::SeLinuxOptions;
use crate::pss::{Level, PodView, PssCheck, VersionedCheck, Violation, container_phrase, quote};

use super::{container_sc_ptr, pod_sc_ptr};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags SELinux options that escape the container policy (Pod Security Standards,
    /// baseline check `seLinuxOptions`): on the pod or any container, `seLinuxOptions.type`
    /// must be empty, `container_t`, `container_init_t` or `container_kvm_t` (plus
    /// `container_engine_t` from v1.31), and `user` and `role` must not be set. `level` is
    /// free.
    ///
    /// ## Why is this bad?
    /// Types such as `spc_t` ("super privileged container") or `unconfined_t` switch SELinux
    /// confinement off for the process; a custom `user` or `role` can grant it access the
    /// container policy denies. On SELinux-enforcing GPU nodes (OpenShift, RHEL) this label is
    /// what keeps a model server from reading the node's files.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   seLinuxOptions:
    ///     type: spc_t
    /// ```
    ///
    /// ## Fix
    /// Remove `type`, `user` and `role`; set only `level` if you need a specific MCS category.
    pub static RULE = {
        code: "PAL009",
        name: "selinux-options",
        family: "pss-baseline",
        severity: High,
        summary: "SELinux type must be a container type and user/role must not be set",
        pss_check: "seLinuxOptions",
        references: [
            Pss "baseline/seLinuxOptions" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
            Cis "5.7.3" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security: hardening container environments" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1562.001" "https://attack.mitre.org/techniques/T1562/001/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "seLinuxOptions",
    level: Level::Baseline,
    reason: "seLinuxOptions",
    rule: &RULE,
    versions: &[
        VersionedCheck {
            min_minor: 0,
            check: check_1_0,
            overrides: &[],
        },
        VersionedCheck {
            min_minor: 31,
            check: check_1_31,
            overrides: &[],
        },
    ],
};

const TYPES_1_0: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t"];
const TYPES_1_31: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn check_1_0(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    check_with(pod, TYPES_1_0, out);
}

fn check_1_31(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    check_with(pod, TYPES_1_31, out);
}

fn check_with(pod: &PodView<'_, '_>, allowed: &[&str], out: &mut Vec<Violation>) {
    let spec = pod.spec;
    if let Some(opts) = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.se_linux_options.as_ref())
    {
        options(
            opts,
            allowed,
            "pod",
            None,
            |k| pod_sc_ptr(spec, &["seLinuxOptions", k]),
            out,
        );
    }
    for c in &spec.containers {
        if let Some(opts) = c
            .security_context
            .as_ref()
            .and_then(|sc| sc.se_linux_options.as_ref())
        {
            options(
                opts,
                allowed,
                &container_phrase(c.name),
                Some(c.name),
                |k| container_sc_ptr(c, &["seLinuxOptions", k]),
                out,
            );
        }
    }
}

/// One violation per forbidden field of one `seLinuxOptions`.
fn options(
    opts: &SeLinuxOptions<'_>,
    allowed: &[&str],
    setter: &str,
    container: Option<&str>,
    ptr: impl Fn(&str) -> String,
    out: &mut Vec<Violation>,
) {
    let mut push = |field: &str, what: String, pos| {
        out.push(Violation {
            detail: format!("{setter} set forbidden securityContext.seLinuxOptions: {what}"),
            pointer: ptr(field),
            pos,
            container: container.map(str::to_string),
        });
    };
    if let Some(t) = opts.type_.filter(|t| !allowed.contains(&t.value)) {
        push("type", format!("type {}", quote(t.value)), t.pos);
    }
    if let Some(u) = opts.user.filter(|u| !u.value.is_empty()) {
        push("user", "user may not be set".into(), u.pos);
    }
    if let Some(r) = opts.role.filter(|r| !r.value.is_empty()) {
        push("role", "role may not be set".into(), r.pos);
    }
}
