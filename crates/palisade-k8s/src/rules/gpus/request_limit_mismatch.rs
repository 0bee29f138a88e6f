use palisade_yaml::{Node, push_key};

use crate::rules::pod_fields::{resources_pos, runnable};
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags containers whose GPU request (`resources.requests["nvidia.com/gpu"]`, MIG and
    /// shared-GPU resources alike) has no limit or a different limit.
    ///
    /// ## Why is this bad?
    /// GPUs are extended resources: they cannot be overcommitted, the device plugin allocates
    /// by the limit, and the API server rejects a request without an equal limit. Such a
    /// manifest never runs as written; tooling that "fixes" it by dropping the request
    /// leaves a GPU container with no limit at all, which then may see every GPU of the node
    /// (see `gpu-limit-missing`). Severity medium.
    ///
    /// ## Example
    /// ```yaml
    /// resources:
    ///   requests: {nvidia.com/gpu: 1}
    ///   limits: {nvidia.com/gpu: 2}
    /// ```
    ///
    /// ## Fix
    /// Set the limit (requests may then be omitted; Kubernetes copies the limit):
    /// ```yaml
    /// resources:
    ///   limits: {nvidia.com/gpu: 1}
    /// ```
    pub static RULE = {
        code: "PAL144",
        name: "gpu-request-limit-mismatch",
        family: "gpus",
        severity: Medium,
        summary: "GPU requests must equal GPU limits",
        references: [
            Doc "Kubernetes: schedule GPUs" "https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/",
            Doc "Kubernetes: extended resources" "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#extended-resources",
            Doc "NVIDIA k8s-device-plugin" "https://github.com/NVIDIA/k8s-device-plugin",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for c in runnable(&cx.pod.spec.containers) {
        let limits: Vec<_> = super::gpu_entries(c, "limits").collect();
        for (resource, request) in super::gpu_entries(c, "requests") {
            let Some(request) = request.as_str() else {
                continue;
            };
            let limit = limits
                .iter()
                .find(|(r, _)| *r == resource)
                .and_then(|(_, v)| v.as_str());
            let detail = match limit {
                Some(l) if same_quantity(l, request) => continue,
                Some(l) => format!(
                    "container {:?} requests {request} {resource} but limits it to {l}; GPU requests must equal limits",
                    c.name
                ),
                None => format!(
                    "container {:?} requests {request} {resource} without a limit; GPU requests must equal limits",
                    c.name
                ),
            };
            let limits_node = c
                .raw
                .get("resources")
                .and_then(|r| r.get("limits"))
                .and_then(|l| l.get(resource));
            out.push(Violation {
                detail,
                pointer: push_key(
                    &push_key(&push_key(&c.ptr, "resources"), "limits"),
                    resource,
                ),
                pos: limits_node.map_or_else(|| resources_pos(c, "limits"), |n: &Node<'_>| n.pos),
                container: Some(c.name.to_string()),
            });
        }
    }
}

/// GPU counts are integers; `"1"` and `1` are the same quantity.
fn same_quantity(a: &str, b: &str) -> bool {
    match (a.trim().parse::<u64>(), b.trim().parse::<u64>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}
