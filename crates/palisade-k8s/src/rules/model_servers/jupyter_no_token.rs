use palisade_yaml::push_key;

use super::detect::{env_var, flag};
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags Jupyter servers started with an empty token and no password:
    /// `--NotebookApp.token=''`, `--ServerApp.token=`, `--IdentityProvider.token=''`, or
    /// `JUPYTER_TOKEN` set to an empty literal. A token or password that comes from a Secret
    /// (`valueFrom`) or is set on the command line passes.
    ///
    /// ## Why is this bad?
    /// A Jupyter server is a remote shell by design: every kernel and terminal runs code in
    /// the pod, with its service account, mounted credentials and GPUs. Without a token,
    /// anyone who reaches the port owns the pod; exposed notebooks are routinely hijacked for
    /// cryptomining and credential theft (MITRE ATLAS AML.T0049; AML.T0034, cost harvesting;
    /// ATT&CK T1190). Severity critical.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["start-notebook.sh", "--ServerApp.token=''", "--ServerApp.password=''"]
    /// ```
    ///
    /// ## Fix
    /// Remove the element the finding points at and give the token from a Secret:
    /// ```yaml
    /// env:
    ///   - name: JUPYTER_TOKEN
    ///     valueFrom: {secretKeyRef: {name: notebook-token, key: token}}
    /// ```
    /// or run the server behind an authenticating proxy bound to loopback.
    pub static RULE = {
        code: "PAL164",
        name: "jupyter-without-token",
        family: "model-servers",
        severity: Critical,
        summary: "Jupyter servers must require a token or password",
        references: [
            Atlas "AML.T0049" "https://atlas.mitre.org/techniques/AML.T0049",
            Atlas "AML.T0034" "https://atlas.mitre.org/techniques/AML.T0034",
            Attack "T1190" "https://attack.mitre.org/techniques/T1190/",
            Doc "Jupyter Server security" "https://jupyter-server.readthedocs.io/en/latest/operators/security.html",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

const TOKEN_FLAGS: &[&str] = &[
    "--NotebookApp.token",
    "--ServerApp.token",
    "--IdentityProvider.token",
];
const PASSWORD_FLAGS: &[&str] = &[
    "--NotebookApp.password",
    "--ServerApp.password",
    "--PasswordIdentityProvider.hashed_password",
];

fn empty(v: Option<&str>) -> bool {
    v.is_none_or(|v| v.trim().is_empty())
}

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for (c, facts) in cx.serving() {
        let (words, env) = (&facts.words, &facts.env);
        let password = flag(words, PASSWORD_FLAGS).is_some_and(|f| !empty(f.value))
            || env_var(env, "JUPYTER_PASSWORD").is_some_and(|e| e.from_ref || !empty(e.value));
        if password {
            continue;
        }
        // The command line wins over the environment, as in jupyter_server.
        let (how, pointer, pos) = match flag(words, TOKEN_FLAGS) {
            Some(f) if empty(f.value) => (f.word.text.to_string(), f.word.ptr(), f.word.pos),
            Some(_) => continue,
            None => match env_var(env, "JUPYTER_TOKEN") {
                Some(e) if !e.from_ref && empty(e.value) => (
                    "JUPYTER_TOKEN=\"\"".to_string(),
                    push_key(&e.ptr(), "value"),
                    e.value_pos,
                ),
                _ => continue,
            },
        };
        out.push(Violation {
            detail: format!(
                "container {:?} starts Jupyter with an empty token ({how}) and no password: anyone who reaches it runs code in the pod",
                c.name
            ),
            pointer,
            pos,
            container: Some(c.name.to_string()),
        });
    }
}
