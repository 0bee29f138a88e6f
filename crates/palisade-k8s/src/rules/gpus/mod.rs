//! GPUs: how containers reach NVIDIA devices, and whether the device plugin bounds them.

pub mod device_host_access;
pub mod driver_capabilities_env;
pub mod limit_missing;
pub mod request_limit_mismatch;
pub mod visible_devices_env;

use palisade_yaml::Node;

use crate::model::{Container, PodSpec};
use crate::rules::pod_fields::{env, resource_map};
use crate::rules::text::{contains, last_segment};
use crate::rules::{ImageRef, ascii_lowercase};

/// Extended resources the NVIDIA device plugin advertises: `nvidia.com/gpu`, MIG slices
/// (`nvidia.com/mig-1g.5gb`) and renamed shared GPUs (`nvidia.com/gpu.shared`).
fn is_gpu_resource(name: &str) -> bool {
    name.strip_prefix("nvidia.com/")
        .is_some_and(|r| r == "gpu" || r.starts_with("gpu.") || r.starts_with("mig-"))
}

/// GPU resources under `resources.<which>`, with their nodes.
fn gpu_entries<'n, 'a>(
    c: &'n Container<'a>,
    which: &str,
) -> impl Iterator<Item = (&'n str, &'n Node<'a>)> + 'n {
    resource_map(c, which)
        .and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter(|e| is_gpu_resource(&e.key))
        .map(|e| (e.key.as_ref(), &e.value))
}

fn has_gpu_limit(c: &Container<'_>) -> bool {
    gpu_entries(c, "limits")
        .any(|(_, v)| v.as_str().is_some_and(|q| q.trim().parse::<u64>() != Ok(0)))
}

/// Images of the GPU stack itself: node agents, not workloads.
const GPU_STACK: &[&str] = &[
    "k8s-device-plugin",
    "gpu-operator",
    "gpu-feature-discovery",
    "dcgm-exporter",
    "dcgm",
    "driver",
    "container-toolkit",
    "k8s-mig-manager",
    "k8s-driver-manager",
    "gpu-operator-validator",
    "k8s-dra-driver",
    "k8s-dra-driver-gpu",
    "kubevirt-gpu-device-plugin",
];

fn is_gpu_stack(r: &ImageRef<'_>) -> bool {
    (r.registry == "nvcr.io" || r.repository.starts_with("nvidia/"))
        && GPU_STACK.contains(&last_segment(r.repository))
}

fn gpu_signal(c: &Container<'_>) -> Option<String> {
    if let (Some(image), Some(r)) = (c.image, &c.image_ref)
        && let Some(why) = gpu_image_ref(r)
    {
        return Some(format!("{why} ({:?})", image.value));
    }
    env(c)
        .find(|v| v.name.starts_with("NVIDIA_") && !opts_out(v.value))
        .map(|v| format!("it sets {}", v.name))
}

/// `NVIDIA_VISIBLE_DEVICES=void|none` (or empty) asks the NVIDIA runtime for no GPU.
fn opts_out(value: Option<&Node<'_>>) -> bool {
    value
        .and_then(Node::as_str)
        .is_some_and(|v| matches!(v.trim(), "" | "void" | "none"))
}

/// Whether the container explicitly asks for no GPU through its env.
fn env_opts_out(c: &Container<'_>) -> bool {
    env(c).any(|v| v.name == "NVIDIA_VISIBLE_DEVICES" && !v.value_from && opts_out(v.value))
}

/// Recognises images built on CUDA: NGC (`nvcr.io/nvidia/…`), `cuda` in the repository or
/// tag (`nvidia/cuda`, `pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime`), CUDA wheel tags
/// (`cu121`) and `gpu` tags or repositories (`tensorflow/tensorflow:2.16.1-gpu`).
#[cfg(test)]
fn gpu_image(image: &str) -> Option<&'static str> {
    gpu_image_ref(&crate::rules::parse_image(image))
}

/// Why an image looks like it runs on GPUs (NGC, CUDA, `-gpu` tags), if it does.
fn gpu_image_ref(r: &ImageRef<'_>) -> Option<&'static str> {
    if is_gpu_stack(r) {
        return None;
    }
    if r.registry == "nvcr.io" {
        return Some("it runs an NVIDIA NGC image");
    }
    let repo = ascii_lowercase(r.repository);
    let tag = ascii_lowercase(r.tag.unwrap_or_default());
    let name = last_segment(&repo);
    let tokens = || pieces(&tag).chain(pieces(name));
    if contains(&repo, "cuda") || contains(&tag, "cuda") || tokens().any(is_cuda_wheel_tag) {
        return Some("it runs a CUDA image");
    }
    if tokens().any(|t| t == "gpu") {
        return Some("it runs a GPU image");
    }
    None
}

/// `s.split(['-', '_', '.'])`, by bytes: a char pattern decodes every character, and this
/// runs for every container's image.
fn pieces(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.bytes().position(|b| matches!(b, b'-' | b'_' | b'.')) {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// `cu118`, `cu121`, `cu124`: the CUDA version tags of PyTorch builds.
fn is_cuda_wheel_tag(t: &str) -> bool {
    t.strip_prefix("cu")
        .is_some_and(|v| v.len() >= 2 && v.bytes().all(|b| b.is_ascii_digit()))
}

/// `runtimeClassName` selecting the NVIDIA container runtime (`nvidia`, `nvidia-cdi`, …).
fn nvidia_runtime_class<'n>(spec: &'n PodSpec<'_>) -> Option<&'n str> {
    spec.raw
        .get("runtimeClassName")
        .and_then(Node::as_str)
        .filter(|r| r.to_ascii_lowercase().contains("nvidia"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_gpu_images() {
        for image in [
            "nvcr.io/nvidia/tritonserver:24.08-py3",
            "nvidia/cuda:12.4.1-runtime-ubuntu22.04",
            "pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime",
            "tensorflow/tensorflow:2.16.1-gpu",
            "rayproject/ray-ml:2.9.0-gpu",
            "tensorflow/serving:latest-gpu",
            "example.com/ml/train:cu121",
        ] {
            assert!(gpu_image(image).is_some(), "{image}");
        }
        for image in [
            "python:3.11",
            "tensorflow/serving:2.16.1",
            "nvcr.io/nvidia/k8s-device-plugin:v0.16.2",
            "example.com/gpuless/app:1.0",
            "example.com/ml/cube:1.0",
            "rayproject/ray:2.9.0",
        ] {
            assert!(gpu_image(image).is_none(), "{image}");
        }
        for s in ["", "-", "a", "a-b_c.d", "2.4.0-cuda12.4--x.", ".gpu"] {
            assert!(pieces(s).eq(s.split(['-', '_', '.'])), "{s:?}");
        }
        assert!(is_gpu_resource("nvidia.com/gpu"));
        assert!(is_gpu_resource("nvidia.com/mig-1g.5gb"));
        assert!(is_gpu_resource("nvidia.com/gpu.shared"));
        assert!(!is_gpu_resource("amd.com/gpu"));
        assert!(!is_gpu_resource("nvidia.com/gpux"));
    }
}
