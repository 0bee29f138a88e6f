use palisade_yaml::push_key;

use super::{container_sc_ptr, pod_sc_ptr};
use crate::model::ProfileRef;
use crate::pss::{
    Level, PodView, PssCheck, VersionedCheck, Violation, container_phrase, go_quote, quote,
};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags AppArmor profiles other than the runtime default or a node-local profile
    /// (Pod Security Standards, baseline check `appArmorProfile`): an
    /// `appArmorProfile.type` other than `RuntimeDefault` or `Localhost` on the pod or on any
    /// container, and any `container.apparmor.security.beta.kubernetes.io/*` annotation whose
    /// value is not empty, `runtime/default` or `localhost/*` (typically `unconfined`).
    ///
    /// ## Why is this bad?
    /// AppArmor is what stops a compromised process from writing to `/proc/sys`, mounting
    /// filesystems or reading other containers' files even when it runs as root. `Unconfined`
    /// removes that layer. Notebook and model-server images that run arbitrary user code
    /// (Jupyter kernels, `trust_remote_code` model loaders) are exactly the workloads that need
    /// it most.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     appArmorProfile:
    ///       type: Unconfined
    /// ```
    ///
    /// ## Fix
    /// Remove the override, or use the runtime default (or a profile loaded on the node):
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     appArmorProfile:
    ///       type: RuntimeDefault
    /// ```
    pub static RULE = {
        code: "PAL001",
        name: "app-armor-profile",
        family: "pss-baseline",
        severity: High,
        summary: "AppArmor must not be disabled or overridden with a non-default profile",
        pss_check: "appArmorProfile",
        references: [
            Pss "baseline/appArmorProfile" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
            Cis "5.7.3" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security: hardening container environments" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1562.001" "https://attack.mitre.org/techniques/T1562/001/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "appArmorProfile",
    level: Level::Baseline,
    reason: "forbidden AppArmor profile",
    rule: &RULE,
    versions: &[VersionedCheck {
        min_minor: 0,
        check,
        overrides: &[],
    }],
};

const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

fn allowed_type(t: &str) -> bool {
    matches!(t, "RuntimeDefault" | "Localhost")
}

fn allowed_annotation(v: &str) -> bool {
    v.is_empty() || v == "runtime/default" || v.starts_with("localhost/")
}

/// `Some((type, pos))` when the profile is set to a forbidden type (an absent type is `""`).
fn forbidden(profile: &ProfileRef<'_>) -> Option<(String, palisade_yaml::Pos)> {
    let t = profile.type_.map_or("", |t| t.value);
    (!allowed_type(t)).then(|| (t.to_string(), profile.type_.map_or(profile.pos, |t| t.pos)))
}

fn check(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    let spec = pod.spec;
    if let Some(profile) = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.app_armor_profile.as_ref())
        && let Some((t, pos)) = forbidden(profile)
    {
        out.push(Violation {
            detail: format!("pod must not set AppArmor profile type to {}", quote(&t)),
            pointer: pod_sc_ptr(spec, &["appArmorProfile", "type"]),
            pos,
            container: None,
        });
    }
    for c in &spec.containers {
        if let Some(profile) = c
            .security_context
            .as_ref()
            .and_then(|sc| sc.app_armor_profile.as_ref())
            && let Some((t, pos)) = forbidden(profile)
        {
            out.push(Violation {
                detail: format!(
                    "{} must not set AppArmor profile type to {}",
                    container_phrase(c.name),
                    quote(&t)
                ),
                pointer: container_sc_ptr(c, &["appArmorProfile", "type"]),
                pos,
                container: Some(c.name.to_string()),
            });
        }
    }
    let annotations = &pod.meta.annotations;
    for (i, (k, v)) in annotations.iter().enumerate() {
        if !k.value.starts_with(ANNOTATION_PREFIX) || allowed_annotation(v.value) {
            continue;
        }
        // A repeated key: the API keeps the last value, as does this check.
        if annotations[i + 1..]
            .iter()
            .any(|(k2, _)| k2.value == k.value)
        {
            continue;
        }
        let container = k.value[ANNOTATION_PREFIX.len()..].to_string();
        out.push(Violation {
            detail: format!(
                "annotation must not set AppArmor profile type to {}",
                quote(&format!("{}={}", k.value, go_quote(v.value)))
            ),
            pointer: push_key(&push_key(&pod.meta.ptr, "annotations"), k.value),
            pos: v.pos,
            container: spec
                .containers
                .iter()
                .any(|c| c.name == container)
                .then_some(container),
        });
    }
}

/// Sets the profile to `RuntimeDefault` (or the annotation to `runtime/default`).
pub fn fix(
    v: &Violation,
    _cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    let value = if v.pointer.ends_with("/type") {
        "RuntimeDefault"
    } else {
        "runtime/default"
    };
    vec![crate::fix::set(v.pointer.clone(), value.into())]
}
