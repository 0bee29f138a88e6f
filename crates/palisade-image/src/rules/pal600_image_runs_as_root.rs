use crate::rules::Ctx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags an image whose configuration runs its process as root: `User` is unset or
    /// empty (the runtime then uses UID 0), `root`, `0`, or `0:GID`/`root:GROUP`.
    ///
    /// ## Why is this bad?
    /// A process that is root inside the container is one kernel bug, one mounted socket or
    /// one writable host path away from root on the node. Model servers parse untrusted
    /// input (prompts, uploaded files, pickled models) and are a likely first foothold.
    /// Kubernetes' `runAsNonRoot: true` rejects such an image at start, unless the pod sets
    /// `runAsUser` itself.
    ///
    /// ## Example
    /// ```json
    /// {"config": {"Cmd": ["python", "-m", "vllm.entrypoints.openai.api_server"]}}
    /// ```
    ///
    /// ## Fix
    /// Set a numeric non-root user in the image (`USER 10001` in the Dockerfile, see
    /// `PAL500`), or run it with `securityContext.runAsUser` and `runAsNonRoot: true`. A
    /// numeric UID lets Kubernetes verify `runAsNonRoot` without reading `/etc/passwd`.
    pub static RULE = {
        code: "PAL600",
        name: "image-runs-as-root",
        family: "image",
        severity: High,
        summary: "Images must not run as root",
        references: [
            Cis "Docker 4.1" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1611" "https://attack.mitre.org/techniques/T1611/",
        ],
    };
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let user = cx.config.config.user.as_deref().unwrap_or("").trim();
    let name = user.split(':').next().unwrap_or("");
    if user.is_empty() {
        cx.report(
            &RULE,
            "/config/User",
            "the image sets no user, so it runs as root (UID 0); set a numeric non-root USER",
        );
    } else if name == "root" || name == "0" {
        cx.report(
            &RULE,
            "/config/User",
            format!("the image runs as `{user}` (root); set a numeric non-root USER"),
        );
    }
}
