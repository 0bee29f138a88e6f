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
    /// `~/.nv/ComputeCache`), each an `emptyDir` with a `sizeLimit`. `palisade harden` adds
    /// `/tmp` (1Gi), and a volume (`--cache-size-limit`, 20Gi by default) for every cache
    /// directory the container names in its env (`HF_HOME`, `HF_HUB_CACHE`,
    /// `TRANSFORMERS_CACHE`, `TORCH_HOME`, `TRITON_CACHE_DIR`, `VLLM_CACHE_ROOT`,
    /// `XDG_CACHE_HOME`, `OLLAMA_MODELS`, …) and for `/data`, where the
    /// text-generation-inference image keeps its Hugging Face cache, unless a volume is
    /// already mounted there. Caches found under the home directory alone depend on the
    /// image and the UID, so harden leaves those to you and says so:
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

/// Prefix of the cache volumes harden adds (`palisade-cache-<container>`).
pub const CACHE_VOLUME_PREFIX: &str = "palisade-cache-";

/// Env variables through which ML libraries and servers take the directory they write
/// downloads and compiled kernels to: when the pod sets one to a path, that path must stay
/// writable once the root filesystem is read-only.
const CACHE_ENV: &[&str] = &[
    "HF_HOME",
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "TRANSFORMERS_CACHE",
    "SENTENCE_TRANSFORMERS_HOME",
    "TORCH_HOME",
    "TORCHINDUCTOR_CACHE_DIR",
    "TRITON_CACHE_DIR",
    "VLLM_CACHE_ROOT",
    "XDG_CACHE_HOME",
    "OLLAMA_MODELS",
    "NUMBA_CACHE_DIR",
    "CUDA_CACHE_PATH",
];

/// Makes the root filesystem read-only and gives the container a writable `/tmp` (an
/// `emptyDir`) unless it already mounts something there, and a volume for each cache
/// directory it is known to write ([`cache_dirs`]). Caches under the home directory alone
/// depend on the image and the UID; harden says so in a note.
pub fn fix(
    v: &Violation,
    cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    let mut ops = vec![crate::fix::set(v.pointer.clone(), true.into())];
    let (Some(pod), Some(c)) = (cx.pod, crate::fix::container_of(cx.pod, &v.pointer)) else {
        return ops;
    };
    let mounts: Vec<&str> = c
        .raw
        .get("volumeMounts")
        .and_then(palisade_yaml::Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m.get("mountPath").and_then(palisade_yaml::Node::as_str))
        .collect();
    let volumes = format!("{}/volumes/-", pod.spec.ptr);
    let volume_mounts = format!("{}/volumeMounts/-", c.ptr);
    let caches = cache_dirs(c, &mounts);
    // A cache kept in /tmp itself (`HF_HOME=/tmp`) gets the cache volume there instead: two
    // mounts at one path are invalid, and a model cache outgrows the scratch volume.
    if !mounts.iter().any(|m| normalize(m) == "/tmp") && !caches.iter().any(|d| d == "/tmp") {
        if !pod.spec.volumes.iter().any(|vol| vol.name == TMP_VOLUME) {
            ops.push(crate::fix::set(
                volumes.clone(),
                serde_json::json!({"name": TMP_VOLUME, "emptyDir": {"sizeLimit": TMP_SIZE_LIMIT}}),
            ));
        }
        ops.push(crate::fix::set(
            volume_mounts.clone(),
            serde_json::json!({"name": TMP_VOLUME, "mountPath": "/tmp"}),
        ));
    }
    for (i, dir) in caches.into_iter().enumerate() {
        // One volume per container and directory: containers of a pod do not share caches
        // they did not share before. Container names are DNS labels, so the name is one too.
        let mut name = format!("{CACHE_VOLUME_PREFIX}{}", truncate(c.name, 44));
        if i > 0 {
            name = format!("{name}-{}", i + 1);
        }
        if pod.spec.volumes.iter().any(|vol| vol.name == name) {
            continue;
        }
        ops.push(crate::fix::set(
            volumes.clone(),
            serde_json::json!({"name": name, "emptyDir": {"sizeLimit": cx.options.cache_size_limit}}),
        ));
        ops.push(crate::fix::set(
            volume_mounts.clone(),
            serde_json::json!({"name": name, "mountPath": dir}),
        ));
    }
    ops
}

/// The cache directories `c` is known to write that no volume of it covers: the absolute
/// paths its env gives in [`CACHE_ENV`] variables, and `/data` for text-generation-inference
/// (its image sets `HF_HOME=/data`). A directory under another one listed is covered by it.
fn cache_dirs(c: &crate::model::Container<'_>, mounts: &[&str]) -> Vec<String> {
    let mut dirs: Vec<String> = c
        .env
        .iter()
        .filter(|e| CACHE_ENV.contains(&e.name))
        .filter_map(|e| e.value.and_then(palisade_yaml::Node::as_str))
        .map(normalize)
        .filter(|p| p.starts_with('/') && *p != "/" && !p.contains("$("))
        .map(str::to_string)
        .collect();
    let words = crate::rules::model_servers::detect::words(c.raw, &c.ptr);
    let server = crate::rules::model_servers::detect::classify_ref(c.image_ref.as_ref(), &words);
    if server == Some(crate::rules::model_servers::detect::Server::Tgi) {
        dirs.push("/data".to_string());
    }
    dirs.sort_by_key(String::len);
    let mut out: Vec<String> = Vec::new();
    for d in dirs {
        let covered = |base: &str| d == base || d.starts_with(&format!("{base}/"));
        if !mounts.iter().any(|m| covered(normalize(m))) && !out.iter().any(|o| covered(o)) {
            out.push(d);
        }
    }
    out
}

/// A path without its trailing slashes (`/data/` and `/data` are one mount point).
fn normalize(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() { path } else { trimmed }
}

fn truncate(s: &str, max: usize) -> &str {
    let end = s
        .char_indices()
        .map(|(i, ch)| i + ch.len_utf8())
        .take_while(|&end| end <= max)
        .last()
        .unwrap_or(0);
    s[..end].trim_end_matches('-')
}
