//! A whole-scan rule: run from [`crate::rules::stream`].

use crate::rules::stream::{Scan, StreamViolation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags each pod template (a Deployment's template, each RayCluster group, each KServe
    /// component) that no NetworkPolicy of its namespace in the scan selects. Selection
    /// follows the API: `podSelector: {}` selects every pod; `matchLabels` and
    /// `matchExpressions` (`In`, `NotIn`, `Exists`, `DoesNotExist`; `NotIn` holds when the
    /// label is absent) are ANDed; an invalid selector selects nothing. Labels that KubeRay,
    /// KServe and Kubeflow add to the pods they create count.
    ///
    /// ## Why is this bad?
    /// A pod no policy selects is not isolated in either direction: anything in the cluster
    /// can connect to it, and it can connect anywhere, including the cloud metadata service
    /// and the API server (NSA/CISA Kubernetes Hardening Guidance; CIS 5.3.2; ATT&CK T1021,
    /// lateral movement). Severity low: PAL241 reports the namespace-wide gap once; this rule
    /// names each workload left out.
    ///
    /// ## Example
    /// A NetworkPolicy selecting `app: api` and a Deployment whose pods are `app: triton`.
    ///
    /// ## Fix
    /// Add or widen a NetworkPolicy so its `podSelector` matches the template labels the
    /// finding points at (`…/template/metadata/labels`), allowing only the clients the
    /// server needs; a default-deny policy (`podSelector: {}`) selects every pod.
    pub static RULE = {
        code: "PAL242",
        name: "workload-not-selected-by-network-policy",
        family: "namespaces",
        severity: Low,
        summary: "Every workload should be selected by a NetworkPolicy",
        references: [
            Cis "5.3.2" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Network separation" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Attack "T1021" "https://attack.mitre.org/techniques/T1021/",
        ],
    };
}

pub(crate) fn check<'i>(scan: Scan<'i>, out: &mut Vec<StreamViolation<'i>>) {
    for w in scan.workloads() {
        for pod in &w.pods {
            let selected = scan
                .policies()
                .any(|p| p.namespace == w.namespace && p.pod_selector.matches(&pod.labels));
            if selected {
                continue;
            }
            out.push(StreamViolation {
                origin: &w.origin,
                pointer: pod.labels_ptr.clone(),
                pos: pod.pos,
                message: format!(
                    "pods of {} ({}) are selected by no NetworkPolicy in namespace {}: they accept connections from anywhere in the cluster",
                    w.origin.object,
                    pod.labels_ptr,
                    w.namespace.as_deref().unwrap_or("(none set)")
                ),
                container: None,
                template_suppression: pod.suppression.as_ref(),
            });
        }
    }
}
