use palisade_yaml::{Node, push_index, push_key};

use crate::rules::pod_fields::{env, env_ptr};
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags literal env values and container arguments that are credentials by their
    /// format: AWS access key IDs (`AKIA…`, `ASIA…`) and secret access keys (after their key
    /// name, as in a credentials file), Google Cloud service-account key JSON and API keys
    /// (`AIza…`), Azure storage account keys and client secrets, Hugging Face tokens
    /// (`hf_…`), OpenAI-style (`sk-…`) and Anthropic keys, GitHub and GitLab tokens
    /// (`ghp_…`, `github_pat_…`, `glpat-…`), Slack tokens and webhook URLs, Stripe secret
    /// keys, PyPI and npm tokens, PEM private keys with a key body, and URLs with an embedded
    /// password (not a variable such as `$(DB_PASSWORD)` or a placeholder). The formats are
    /// those of the detector the Dockerfile and image rules use (`palisade-secrets`). Values
    /// read through `valueFrom` are never reported; AWS's documentation sample
    /// `AKIAIOSFODNN7EXAMPLE` and runs like `hf_xxxx…` are treated as placeholders, and a
    /// prefix inside a longer word (`risk-assessment`, `train-sk-learn-…`) is not a token.
    /// The finding names the variable and the kind of credential, never the value.
    ///
    /// ## Why is this bad?
    /// Manifests live in Git, in CI logs, in Helm release secrets readable by anyone who can
    /// read the namespace, and in every `kubectl get -o yaml`. A leaked Hugging Face or cloud
    /// key gives access to private models and training data, or lets an attacker push a
    /// poisoned model under the organisation's name (MITRE ATT&CK T1552.001 credentials in
    /// files; ATLAS AML.T0010). Severity high.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    ///   - name: HF_TOKEN
    ///     value: hf_…
    /// ```
    ///
    /// ## Fix
    /// Revoke the credential, store the new one in a Secret (or an external secret store),
    /// and reference it:
    /// ```yaml
    /// env:
    ///   - name: HF_TOKEN
    ///     valueFrom:
    ///       secretKeyRef: {name: hf-token, key: token}
    /// ```
    pub static RULE = {
        code: "PAL200",
        name: "env-credential-literal",
        family: "secrets",
        severity: High,
        summary: "Env values and arguments must not contain credentials",
        references: [
            Cis "5.4.1" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Kubernetes Hardening Guide: secrets" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.1.4" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1552.001" "https://attack.mitre.org/techniques/T1552/001/",
            Atlas "AML.T0010" "https://atlas.mitre.org/techniques/AML.T0010",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for c in &cx.pod.spec.containers {
        for var in env(c) {
            let Some(value) = var.value else { continue };
            let Some((_, kind)) = value.as_str().and_then(super::known_credential) else {
                continue;
            };
            out.push(Violation {
                detail: format!(
                    "env var {} of container {:?} holds {kind} as a literal value; reference a Secret instead",
                    var.name, c.name
                ),
                pointer: env_ptr(c, &var, "value"),
                pos: value.pos,
                container: Some(c.name.to_string()),
            });
        }
        for field in ["command", "args"] {
            let items = c.raw.get(field).and_then(Node::as_seq).unwrap_or_default();
            for (i, item) in items.iter().enumerate() {
                let Some((_, kind)) = item.as_str().and_then(super::known_credential) else {
                    continue;
                };
                out.push(Violation {
                    detail: format!(
                        "{field}[{i}] of container {:?} contains {kind}; pass it from a Secret through env instead",
                        c.name
                    ),
                    pointer: push_index(&push_key(&c.ptr, field), i),
                    pos: item.pos,
                    container: Some(c.name.to_string()),
                });
            }
        }
    }
}
