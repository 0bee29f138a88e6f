use crate::rules::secrets::NamedLiteral;
use crate::rules::{ResourceContext, ResourceRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags ConfigMap `data` entries named like credentials with values that look like one
    /// (the same name and value tests as `env-secret-literal`, PAL201): either the key itself
    /// (`DB_PASSWORD: …`, consumed through `envFrom`) or a `name=value` / `name: value` line
    /// of a config file stored under a key (`db.password=…` in `application.properties`).
    /// Values recognised by format are `configmap-credential` (PAL202). The finding names the
    /// key and line, never the value.
    ///
    /// ## Why is this bad?
    /// ConfigMaps are not encrypted at rest by the Secret encryption provider and are readable
    /// by roles that may not read Secrets, so a password in one is exposed to everyone with
    /// `view` on the namespace (MITRE ATT&CK T1552.001). Severity medium: the name is a strong
    /// hint, not proof.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ConfigMap
    /// data:
    ///   MLFLOW_TRACKING_PASSWORD: Tr4ck1ng!
    /// ```
    ///
    /// ## Fix
    /// Move the entry into a Secret and reference that (`envFrom.secretRef`, a Secret volume).
    pub static RULE = {
        code: "PAL203",
        name: "configmap-secret-literal",
        family: "secrets",
        severity: Medium,
        summary: "ConfigMap entries named like credentials must live in Secrets",
        references: [
            Cis "5.4.1" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Kubernetes Hardening Guide: secrets" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Attack "T1552.001" "https://attack.mitre.org/techniques/T1552/001/",
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
        if super::known_credential(value).is_some() {
            continue;
        }
        let what = |verdict| match verdict {
            NamedLiteral::DefaultPassword => "a well-known default password",
            NamedLiteral::Credential(_) => "a literal credential",
        };
        let detail = if !value.contains('\n')
            && let Some(verdict) = super::named_literal(key, value)
        {
            format!(
                "ConfigMap key {key:?} is named as a credential and holds {}; move it to a Secret",
                what(verdict)
            )
        } else if let Some((line, name, verdict)) = value.lines().enumerate().find_map(|(i, l)| {
            let (name, v) = super::config_line(l)?;
            super::named_literal(name, v).map(|verdict| (i + 1, name, verdict))
        }) {
            format!(
                "ConfigMap key {key:?} sets {name:?} to {} on line {line} of its value; move it to a Secret",
                what(verdict)
            )
        } else {
            continue;
        };
        out.push(Violation {
            detail,
            pointer,
            pos,
            container: None,
        });
    }
}
