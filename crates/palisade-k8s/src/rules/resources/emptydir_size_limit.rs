use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags disk-backed `emptyDir` volumes (no `medium`, or `medium: ""`) without a
    /// `sizeLimit`. Memory-backed ones are `emptydir-memory-size-limit-missing` (PAL124).
    ///
    /// ## Why is this bad?
    /// An unbounded `emptyDir` lives on the node's ephemeral storage. A job that downloads
    /// model weights or writes checkpoints into it can fill the node's disk, and the kubelet
    /// then evicts unrelated pods (denial of service, MITRE ATT&CK T1499). With a `sizeLimit`
    /// the kubelet evicts only the pod that overruns. Severity is low: the damage is
    /// availability only, and node-pressure eviction eventually kicks in.
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    ///   - name: hf-cache
    ///     emptyDir: {}
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///   - name: hf-cache
    ///     emptyDir: {sizeLimit: 20Gi}
    /// ```
    pub static RULE = {
        code: "PAL123",
        name: "emptydir-size-limit-missing",
        family: "resources",
        severity: Low,
        summary: "`emptyDir` volumes should set a `sizeLimit`",
        references: [
            Nsa "Kubernetes Hardening Guide: resource policies" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Attack "T1499" "https://attack.mitre.org/techniques/T1499/",
            Doc "Kubernetes: emptyDir" "https://kubernetes.io/docs/concepts/storage/volumes/#emptydir",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    let spec = cx.pod.spec;
    for e in super::unbounded_empty_dirs(spec) {
        if super::is_memory_medium(&e) {
            continue;
        }
        out.push(Violation {
            detail: format!(
                "emptyDir volume {:?} has no sizeLimit and can fill the node's ephemeral storage",
                e.name
            ),
            pointer: super::size_limit_ptr(spec, e.index),
            pos: e.key_pos,
            container: None,
        });
    }
}
