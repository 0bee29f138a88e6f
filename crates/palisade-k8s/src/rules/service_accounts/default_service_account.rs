use palisade_yaml::{Node, push_key};

use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags pods that run as the namespace's `default` service account: no
    /// `serviceAccountName` (nor the deprecated `serviceAccount`), or `default` explicitly.
    /// It reports whether or not the token is mounted: `service-account-token-automount`
    /// (PAL220) covers the token.
    ///
    /// ## Why is this bad?
    /// Every pod of the namespace that names no account shares `default`. A RoleBinding
    /// added for one workload, or a cloud identity bound to `default` (IRSA, GKE Workload
    /// Identity, Azure Workload Identity: these inject credentials even when the API token
    /// is not automounted), then reaches every notebook and model server in the namespace,
    /// including access to training data and model buckets; audit logs cannot tell the
    /// workloads apart (MITRE ATT&CK T1078.004 cloud accounts). Severity low: harmless until
    /// something is bound to `default`.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: trainer
    /// ```
    ///
    /// ## Fix
    /// Create a ServiceAccount per workload (with `automountServiceAccountToken: false`
    /// unless it calls the API) and use it:
    /// ```yaml
    /// spec:
    ///   serviceAccountName: trainer
    /// ```
    pub static RULE = {
        code: "PAL221",
        name: "default-service-account",
        family: "service-accounts",
        severity: Low,
        summary: "Workloads should run as a dedicated service account",
        references: [
            Cis "5.1.5" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Kubernetes Hardening Guide: service accounts" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Attack "T1078.004" "https://attack.mitre.org/techniques/T1078/004/",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    let spec = cx.pod.spec;
    if super::dedicated_account(spec).is_some() {
        return;
    }
    let written = spec.raw.get("serviceAccountName").filter(|n| !n.is_null());
    out.push(Violation {
        detail: match written.and_then(Node::as_str) {
            Some(_) => "pod runs explicitly as the namespace's default service account".to_string(),
            None => "pod names no service account and so runs as the namespace's default one"
                .to_string(),
        },
        pointer: push_key(&spec.ptr, "serviceAccountName"),
        pos: written.map_or(spec.pos, |n| n.pos),
        container: None,
    });
}
