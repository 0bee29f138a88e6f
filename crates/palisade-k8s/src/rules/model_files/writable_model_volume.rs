use palisade_yaml::{Node, push_index, push_key};

use crate::rules::model_servers::detect::Server;
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags model volumes mounted writable into serving containers: a `volumeMounts` entry
    /// whose `mountPath` is a model location (`/models`, `/mnt/models` as KServe uses,
    /// `model-store`, `model-repository`, a Hugging Face cache such as
    /// `~/.cache/huggingface` or `HF_HOME`, `/data` for text-generation-inference), without
    /// `readOnly: true`, backed by a shared or persistent volume (PVC, hostPath, NFS, CSI, …).
    /// `emptyDir` scratch space (where a storage initializer downloads to) and PVCs
    /// attached with `persistentVolumeClaim.readOnly: true` pass; so do init containers,
    /// batch and training workloads (Jobs, PyTorchJobs, RayJobs …), notebooks and MLflow, which
    /// write models legitimately.
    ///
    /// ## Why is this bad?
    /// A server that can write its own model store lets one compromised replica (or a
    /// Jupyter-style code path in a custom handler) replace the weights every replica loads
    /// next: a persistent, hard-to-spot backdoor (MITRE ATLAS AML.T0018, backdoor ML model;
    /// AML.T0010, AI supply chain compromise). Severity medium.
    ///
    /// ## Example
    /// ```yaml
    /// volumeMounts:
    ///   - name: models
    ///     mountPath: /models
    /// ```
    ///
    /// ## Fix
    /// Set the field the finding points at, `volumeMounts[i].readOnly: true`, and keep
    /// writes to a separate publishing job.
    pub static RULE = {
        code: "PAL190",
        name: "model-volume-writable",
        family: "model-files",
        severity: Medium,
        summary: "Model volumes must be mounted read-only into serving containers",
        references: [
            Atlas "AML.T0018" "https://atlas.mitre.org/techniques/AML.T0018",
            Atlas "AML.T0010" "https://atlas.mitre.org/techniques/AML.T0010",
            Nist "SP 800-190 4.4" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

/// Kinds that run to completion: training and batch jobs write models on purpose.
fn is_batch(group: &str, kind: &str) -> bool {
    kind.ends_with("Job") || (group == "jobset.x-k8s.io" && kind == "JobSet")
}

/// Whether a mount path is where a server reads weights from.
#[must_use]
pub fn is_model_path(path: &str, server: Option<Server>) -> bool {
    let p = crate::rules::ascii_lowercase(path.trim_end_matches('/'));
    p.split('/').any(|s| {
        matches!(
            s,
            "models"
                | "model"
                | "model-store"
                | "model_store"
                | "model-repository"
                | "model_repository"
                | "huggingface"
                | "hf_home"
                | "hf-cache"
                | "hf_cache"
        )
    }) || (server == Some(Server::Tgi) && p == "/data")
}

/// Volume sources that are private to the pod or read-only by construction.
fn harmless_source(volume: &Node<'_>) -> bool {
    let Some(entries) = volume.as_map() else {
        return true;
    };
    entries.iter().filter(|e| e.key != "name").all(|e| {
        matches!(
            e.key.as_ref(),
            "emptyDir" | "configMap" | "secret" | "downwardAPI" | "projected" | "image"
        ) || e.value.get("readOnly").and_then(Node::as_bool) == Some(true)
    })
}

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    let batch = is_batch(cx.resource.group(), cx.resource.kind);
    for (c, facts) in cx.serving() {
        let server = facts.server;
        let serving = match server {
            Some(s) => s.is_inference(),
            None => !batch,
        };
        if !serving {
            continue;
        }
        let mounts_ptr = push_key(&c.ptr, "volumeMounts");
        let Some(mounts) = c.raw.get("volumeMounts").and_then(Node::as_seq) else {
            continue;
        };
        for (i, m) in mounts.iter().enumerate() {
            let (Some(name), Some(path)) = (
                m.get("name").and_then(Node::as_str),
                m.get("mountPath").and_then(Node::as_str),
            ) else {
                continue;
            };
            if m.get("readOnly").and_then(Node::as_bool) == Some(true)
                || !is_model_path(path, server)
            {
                continue;
            }
            let Some(volume) = cx.pod.spec.volumes.iter().find(|v| v.name == name) else {
                continue;
            };
            if harmless_source(volume.raw) {
                continue;
            }
            let source = volume.sources.first().map_or("volume", |s| s.value);
            out.push(Violation {
                detail: format!(
                    "container {:?} mounts model volume {name:?} ({source}) at {path} without readOnly: true",
                    c.name
                ),
                pointer: push_key(&push_index(&mounts_ptr, i), "readOnly"),
                pos: m.pos,
                container: Some(c.name.to_string()),
            });
        }
    }
}

/// Mounts the model volume read-only.
pub fn fix(
    v: &Violation,
    _cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    vec![crate::fix::set(v.pointer.clone(), true.into())]
}
