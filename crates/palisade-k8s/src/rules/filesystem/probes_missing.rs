use palisade_yaml::push_key;

use crate::model::ContainerKind;
use crate::rules::{ImageRef, PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags serving containers without a `readinessProbe` or without a `livenessProbe` (one
    /// finding per missing probe). A container is serving when it declares `ports`, or when
    /// its image is a known model server: Triton, TensorFlow Serving, TorchServe, vLLM,
    /// text-generation-inference, Ollama, MLServer, the KServe model servers, LocalAI,
    /// llama.cpp server. Init containers, ephemeral containers and containers without ports
    /// of other images (batch jobs, training workers) are not reported.
    ///
    /// ## Why is this bad?
    /// Without a readiness probe a Service routes requests to a model server that is still
    /// loading weights (minutes for a large model) or has failed to load them; without a
    /// liveness probe a wedged server (GPU out of memory, deadlocked worker) is never
    /// restarted. For security the cost is availability: an overloaded or crashed inference
    /// endpoint stays in rotation (MITRE ATLAS AML.T0029 denial of ML service). Severity low.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: triton
    ///     image: nvcr.io/nvidia/tritonserver:24.08-py3
    ///     ports: [{containerPort: 8000}]
    /// ```
    ///
    /// ## Fix
    /// Use the server's health endpoints (Triton `/v2/health/ready` and `/v2/health/live`,
    /// TF Serving `/v1/models/<name>`, vLLM and TGI `/health`, TorchServe `/ping`):
    /// ```yaml
    ///     readinessProbe:
    ///       httpGet: {path: /v2/health/ready, port: 8000}
    ///     livenessProbe:
    ///       httpGet: {path: /v2/health/live, port: 8000}
    /// ```
    pub static RULE = {
        code: "PAL231",
        name: "serving-probes-missing",
        family: "filesystem",
        severity: Low,
        summary: "Serving containers should have readiness and liveness probes",
        references: [
            Doc "Kubernetes: liveness, readiness and startup probes" "https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/",
            Atlas "AML.T0029" "https://atlas.mitre.org/techniques/AML.T0029",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for c in &cx.pod.spec.containers {
        if c.kind != ContainerKind::Regular {
            continue;
        }
        let has = |probe: &str| c.raw.get(probe).is_some_and(|p| !p.is_null());
        let missing = ["readinessProbe", "livenessProbe"].map(|probe| (probe, !has(probe)));
        // Most containers that serve have both probes: then the image is not looked at.
        if missing.iter().all(|&(_, missing)| !missing) {
            continue;
        }
        let server = c.image_ref.as_ref().and_then(model_server);
        if c.ports.is_empty() && server.is_none() {
            continue;
        }
        for (probe, missing) in missing {
            if !missing {
                continue;
            }
            let what = match server {
                Some(s) => format!("runs {s}"),
                None => "serves on a port".to_string(),
            };
            out.push(Violation {
                detail: format!("container {:?} {what} but has no {probe}", c.name),
                pointer: push_key(&c.ptr, probe),
                pos: c.pos,
                container: Some(c.name.to_string()),
            });
        }
    }
}

/// Recognises model-server images by repository name.
fn model_server(image: &ImageRef<'_>) -> Option<&'static str> {
    const SERVERS: &[(&str, &str)] = &[
        ("tritonserver", "Triton Inference Server"),
        ("tensorflow/serving", "TensorFlow Serving"),
        ("torchserve", "TorchServe"),
        ("vllm", "vLLM"),
        ("text-generation-inference", "text-generation-inference"),
        ("ollama", "Ollama"),
        ("mlserver", "MLServer"),
        ("sklearnserver", "a KServe model server"),
        ("xgbserver", "a KServe model server"),
        ("lgbserver", "a KServe model server"),
        ("pmmlserver", "a KServe model server"),
        ("paddleserver", "a KServe model server"),
        ("huggingfaceserver", "a KServe model server"),
        ("localai", "LocalAI"),
        ("llama.cpp", "llama.cpp server"),
    ];
    let repo = crate::rules::ascii_lowercase(image.repository);
    SERVERS
        .iter()
        .find(|(needle, _)| crate::rules::text::contains(&repo, needle))
        .map(|(_, name)| *name)
}
