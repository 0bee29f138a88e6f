//! Applying a [`Policy`] to raw findings: per-rule severity and `off`, then exceptions.
//! `scan`, `harden` and the webhook all call this, so they agree on what is reported.

use crate::{Date, Finding, Policy, RuleSetting};

/// Findings after the policy, with what was dropped and why.
#[derive(Debug, Default)]
pub struct Applied {
    pub findings: Vec<Finding>,
    /// Findings covered by an active exception or turned off.
    pub suppressed: usize,
    /// Messages for the user, such as exceptions that expired and stopped applying.
    pub notices: Vec<String>,
}

/// Applies `policy` to `findings` as of `today`.
#[must_use]
pub fn apply_policy(policy: &Policy, findings: Vec<Finding>, today: Date) -> Applied {
    let mut applied = Applied::default();
    let mut expired_reported = vec![false; policy.exceptions.len()];
    for mut finding in findings {
        match policy.rule_setting(finding.rule) {
            Some(RuleSetting::Off) => {
                applied.suppressed += 1;
                continue;
            }
            Some(RuleSetting::Severity(sev)) => finding.severity = *sev,
            None => {}
        }
        let (namespace, kind, name) = finding.object.as_ref().map_or((None, "", ""), |o| {
            (o.namespace.as_deref(), o.kind.as_str(), o.name.as_str())
        });
        let mut covered = false;
        for (i, ex) in policy.exceptions.iter().enumerate() {
            if !ex.covers(finding.rule, namespace, kind, name) {
                continue;
            }
            if ex.is_expired(today) {
                if !expired_reported[i] {
                    expired_reported[i] = true;
                    applied.notices.push(format!(
                        "policy exception at line {} (\"{}\") expired on {} and no longer applies",
                        ex.pos.line,
                        ex.reason,
                        ex.expires.map(|d| d.to_string()).unwrap_or_default()
                    ));
                }
                continue;
            }
            covered = true;
            break;
        }
        if covered {
            applied.suppressed += 1;
        } else {
            applied.findings.push(finding);
        }
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Location, ObjectRef, Severity};

    crate::declare_rule! {
        /// Test rule.
        static HOST_PATH = {
            code: "PAL004",
            name: "host-path-volumes",
            family: "pss-baseline",
            severity: High,
            summary: "test",
            references: [],
        };
    }

    fn finding(ns: &str) -> Finding {
        let mut f = Finding::new(&HOST_PATH, "hostPath volumes", Location::default());
        f.object = Some(std::sync::Arc::new(ObjectRef {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: Some(ns.into()),
            name: "exporter".into(),
        }));
        f
    }

    fn policy(extra: &str) -> Policy {
        Policy::from_yaml(&format!(
            "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nspec:\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn exceptions_apply_until_they_expire() {
        let p = policy(
            "  exceptions:\n    - {rules: [host-path-volumes], namespaces: [monitoring], reason: node exporter, expires: 2027-01-01}\n",
        );
        let before = apply_policy(
            &p,
            vec![finding("monitoring"), finding("ml")],
            Date::parse("2026-11-27").unwrap(),
        );
        assert_eq!(before.findings.len(), 1);
        assert_eq!(before.suppressed, 1);
        assert!(before.notices.is_empty());
        let after = apply_policy(
            &p,
            vec![finding("monitoring")],
            Date::parse("2027-01-02").unwrap(),
        );
        assert_eq!(after.findings.len(), 1);
        assert!(
            after.notices[0].contains("expired on 2027-01-01"),
            "{:?}",
            after.notices
        );
    }

    #[test]
    fn rule_settings_override_severity_or_turn_off() {
        let p = policy("  rules: {PAL004: {severity: low}}\n");
        let out = apply_policy(&p, vec![finding("ml")], Date::today());
        assert_eq!(out.findings[0].severity, Severity::Low);
        let p = policy("  rules: {host-path-volumes: off}\n");
        let out = apply_policy(&p, vec![finding("ml")], Date::today());
        assert!(out.findings.is_empty());
        assert_eq!(out.suppressed, 1);
    }
}
