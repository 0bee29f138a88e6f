use palisade_yaml::{Node, push_index, push_key};

use crate::rules::pod_fields::env;
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags containers that set `NVIDIA_VISIBLE_DEVICES` (or the MIG equivalents
    /// `NVIDIA_MIG_CONFIG_DEVICES` and `NVIDIA_MIG_MONITOR_DEVICES`) in their env, literally
    /// or through `valueFrom`. The values `void`, `none` and the empty string ask for no GPU
    /// and are not reported.
    ///
    /// ## Why is this bad?
    /// These variables tell the NVIDIA container runtime which GPUs to mount. Unless the
    /// cluster has turned off `accept-nvidia-visible-devices-envvar-when-unprivileged` (and
    /// switched the device plugin to the `volume-mounts` list strategy), a pod that sets them
    /// gets those GPUs without the device plugin allocating them: `all` hands it every GPU of
    /// the node, GPUs that the scheduler has given to other pods. That breaks GPU isolation
    /// between tenants and lets a pod use capacity nobody accounts for (cost harvesting,
    /// MITRE ATLAS AML.T0034), hence severity high.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    ///   - name: NVIDIA_VISIBLE_DEVICES
    ///     value: all
    /// ```
    ///
    /// ## Fix
    /// Remove the variable and request GPUs through resources:
    /// ```yaml
    /// resources:
    ///   limits: {nvidia.com/gpu: 1}
    /// ```
    pub static RULE = {
        code: "PAL141",
        name: "gpu-visible-devices-env",
        family: "gpus",
        severity: High,
        summary: "Pods must not choose GPUs with `NVIDIA_VISIBLE_DEVICES` env",
        references: [
            Doc "NVIDIA k8s-device-plugin: deviceListStrategy" "https://github.com/NVIDIA/k8s-device-plugin#configuration-option-details",
            Doc "NVIDIA Container Toolkit: environment variables" "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/docker-specialized.html",
            Doc "NVIDIA GPU Operator" "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/index.html",
            Atlas "AML.T0034" "https://atlas.mitre.org/techniques/AML.T0034",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

const DEVICE_VARS: &[&str] = &[
    "NVIDIA_VISIBLE_DEVICES",
    "NVIDIA_MIG_CONFIG_DEVICES",
    "NVIDIA_MIG_MONITOR_DEVICES",
];

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for c in &cx.pod.spec.containers {
        if c.image_ref.as_ref().is_some_and(super::is_gpu_stack) {
            continue;
        }
        for var in env(c) {
            if !DEVICE_VARS.contains(&var.name) {
                continue;
            }
            let value = var.value.and_then(Node::as_str).map(str::trim);
            let what = match value {
                _ if var.value_from => "a value from another object".to_string(),
                Some("" | "void" | "none") | None => continue,
                Some("all") => "`all`, which exposes every GPU of the node".to_string(),
                // Device indexes and UUIDs are the allocation itself; the value is not secret.
                Some(v) => format!("{v:?}"),
            };
            out.push(Violation {
                detail: format!(
                    "container {:?} sets {} to {what}, bypassing the device plugin's GPU allocation",
                    c.name, var.name
                ),
                pointer: push_index(&push_key(&c.ptr, "env"), var.index),
                pos: var.pos,
                container: Some(c.name.to_string()),
            });
        }
    }
}

/// Removes the variable: the NVIDIA device plugin sets it to the GPUs the pod was allocated.
pub fn fix(
    v: &Violation,
    _cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    vec![palisade_yaml::edit::PatchOp::Remove {
        path: v.pointer.clone(),
    }]
}
