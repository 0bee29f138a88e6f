use crate::rules::{ResourceContext, ResourceRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags ConfigMap `data` values that contain a credential recognised by its format (the
    /// formats of `env-credential-literal`, PAL200), anywhere in the value: a whole value, or
    /// a line of a config file stored in the ConfigMap. Each credential of a file is its own
    /// finding (up to 16 per key), naming the key, the line within the value and the kind of
    /// credential, never the credential.
    ///
    /// ## Why is this bad?
    /// ConfigMaps are not secrets: they are not encrypted at rest by the Secret encryption
    /// provider, RBAC commonly grants read access to them broadly (`view` includes them), and
    /// they are mounted and logged freely. A key in a ConfigMap is a key anyone in the
    /// namespace can read (MITRE ATT&CK T1552.001, T1552.007 container API). Severity high.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ConfigMap
    /// data:
    ///   HF_TOKEN: hf_…
    /// ```
    ///
    /// ## Fix
    /// Revoke the credential and move the new one into a Secret; mount or reference that.
    pub static RULE = {
        code: "PAL202",
        name: "configmap-credential",
        family: "secrets",
        severity: High,
        summary: "ConfigMaps must not contain credentials",
        references: [
            Cis "5.4.1" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Kubernetes Hardening Guide: secrets" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Attack "T1552.001" "https://attack.mitre.org/techniques/T1552/001/",
            Attack "T1552.007" "https://attack.mitre.org/techniques/T1552/007/",
        ],
    };
}

pub static RULE_IMPL: ResourceRule = ResourceRule {
    rule: &RULE,
    kinds: &[("", "ConfigMap")],
    check,
};

fn check(cx: &ResourceContext<'_, '_>, out: &mut Vec<Violation>) {
    for (key, value, pointer, pos) in super::configmap_data(cx.resource) {
        // PEM blocks and service-account JSON span lines: the whole value is classified,
        // then each find says which line of the file to look at.
        let file = value.contains('\n');
        for (found, kind) in super::known_credentials(value) {
            let detail = if file {
                let line = super::line_of(value, found.start);
                format!(
                    "ConfigMap key {key:?} holds {kind} on line {line} of its value; move it to a Secret"
                )
            } else {
                format!("ConfigMap key {key:?} holds {kind}; move it to a Secret")
            };
            out.push(Violation {
                detail,
                pointer: pointer.clone(),
                pos,
                container: None,
            });
        }
    }
}
