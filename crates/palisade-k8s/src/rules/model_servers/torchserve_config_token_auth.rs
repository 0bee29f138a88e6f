use palisade_yaml::push_key;

use super::detect::binds_all;
use crate::rules::{ResourceContext, ResourceRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags ConfigMaps carrying a TorchServe `config.properties` (any data key whose value
    /// sets `inference_address` or `management_address`) with
    /// `disable_token_authorization=true` and a management or inference address bound to all
    /// interfaces (`0.0.0.0`).
    ///
    /// ## Why is this bad?
    /// This is how token authorization is usually turned off in Kubernetes: the pod spec looks
    /// clean and the ConfigMap mounted as `config.properties` disables authentication of the
    /// management API that registers models (CVE-2023-43654 class, MITRE ATLAS AML.T0049).
    /// Severity critical, as for PAL161.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ConfigMap
    /// data:
    ///   config.properties: |
    ///     management_address=http://0.0.0.0:8081
    ///     disable_token_authorization=true
    /// ```
    ///
    /// ## Fix
    /// Edit the data key the finding points at: delete `disable_token_authorization=true`
    /// (token authorization is the default), or bind `management_address` to
    /// `http://127.0.0.1:8081` behind an authenticating proxy.
    pub static RULE = {
        code: "PAL162",
        name: "torchserve-config-token-auth-disabled",
        family: "model-servers",
        severity: Critical,
        summary: "A TorchServe config.properties must not disable token authorization",
        references: [
            Doc "CVE-2023-43654" "https://nvd.nist.gov/vuln/detail/CVE-2023-43654",
            Atlas "AML.T0049" "https://atlas.mitre.org/techniques/AML.T0049",
            Attack "T1190" "https://attack.mitre.org/techniques/T1190/",
        ],
    };
}

pub static RULE_IMPL: ResourceRule = ResourceRule {
    rule: &RULE,
    kinds: &[("", "ConfigMap")],
    check,
};

/// `key=value` and `key: value` lines of a Java properties file, comments skipped.
fn property<'s>(text: &'s str, key: &str) -> Option<&'s str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with('!'))
        .filter_map(|l| {
            let i = l.find(['=', ':'])?;
            Some((l[..i].trim(), l[i + 1..].trim()))
        })
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .next_back()
}

fn check(cx: &ResourceContext<'_, '_>, out: &mut Vec<Violation>) {
    let Some(data) = cx.resource.node.get("data").and_then(|d| d.as_map()) else {
        return;
    };
    let data_ptr = push_key(&cx.resource.ptr, "data");
    for e in data {
        let Some(text) = e.value.as_str() else {
            continue;
        };
        // A mounted config.properties replaces the image's, so unset addresses fall back to
        // TorchServe's own loopback defaults: only addresses written here can expose the APIs.
        let exposed: Vec<String> = ["management_address", "inference_address"]
            .into_iter()
            .filter_map(|k| {
                property(text, k)
                    .filter(|a| binds_all(a))
                    .map(|a| format!("{k}={a}"))
            })
            .collect();
        let disabled = property(text, "disable_token_authorization")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if disabled && !exposed.is_empty() {
            out.push(Violation {
                detail: format!(
                    "TorchServe configuration {:?} sets disable_token_authorization=true with {}",
                    e.key.as_ref(),
                    exposed.join(", ")
                ),
                pointer: push_key(&data_ptr, &e.key),
                pos: e.key_pos,
                container: None,
            });
        }
    }
}
