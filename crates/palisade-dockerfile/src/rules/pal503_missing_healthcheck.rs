use crate::parser::{Kind, SrcOffset};
use crate::rules::Ctx;
use crate::shell::basename;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags a final image that serves network traffic but has no `HEALTHCHECK` (or turns
    /// it off with `HEALTHCHECK NONE`). An image counts as serving when its final stage
    /// chain has an `EXPOSE`, or its `CMD`/`ENTRYPOINT` starts a server: uvicorn, gunicorn,
    /// hypercorn, `flask run`, `fastapi run`, tritonserver, torchserve,
    /// tensorflow_model_server, `vllm serve` (and `python -m vllm.entrypoints…`),
    /// text-generation-launcher, text-embeddings-router, `ollama serve`, llama-server,
    /// `jupyter lab|notebook`, `mlflow server|ui|models serve`, mlserver, `bentoml serve`,
    /// `ray start|serve`, `streamlit run`, sglang, nginx, httpd and caddy.
    ///
    /// ## Why is this bad?
    /// Model servers often stay up while unable to serve: the model failed to load, the GPU
    /// fell off the bus, the KV cache is exhausted. Without a health check, Docker, Compose
    /// and Swarm report the container as running and keep routing traffic to it. (Kubernetes
    /// ignores `HEALTHCHECK` and uses probes instead; the matching manifest rules cover
    /// those, and a `HEALTHCHECK` documents the endpoint to probe.)
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM vllm/vllm-openai:v0.6.3
    /// EXPOSE 8000
    /// ENTRYPOINT ["vllm", "serve", "/models/llama"]
    /// ```
    ///
    /// ## Fix
    /// ```dockerfile
    /// HEALTHCHECK --interval=30s --timeout=5s --start-period=300s \
    ///   CMD curl -fsS http://localhost:8000/health || exit 1
    /// ```
    /// A long `--start-period` gives large models time to load.
    pub static RULE = {
        code: "PAL503",
        name: "missing-healthcheck",
        family: "dockerfile",
        severity: Low,
        summary: "Serving images should declare a HEALTHCHECK",
        references: [
            Cis "Docker 4.6" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
        ],
    };
}

/// Python modules that start a server with `python -m MODULE`.
const SERVER_MODULES: &[&str] = &[
    "uvicorn",
    "gunicorn",
    "hypercorn",
    "flask",
    "vllm.entrypoints",
    "sglang.launch_server",
    "http.server",
    "jupyterlab",
    "notebook",
    "mlflow",
    "mlserver",
    "streamlit",
    "text_generation_server",
    "fastchat.serve",
    "llama_cpp.server",
    "kserve",
];

/// Programs that are servers by themselves.
const SERVERS: &[&str] = &[
    "uvicorn",
    "gunicorn",
    "hypercorn",
    "daphne",
    "waitress-serve",
    "tritonserver",
    "torchserve",
    "tensorflow_model_server",
    "text-generation-launcher",
    "text-embeddings-router",
    "llama-server",
    "mlserver",
    "litellm",
    "nginx",
    "httpd",
    "caddy",
    "jupyter-lab",
    "jupyter-notebook",
    "start-notebook.sh",
    "start-notebook.py",
    "start-singleuser.sh",
    "voila",
];

/// Programs that serve with one of these subcommands.
const SERVING_SUBCOMMANDS: &[(&str, &[&str])] = &[
    ("vllm", &["serve"]),
    ("ollama", &["serve"]),
    ("jupyter", &["lab", "notebook", "server"]),
    ("mlflow", &["server", "ui", "models"]),
    ("flask", &["run"]),
    ("fastapi", &["run", "dev"]),
    ("ray", &["start", "serve"]),
    ("bentoml", &["serve"]),
    ("streamlit", &["run"]),
    ("serve", &["run"]),
];

/// The server a command line starts, if any (`uvicorn`, `vllm serve`, …).
pub(crate) fn server_in(words: &[String]) -> Option<String> {
    // Shell-form scripts (`sh -c "…"`) are split further so their programs are seen.
    let tokens: Vec<&str> = words.iter().flat_map(|w| w.split_whitespace()).collect();
    for (i, t) in tokens.iter().enumerate() {
        let b = basename(t);
        if SERVERS.contains(&b) {
            return Some(b.to_string());
        }
        if let Some((_, subs)) = SERVING_SUBCOMMANDS.iter().find(|(p, _)| *p == b)
            && let Some(next) = tokens.get(i + 1)
            && subs.contains(next)
        {
            return Some(format!("{b} {next}"));
        }
        if *t == "-m"
            && let Some(module) = tokens.get(i + 1)
            && SERVER_MODULES
                .iter()
                .any(|m| module == m || module.starts_with(&format!("{m}.")))
        {
            return Some(format!("python -m {module}"));
        }
    }
    None
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    let mut healthcheck_none = None;
    let mut has_healthcheck = false;
    let mut expose: Option<(usize, SrcOffset)> = None;
    let mut cmd = None;
    let mut entrypoint = None;
    for (i, ins) in a.final_instructions() {
        match ins.kind {
            Kind::Healthcheck => {
                let none = ins.args.s.trim().eq_ignore_ascii_case("none");
                has_healthcheck = !none;
                healthcheck_none = none.then_some((i, ins.src));
            }
            Kind::Expose => {
                expose = expose.or(Some((i, ins.src)));
            }
            Kind::Cmd => cmd = Some((i, ins)),
            Kind::Entrypoint => entrypoint = Some((i, ins)),
            _ => {}
        }
    }
    if has_healthcheck {
        return;
    }
    let mut signal = None;
    for (label, found) in [("ENTRYPOINT", entrypoint), ("CMD", cmd)] {
        if let Some((i, ins)) = found {
            let words: Vec<String> = ins.words().iter().map(|w| w.text.clone()).collect();
            if let Some(server) = server_in(&words) {
                signal = Some((i, ins.src, format!("`{server}` in {label}")));
                break;
            }
        }
    }
    if signal.is_none()
        && let Some((i, src)) = expose
    {
        signal = Some((i, src, "EXPOSE".to_string()));
    }
    let Some((i, src, why)) = signal else { return };
    let stage = a.final_stage().map(|s| s.label()).unwrap_or_default();
    match healthcheck_none {
        Some((hi, hsrc)) => cx.report(
            &RULE,
            hi,
            hsrc,
            format!("final stage `{stage}` serves ({why}) but disables its health check with HEALTHCHECK NONE"),
        ),
        None => cx.report(
            &RULE,
            i,
            src,
            format!(
                "final stage `{stage}` serves ({why}) but has no HEALTHCHECK; add one that probes the server's health endpoint"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::server_in;

    fn s(words: &[&str]) -> Option<String> {
        server_in(&words.iter().map(|w| (*w).to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn servers() {
        assert_eq!(s(&["uvicorn", "app:app"]).as_deref(), Some("uvicorn"));
        assert_eq!(s(&["vllm", "serve", "m"]).as_deref(), Some("vllm serve"));
        assert_eq!(
            s(&["python3", "-m", "vllm.entrypoints.openai.api_server"]).as_deref(),
            Some("python -m vllm.entrypoints.openai.api_server")
        );
        assert_eq!(
            s(&["/bin/sh", "-c", "exec /usr/local/bin/gunicorn -b :80 app"]).as_deref(),
            Some("gunicorn")
        );
        assert_eq!(s(&["python", "train.py"]), None);
        assert_eq!(s(&["ray", "job", "submit"]), None);
    }
}
