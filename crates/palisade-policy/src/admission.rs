//! `spec.admission`: how the webhook (`palisade serve`) acts on findings. `scan` and `harden`
//! read the same file and ignore this section, so one file still drives every gate.
//!
//! ```yaml
//! admission:
//!   mode: enforce                   # default for every rule: enforce | warn | audit
//!   rules: {image-mutable-tag: warn, PAL120: audit}
//!   namespaceLabels: true           # honour palisade.dev/{enforce,warn,audit}[-version]
//!   exemptions: {namespaces: [gpu-operator], usernames: [], groups: []}
//!   mutate:
//!     rules: [allow-privilege-escalation, seccomp-profile-restricted]
//!     runAsUser: 65532
//!     seccomp: RuntimeDefault
//!     cacheSizeLimit: 20Gi          # emptyDir size for caches kept writable (harden's flag)
//! ```

use palisade_yaml::{Node, Pos};

use crate::config::{check_keys, err};
use crate::{ConfigError, RuleMeta};

/// What a violated rule does at admission, as Pod Security Admission's three modes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AdmissionMode {
    /// Deny the request (findings at or above `failOn`; those below are warnings).
    #[default]
    Enforce,
    /// Admit, with a warning shown to the client (`kubectl` prints it).
    Warn,
    /// Admit silently; recorded in the audit log through `auditAnnotations`.
    Audit,
}

impl AdmissionMode {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AdmissionMode::Enforce => "enforce",
            AdmissionMode::Warn => "warn",
            AdmissionMode::Audit => "audit",
        }
    }
}

impl std::str::FromStr for AdmissionMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "enforce" => Ok(AdmissionMode::Enforce),
            "warn" => Ok(AdmissionMode::Warn),
            "audit" => Ok(AdmissionMode::Audit),
            _ => Err(format!(
                "unknown admission mode `{s}` (expected enforce, warn or audit)"
            )),
        }
    }
}

/// Requests the webhook admits without evaluating them, as PSA's exemptions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdmissionExemptions {
    pub namespaces: Vec<String>,
    pub usernames: Vec<String>,
    pub groups: Vec<String>,
}

/// The mutating webhook's safe defaults: which rules' fixes it applies, with `harden`'s options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MutationSettings {
    /// Codes, names or families whose fixes are applied; empty: no mutation.
    pub rules: Vec<String>,
    pub run_as_user: Option<i64>,
    pub seccomp: Option<String>,
    pub cache_size_limit: Option<String>,
}

impl MutationSettings {
    #[must_use]
    pub fn covers(&self, rule: &RuleMeta) -> bool {
        self.rules.iter().any(|r| rule.matches(r))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdmissionSettings {
    pub mode: AdmissionMode,
    /// Per-rule modes, keyed by code, name or family as written (last match wins).
    pub rules: Vec<(String, AdmissionMode, Pos)>,
    pub namespace_labels: bool,
    pub exemptions: AdmissionExemptions,
    pub mutate: MutationSettings,
}

impl Default for AdmissionSettings {
    fn default() -> Self {
        AdmissionSettings {
            mode: AdmissionMode::Enforce,
            rules: Vec::new(),
            namespace_labels: true,
            exemptions: AdmissionExemptions::default(),
            // The fixes that cannot change what a container is able to do for its own work:
            // they only take away privileges no model server or notebook needs.
            mutate: MutationSettings {
                rules: [
                    "allow-privilege-escalation",
                    "capabilities-restricted",
                    "seccomp-profile-baseline",
                    "seccomp-profile-restricted",
                ]
                .map(String::from)
                .to_vec(),
                run_as_user: None,
                seccomp: None,
                cache_size_limit: None,
            },
        }
    }
}

impl AdmissionSettings {
    /// The mode of one rule: its own setting, else the default.
    #[must_use]
    pub fn mode_of(&self, rule: &RuleMeta) -> AdmissionMode {
        self.rules
            .iter()
            .rev()
            .find(|(key, _, _)| rule.matches(key))
            .map_or(self.mode, |(_, mode, _)| *mode)
    }

    /// Rule keys that name no rule (a typo must not silently change a mode).
    #[must_use]
    pub fn validate_rule_keys(&self, rules: &[&'static RuleMeta]) -> Vec<ConfigError> {
        self.rules
            .iter()
            .filter(|(key, _, _)| !rules.iter().any(|r| r.matches(key)))
            .map(|(key, _, pos)| ConfigError {
                line: pos.line,
                column: pos.column,
                message: format!("admission.rules: `{key}` matches no rule code, name or family"),
            })
            .chain(
                self.mutate
                    .rules
                    .iter()
                    .filter(|key| !rules.iter().any(|r| r.matches(key)))
                    .map(|key| ConfigError {
                        line: 0,
                        column: 0,
                        message: format!(
                            "admission.mutate.rules: `{key}` matches no rule code, name or family"
                        ),
                    }),
            )
            .collect()
    }
}

fn strings(node: &Node<'_>, what: &str, errors: &mut Vec<ConfigError>) -> Vec<String> {
    match node.as_seq() {
        Some(items) => items
            .iter()
            .filter_map(|i| match i.as_str() {
                Some(s) if i.as_map().is_none() => Some(s.to_string()),
                _ => {
                    errors.push(err(
                        i.pos,
                        format!("{what}: expected a string, found {}", i.type_name()),
                    ));
                    None
                }
            })
            .collect(),
        None if node.is_null() => Vec::new(),
        None => {
            errors.push(err(
                node.pos,
                format!(
                    "{what}: expected a list of strings, found {}",
                    node.type_name()
                ),
            ));
            Vec::new()
        }
    }
}

fn mode(node: &Node<'_>, what: &str, errors: &mut Vec<ConfigError>) -> Option<AdmissionMode> {
    match node.as_str().map(str::parse::<AdmissionMode>) {
        Some(Ok(m)) if node.as_map().is_none() => Some(m),
        Some(Err(e)) => {
            errors.push(err(node.pos, format!("{what}: {e}")));
            None
        }
        _ => {
            errors.push(err(
                node.pos,
                format!("{what}: expected enforce, warn or audit"),
            ));
            None
        }
    }
}

/// Reads `spec.admission`, collecting every error with its line.
pub(crate) fn read(node: &Node<'_>, errors: &mut Vec<ConfigError>) -> AdmissionSettings {
    let mut out = AdmissionSettings::default();
    if node.is_null() {
        return out;
    }
    if node.as_map().is_none() {
        errors.push(err(
            node.pos,
            format!("admission: expected a mapping, found {}", node.type_name()),
        ));
        return out;
    }
    check_keys(
        node,
        "admission",
        &["mode", "rules", "namespaceLabels", "exemptions", "mutate"],
        errors,
    );
    if let Some(n) = node.get("mode")
        && let Some(m) = mode(n, "admission.mode", errors)
    {
        out.mode = m;
    }
    if let Some(n) = node.get("rules") {
        match n.as_map() {
            Some(entries) => {
                for e in entries {
                    if let Some(m) = mode(&e.value, &format!("admission.rules.{}", e.key), errors) {
                        out.rules.push((e.key.to_string(), m, e.key_pos));
                    }
                }
            }
            None if n.is_null() => {}
            None => errors.push(err(
                n.pos,
                format!(
                    "admission.rules: expected a mapping, found {}",
                    n.type_name()
                ),
            )),
        }
    }
    if let Some(n) = node.get("namespaceLabels") {
        match n.as_bool() {
            Some(b) => out.namespace_labels = b,
            None => errors.push(err(
                n.pos,
                format!(
                    "admission.namespaceLabels: expected a boolean, found {}",
                    n.type_name()
                ),
            )),
        }
    }
    if let Some(n) = node.get("exemptions") {
        check_keys(
            n,
            "admission.exemptions",
            &["namespaces", "usernames", "groups"],
            errors,
        );
        let list = |key: &str, errors: &mut Vec<ConfigError>| {
            n.get(key)
                .map(|v| strings(v, &format!("admission.exemptions.{key}"), errors))
                .unwrap_or_default()
        };
        out.exemptions = AdmissionExemptions {
            namespaces: list("namespaces", errors),
            usernames: list("usernames", errors),
            groups: list("groups", errors),
        };
    }
    if let Some(n) = node.get("mutate") {
        check_keys(
            n,
            "admission.mutate",
            &["rules", "runAsUser", "seccomp", "cacheSizeLimit"],
            errors,
        );
        if let Some(r) = n.get("rules") {
            out.mutate.rules = strings(r, "admission.mutate.rules", errors);
        }
        if let Some(v) = n.get("runAsUser") {
            match v.as_i64() {
                Some(uid) if uid > 0 => out.mutate.run_as_user = Some(uid),
                _ => errors.push(err(
                    v.pos,
                    "admission.mutate.runAsUser: expected a non-zero UID",
                )),
            }
        }
        if let Some(v) = n.get("seccomp") {
            match v.as_str() {
                Some(s) if s == "RuntimeDefault" || s.starts_with("Localhost:") => {
                    out.mutate.seccomp = Some(s.to_string());
                }
                _ => errors.push(err(
                    v.pos,
                    "admission.mutate.seccomp: expected `RuntimeDefault` or `Localhost:<profile>`",
                )),
            }
        }
        if let Some(v) = n.get("cacheSizeLimit") {
            match v.as_str() {
                Some(q) if crate::is_storage_quantity(q) => {
                    out.mutate.cache_size_limit = Some(q.to_string());
                }
                _ => errors.push(err(
                    v.pos,
                    "admission.mutate.cacheSizeLimit: expected a Kubernetes quantity such as `20Gi`",
                )),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::{AdmissionMode, Policy};

    fn policy(admission: &str) -> Result<Policy, Vec<crate::ConfigError>> {
        Policy::from_yaml(&format!(
            "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nspec:\n  admission:\n{admission}"
        ))
    }

    #[test]
    fn reads_every_field() {
        let p = policy(
            "    mode: warn\n    rules: {PAL100: audit, privileged: enforce}\n    namespaceLabels: false\n    exemptions: {namespaces: [gpu-operator], usernames: [ci], groups: [admins]}\n    mutate: {rules: [PAL013], runAsUser: 1000, seccomp: RuntimeDefault, cacheSizeLimit: 50Gi}\n",
        )
        .unwrap();
        let a = &p.admission;
        assert_eq!(a.mode, AdmissionMode::Warn);
        assert_eq!(a.rules.len(), 2);
        assert!(!a.namespace_labels);
        assert_eq!(a.exemptions.namespaces, ["gpu-operator"]);
        assert_eq!(a.exemptions.usernames, ["ci"]);
        assert_eq!(a.exemptions.groups, ["admins"]);
        assert_eq!(a.mutate.rules, ["PAL013"]);
        assert_eq!(a.mutate.run_as_user, Some(1000));
        assert_eq!(a.mutate.cache_size_limit.as_deref(), Some("50Gi"));
    }

    #[test]
    fn errors_name_their_line() {
        let errors = policy("    mode: block\n    mutat: {}\n    mutate: {cacheSizeLimit: 20GB}\n")
            .unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        let size = errors
            .iter()
            .find(|e| e.message.contains("cacheSizeLimit"))
            .unwrap();
        assert_eq!(size.line, 7);
        let mode = errors
            .iter()
            .find(|e| e.message.contains("`block`"))
            .unwrap();
        assert_eq!(mode.line, 5);
        let typo = errors
            .iter()
            .find(|e| e.message.contains("`mutat`"))
            .unwrap();
        assert_eq!(typo.line, 6);
    }
}
