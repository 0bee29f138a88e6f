use crate::rules::pod_fields::{quantity, runnable};
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags init and regular containers that set neither a request nor a limit for CPU or
    /// for memory. A limit alone is enough: Kubernetes copies it into the request.
    ///
    /// ## Why is this bad?
    /// The scheduler places pods by their requests. A container that requests nothing is
    /// scheduled as if it used nothing, so nodes are overcommitted and the pod is the first
    /// to be evicted under pressure (QoS class `BestEffort`); GPU nodes packed this way lose
    /// expensive jobs mid-training. Severity is low: this is mostly about reliability.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: preprocess
    ///     image: python:3.11
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     resources:
    ///       requests: {cpu: 500m, memory: 1Gi}
    /// ```
    pub static RULE = {
        code: "PAL122",
        name: "resource-requests-missing",
        family: "resources",
        severity: Low,
        summary: "Containers should request CPU and memory",
        references: [
            Nsa "Kubernetes Hardening Guide: resource policies" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Doc "Kubernetes: resource management for pods and containers" "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for c in runnable(&cx.pod.spec.containers) {
        for (resource, label) in [("cpu", "CPU"), ("memory", "memory")] {
            if quantity(c, "requests", resource).is_none()
                && quantity(c, "limits", resource).is_none()
            {
                out.push(super::missing(
                    c,
                    "requests",
                    resource,
                    format!("container {:?} requests no {label}", c.name),
                ));
            }
        }
    }
}
