use crate::rules::pod_fields::{quantity, runnable};
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags init and regular containers without `resources.limits.cpu`.
    ///
    /// ## Why is this bad?
    /// Without a CPU limit a container can use every idle core of the node; a busy
    /// pre-processing step or a cryptominer planted in a compromised notebook (cost
    /// harvesting, MITRE ATLAS AML.T0034; ATT&CK T1496 resource hijacking) slows every other
    /// workload there. Severity is low because CPU, unlike memory, is throttled rather than
    /// exhausted, and some teams deliberately leave CPU unlimited for latency: turn the rule
    /// off in the policy (`rules: {PAL121: off}`) if that is your choice.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: api
    ///     image: python:3.11
    ///     resources:
    ///       limits: {memory: 1Gi}
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     resources:
    ///       limits: {cpu: "2", memory: 1Gi}
    /// ```
    pub static RULE = {
        code: "PAL121",
        name: "cpu-limit-missing",
        family: "resources",
        severity: Low,
        summary: "Containers should set a CPU limit",
        references: [
            Nsa "Kubernetes Hardening Guide: resource policies" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1496" "https://attack.mitre.org/techniques/T1496/",
            Atlas "AML.T0034" "https://atlas.mitre.org/techniques/AML.T0034",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for c in runnable(&cx.pod.spec.containers) {
        if quantity(c, "limits", "cpu").is_none() {
            out.push(super::missing(
                c,
                "limits",
                "cpu",
                format!("container {:?} has no CPU limit", c.name),
            ));
        }
    }
}
