use palisade_yaml::push_key;

use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags pods that run as the namespace's `default` service account (no
    /// `serviceAccountName`, or `default`) and do not set `automountServiceAccountToken:
    /// false`. A pod with a dedicated service account is assumed to have been given it to
    /// call the Kubernetes API (a Ray head, a Kubeflow or Argo controller) and is not
    /// reported; if it does not call the API, set the field to `false` on the pod or on its
    /// ServiceAccount. The setting on the `default` ServiceAccount object itself is not
    /// visible from the workload: set it on the pod to make the manifest self-evidently safe.
    ///
    /// ## Why is this bad?
    /// Model servers, notebooks and training jobs rarely talk to the Kubernetes API, yet by
    /// default every container gets a token at
    /// `/var/run/secrets/kubernetes.io/serviceaccount/token`. Whoever gets code execution in
    /// the pod (a pickled model, a notebook cell, a vulnerable inference server) gets that
    /// identity and whatever RBAC has been bound to `default` over time (MITRE ATT&CK
    /// T1528 steal application access token, T1552.007 container API). Severity medium.
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
    ///   automountServiceAccountToken: false
    /// ```
    pub static RULE = {
        code: "PAL220",
        name: "service-account-token-automount",
        family: "service-accounts",
        severity: Medium,
        summary: "Pods that do not use the API must not mount a service account token",
        references: [
            Cis "5.1.6" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Kubernetes Hardening Guide: service account tokens" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Attack "T1528" "https://attack.mitre.org/techniques/T1528/",
            Attack "T1552.007" "https://attack.mitre.org/techniques/T1552/007/",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    let spec = cx.pod.spec;
    let automount = super::automount(spec);
    if automount.is_some_and(|a| !a.value) || super::dedicated_account(spec).is_some() {
        return;
    }
    let detail = if automount.is_some() {
        "pod runs as the default service account with automountServiceAccountToken: true; \
         its containers get an API token they do not need"
    } else {
        "pod runs as the default service account without automountServiceAccountToken: false; \
         its containers get an API token they do not need"
    };
    out.push(Violation {
        detail: detail.to_string(),
        pointer: push_key(&spec.ptr, "automountServiceAccountToken"),
        pos: automount.map_or(spec.pos, |a| a.pos),
        container: None,
    });
}

/// Stops mounting the token: `automountServiceAccountToken: false` on the pod.
pub fn fix(
    v: &Violation,
    _cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    vec![crate::fix::set(v.pointer.clone(), false.into())]
}
