use palisade_yaml::{Pos, push_key};

use super::{container_sc_ptr, pod_sc_ptr};
use crate::model::{Container, PodSpec, ProfileRef};
use crate::pss::{
    Level, PodView, PssCheck, VersionedCheck, Violation, container_phrase, go_quote, quote,
};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags seccomp profiles that switch seccomp off (Pod Security Standards, baseline check
    /// `seccompProfile_baseline`). From v1.19 it reads the fields: the pod's and each
    /// container's `seccompProfile.type`, when set, must be `RuntimeDefault` or `Localhost`.
    /// For v1.0–v1.18 it reads the alpha annotations instead:
    /// `seccomp.security.alpha.kubernetes.io/pod` and
    /// `container.seccomp.security.alpha.kubernetes.io/<container>` must be `runtime/default`,
    /// `docker/default` or `localhost/*`. Under `restricted` from v1.19,
    /// `seccomp-profile-restricted` replaces it.
    ///
    /// ## Why is this bad?
    /// Seccomp filters the system calls a container can make; the runtime default blocks the
    /// ones behind most kernel-exploit container escapes (`keyctl`, `unshare`, `bpf`, …).
    /// `Unconfined` hands the whole kernel API to whatever runs in the container, such as
    /// arbitrary code in a notebook or a model loaded with `trust_remote_code`.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     seccompProfile:
    ///       type: Unconfined
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
        code: "PAL010",
        name: "seccomp-profile-baseline",
        family: "pss-baseline",
        severity: High,
        summary: "Seccomp must not be disabled",
        pss_check: "seccompProfile_baseline",
        references: [
            Pss "baseline/seccomp" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
            Cis "5.7.2" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security: hardening container environments" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1562.001" "https://attack.mitre.org/techniques/T1562/001/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "seccompProfile_baseline",
    level: Level::Baseline,
    reason: "seccompProfile",
    rule: &RULE,
    versions: &[
        VersionedCheck {
            min_minor: 0,
            check: check_1_0,
            overrides: &[],
        },
        VersionedCheck {
            min_minor: 19,
            check: check_1_19,
            overrides: &[],
        },
    ],
};

const POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

fn valid_annotation(v: &str) -> bool {
    v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/")
}

/// The alpha annotations (v1.0–v1.18); only keys naming an existing container count.
fn check_1_0(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    let mut annotation = |key: &str, container: Option<&str>| {
        if let Some(v) = pod
            .meta
            .annotation(key)
            .filter(|v| !valid_annotation(v.value))
        {
            out.push(Violation {
                detail: format!("forbidden annotation {key}={}", go_quote(v.value)),
                pointer: push_key(&push_key(&pod.meta.ptr, "annotations"), key),
                pos: v.pos,
                container: container.map(str::to_string),
            });
        }
    };
    annotation(POD_ANNOTATION, None);
    for c in &pod.spec.containers {
        annotation(
            &format!("{CONTAINER_ANNOTATION_PREFIX}{}", c.name),
            Some(c.name),
        );
    }
}

/// The fields (v1.19+): only explicit settings are checked.
fn check_1_19(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    out.extend(forbidden_pod_profile(pod.spec));
    out.extend(
        pod.spec
            .containers
            .iter()
            .filter_map(forbidden_container_profile),
    );
}

pub(super) fn valid_type(t: &str) -> bool {
    matches!(t, "RuntimeDefault" | "Localhost")
}

fn bad_type<'p>(profile: &'p ProfileRef<'_>) -> Option<(&'p str, Pos)> {
    let t = profile.type_.map_or("", |t| t.value);
    (!valid_type(t)).then(|| (t, profile.type_.map_or(profile.pos, |t| t.pos)))
}

/// The pod-level profile, when it is set to a forbidden type.
pub(super) fn forbidden_pod_profile(spec: &PodSpec<'_>) -> Option<Violation> {
    let profile = spec.security_context.as_ref()?.seccomp_profile.as_ref()?;
    let (t, pos) = bad_type(profile)?;
    Some(Violation {
        detail: format!(
            "pod must not set securityContext.seccompProfile.type to {}",
            quote(t)
        ),
        pointer: pod_sc_ptr(spec, &["seccompProfile", "type"]),
        pos,
        container: None,
    })
}

/// A container's own profile, when it is set to a forbidden type.
pub(super) fn forbidden_container_profile(c: &Container<'_>) -> Option<Violation> {
    let profile = c.security_context.as_ref()?.seccomp_profile.as_ref()?;
    let (t, pos) = bad_type(profile)?;
    Some(Violation {
        detail: format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            container_phrase(c.name),
            quote(t)
        ),
        pointer: container_sc_ptr(c, &["seccompProfile", "type"]),
        pos,
        container: Some(c.name.to_string()),
    })
}

/// Replaces an `Unconfined` profile with the hardening profile (`--seccomp`); the
/// pre-1.19 annotations get `runtime/default`.
pub fn fix(
    v: &Violation,
    cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    if v.pointer.ends_with("/seccompProfile/type") {
        let profile = crate::fix::parent(&v.pointer, 1);
        vec![crate::fix::set(profile, cx.options.seccomp_profile())]
    } else {
        vec![crate::fix::set(v.pointer.clone(), "runtime/default".into())]
    }
}
