use crate::rules::Ctx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags an image that serves network traffic but has no health check in its config
    /// (or disables it with `NONE`). An image counts as serving when it exposes a port or
    /// its entrypoint/command starts a server (the list of `PAL503`: uvicorn, gunicorn,
    /// `vllm serve`, tritonserver, torchserve, text-generation-launcher, `ollama serve`,
    /// jupyter, mlflow, nginx, …).
    ///
    /// ## Why is this bad?
    /// Model servers often stay up while unable to serve: the model failed to load, the GPU
    /// fell off the bus, the KV cache is exhausted. Without a health check, Docker, Compose
    /// and Swarm keep routing traffic to them. Kubernetes uses probes instead; the image's
    /// health check documents the endpoint they should call.
    ///
    /// ## Example
    /// ```json
    /// {"config": {"ExposedPorts": {"8000/tcp": {}}, "Entrypoint": ["vllm", "serve", "/models/llama"]}}
    /// ```
    ///
    /// ## Fix
    /// Add a `HEALTHCHECK` to the Dockerfile (with a `--start-period` long enough for the
    /// model to load) and matching readiness/liveness probes to the workload.
    pub static RULE = {
        code: "PAL601",
        name: "image-missing-healthcheck",
        family: "image",
        severity: Low,
        summary: "Serving images should declare a health check",
        references: [
            Cis "Docker 4.6" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
        ],
    };
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let c = &cx.config.config;
    let test = c.healthcheck.as_ref().and_then(|h| h.test.as_ref());
    let disabled = test.is_some_and(|t| t.first().is_some_and(|w| w.eq_ignore_ascii_case("NONE")));
    if test.is_some_and(|t| !t.is_empty()) && !disabled {
        return;
    }
    let why = if let Some(server) = palisade_dockerfile::server_in(&cx.command()) {
        format!("its command starts `{server}`")
    } else if let Some(port) = c.exposed_ports.as_ref().and_then(|p| p.keys().next()) {
        format!("it exposes {port}")
    } else {
        return;
    };
    if disabled {
        cx.report(
            &RULE,
            "/config/Healthcheck",
            format!("the image serves ({why}) but disables its health check (NONE)"),
        );
    } else {
        cx.report(
            &RULE,
            "/config/Healthcheck",
            format!("the image serves ({why}) but has no health check"),
        );
    }
}
