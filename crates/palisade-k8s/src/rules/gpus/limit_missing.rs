use palisade_yaml::push_key;

use crate::model::ContainerKind;
use crate::rules::pod_fields::{resources_pos, runnable};
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags init and regular containers that look like they use NVIDIA GPUs but have no
    /// `nvidia.com/gpu` (or MIG, or shared-GPU) limit. A container looks like a GPU container
    /// when it runs a CUDA image (NGC `nvcr.io/…`, `nvidia/cuda`, `pytorch/pytorch:*-cuda*`,
    /// `cu121` or `gpu` tags), sets `NVIDIA_*` env itself, or, when no container of the pod
    /// asks for a GPU, when the pod selects the NVIDIA runtime (`runtimeClassName: nvidia`).
    /// Images of the GPU stack itself (device plugin, GPU Operator, DCGM exporter, driver) are
    /// node agents and are not reported; neither is a container that sets
    /// `NVIDIA_VISIBLE_DEVICES=void` or `none`.
    ///
    /// ## Why is this bad?
    /// The NVIDIA device plugin only isolates GPUs a container asks for. CUDA images set
    /// `NVIDIA_VISIBLE_DEVICES=all`, so when the NVIDIA runtime is the node's default (as the
    /// GPU Operator configures it) a container without a GPU limit is given *every* GPU of
    /// the node, as the device plugin documentation warns: it can read other tenants' GPU
    /// memory, disturb their jobs, and run unaccounted work (cost harvesting, MITRE ATLAS
    /// AML.T0034). Severity is medium because the detection is a heuristic on image names.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: trainer
    ///     image: pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime
    /// ```
    ///
    /// ## Fix
    /// Ask for the GPUs the container needs (`0` is not enough: set
    /// `NVIDIA_VISIBLE_DEVICES=void` on containers that must see none):
    /// ```yaml
    ///     resources:
    ///       limits: {nvidia.com/gpu: 1}
    /// ```
    pub static RULE = {
        code: "PAL140",
        name: "gpu-limit-missing",
        family: "gpus",
        severity: Medium,
        summary: "Containers that use GPUs must request them through `nvidia.com/gpu` limits",
        references: [
            Doc "NVIDIA k8s-device-plugin: running GPU jobs" "https://github.com/NVIDIA/k8s-device-plugin#running-gpu-jobs",
            Doc "NVIDIA GPU Operator" "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/index.html",
            Doc "Kubernetes: schedule GPUs" "https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/",
            Atlas "AML.T0034" "https://atlas.mitre.org/techniques/AML.T0034",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    let spec = cx.pod.spec;
    let runtime = super::nvidia_runtime_class(spec);
    let pod_asks_for_gpus = runnable(&spec.containers).any(super::has_gpu_limit);
    for c in runnable(&spec.containers) {
        if super::has_gpu_limit(c) || super::env_opts_out(c) {
            continue;
        }
        if c.image_ref.as_ref().is_some_and(super::is_gpu_stack) {
            continue;
        }
        let why = super::gpu_signal(c).or_else(|| match runtime {
            Some(r) if !pod_asks_for_gpus && c.kind == ContainerKind::Regular => {
                Some(format!("the pod uses runtimeClassName {r:?}"))
            }
            _ => None,
        });
        let Some(why) = why else { continue };
        out.push(Violation {
            detail: format!(
                "container {:?} looks like it uses GPUs because {why}, but sets no nvidia.com/gpu limit, so it may see every GPU of the node",
                c.name
            ),
            pointer: push_key(
                &push_key(&push_key(&c.ptr, "resources"), "limits"),
                "nvidia.com/gpu",
            ),
            pos: resources_pos(c, "limits"),
            container: Some(c.name.to_string()),
        });
    }
}
