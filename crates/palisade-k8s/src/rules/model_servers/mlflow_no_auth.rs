use super::detect::{Server, binds_all, env_var, flag};
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `mlflow server` / `mlflow ui` listening on all interfaces (`--host 0.0.0.0`,
    /// `-h 0.0.0.0` or `MLFLOW_HOST=0.0.0.0`) without MLflow's authentication app
    /// (`--app-name basic-auth`). The default host, `127.0.0.1`, passes: only a sidecar proxy
    /// in the same pod can reach it.
    ///
    /// ## Why is this bad?
    /// The tracking server and model registry accept anonymous writes: anyone who reaches it
    /// can replace a registered model version with a poisoned one that production later
    /// loads (MITRE ATLAS AML.T0010, AI supply chain compromise; AML.T0018, backdoor ML
    /// model), read every logged artifact and parameter (often including credentials), and
    /// exploit the server's long history of path traversal and file-read CVEs
    /// (CVE-2023-1177, CVE-2023-6831, CVE-2024-1560). Severity high.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["mlflow", "server", "--host", "0.0.0.0", "--backend-store-uri", "postgresql://…"]
    /// ```
    ///
    /// ## Fix
    /// Add `--app-name basic-auth` to the command line (the pointer names the `--host`
    /// element; append the flag to the same list) with credentials from a Secret, or keep the
    /// default loopback host and put an authenticating proxy in front.
    pub static RULE = {
        code: "PAL165",
        name: "mlflow-server-without-auth",
        family: "model-servers",
        severity: High,
        summary: "An MLflow server listening on all interfaces must enable authentication",
        references: [
            Atlas "AML.T0010" "https://atlas.mitre.org/techniques/AML.T0010",
            Atlas "AML.T0018" "https://atlas.mitre.org/techniques/AML.T0018",
            Atlas "AML.T0049" "https://atlas.mitre.org/techniques/AML.T0049",
            Doc "MLflow authentication" "https://mlflow.org/docs/latest/auth/index.html",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for (c, facts) in cx.serving() {
        if facts.server != Some(Server::Mlflow) {
            continue;
        }
        let (words, env) = (&facts.words, &facts.env);
        if flag(words, &["--app-name"]).is_some_and(|f| f.value == Some("basic-auth")) {
            continue;
        }
        let (host, pointer, pos) = if let Some(f) = flag(words, &["--host", "-h"]) {
            (f.value.unwrap_or(""), f.word.ptr(), f.word.pos)
        } else if let Some(e) = env_var(env, "MLFLOW_HOST") {
            (
                e.value.unwrap_or(""),
                palisade_yaml::push_key(&e.ptr(), "value"),
                e.value_pos,
            )
        } else {
            continue;
        };
        if !binds_all(host) {
            continue;
        }
        out.push(Violation {
            detail: format!(
                "container {:?} runs an MLflow server on {host} without --app-name basic-auth: anyone who reaches it can read artifacts and replace registered models",
                c.name
            ),
            pointer,
            pos,
            container: Some(c.name.to_string()),
        });
    }
}
