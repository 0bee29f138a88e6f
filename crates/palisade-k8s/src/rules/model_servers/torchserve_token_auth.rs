use palisade_yaml::push_key;

use super::detect::{Server, binds_loopback, env_var, flag};
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags TorchServe containers that turn token authorization off (`--disable-token-auth`,
    /// `TS_DISABLE_TOKEN_AUTHORIZATION=true`, or `disable_token_authorization=true` written
    /// into `config.properties` by the command) while the management API is not bound to
    /// loopback. The official image binds inference and management to `0.0.0.0`.
    ///
    /// ## Why is this bad?
    /// The management API registers models from URLs and loads their handlers: ShellTorch
    /// (CVE-2023-43654, SSRF in model registration, chained with unsafe deserialization) gave
    /// remote code execution on exposed TorchServe instances. Token authorization (default since
    /// 0.11.1) is what stands between the network and model registration (MITRE ATLAS
    /// AML.T0049; AML.T0011). Severity critical: unauthenticated code execution.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: torchserve
    ///     image: pytorch/torchserve:0.12.0-gpu
    ///     args: ["torchserve", "--start", "--disable-token-auth", "--model-store", "/models"]
    /// ```
    ///
    /// ## Fix
    /// Remove the element the finding points at (`--disable-token-auth`, or the
    /// `TS_DISABLE_TOKEN_AUTHORIZATION` env value, set it to `"false"`), keep token auth on,
    /// and hand the generated keys to clients through a Secret. If something else must
    /// authenticate, bind the management API to loopback (`TS_MANAGEMENT_ADDRESS=http://127.0.0.1:8081`).
    pub static RULE = {
        code: "PAL161",
        name: "torchserve-token-auth-disabled",
        family: "model-servers",
        severity: Critical,
        summary: "TorchServe must keep token authorization on when its APIs listen on all interfaces",
        references: [
            Doc "CVE-2023-43654" "https://nvd.nist.gov/vuln/detail/CVE-2023-43654",
            Atlas "AML.T0049" "https://atlas.mitre.org/techniques/AML.T0049",
            Atlas "AML.T0011" "https://atlas.mitre.org/techniques/AML.T0011",
            Attack "T1190" "https://attack.mitre.org/techniques/T1190/",
            Doc "TorchServe token authorization" "https://pytorch.org/serve/token_authorization_api.html",
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
        let env_flag = env_var(env, "TS_DISABLE_TOKEN_AUTHORIZATION");
        let arg = flag(words, &["--disable-token-auth"]);
        // Words are split on whitespace, so they hold no spaces to remove first.
        let script = words
            .iter()
            .find(|w| crate::rules::text::contains(&w.text, "disable_token_authorization=true"));
        if facts.server != Some(Server::TorchServe) && arg.is_none() && env_flag.is_none() {
            continue;
        }
        if env_var(env, "TS_MANAGEMENT_ADDRESS")
            .and_then(|e| e.value)
            .is_some_and(binds_loopback)
        {
            continue;
        }
        let (how, pointer, pos) = if let Some(f) = arg {
            ("--disable-token-auth", f.word.ptr(), f.word.pos)
        } else if let Some(e) = env_flag.filter(|e| e.value.is_some_and(truthy)) {
            (
                "TS_DISABLE_TOKEN_AUTHORIZATION=true",
                push_key(&e.ptr(), "value"),
                e.value_pos,
            )
        } else if let Some(w) = script {
            ("disable_token_authorization=true", w.ptr(), w.pos)
        } else {
            continue;
        };
        out.push(Violation {
            detail: format!(
                "container {:?} runs TorchServe with token authorization disabled ({how}) and its management API on all interfaces: anyone who reaches the pod can register models (CVE-2023-43654 class)",
                c.name
            ),
            pointer,
            pos,
            container: Some(c.name.to_string()),
        });
    }
}
