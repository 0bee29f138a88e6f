use palisade_yaml::push_key;

use super::detect::{EnvVar, Server, binds_all, binds_loopback, env_set, env_var, flag};
use crate::model::Container;
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags LLM servers that answer anyone who reaches them:
    /// - vLLM (`vllm serve`, `vllm.entrypoints.*`, `vllm/vllm-openai`) without `--api-key`
    ///   or `VLLM_API_KEY`, unless `--host` is loopback;
    /// - text-generation-inference without `--api-key` or `API_KEY`, unless `--hostname` is
    ///   loopback;
    /// - Ollama (`ollama/ollama` or `ollama serve`), which has no authentication, with
    ///   `OLLAMA_HOST` on all interfaces or unset (the image sets `0.0.0.0`).
    ///
    /// ## Why is this bad?
    /// These servers bind every interface by default, so every pod in the cluster (and
    /// whatever a Service or Ingress exposes) gets free use of the GPUs behind them: cost
    /// harvesting and denial of service (MITRE ATLAS AML.T0034), model extraction through the
    /// API (AML.T0024), and Ollama's model pull/push/delete API on top. Severity medium;
    /// PAL170 reports the same servers at high when a LoadBalancer or NodePort exposes them.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: vllm
    ///     image: vllm/vllm-openai:v0.6.3
    ///     args: ["--model", "meta-llama/Llama-3.1-8B-Instruct"]
    /// ```
    ///
    /// ## Fix
    /// Add an env entry (the pointer is the container's `env/-`, or the `OLLAMA_HOST` value to
    /// change) with a key from a Secret:
    /// ```yaml
    /// env:
    ///   - name: VLLM_API_KEY          # API_KEY for text-generation-inference
    ///     valueFrom: {secretKeyRef: {name: llm-api-key, key: key}}
    /// ```
    /// For Ollama, set `OLLAMA_HOST=127.0.0.1:11434` and put an authenticating proxy in the pod.
    pub static RULE = {
        code: "PAL166",
        name: "llm-server-without-auth",
        family: "model-servers",
        severity: Medium,
        summary: "vLLM, text-generation-inference and Ollama must require an API key or bind to loopback",
        references: [
            Atlas "AML.T0034" "https://atlas.mitre.org/techniques/AML.T0034",
            Atlas "AML.T0024" "https://atlas.mitre.org/techniques/AML.T0024",
            Atlas "AML.T0049" "https://atlas.mitre.org/techniques/AML.T0049",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn missing_key(c: &Container<'_>, server: Server, env_name: &str) -> Violation {
    Violation {
        detail: format!(
            "container {:?} runs {} on all interfaces without an API key (--api-key or {env_name}): anyone who reaches it uses the model and its GPUs",
            c.name,
            server.label()
        ),
        pointer: push_key(&push_key(&c.ptr, "env"), "-"),
        pos: c.image.map_or(c.pos, |i| i.pos),
        container: Some(c.name.to_string()),
    }
}

fn ollama(c: &Container<'_>, host: Option<&EnvVar<'_>>) -> Option<Violation> {
    let (value, pointer, pos) = match host {
        Some(e) if e.from_ref => return None,
        Some(e) => (
            e.value.unwrap_or(""),
            push_key(&e.ptr(), "value"),
            e.value_pos,
        ),
        None => (
            "",
            push_key(&push_key(&c.ptr, "env"), "-"),
            c.image.map_or(c.pos, |i| i.pos),
        ),
    };
    if binds_loopback(value) || !(value.is_empty() || binds_all(value)) {
        return None;
    }
    Some(Violation {
        detail: format!(
            "container {:?} runs Ollama, which has no authentication, on all interfaces (OLLAMA_HOST={}): anyone who reaches it uses, pulls and deletes models",
            c.name,
            if value.is_empty() {
                "unset, the image's 0.0.0.0"
            } else {
                value
            }
        ),
        pointer,
        pos,
        container: Some(c.name.to_string()),
    })
}

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for (c, facts) in cx.serving() {
        let (words, env, server) = (&facts.words, &facts.env, facts.server);
        let has_key = |env_name: &str| {
            flag(words, &["--api-key"]).is_some_and(|f| f.value.is_some_and(|v| !v.is_empty()))
                || env_set(env, env_name)
        };
        let loopback = |names: &[&str]| {
            flag(words, names).is_some_and(|f| f.value.is_some_and(binds_loopback))
        };
        match server {
            Some(Server::Vllm) if !has_key("VLLM_API_KEY") && !loopback(&["--host"]) => {
                out.push(missing_key(c, Server::Vllm, "VLLM_API_KEY"));
            }
            Some(Server::Tgi) if !has_key("API_KEY") && !loopback(&["--hostname"]) => {
                out.push(missing_key(c, Server::Tgi, "API_KEY"));
            }
            Some(Server::Ollama) => {
                out.extend(ollama(c, env_var(env, "OLLAMA_HOST")));
            }
            _ => {}
        }
    }
}
