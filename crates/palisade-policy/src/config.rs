//! The `kind: Policy` file, shared by `scan`, `harden` and the webhook.
//!
//! Parsed from the positioned YAML tree and validated field by field, so every error names
//! the line of the offending value (the lesson of cargo-deny's spanned config).

use std::str::FromStr;

use palisade_yaml::{Node, Pos};

use crate::{Date, RuleMeta, Severity};

pub const POLICY_API_VERSION: &str = "palisade.dev/v1alpha1";

/// Pod Security Standards level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Standard {
    Privileged,
    Baseline,
    #[default]
    Restricted,
}

impl FromStr for Standard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "privileged" => Ok(Standard::Privileged),
            "baseline" => Ok(Standard::Baseline),
            "restricted" => Ok(Standard::Restricted),
            _ => Err(format!(
                "unknown standard `{s}` (expected privileged, baseline or restricted)"
            )),
        }
    }
}

impl std::fmt::Display for Standard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Standard::Privileged => "privileged",
            Standard::Baseline => "baseline",
            Standard::Restricted => "restricted",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleSetting {
    Off,
    Severity(Severity),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    /// Codes, names or families; empty means every rule.
    pub rules: Vec<String>,
    pub namespaces: Vec<String>,
    pub kinds: Vec<String>,
    /// Object names; a trailing `*` matches a prefix.
    pub names: Vec<String>,
    pub reason: String,
    pub expires: Option<Date>,
    pub pos: Pos,
}

impl Exception {
    /// Whether the exception covers this rule on this object, ignoring expiry.
    #[must_use]
    pub fn covers(&self, rule: &RuleMeta, namespace: Option<&str>, kind: &str, name: &str) -> bool {
        let ns = namespace.unwrap_or("default");
        (self.rules.is_empty() || self.rules.iter().any(|r| rule.matches(r)))
            && (self.namespaces.is_empty() || self.namespaces.iter().any(|n| n == ns))
            && (self.kinds.is_empty() || self.kinds.iter().any(|k| k.eq_ignore_ascii_case(kind)))
            && (self.names.is_empty()
                || self.names.iter().any(|n| match n.strip_suffix('*') {
                    Some(prefix) => name.starts_with(prefix),
                    None => n == name,
                }))
    }

    #[must_use]
    pub fn is_expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|d| d < today)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImagePolicy {
    pub allowed_registries: Vec<String>,
    pub require_digest: bool,
    /// `/mutate` resolves tags to digests through the registry API and pins them.
    pub resolve_digest: bool,
}

/// `spec.models`: user extensions of the model scanner's pickle import lists. Entries are
/// dotted names matched on dot boundaries (`mylib.layers` covers `mylib.layers.Dense`); a
/// trailing `.*` means the same. The built-in denylist still wins over `allowedImports`, so
/// an allow entry can silence an unknown import but never `os.system`.
///
/// ```yaml
/// models:
///   allowedImports: [mycompany.layers, mycompany.tokenizer.Vocab]
///   deniedImports: [collections.Counter]
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelPolicy {
    pub allowed_imports: Vec<String>,
    pub denied_imports: Vec<String>,
}

/// A pickle import entry: dotted Python identifiers, optionally ending in `.*`.
fn valid_import_entry(entry: &str) -> bool {
    let name = entry.strip_suffix(".*").unwrap_or(entry);
    !name.is_empty()
        && name.split('.').all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c == '_' || c.is_alphabetic())
                && part.chars().all(|c| c == '_' || c.is_alphanumeric())
        })
}

/// Where a custom resource carries pod specs, for CRDs Palisade does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomResource {
    /// API group (`example.com`) or group/version (`example.com/v1`).
    pub api_version: String,
    pub kind: String,
    /// JSON pointers to pod templates (`{metadata, spec}`) or pod specs (`{containers}`);
    /// a `*` token matches every element of a list or every value of a map.
    pub paths: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    pub standard: Standard,
    /// `latest` or `v1.N`.
    pub kubernetes_version: String,
    pub fail_on: Severity,
    /// Keyed by code or name as written; see [`Policy::rule_setting`].
    pub rules: Vec<(String, RuleSetting, Pos)>,
    pub exceptions: Vec<Exception>,
    pub images: ImagePolicy,
    /// Pickle import allow/deny extensions of the model scanner (`spec.models`).
    pub models: ModelPolicy,
    pub custom_resources: Vec<CustomResource>,
    /// How the webhook acts on findings (`spec.admission`); other gates ignore it.
    pub admission: crate::AdmissionSettings,
    /// Signatures the webhook requires (`spec.verifyImages`).
    pub verify_images: Vec<crate::VerifyImagesRule>,
    /// Registry timeouts and caches of the webhook (`spec.imageVerification`).
    pub image_verification: crate::ImageVerificationSettings,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            name: "default".into(),
            standard: Standard::Restricted,
            kubernetes_version: "latest".into(),
            fail_on: Severity::High,
            rules: Vec::new(),
            exceptions: Vec::new(),
            images: ImagePolicy::default(),
            models: ModelPolicy::default(),
            custom_resources: Vec::new(),
            admission: crate::AdmissionSettings::default(),
            verify_images: Vec::new(),
            image_verification: crate::ImageVerificationSettings::default(),
        }
    }
}

/// A problem in a policy file, with the line of the offending value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ConfigError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

pub(crate) fn err(pos: Pos, message: impl Into<String>) -> ConfigError {
    ConfigError {
        line: pos.line,
        column: pos.column,
        message: message.into(),
    }
}

/// Normalises `1.31`, `v1.31` and `latest` the way pod-security-admission accepts them.
pub fn normalize_kubernetes_version(s: &str) -> Result<String, String> {
    if s == "latest" {
        return Ok(s.into());
    }
    let minor = s
        .strip_prefix('v')
        .unwrap_or(s)
        .strip_prefix("1.")
        .filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()))
        .filter(|m| *m == "0" || !m.starts_with('0'))
        .and_then(|m| m.parse::<u32>().ok())
        .ok_or_else(|| {
            format!("invalid Kubernetes version `{s}` (expected `latest` or v1.N such as v1.31)")
        })?;
    Ok(format!("v1.{minor}"))
}

/// Reports every key of `node` (a mapping) that is not in `allowed`, at the key's position:
/// the policy file's sections all reject unknown fields this way.
pub(crate) fn check_keys(
    node: &Node<'_>,
    what: &str,
    allowed: &[&str],
    errors: &mut Vec<ConfigError>,
) {
    for e in node.as_map().unwrap_or_default() {
        if !allowed.contains(&e.key.as_ref()) {
            errors.push(err(
                e.key_pos,
                format!(
                    "unknown field `{}` in {what} (expected one of: {})",
                    e.key,
                    allowed.join(", ")
                ),
            ));
        }
    }
}

struct Reader {
    errors: Vec<ConfigError>,
}

impl Reader {
    fn check_keys(&mut self, node: &Node<'_>, what: &str, allowed: &[&str]) {
        check_keys(node, what, allowed, &mut self.errors);
    }

    fn map<'n, 'a>(&mut self, node: &'n Node<'a>, what: &str) -> Option<&'n Node<'a>> {
        if node.as_map().is_some() {
            Some(node)
        } else if node.is_null() {
            None
        } else {
            self.errors.push(err(
                node.pos,
                format!("{what}: expected a mapping, found {}", node.type_name()),
            ));
            None
        }
    }

    fn string(&mut self, node: &Node<'_>, what: &str) -> Option<String> {
        match node.as_str() {
            Some(s) if node.as_map().is_none() => Some(s.to_string()),
            _ => {
                self.errors.push(err(
                    node.pos,
                    format!("{what}: expected a string, found {}", node.type_name()),
                ));
                None
            }
        }
    }

    fn strings(&mut self, node: &Node<'_>, what: &str) -> Vec<String> {
        match node.as_seq() {
            Some(items) => items.iter().filter_map(|i| self.string(i, what)).collect(),
            None if node.as_map().is_none() && !node.is_null() => {
                self.string(node, what).into_iter().collect()
            }
            None => {
                if !node.is_null() {
                    self.errors.push(err(
                        node.pos,
                        format!(
                            "{what}: expected a list of strings, found {}",
                            node.type_name()
                        ),
                    ));
                }
                Vec::new()
            }
        }
    }

    fn parsed<T: FromStr<Err = String>>(&mut self, node: &Node<'_>, what: &str) -> Option<T> {
        let s = self.string(node, what)?;
        match s.parse() {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(err(node.pos, format!("{what}: {e}")));
                None
            }
        }
    }
}

impl Policy {
    /// Parses a policy file. Every problem is reported, each with its line.
    pub fn from_yaml(src: &str) -> Result<Policy, Vec<ConfigError>> {
        let docs = palisade_yaml::parse_stream(src);
        let mut reader = Reader { errors: Vec::new() };
        let mut policy = Policy::default();
        let root = match docs.into_iter().next() {
            Some(Ok(doc)) => doc.root,
            Some(Err(e)) => {
                return Err(vec![err(
                    Pos {
                        line: e.line,
                        column: e.column,
                    },
                    e.message,
                )]);
            }
            None => {
                return Err(vec![err(
                    Pos { line: 1, column: 1 },
                    "empty policy file (expected a `kind: Policy` object)",
                )]);
            }
        };
        if root.as_map().is_none() {
            return Err(vec![err(
                root.pos,
                format!(
                    "expected a `kind: Policy` mapping, found {}",
                    root.type_name()
                ),
            )]);
        }
        reader.check_keys(&root, "Policy", &["apiVersion", "kind", "metadata", "spec"]);
        match root.get("apiVersion").and_then(Node::as_str) {
            Some(POLICY_API_VERSION) => {}
            other => reader.errors.push(err(
                root.get("apiVersion").map_or(root.pos, |n| n.pos),
                format!(
                    "apiVersion: expected `{POLICY_API_VERSION}`, found {}",
                    other.map_or("nothing".into(), |s| format!("`{s}`"))
                ),
            )),
        }
        match root.get("kind").and_then(Node::as_str) {
            Some("Policy") => {}
            other => reader.errors.push(err(
                root.get("kind").map_or(root.pos, |n| n.pos),
                format!(
                    "kind: expected `Policy`, found {}",
                    other.map_or("nothing".into(), |s| format!("`{s}`"))
                ),
            )),
        }
        if let Some(name) = root.pointer("/metadata/name").and_then(Node::as_str) {
            policy.name = name.to_string();
        }
        if let Some(spec) = root.get("spec").and_then(|s| reader.map(s, "spec")) {
            policy.read_spec(spec, &mut reader);
        }
        if reader.errors.is_empty() {
            Ok(policy)
        } else {
            Err(reader.errors)
        }
    }

    fn read_spec(&mut self, spec: &Node<'_>, r: &mut Reader) {
        r.check_keys(
            spec,
            "spec",
            &[
                "standard",
                "kubernetesVersion",
                "failOn",
                "rules",
                "exceptions",
                "images",
                "models",
                "customResources",
                "admission",
                "verifyImages",
                "imageVerification",
            ],
        );
        if let Some(n) = spec.get("verifyImages") {
            self.verify_images = crate::verify_images::read_rules(n, &mut r.errors);
        }
        if let Some(n) = spec.get("imageVerification") {
            self.image_verification = crate::verify_images::read_settings(n, &mut r.errors);
        }
        if let Some(n) = spec.get("admission") {
            self.admission = crate::admission::read(n, &mut r.errors);
        }
        if let Some(n) = spec.get("standard")
            && let Some(v) = r.parsed(n, "standard")
        {
            self.standard = v;
        }
        if let Some(n) = spec.get("kubernetesVersion")
            && let Some(s) = r.string(n, "kubernetesVersion")
        {
            match normalize_kubernetes_version(&s) {
                Ok(v) => self.kubernetes_version = v,
                Err(e) => r.errors.push(err(n.pos, format!("kubernetesVersion: {e}"))),
            }
        }
        if let Some(n) = spec.get("failOn")
            && let Some(v) = r.parsed(n, "failOn")
        {
            self.fail_on = v;
        }
        if let Some(rules) = spec.get("rules").and_then(|n| r.map(n, "rules")) {
            for e in rules.as_map().unwrap_or_default() {
                let setting = if e.value.as_bool() == Some(false) || e.value.as_str() == Some("off")
                {
                    Some(RuleSetting::Off)
                } else if e.value.as_map().is_some() {
                    r.check_keys(
                        &e.value,
                        &format!("rules.{}", e.key),
                        &["severity", "enabled"],
                    );
                    if e.value.get("enabled").and_then(Node::as_bool) == Some(false) {
                        Some(RuleSetting::Off)
                    } else {
                        e.value
                            .get("severity")
                            .and_then(|s| r.parsed(s, "severity"))
                            .map(RuleSetting::Severity)
                    }
                } else if let Some(sev) = e.value.as_str().and_then(|s| s.parse().ok()) {
                    Some(RuleSetting::Severity(sev))
                } else {
                    r.errors.push(err(
                        e.value.pos,
                        format!(
                            "rules.{}: expected `off`, a severity or {{severity: …}}",
                            e.key
                        ),
                    ));
                    None
                };
                if let Some(setting) = setting {
                    self.rules.push((e.key.to_string(), setting, e.key_pos));
                }
            }
        }
        if let Some(list) = spec.get("exceptions") {
            match list.as_seq() {
                Some(items) => {
                    for item in items {
                        if let Some(ex) = read_exception(item, r) {
                            self.exceptions.push(ex);
                        }
                    }
                }
                None => r.errors.push(err(
                    list.pos,
                    format!("exceptions: expected a list, found {}", list.type_name()),
                )),
            }
        }
        if let Some(images) = spec.get("images").and_then(|n| r.map(n, "images")) {
            r.check_keys(
                images,
                "images",
                &["allowedRegistries", "requireDigest", "resolveDigest"],
            );
            if let Some(n) = images.get("allowedRegistries") {
                self.images.allowed_registries = r.strings(n, "allowedRegistries");
            }
            if let Some(n) = images.get("requireDigest") {
                match n.as_bool() {
                    Some(b) => self.images.require_digest = b,
                    None => r.errors.push(err(
                        n.pos,
                        format!("requireDigest: expected a boolean, found {}", n.type_name()),
                    )),
                }
            }
            if let Some(n) = images.get("resolveDigest") {
                match n.as_bool() {
                    Some(b) => self.images.resolve_digest = b,
                    None => r.errors.push(err(
                        n.pos,
                        format!("resolveDigest: expected a boolean, found {}", n.type_name()),
                    )),
                }
            }
        }
        if let Some(models) = spec.get("models").and_then(|n| r.map(n, "models")) {
            r.check_keys(models, "models", &["allowedImports", "deniedImports"]);
            for (key, out) in [
                ("allowedImports", &mut self.models.allowed_imports),
                ("deniedImports", &mut self.models.denied_imports),
            ] {
                let Some(n) = models.get(key) else { continue };
                let items = match n.as_seq() {
                    Some(items) => items,
                    None if n.is_null() => &[],
                    None => std::slice::from_ref(n),
                };
                let what = format!("models.{key}");
                for item in items {
                    let Some(entry) = r.string(item, &what) else {
                        continue;
                    };
                    if valid_import_entry(&entry) {
                        out.push(entry);
                    } else {
                        r.errors.push(err(
                            item.pos,
                            format!(
                                "{what}: `{entry}` is not a dotted Python name (such as `mylib.layers.Dense` or `mylib.*`)"
                            ),
                        ));
                    }
                }
            }
        }
        if let Some(list) = spec.get("customResources") {
            for item in list.as_seq().unwrap_or_default() {
                let Some(item) = r.map(item, "customResources[]") else {
                    continue;
                };
                r.check_keys(
                    item,
                    "customResources[]",
                    &["apiVersion", "kind", "podSpecPaths"],
                );
                let api_version = item
                    .get("apiVersion")
                    .and_then(|n| r.string(n, "apiVersion"));
                let kind = item.get("kind").and_then(|n| r.string(n, "kind"));
                let paths = item
                    .get("podSpecPaths")
                    .map(|n| r.strings(n, "podSpecPaths"))
                    .unwrap_or_default();
                for (i, p) in paths.iter().enumerate() {
                    if !p.starts_with('/') {
                        let pos = item
                            .get("podSpecPaths")
                            .and_then(|n| n.as_seq())
                            .and_then(|s| s.get(i))
                            .map_or(item.pos, |n| n.pos);
                        r.errors.push(err(
                            pos,
                            format!(
                                "podSpecPaths: `{p}` is not a JSON pointer (it must start with `/`)"
                            ),
                        ));
                    }
                }
                match (api_version, kind) {
                    (Some(api_version), Some(kind)) if !paths.is_empty() => {
                        self.custom_resources.push(CustomResource {
                            api_version,
                            kind,
                            paths,
                        });
                    }
                    _ => r.errors.push(err(
                        item.pos,
                        "customResources[]: `apiVersion`, `kind` and `podSpecPaths` are required",
                    )),
                }
            }
            if list.as_seq().is_none() && !list.is_null() {
                r.errors.push(err(
                    list.pos,
                    format!(
                        "customResources: expected a list, found {}",
                        list.type_name()
                    ),
                ));
            }
        }
    }

    /// The policy's setting for a rule (matched by code or name), if any.
    #[must_use]
    pub fn rule_setting(&self, rule: &RuleMeta) -> Option<&RuleSetting> {
        self.rules
            .iter()
            .rev()
            .find(|(key, _, _)| rule.matches(key))
            .map(|(_, setting, _)| setting)
    }

    /// Checks that every rule key names a known rule.
    #[must_use]
    pub fn validate_rule_keys(&self, rules: &[&'static RuleMeta]) -> Vec<ConfigError> {
        let mut errors = self.admission.validate_rule_keys(rules);
        for (key, _, pos) in &self.rules {
            if !rules.iter().any(|r| r.matches(key)) {
                errors.push(err(
                    *pos,
                    format!("rules: `{key}` matches no rule code, name or family"),
                ));
            }
        }
        for ex in &self.exceptions {
            for key in &ex.rules {
                if !rules.iter().any(|r| r.matches(key)) {
                    errors.push(err(
                        ex.pos,
                        format!("exceptions: `{key}` matches no rule code, name or family"),
                    ));
                }
            }
        }
        errors
    }
}

fn read_exception(item: &Node<'_>, r: &mut Reader) -> Option<Exception> {
    let item = r.map(item, "exceptions[]")?;
    r.check_keys(
        item,
        "exceptions[]",
        &["rules", "namespaces", "kinds", "names", "reason", "expires"],
    );
    let list =
        |r: &mut Reader, key: &str| item.get(key).map(|n| r.strings(n, key)).unwrap_or_default();
    let rules = list(r, "rules");
    let namespaces = list(r, "namespaces");
    let kinds = list(r, "kinds");
    let names = list(r, "names");
    let reason = item
        .get("reason")
        .and_then(|n| r.string(n, "reason"))
        .unwrap_or_default();
    if reason.trim().is_empty() {
        r.errors.push(err(
            item.pos,
            "exceptions[]: `reason` is required (say why the exception is safe)",
        ));
        return None;
    }
    let expires = match item.get("expires") {
        Some(n) => match n.as_str().map(Date::parse) {
            Some(Ok(d)) => Some(d),
            Some(Err(e)) => {
                r.errors.push(err(n.pos, format!("expires: {e}")));
                return None;
            }
            None => {
                r.errors
                    .push(err(n.pos, "expires: expected a date YYYY-MM-DD"));
                return None;
            }
        },
        None => None,
    };
    Some(Exception {
        rules,
        namespaces,
        kinds,
        names,
        reason,
        expires,
        pos: item.pos,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: ml}
spec:
  standard: baseline
  kubernetesVersion: "1.31"
  failOn: medium
  rules: {PAL123: {severity: critical}, PAL200: off}
  exceptions:
    - {rules: [host-path-volumes], namespaces: [monitoring], reason: "node exporter", expires: 2027-01-01}
  images: {allowedRegistries: [registry.internal/ml], requireDigest: true}
  models: {allowedImports: [mylib.layers, "mylib.tok.*"], deniedImports: [collections.Counter]}
  customResources:
    - {apiVersion: example.com/v1, kind: Trainer, podSpecPaths: ["/spec/workers/*/template"]}
"#;

    #[test]
    fn reads_every_field() {
        let p = Policy::from_yaml(GOOD).unwrap();
        assert_eq!(p.name, "ml");
        assert_eq!(p.standard, Standard::Baseline);
        assert_eq!(p.kubernetes_version, "v1.31");
        assert_eq!(p.fail_on, Severity::Medium);
        assert_eq!(p.rules[0].1, RuleSetting::Severity(Severity::Critical));
        assert_eq!(p.rules[1].1, RuleSetting::Off);
        assert_eq!(
            p.exceptions[0].expires,
            Some(Date::parse("2027-01-01").unwrap())
        );
        assert!(p.images.require_digest);
        assert_eq!(p.custom_resources[0].paths, ["/spec/workers/*/template"]);
        assert_eq!(p.models.allowed_imports, ["mylib.layers", "mylib.tok.*"]);
        assert_eq!(p.models.denied_imports, ["collections.Counter"]);
    }

    #[test]
    fn model_import_entries_must_be_dotted_names() {
        let bad = GOOD.replace(
            "deniedImports: [collections.Counter]",
            "deniedImports: [\"os system\", 3rd.x]",
        );
        let errors = Policy::from_yaml(&bad).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().all(|e| e.line == 12), "{errors:?}");
        assert!(errors[0].message.contains("`os system`"), "{errors:?}");
    }

    #[test]
    fn errors_point_at_the_offending_line() {
        let bad = GOOD
            .replace("standard: baseline", "standard: strict")
            .replace("failOn: medium", "failOnn: medium");
        let errors = Policy::from_yaml(&bad).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.line == 5 && e.message.contains("unknown standard `strict`")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.line == 7 && e.message.contains("unknown field `failOnn`")),
            "{errors:?}"
        );
    }

    #[test]
    fn exceptions_need_a_reason_and_a_valid_date() {
        let bad = GOOD.replace(
            "reason: \"node exporter\", expires: 2027-01-01",
            "expires: someday",
        );
        let errors = Policy::from_yaml(&bad).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.line == 10 && e.message.contains("reason")),
            "{errors:?}"
        );
    }

    #[test]
    fn versions_normalise_like_pod_security_admission() {
        assert_eq!(normalize_kubernetes_version("1.8").unwrap(), "v1.8");
        assert_eq!(normalize_kubernetes_version("v1.37").unwrap(), "v1.37");
        assert!(normalize_kubernetes_version("v1.08").is_err());
        assert!(normalize_kubernetes_version("2.0").is_err());
    }
}
