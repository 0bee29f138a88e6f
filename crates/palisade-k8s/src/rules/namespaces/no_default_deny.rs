//! A whole-scan rule: run from [`crate::rules::stream`].

use std::collections::BTreeMap;

use crate::rules::stream::{Scan, StreamViolation, Workload};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags each namespace that has workloads in the scan but no default-deny ingress
    /// NetworkPolicy in the scan: a policy with `podSelector: {}` whose policy types include
    /// `Ingress` (the default when `policyTypes` is omitted) and none of whose ingress rules
    /// admits every source. Objects without `metadata.namespace` are grouped together (they
    /// land in whatever namespace they are applied to), and match policies without one.
    ///
    /// ## Why is this bad?
    /// Pods accept connections from every pod in the cluster until a policy selects them. One
    /// compromised pod can then reach every model server, notebook and Ray head in the
    /// namespace, most of which have no authentication of their own (NSA/CISA Kubernetes
    /// Hardening Guidance, network separation; CIS 5.3.2; ATT&CK T1021, lateral movement).
    /// Severity medium: the policy may live outside the scanned files.
    ///
    /// ## Example
    /// A Deployment in namespace `ml-serving` and no NetworkPolicy in `ml-serving`.
    ///
    /// ## Fix
    /// Add a NetworkPolicy to the namespace (a new object: the finding points at the
    /// Namespace's name, or at the first workload's `metadata.namespace`), then allow what
    /// each workload needs with further policies:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: default-deny-ingress, namespace: ml-serving}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Ingress]
    /// ```
    pub static RULE = {
        code: "PAL241",
        name: "namespace-without-default-deny",
        family: "namespaces",
        severity: Medium,
        summary: "Namespaces with workloads must have a default-deny ingress NetworkPolicy",
        references: [
            Cis "5.3.2" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Network separation" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Attack "T1021" "https://attack.mitre.org/techniques/T1021/",
        ],
    };
}

pub(crate) fn check<'i>(scan: Scan<'i>, out: &mut Vec<StreamViolation<'i>>) {
    let mut by_namespace: BTreeMap<Option<&str>, Vec<&Workload>> = BTreeMap::new();
    for w in scan.workloads() {
        by_namespace
            .entry(w.namespace.as_deref())
            .or_default()
            .push(w);
    }
    for (ns, mut workloads) in by_namespace {
        if scan
            .policies()
            .any(|p| p.namespace.as_deref() == ns && p.default_deny_ingress)
        {
            continue;
        }
        // Deterministic anchor whatever order the files were scanned in.
        workloads.sort_by(|a, b| {
            (&a.origin.file, a.origin.document, &a.origin.ptr).cmp(&(
                &b.origin.file,
                b.origin.document,
                &b.origin.ptr,
            ))
        });
        let shown = ns.map_or_else(|| "(none set)".to_string(), |n| format!("{n:?}"));
        let message = format!(
            "namespace {shown} has {} workload(s) in the scan and no default-deny ingress NetworkPolicy (podSelector: {{}}, policyTypes: [Ingress])",
            workloads.len()
        );
        let declared = ns.and_then(|n| scan.namespaces().find(|d| d.name == n));
        let v = match (declared, workloads.first()) {
            (Some(d), _) => StreamViolation {
                origin: &d.origin,
                pointer: format!("{}/metadata/name", d.origin.ptr),
                pos: d.name_pos,
                message,
                container: None,
                template_suppression: None,
            },
            (None, Some(w)) => StreamViolation {
                origin: &w.origin,
                pointer: format!("{}/metadata/namespace", w.origin.ptr),
                pos: w.namespace_pos,
                message,
                container: None,
                template_suppression: None,
            },
            (None, None) => continue,
        };
        out.push(v);
    }
}
