use palisade_yaml::push_key;

use crate::rules::{ResourceContext, ResourceRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `Namespace` objects without a `pod-security.kubernetes.io/enforce` label, and
    /// those whose label is not a Pod Security level (`privileged`, `baseline`, `restricted`).
    ///
    /// ## Why is this bad?
    /// Without the label, Pod Security Admission enforces the cluster default, which is
    /// `privileged` unless the API server was configured otherwise: any pod, including
    /// privileged and hostPath pods, is admitted into the namespace (CIS 5.2.1; NSA/CISA
    /// Kubernetes Hardening Guidance, pod security; ATT&CK T1611, escape to host).
    /// `audit` and `warn` labels only report. Severity medium: other admission controllers may
    /// enforce the same, but the scan cannot see them.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Namespace
    /// metadata:
    ///   name: ml-serving
    /// ```
    ///
    /// ## Fix
    /// Set the label the finding points at (`/metadata/labels/pod-security.kubernetes.io~1enforce`):
    /// ```yaml
    /// metadata:
    ///   labels:
    ///     pod-security.kubernetes.io/enforce: restricted
    /// ```
    pub static RULE = {
        code: "PAL240",
        name: "namespace-psa-enforce-missing",
        family: "namespaces",
        severity: Medium,
        summary: "Namespaces must set the pod-security.kubernetes.io/enforce label",
        references: [
            Cis "5.2.1" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Attack "T1611" "https://attack.mitre.org/techniques/T1611/",
            Doc "Pod Security Admission" "https://kubernetes.io/docs/concepts/security/pod-security-admission/",
        ],
    };
}

pub static RULE_IMPL: ResourceRule = ResourceRule {
    rule: &RULE,
    kinds: &[("", "Namespace")],
    check,
};

pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";

fn check(cx: &ResourceContext<'_, '_>, out: &mut Vec<Violation>) {
    let res = cx.resource;
    let labels_ptr = push_key(&res.meta.ptr, "labels");
    let pointer = push_key(&labels_ptr, ENFORCE_LABEL);
    let label = res
        .meta
        .labels
        .iter()
        .rev()
        .find(|(k, _)| k.value == ENFORCE_LABEL);
    match label {
        Some((_, v)) if matches!(v.value, "privileged" | "baseline" | "restricted") => {}
        Some((_, v)) => out.push(Violation {
            detail: format!(
                "namespace {:?} sets {ENFORCE_LABEL}: {:?}, which is not a Pod Security level (privileged, baseline, restricted)",
                res.name, v.value
            ),
            pointer,
            pos: v.pos,
            container: None,
        }),
        None => {
            let meta = res.node.get("metadata");
            let pos = meta
                .and_then(|m| m.get_entry("labels"))
                .map(|e| e.key_pos)
                .or_else(|| res.node.get_entry("metadata").map(|e| e.key_pos))
                .unwrap_or(res.node.pos);
            out.push(Violation {
                detail: format!(
                    "namespace {:?} has no {ENFORCE_LABEL} label: Pod Security Admission applies the cluster default (privileged unless configured)",
                    res.name
                ),
                pointer,
                pos,
                container: None,
            });
        }
    }
}

/// Labels the namespace with the level Palisade enforces (`--standard`), so the API server's
/// own Pod Security Admission backs up the webhook.
pub fn fix(
    v: &Violation,
    cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    vec![crate::fix::set(
        v.pointer.clone(),
        cx.options.pss_level.to_string().into(),
    )]
}
