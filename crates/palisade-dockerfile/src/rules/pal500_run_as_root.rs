use crate::parser::Kind;
use crate::rules::Ctx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags a final image that runs as root: its last `USER` is `root` or `0`, or no stage
    /// in the final image's chain sets a `USER` at all (then the base image's user applies,
    /// which is root for `python`, `nvidia/cuda`, `pytorch/pytorch` and most other images).
    ///
    /// Only the stages that make up the final image count: `FROM builder AS final` inherits
    /// the `USER` of `builder`, while a `USER` in a discarded build stage does not.
    ///
    /// ## Why is this bad?
    /// A process that is root inside the container is one kernel bug, one mounted socket or
    /// one writable host path away from root on the node. Model servers parse untrusted
    /// input (prompts, uploaded files, pickled models) and are a likely first foothold. The
    /// Kubernetes rule `run-as-non-root` can only be satisfied without surprises when the
    /// image itself has a non-root user.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.11-slim
    /// COPY . /app
    /// CMD ["uvicorn", "app:app", "--host", "0.0.0.0"]
    /// ```
    ///
    /// ## Fix
    /// Create an unprivileged user and switch to it as the last `USER` of the final stage:
    /// ```dockerfile
    /// RUN useradd --uid 10001 --create-home app
    /// USER 10001
    /// ```
    /// A numeric UID lets Kubernetes verify `runAsNonRoot` without reading `/etc/passwd`.
    pub static RULE = {
        code: "PAL500",
        name: "run-as-root",
        family: "dockerfile",
        severity: High,
        summary: "The final image must not run as root",
        references: [
            Cis "Docker 4.1" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Doc "hadolint DL3002" "https://github.com/hadolint/hadolint/wiki/DL3002",
            Attack "T1611" "https://attack.mitre.org/techniques/T1611/",
        ],
    };
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    let Some(stage) = a.final_stage() else { return };
    let last_user = a
        .final_instructions()
        .filter(|(_, ins)| ins.kind == Kind::User)
        .last();
    match last_user {
        Some((i, ins)) => {
            let words = ins.words();
            let Some(w) = words.first() else { return };
            let user = w.text.split(':').next().unwrap_or("");
            let is_root = user == "root" || (!user.is_empty() && user.bytes().all(|b| b == b'0'));
            if is_root {
                cx.report(
                    &RULE,
                    i,
                    w.src,
                    format!(
                        "final stage `{}` runs as root: its last USER is `{}`; switch to an unprivileged user (USER 10001)",
                        stage.label(),
                        w.text
                    ),
                );
            }
        }
        None => {
            // Distroless and similar images built to run as non-root say so in the tag.
            let root_stage = a.final_chain.first().and_then(|&s| a.stages.get(s));
            if root_stage
                .and_then(|s| s.base.as_deref())
                .is_some_and(|b| b.to_ascii_lowercase().contains("nonroot"))
            {
                return;
            }
            let base = root_stage.map_or(String::new(), |s| s.base_raw.clone());
            let from = a.df.instructions.get(stage.from);
            cx.report(
                &RULE,
                stage.from,
                from.map_or(0, |f| f.src),
                format!(
                    "final stage `{}` has no USER instruction, so it runs as the base image's user (`{base}`): root for most images; add `USER 10001`",
                    stage.label()
                ),
            );
        }
    }
}
