use crate::rules::pod_fields::{env, env_ptr};
use crate::rules::secrets::{NamedLiteral, SecretName};
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags env variables whose name says they hold a credential and whose value is written
    /// in the manifest. Credential names are the variables of known AI/ML and cloud services
    /// (`HF_TOKEN`, `HUGGING_FACE_HUB_TOKEN`, `OPENAI_API_KEY`, `WANDB_API_KEY`, `NGC_API_KEY`,
    /// `MLFLOW_TRACKING_PASSWORD`, `AWS_SECRET_ACCESS_KEY`, …) and names containing the words
    /// `TOKEN`, `PASSWORD`, `SECRET`, `CREDENTIALS`, `API_KEY`, `ACCESS_KEY`, `PRIVATE_KEY`.
    /// Names are matched by word, so `MAX_TOKENS`, `TOKENIZERS_PARALLELISM`, `SECRET_NAME`
    /// and `PASSWORD_FILE` are not credentials.
    ///
    /// For a known service variable any real value is reported. For the generic names the
    /// value must look like a credential: at least 8 characters with at least 3 bits of
    /// entropy per character or mixing character classes. A well-known default password
    /// (`changeme`, `admin`, `password`, `123456`) is reported too: the pod runs with a
    /// password anyone can guess. Placeholders (`<your-token>`, `example`, `xxxx`),
    /// references (`${VAR}`, `$(VAR)`), booleans, numbers and paths are never reported;
    /// neither is `valueFrom`. Values recognised by format are reported by
    /// `env-credential-literal` (PAL200) instead. The value is never printed. The verdict is
    /// `palisade_secrets::named_literal`, the one the Dockerfile (PAL509) and image (PAL602)
    /// rules give an `ENV`, so a variable is judged the same in a manifest and in an image.
    ///
    /// ## Why is this bad?
    /// A password or token in the pod spec is readable by everyone who can read the workload
    /// (and by whoever reads the Git repository it came from); it cannot be rotated without a
    /// redeploy and is not covered by Secret encryption at rest or RBAC on Secrets (MITRE
    /// ATT&CK T1552.001). Severity medium: the name is a strong hint, not proof.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    ///   - name: MLFLOW_TRACKING_PASSWORD
    ///     value: Tr4ck1ng!
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// env:
    ///   - name: MLFLOW_TRACKING_PASSWORD
    ///     valueFrom:
    ///       secretKeyRef: {name: mlflow, key: password}
    /// ```
    pub static RULE = {
        code: "PAL201",
        name: "env-secret-literal",
        family: "secrets",
        severity: Medium,
        summary: "Env variables named like credentials must come from Secrets",
        references: [
            Cis "5.4.1" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Kubernetes Hardening Guide: secrets" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.1.4" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1552.001" "https://attack.mitre.org/techniques/T1552/001/",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for c in &cx.pod.spec.containers {
        for var in env(c) {
            let Some(value) = var.value else { continue };
            let Some(text) = value.as_str() else { continue };
            let Some(verdict) = super::named_literal(var.name, text) else {
                continue;
            };
            // A value recognised by its format is env-credential-literal's.
            if super::known_credential(text).is_some() {
                continue;
            }
            let detail = match verdict {
                NamedLiteral::DefaultPassword => format!(
                    "env var {} of container {:?} is set to a well-known default password; generate one and reference a Secret",
                    var.name, c.name
                ),
                NamedLiteral::Credential(kind) => format!(
                    "env var {} of container {:?} is named as {} and has a literal value; reference a Secret instead",
                    var.name,
                    c.name,
                    match kind {
                        SecretName::Provider => "a service credential",
                        SecretName::Generic => "a credential",
                    }
                ),
            };
            out.push(Violation {
                detail,
                pointer: env_ptr(c, &var, "value"),
                pos: value.pos,
                container: Some(c.name.to_string()),
            });
        }
    }
}
