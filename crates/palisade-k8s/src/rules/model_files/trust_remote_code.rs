use palisade_yaml::push_key;

use crate::rules::model_servers::detect::{env_var, flag};
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags containers that let a model repository run its own Python code:
    /// `--trust-remote-code` (vLLM, text-generation-inference, SGLang), `--trust_remote_code`
    /// (KServe's Hugging Face runtime), `TRUST_REMOTE_CODE=true`, or `trust_remote_code=True`
    /// in an inline script. `--trust-remote-code=false` passes.
    ///
    /// ## Why is this bad?
    /// With remote code trusted, `transformers` imports the `modeling_*.py` files of the
    /// model repository when it loads the model: whoever can push to that repository (or
    /// typosquat its name) runs code in the serving pod, with its credentials and GPUs
    /// (MITRE ATLAS AML.T0011, unsafe AI artifacts; AML.T0010, AI supply chain compromise).
    /// Severity high.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["--model", "some-org/new-model", "--trust-remote-code"]
    /// ```
    ///
    /// ## Fix
    /// Remove the element the finding points at. If the architecture really needs custom
    /// code, vendor and review it, pin the repository revision (PAL191) and load it from a
    /// read-only volume.
    pub static RULE = {
        code: "PAL192",
        name: "trust-remote-code",
        family: "model-files",
        severity: High,
        summary: "Model loading must not execute code shipped with the model (trust_remote_code)",
        references: [
            Atlas "AML.T0011" "https://atlas.mitre.org/techniques/AML.T0011",
            Atlas "AML.T0010" "https://atlas.mitre.org/techniques/AML.T0010",
            Doc "transformers custom models" "https://huggingface.co/docs/transformers/custom_models",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn truthy(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes")
}

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for (c, facts) in cx.serving() {
        let (words, env) = (&facts.words, &facts.env);
        // A boolean flag: its "value" may be the next positional word, so only an explicit
        // `=false` turns it off.
        let hit = if let Some(f) = flag(words, &["--trust-remote-code", "--trust_remote_code"])
            .filter(|f| !f.word.text.contains('=') || f.value.is_some_and(truthy))
        {
            Some((f.word.text.to_string(), f.word.ptr(), f.word.pos))
        } else if let Some(w) = words
            .iter()
            // Words are split on whitespace, so they hold no spaces to remove first.
            .find(|w| crate::rules::text::contains(&w.text, "trust_remote_code=True"))
        {
            Some(("trust_remote_code=True".to_string(), w.ptr(), w.pos))
        } else {
            env_var(env, "TRUST_REMOTE_CODE")
                .filter(|e| e.value.is_some_and(truthy))
                .map(|e| {
                    (
                        "TRUST_REMOTE_CODE=true".to_string(),
                        push_key(&e.ptr(), "value"),
                        e.value_pos,
                    )
                })
        };
        if let Some((how, pointer, pos)) = hit {
            out.push(Violation {
                detail: format!(
                    "container {:?} loads models with remote code trusted ({how}): the model repository's Python runs in the pod",
                    c.name
                ),
                pointer,
                pos,
                container: Some(c.name.to_string()),
            });
        }
    }
}
