use palisade_yaml::{Node, push_index, push_key};

use crate::rules::pod_fields::env;
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags containers that set `NVIDIA_DRIVER_CAPABILITIES` to `all` or to capabilities
    /// beyond `compute` and `utility` (the CUDA images' default), or from `valueFrom`.
    ///
    /// ## Why is this bad?
    /// The variable tells the NVIDIA runtime which parts of the host driver to mount into the
    /// container. `graphics`, `video`, `display`, `compat32` and `ngx` add driver libraries
    /// and device nodes an inference or training job does not need, each one more host
    /// driver code reachable from the container; like `NVIDIA_VISIBLE_DEVICES`, it moves a
    /// decision that belongs to the node's GPU configuration into the pod. Severity is low:
    /// it widens the attack surface but grants no GPU by itself.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    ///   - name: NVIDIA_DRIVER_CAPABILITIES
    ///     value: all
    /// ```
    ///
    /// ## Fix
    /// Remove the variable (the image default is `compute,utility`), or list only what the
    /// workload uses:
    /// ```yaml
    ///   - name: NVIDIA_DRIVER_CAPABILITIES
    ///     value: compute,utility
    /// ```
    pub static RULE = {
        code: "PAL142",
        name: "gpu-driver-capabilities-env",
        family: "gpus",
        severity: Low,
        summary: "Pods should not widen `NVIDIA_DRIVER_CAPABILITIES` beyond compute and utility",
        references: [
            Doc "NVIDIA Container Toolkit: driver capabilities" "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/docker-specialized.html#driver-capabilities",
            Doc "NVIDIA GPU Operator" "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/index.html",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for c in &cx.pod.spec.containers {
        if c.image_ref.as_ref().is_some_and(super::is_gpu_stack) {
            continue;
        }
        for var in env(c) {
            if var.name != "NVIDIA_DRIVER_CAPABILITIES" {
                continue;
            }
            let value = var.value.and_then(Node::as_str).unwrap_or_default();
            let wide: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|cap| !matches!(*cap, "" | "compute" | "utility"))
                .collect();
            if wide.is_empty() && !var.value_from {
                continue;
            }
            let what = if var.value_from {
                "a value from another object".to_string()
            } else {
                format!("{:?}", wide.join(","))
            };
            out.push(Violation {
                detail: format!(
                    "container {:?} sets NVIDIA_DRIVER_CAPABILITIES to {what}, mounting more of the host GPU driver than compute,utility",
                    c.name
                ),
                pointer: push_index(&push_key(&c.ptr, "env"), var.index),
                pos: var.pos,
                container: Some(c.name.to_string()),
            });
        }
    }
}

/// Narrows the driver capabilities to what CUDA workloads need.
pub fn fix(
    v: &Violation,
    _cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    vec![crate::fix::set(
        format!("{}/value", v.pointer),
        "compute,utility".into(),
    )]
}
