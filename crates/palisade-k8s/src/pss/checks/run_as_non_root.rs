use super::{container_sc_ptr, pod_sc_ptr};
use crate::pss::{Level, PodView, PssCheck, VersionedCheck, Violation, container_phrase};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Requires every container to run as a non-root user: `runAsNonRoot: true` on the pod or
    /// on each container, and never `false` anywhere (Pod Security Standards, restricted check
    /// `runAsNonRoot`). From v1.35, pods in a user namespace (`hostUsers: false`) are exempt.
    ///
    /// ## Why is this bad?
    /// Most model-server and notebook images (`python:3.x`, `tensorflow/serving`, Jupyter
    /// stacks) run as root by default. A process running as UID 0 that escapes its container is
    /// root on the node, and root inside the container can rewrite the model files it serves.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: tf-serving
    ///       image: tensorflow/serving:2.16.1
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     runAsNonRoot: true
    ///     runAsUser: 10001
    /// ```
    pub static RULE = {
        code: "PAL017",
        name: "run-as-non-root",
        family: "pss-restricted",
        severity: High,
        summary: "Containers must run as a non-root user",
        pss_check: "runAsNonRoot",
        references: [
            Pss "restricted/runAsNonRoot" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted",
            Cis "5.2.7" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security: non-root containers" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1611" "https://attack.mitre.org/techniques/T1611/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "runAsNonRoot",
    level: Level::Restricted,
    reason: "runAsNonRoot != true",
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

fn check_1_35(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    if !pod.spec.in_user_namespace() {
        check_1_0(pod, out);
    }
}

/// Upstream reports explicit `false` settings first and, only when there are none, the
/// containers that are not covered by a pod-level `true`.
fn check_1_0(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    let pod_sc = pod.spec.security_context.as_ref();
    let pod_value = pod_sc.and_then(|sc| sc.run_as_non_root);
    let mut explicit = Vec::new();
    if let (Some(sc), Some(v)) = (pod_sc, pod_value.filter(|v| !v.value)) {
        explicit.push(Violation {
            detail: "pod must not set securityContext.runAsNonRoot=false".into(),
            pointer: pod_sc_ptr(pod.spec, &["runAsNonRoot"]),
            pos: if v.pos.line > 0 { v.pos } else { sc.pos },
            container: None,
        });
    }
    let mut implicit = Vec::new();
    for c in &pod.spec.containers {
        let own = c
            .security_context
            .as_ref()
            .and_then(|sc| sc.run_as_non_root);
        match own {
            Some(v) if !v.value => explicit.push(Violation {
                detail: format!(
                    "{} must not set securityContext.runAsNonRoot=false",
                    container_phrase(c.name)
                ),
                pointer: container_sc_ptr(c, &["runAsNonRoot"]),
                pos: v.pos,
                container: Some(c.name.to_string()),
            }),
            Some(_) => {}
            None if pod_value.is_some_and(|v| v.value) => {}
            None => implicit.push(Violation {
                detail: format!(
                    "pod or {} must set securityContext.runAsNonRoot=true",
                    container_phrase(c.name)
                ),
                pointer: container_sc_ptr(c, &["runAsNonRoot"]),
                pos: c.security_context.as_ref().map_or(c.pos, |sc| sc.pos),
                container: Some(c.name.to_string()),
            }),
        }
    }
    if explicit.is_empty() {
        out.extend(implicit);
    } else {
        out.extend(explicit);
    }
}

/// An explicit `false` becomes `true` where it is written. A container that is not covered
/// gets a pod-level `runAsNonRoot: true`, plus `runAsUser` (`--run-as-user`) when nothing
/// sets a UID, since an image whose USER is root or a name would otherwise fail to start.
pub fn fix(
    v: &Violation,
    cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    let Some(pod) = cx.pod else { return Vec::new() };
    let pod_sc = pod.spec.security_context.as_ref();
    let container = crate::fix::container_of(cx.pod, &v.pointer);
    let explicit_false = match container {
        Some(c) => c
            .security_context
            .as_ref()
            .and_then(|sc| sc.run_as_non_root)
            .is_some_and(|b| !b.value),
        None => true,
    };
    if explicit_false {
        return vec![crate::fix::set(v.pointer.clone(), true.into())];
    }
    let sc_ptr = format!("{}/securityContext", pod.spec.ptr);
    let mut ops = vec![crate::fix::set(
        format!("{sc_ptr}/runAsNonRoot"),
        true.into(),
    )];
    let uid_set = pod_sc.and_then(|sc| sc.run_as_user).is_some()
        || container
            .and_then(|c| c.security_context.as_ref())
            .and_then(|sc| sc.run_as_user)
            .is_some();
    if !uid_set {
        ops.push(crate::fix::set(
            format!("{sc_ptr}/runAsUser"),
            cx.options.run_as_user.into(),
        ));
    }
    ops
}
