use palisade_yaml::{push_index, push_key};

use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags pods that reach GPUs around the device plugin: a `hostPath` volume of an NVIDIA
    /// device node (`/dev/nvidia0`, `/dev/nvidiactl`, `/dev/nvidia-uvm`, `/dev/nvidia-caps`),
    /// or a privileged container that uses GPUs (it has a GPU limit or looks like a GPU
    /// container, see `gpu-limit-missing`). Pods of the GPU stack itself (device plugin, GPU
    /// Operator, driver, DCGM exporter images) are not reported.
    ///
    /// ## Why is this bad?
    /// A privileged container sees every device of the node, so its `nvidia.com/gpu` limit
    /// bounds nothing; a hostPath device node is a GPU the scheduler never allocated. Either
    /// way the pod shares GPUs (and their memory) with other tenants' jobs and holds
    /// host-level access to the driver, a classic container escape path (MITRE ATT&CK T1611;
    /// ATLAS AML.T0034 cost harvesting). Severity high.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: triton
    ///     resources: {limits: {nvidia.com/gpu: 1}}
    ///     securityContext: {privileged: true}
    /// volumes:
    ///   - name: nvidia0
    ///     hostPath: {path: /dev/nvidia0}
    /// ```
    ///
    /// ## Fix
    /// Drop `privileged` and the device volumes; ask for GPUs with `nvidia.com/gpu` limits and
    /// let the device plugin mount them.
    pub static RULE = {
        code: "PAL143",
        name: "gpu-device-host-access",
        family: "gpus",
        severity: High,
        summary: "Pods must not reach GPUs through `privileged` or hostPath device nodes",
        references: [
            Doc "NVIDIA k8s-device-plugin" "https://github.com/NVIDIA/k8s-device-plugin",
            Doc "NVIDIA GPU Operator" "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/index.html",
            Pss "privileged, host-path-volumes" "https://kubernetes.io/docs/concepts/security/pod-security-standards/",
            Attack "T1611" "https://attack.mitre.org/techniques/T1611/",
            Atlas "AML.T0034" "https://atlas.mitre.org/techniques/AML.T0034",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    let spec = cx.pod.spec;
    if spec
        .containers
        .iter()
        .any(|c| c.image_ref.as_ref().is_some_and(super::is_gpu_stack))
    {
        return;
    }
    let volumes_ptr = push_key(&spec.ptr, "volumes");
    for v in &spec.volumes {
        let Some(path) = v.raw.get("hostPath").and_then(|h| h.get("path")) else {
            continue;
        };
        let Some(p) = path.as_str() else { continue };
        if !p.trim_end_matches('/').starts_with("/dev/nvidia") {
            continue;
        }
        out.push(Violation {
            detail: format!(
                "volume {:?} mounts the GPU device node {p:?} from the host, outside the device plugin's allocation",
                v.name
            ),
            pointer: push_key(
                &push_key(&push_index(&volumes_ptr, v.index), "hostPath"),
                "path",
            ),
            pos: path.pos,
            container: None,
        });
    }
    let runtime = super::nvidia_runtime_class(spec);
    for c in &spec.containers {
        let Some(privileged) = c.security_context.as_ref().and_then(|s| s.privileged) else {
            continue;
        };
        if !privileged.value {
            continue;
        }
        let why = if super::has_gpu_limit(c) {
            "asks for GPUs".to_string()
        } else if let Some(why) = super::gpu_signal(c) {
            format!("looks like a GPU container because {why}")
        } else if let Some(r) = runtime {
            format!("runs with runtimeClassName {r:?}")
        } else {
            continue;
        };
        out.push(Violation {
            detail: format!(
                "container {:?} {why} and is privileged, so it sees every GPU of the node whatever its limits",
                c.name
            ),
            pointer: push_key(&push_key(&c.ptr, "securityContext"), "privileged"),
            pos: privileged.pos,
            container: Some(c.name.to_string()),
        });
    }
}
