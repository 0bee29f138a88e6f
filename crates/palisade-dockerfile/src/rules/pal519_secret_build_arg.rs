use crate::parser::{Kind, key_values};
use crate::rules::Ctx;
use crate::secrets::{named_literal, secret_name};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags secrets passed through build arguments rather than build secrets:
    /// - `ARG` with a secret-looking name (`HF_TOKEN`, `PIP_PASSWORD`, `AWS_SECRET_ACCESS_KEY`)
    ///   and no literal default — the value comes from `--build-arg` (a literal default is
    ///   `hardcoded-secret`);
    /// - `ENV` with a secret-looking name whose value is a variable (`ENV HF_TOKEN=$HF_TOKEN`),
    ///   which copies the build-time value into the image configuration.
    ///
    /// ## Why is this bad?
    /// Build arguments are recorded in the image history of every layer whose `RUN` used
    /// them (`docker history --no-trunc`) and in BuildKit provenance attestations; `ENV`
    /// values are in the image config for anyone who can pull the image. Docker's own
    /// build checks warn about this (`SecretsUsedInArgOrEnv`).
    ///
    /// ## Example
    /// ```dockerfile
    /// ARG HF_TOKEN
    /// ENV HF_TOKEN=$HF_TOKEN
    /// RUN huggingface-cli download org/model --revision <sha>
    /// ```
    ///
    /// ## Fix
    /// ```dockerfile
    /// RUN --mount=type=secret,id=hf_token,env=HF_TOKEN \
    ///     huggingface-cli download org/model --revision <sha>
    /// ```
    pub static RULE = {
        code: "PAL519",
        name: "secret-build-arg",
        family: "dockerfile",
        severity: Medium,
        summary: "Pass secrets with RUN --mount=type=secret, not ARG or ENV",
        references: [
            Cis "Docker 4.10" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.4" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Doc "Docker build check SecretsUsedInArgOrEnv" "https://docs.docker.com/reference/build-checks/secrets-used-in-arg-or-env/",
            Attack "T1552.001" "https://attack.mitre.org/techniques/T1552/001/",
        ],
    };
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    for (i, ins) in a.df.instructions.iter().enumerate() {
        if !matches!(ins.kind, Kind::Arg | Kind::Env) {
            continue;
        }
        for kv in key_values(ins) {
            if !secret_name(&kv.key) {
                continue;
            }
            match (ins.kind, kv.value.as_deref()) {
                // A literal credential as the default is hardcoded-secret's (PAL509).
                (Kind::Arg, v) if v.is_none_or(|v| named_literal(&kv.key, v).is_none()) => cx.report(
                    &RULE,
                    i,
                    kv.key_src,
                    format!(
                        "ARG `{}` passes a secret as a build argument, which is recorded in the image history; use RUN --mount=type=secret",
                        kv.key
                    ),
                ),
                (Kind::Env, Some(v)) if v.contains('$') => cx.report(
                    &RULE,
                    i,
                    kv.key_src,
                    format!(
                        "ENV `{}` copies a build-time secret into the image configuration, where `docker inspect` shows it",
                        kv.key
                    ),
                ),
                _ => {}
            }
        }
    }
}
