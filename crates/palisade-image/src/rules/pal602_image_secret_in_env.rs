use palisade_secrets::{NamedLiteral, find_credential, named_literal, with_article};

use crate::rules::Ctx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `Env` entries of the image config that hold a secret: a variable whose name
    /// says it is one (`HF_TOKEN`, `OPENAI_API_KEY`, `DB_PASSWORD`) with a literal value, or
    /// any value that is a well-known token (Hugging Face, OpenAI, GitHub, AWS, Slack,
    /// private keys, …). Values are never printed: the finding names the variable and the
    /// kind of token only.
    ///
    /// ## Why is this bad?
    /// The config travels with the image: anyone who can pull it (every node, every CI job,
    /// a public mirror) reads the secret with `docker inspect`, and it stays in every copy
    /// after the key is rotated.
    ///
    /// ## Example
    /// ```json
    /// {"config": {"Env": ["HF_TOKEN=hf_…"]}}
    /// ```
    ///
    /// ## Fix
    /// Rotate the secret now. Pass it at run time from a Kubernetes Secret (`env.valueFrom.
    /// secretKeyRef` or a mounted file), and at build time with `RUN --mount=type=secret`.
    pub static RULE = {
        code: "PAL602",
        name: "image-secret-in-env",
        family: "image",
        severity: Critical,
        summary: "Image configs must not carry secrets in environment variables",
        references: [
            Cis "Docker 4.10" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.4" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1552.001" "https://attack.mitre.org/techniques/T1552/001/",
        ],
    };
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let env = cx.config.config.env.clone().unwrap_or_default();
    for (i, entry) in env.iter().enumerate() {
        let (name, value) = entry.split_once('=').unwrap_or((entry.as_str(), ""));
        let pointer = format!("/config/Env/{i}");
        // The verdicts a Dockerfile `ENV` (PAL509) and a container's env var (PAL200,
        // PAL201) get: by format first, then by name and value.
        let what = if let Some(found) = find_credential(value) {
            with_article(found.kind)
        } else {
            match named_literal(name, value) {
                Some(NamedLiteral::DefaultPassword) => "a well-known default password".to_string(),
                Some(NamedLiteral::Credential(_)) => "a literal secret".to_string(),
                None => continue,
            }
        };
        cx.report(
            &RULE,
            &pointer,
            format!(
                "environment variable `{name}` holds {what}; pass it at run time from a Secret"
            ),
        );
    }
}
