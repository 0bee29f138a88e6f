use crate::rules::secrets::NamedLiteral;
use crate::rules::{ResourceContext, ResourceRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags ConfigMap `data` entries named like credentials with values that look like one
    /// (the same name and value tests as `env-secret-literal`, PAL201): either the key itself
    /// (`DB_PASSWORD: …`, consumed through `envFrom`) or a `name=value` / `name: value` line
    /// of a config file stored under a key (`db.password=…` in `application.properties`).
    /// Each such line of a file is its own finding (up to 16 per key); lines holding a value
    /// recognised by format are left to `configmap-credential` (PAL202). The finding names
    /// the key and line, never the value.
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
    let what = |verdict| match verdict {
        NamedLiteral::DefaultPassword => "a well-known default password",
        NamedLiteral::Credential(_) => "a literal credential",
    };
    for (key, value, pointer, pos) in super::configmap_data(cx.resource) {
        let mut push = |detail: String| {
            out.push(Violation {
                detail,
                pointer: pointer.clone(),
                pos,
                container: None,
            });
        };
        if !value.contains('\n') {
            if super::known_credential(value).is_some() {
                continue;
            }
            if let Some(verdict) = super::named_literal(key, value) {
                push(format!(
                    "ConfigMap key {key:?} is named as a credential and holds {}; move it to a Secret",
                    what(verdict)
                ));
                continue;
            }
        }
        // A file: each `name = value` line on its own, except lines PAL202 already reports
        // for the credential format they hold.
        let formats = super::known_credentials(value);
        let mut line_start = 0;
        let mut reported = 0;
        for (i, line) in value.split_inclusive('\n').enumerate() {
            let line_end = line_start + line.len();
            let taken = formats
                .iter()
                .any(|(s, _)| s.start < line_end && s.end > line_start);
            line_start = line_end;
            if taken || reported == super::MAX_PER_ENTRY {
                continue;
            }
            let Some((name, v)) = super::config_line(line) else {
                continue;
            };
            if let Some(verdict) = super::named_literal(name, v) {
                reported += 1;
                push(format!(
                    "ConfigMap key {key:?} sets {name:?} to {} on line {} of its value; move it to a Secret",
                    what(verdict),
                    i + 1
                ));
            }
        }
    }
}
