//! Namespace labels: where each namespace's `palisade.dev/enforce` levels come from.
//!
//! The API server does not send the namespace with an AdmissionReview, so the webhook keeps a
//! cache. Its source is injectable: a file (`kubectl get namespaces -o yaml`, mounted from a
//! ConfigMap and reloaded with the policy), the API server ([`crate::namespace_watch`]), or
//! anything else implementing [`NamespaceSource`]. A namespace the cache does not know gets the policy's
//! own levels, never weaker ones.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use palisade_k8s::pss::Version;
use palisade_policy::{Policy, Standard};
use serde_json::Value;

pub type Labels = BTreeMap<String, String>;

/// Looks up a namespace's labels.
pub trait NamespaceSource: Send + Sync {
    fn labels(&self, namespace: &str) -> Option<Labels>;

    /// Whether the source has loaded once; `/readyz` fails until it has.
    fn synced(&self) -> bool {
        true
    }
}

/// A fixed set of namespaces, replaceable as a whole (file reload).
#[derive(Debug, Default)]
pub struct StaticNamespaces {
    namespaces: RwLock<HashMap<String, Labels>>,
}

impl StaticNamespaces {
    #[must_use]
    pub fn new(namespaces: HashMap<String, Labels>) -> Self {
        StaticNamespaces {
            namespaces: RwLock::new(namespaces),
        }
    }

    /// Parses Namespace objects: a `NamespaceList` or `List` (`kubectl get ns -o yaml`) or a
    /// stream of `kind: Namespace` documents.
    pub fn parse(src: &str) -> Result<HashMap<String, Labels>, String> {
        let mut out = HashMap::new();
        for doc in palisade_yaml::parse_stream(src) {
            let doc = doc.map_err(|e| format!("{}:{}: {}", e.line, e.column, e.message))?;
            let value: Value = serde_json::from_str(&doc.root.to_json())
                .map_err(|e| format!("document {}: {e}", doc.index + 1))?;
            let items = match value.get("items").and_then(Value::as_array) {
                Some(items) => items.clone(),
                None if value.is_null() => Vec::new(),
                None => vec![value],
            };
            for item in items {
                if item.get("kind").and_then(Value::as_str) != Some("Namespace") {
                    return Err(format!(
                        "document {}: expected Namespace objects, found {}",
                        doc.index + 1,
                        item.get("kind").map_or("no kind".into(), Value::to_string)
                    ));
                }
                let Some(name) = item.pointer("/metadata/name").and_then(Value::as_str) else {
                    return Err(format!(
                        "document {}: Namespace without a name",
                        doc.index + 1
                    ));
                };
                let labels = item
                    .pointer("/metadata/labels")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(name.to_string(), labels);
            }
        }
        Ok(out)
    }

    pub fn replace(&self, namespaces: HashMap<String, Labels>) {
        match self.namespaces.write() {
            Ok(mut guard) => *guard = namespaces,
            Err(poisoned) => *poisoned.into_inner() = namespaces,
        }
    }
}

impl NamespaceSource for StaticNamespaces {
    fn labels(&self, namespace: &str) -> Option<Labels> {
        let guard = self
            .namespaces
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.get(namespace).cloned()
    }
}

/// A Pod Security Standards level and version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Level {
    pub standard: Standard,
    pub version: Version,
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.standard, self.version)
    }
}

/// The level of each mode for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Levels {
    pub enforce: Level,
    pub warn: Level,
    pub audit: Level,
}

pub const LABEL_PREFIX: &str = "palisade.dev/";

/// The policy's levels, overridden by namespace labels as Pod Security Admission reads its
/// `pod-security.kubernetes.io/*` labels: an invalid level means `restricted` and an invalid
/// version `latest` (fail closed, as upstream does); a mode without a label keeps the
/// policy's level.
#[must_use]
pub fn levels(policy: &Policy, default_version: Version, labels: Option<&Labels>) -> Levels {
    let base = Level {
        standard: policy.standard,
        version: default_version,
    };
    let Some(labels) = labels else {
        return Levels {
            enforce: base,
            warn: base,
            audit: base,
        };
    };
    let read = |mode: &str| {
        let standard = labels
            .get(&format!("{LABEL_PREFIX}{mode}"))
            .map_or(base.standard, |v| v.parse().unwrap_or(Standard::Restricted));
        let version = labels
            .get(&format!("{LABEL_PREFIX}{mode}-version"))
            .map_or(base.version, |v| {
                Version::parse(v).unwrap_or(Version::LATEST)
            });
        Level { standard, version }
    };
    Levels {
        enforce: read("enforce"),
        warn: read("warn"),
        audit: read("audit"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_namespace_lists_and_streams() {
        let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: ml, labels: {palisade.dev/enforce: baseline}}\n";
        let ns = StaticNamespaces::parse(list).unwrap();
        assert_eq!(ns["ml"]["palisade.dev/enforce"], "baseline");
        let stream =
            "kind: Namespace\nmetadata: {name: a}\n---\nkind: Namespace\nmetadata: {name: b}\n";
        assert_eq!(StaticNamespaces::parse(stream).unwrap().len(), 2);
        assert!(StaticNamespaces::parse("kind: Pod\nmetadata: {name: a}\n").is_err());
    }

    #[test]
    fn labels_override_levels_and_bad_values_fail_closed() {
        let policy = Policy {
            standard: Standard::Baseline,
            ..Policy::default()
        };
        let labels: Labels = [
            ("palisade.dev/enforce", "privileged"),
            ("palisade.dev/warn", "strict"),
            ("palisade.dev/warn-version", "v1.28"),
            ("palisade.dev/audit-version", "yesterday"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let l = levels(&policy, Version::v1(30), Some(&labels));
        assert_eq!(l.enforce.standard, Standard::Privileged);
        assert_eq!(l.enforce.version, Version::v1(30));
        assert_eq!(l.warn.standard, Standard::Restricted);
        assert_eq!(l.warn.version, Version::v1(28));
        assert_eq!(l.audit.standard, Standard::Baseline);
        assert_eq!(l.audit.version, Version::LATEST);
    }
}
