use palisade_yaml::push_key;

use crate::rules::pod_fields::runnable;
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags init and regular containers whose `securityContext.readOnlyRootFilesystem` is
    /// not `true` (unset or `false`). Ephemeral debug containers are not reported.
    ///
    /// ## Why is this bad?
    /// A writable root filesystem lets whoever gets code execution in the container (through a
    /// malicious pickle, a notebook, an inference-server bug) drop tools, replace the model
    /// server's Python packages or the model files baked into the image, and persist across
    /// process restarts (MITRE ATT&CK T1036, T1525; ATLAS AML.T0018 backdoor ML model).
    /// A read-only root also makes it obvious where the workload writes. Severity medium.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: vllm
    ///     image: vllm/vllm-openai:v0.6.3
    /// ```
    ///
    /// ## Fix
    /// Set the field and give the paths the server writes their own volumes: `/tmp`, and the
    /// caches ML libraries use (`~/.cache/huggingface`, `~/.triton`, `~/.cache/torch`,
    /// `~/.nv/ComputeCache`), each an `emptyDir` with a `sizeLimit`:
    /// ```yaml
    ///     securityContext:
    ///       readOnlyRootFilesystem: true
    ///     volumeMounts:
    ///       - {name: tmp, mountPath: /tmp}
    ///       - {name: hf-cache, mountPath: /home/app/.cache/huggingface}
    /// ```
    pub static RULE = {
        code: "PAL230",
        name: "read-only-root-filesystem",
        family: "filesystem",
        severity: Medium,
        summary: "Containers should run with a read-only root filesystem",
        references: [
            Nsa "Kubernetes Hardening Guide: immutable container file systems" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.5.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1525" "https://attack.mitre.org/techniques/T1525/",
            Atlas "AML.T0018" "https://atlas.mitre.org/techniques/AML.T0018",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for c in runnable(&cx.pod.spec.containers) {
        let sc = c.security_context.as_ref();
        let field = sc.and_then(|s| s.read_only_root_filesystem);
        if field.is_some_and(|f| f.value) {
            continue;
        }
        let detail = if field.is_some() {
            format!("container {:?} sets readOnlyRootFilesystem: false", c.name)
        } else {
            format!(
                "container {:?} does not set readOnlyRootFilesystem: true",
                c.name
            )
        };
        out.push(Violation {
            detail,
            pointer: push_key(
                &push_key(&c.ptr, "securityContext"),
                "readOnlyRootFilesystem",
            ),
            // The value when written, else the `securityContext:` key, else the container.
            pos: field.map_or_else(|| sc.map_or(c.pos, |s| s.pos), |f| f.pos),
            container: Some(c.name.to_string()),
        });
    }
}

/// Name of the scratch volume harden adds for `/tmp`.
pub const TMP_VOLUME: &str = "palisade-tmp";

/// Size cap of that volume: enough for temp files, small enough that a runaway writer cannot
/// fill the node's ephemeral storage (which PAL123 guards against).
pub const TMP_SIZE_LIMIT: &str = "1Gi";

/// Makes the root filesystem read-only and gives the container a writable `/tmp` (an
/// `emptyDir`) unless it already mounts something there. Cache directories the image writes
/// elsewhere (Hugging Face, Triton, Torch) need their own `emptyDir`; harden says so in a note.
pub fn fix(
    v: &Violation,
    cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    let mut ops = vec![crate::fix::set(v.pointer.clone(), true.into())];
    let (Some(pod), Some(c)) = (cx.pod, crate::fix::container_of(cx.pod, &v.pointer)) else {
        return ops;
    };
    let mounts_tmp = c
        .raw
        .get("volumeMounts")
        .and_then(palisade_yaml::Node::as_seq)
        .is_some_and(|m| {
            m.iter()
                .any(|m| m.get("mountPath").and_then(palisade_yaml::Node::as_str) == Some("/tmp"))
        });
    if mounts_tmp {
        return ops;
    }
    let has_volume = pod.spec.volumes.iter().any(|vol| vol.name == TMP_VOLUME);
    if !has_volume {
        ops.push(crate::fix::set(
            format!("{}/volumes/-", pod.spec.ptr),
            serde_json::json!({"name": TMP_VOLUME, "emptyDir": {"sizeLimit": TMP_SIZE_LIMIT}}),
        ));
    }
    ops.push(crate::fix::set(
        format!("{}/volumeMounts/-", c.ptr),
        serde_json::json!({"name": TMP_VOLUME, "mountPath": "/tmp"}),
    ));
    ops
}
