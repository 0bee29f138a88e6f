use crate::rules::pod_fields::{quantity, runnable};
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags init and regular containers without `resources.limits.memory`.
    ///
    /// ## Why is this bad?
    /// A container without a memory limit can take all of the node's memory: a model that
    /// loads a larger checkpoint than expected, a tokenizer cache, or a request flood makes
    /// the kernel OOM-kill neighbouring pods, including other tenants' inference servers
    /// (denial of service, MITRE ATT&CK T1499; ATLAS AML.T0029). A `LimitRange` in the
    /// namespace may add a default the manifest does not show; declare the limit explicitly
    /// so the manifest states what the workload needs.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: tf-serving
    ///     image: tensorflow/serving:2.16.1
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     resources:
    ///       requests: {memory: 4Gi}
    ///       limits: {memory: 4Gi}
    /// ```
    pub static RULE = {
        code: "PAL120",
        name: "memory-limit-missing",
        family: "resources",
        severity: Medium,
        summary: "Containers must set a memory limit",
        references: [
            Nsa "Kubernetes Hardening Guide: resource policies" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1499" "https://attack.mitre.org/techniques/T1499/",
            Atlas "AML.T0029" "https://atlas.mitre.org/techniques/AML.T0029",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for c in runnable(&cx.pod.spec.containers) {
        if quantity(c, "limits", "memory").is_none() {
            out.push(super::missing(
                c,
                "limits",
                "memory",
                format!("container {:?} has no memory limit", c.name),
            ));
        }
    }
}
