//! `spec.verifyImages` and `spec.imageVerification`: which keys must have signed which images,
//! checked by the webhook (`palisade serve`) against the registry. Modelled on Kyverno's
//! `verifyImages` so a rule reads the same to someone coming from there:
//!
//! ```yaml
//! verifyImages:
//!   - images: ["registry.example/ml/*"]   # `*` matches any run of characters
//!     namespaces: [serving]               # optional: only pods in these namespaces
//!     keys:                               # any one of them suffices
//!       - path: /etc/palisade/keys/release.pub
//!       - secret: k8s://palisade-system/cosign-keys        # key `cosign.pub`, or …/name/key
//!       - pem: |
//!           -----BEGIN PUBLIC KEY-----
//!           …
//!     required: true        # false: an image without any signature is only warned about
//!     mutateDigest: true    # /mutate pins the verified digest (repo@sha256:…)
//!     failurePolicy: Fail   # Fail | Ignore when the registry cannot answer in time
//! imageVerification:        # webhook-wide
//!   timeoutMs: 2000
//!   cacheTTLSeconds: 300
//!   tagTTLSeconds: 30
//!   cacheSize: 10000
//!   failurePolicy: Fail
//! ```
//!
//! Parsing only: keys are read (files, Secrets) by the webhook, which reports a missing file
//! with the line of its `path`.

use palisade_yaml::{Node, Pos};

use crate::ConfigError;
use crate::config::{check_keys, err};

/// Where a trusted public key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// A PEM file (absolute, or relative to the webhook's working directory).
    Path(String),
    /// The PEM itself.
    Pem(String),
    /// A Kubernetes Secret, `k8s://namespace/name[/key]` (cosign's notation; the key defaults
    /// to `cosign.pub`).
    Secret(String),
}

/// One trusted key of a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySpec {
    pub source: KeySource,
    /// Shown in verdicts; defaults to the path, the secret URL or `verifyImages[i].keys[j]`.
    pub name: Option<String>,
    /// Position of the key's entry, for errors found when the key is read.
    pub pos: Pos,
}

/// What to do when the registry (or the API server, for Secret keys) cannot answer in time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FailurePolicy {
    /// Deny (fail closed): an image that cannot be verified is not admitted.
    #[default]
    Fail,
    /// Admit with a warning (fail open): availability over enforcement.
    Ignore,
}

impl FailurePolicy {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FailurePolicy::Fail => "Fail",
            FailurePolicy::Ignore => "Ignore",
        }
    }
}

/// One `spec.verifyImages[]` rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyImagesRule {
    /// Image patterns matched against `registry/repository` and the full reference.
    pub images: Vec<String>,
    /// Namespaces the rule applies to (empty: all).
    pub namespaces: Vec<String>,
    pub keys: Vec<KeySpec>,
    /// An image with no signature at all is denied (`true`) or only warned about (`false`).
    /// A signature that fails to verify is always a denial: it is evidence of tampering.
    pub required: bool,
    /// `/mutate` replaces the image reference with `repo@sha256:…` once verified.
    pub mutate_digest: bool,
    /// Overrides `imageVerification.failurePolicy` for this rule.
    pub failure_policy: Option<FailurePolicy>,
    pub pos: Pos,
}

/// `spec.imageVerification`: bounds on the registry calls the webhook makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageVerificationSettings {
    /// Time for every registry lookup of one admission request, together. It must stay well
    /// below the webhook deadline, so a slow registry is answered by `failurePolicy` and not
    /// by the API server's timeout.
    pub timeout_ms: u64,
    /// How long a verdict for a digest is reused.
    pub cache_ttl_seconds: u64,
    /// How long a tag's digest is reused (short: tags move).
    pub tag_ttl_seconds: u64,
    /// Entries kept in each cache (verdicts, tags); the oldest go first.
    pub cache_size: usize,
    pub failure_policy: FailurePolicy,
}

impl Default for ImageVerificationSettings {
    fn default() -> Self {
        ImageVerificationSettings {
            timeout_ms: 2000,
            cache_ttl_seconds: 300,
            tag_ttl_seconds: 30,
            cache_size: 10_000,
            failure_policy: FailurePolicy::Fail,
        }
    }
}

/// The webhook deadline is 4 s by default: verification must leave time to answer.
const MAX_TIMEOUT_MS: u64 = 30_000;

fn string(node: &Node<'_>, what: &str, errors: &mut Vec<ConfigError>) -> Option<String> {
    match node.as_str() {
        Some(s) if node.as_map().is_none() && node.as_seq().is_none() => Some(s.to_string()),
        _ => {
            errors.push(err(
                node.pos,
                format!("{what}: expected a string, found {}", node.type_name()),
            ));
            None
        }
    }
}

fn strings(node: &Node<'_>, what: &str, errors: &mut Vec<ConfigError>) -> Vec<String> {
    match node.as_seq() {
        Some(items) => items
            .iter()
            .filter_map(|i| string(i, what, errors))
            .collect(),
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

fn boolean(node: &Node<'_>, what: &str, errors: &mut Vec<ConfigError>) -> Option<bool> {
    let b = node.as_bool();
    if b.is_none() {
        errors.push(err(
            node.pos,
            format!("{what}: expected true or false, found {}", node.type_name()),
        ));
    }
    b
}

fn number(node: &Node<'_>, what: &str, max: u64, errors: &mut Vec<ConfigError>) -> Option<u64> {
    match node.as_i64().and_then(|n| u64::try_from(n).ok()) {
        Some(n) if n >= 1 && n <= max => Some(n),
        _ => {
            errors.push(err(
                node.pos,
                format!("{what}: expected a whole number from 1 to {max}"),
            ));
            None
        }
    }
}

fn failure_policy(
    node: &Node<'_>,
    what: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<FailurePolicy> {
    match node.as_str() {
        Some("Fail") => Some(FailurePolicy::Fail),
        Some("Ignore") => Some(FailurePolicy::Ignore),
        _ => {
            errors.push(err(
                node.pos,
                format!("{what}: expected `Fail` or `Ignore` (as a webhook's failurePolicy)"),
            ));
            None
        }
    }
}

/// Checks the shape of `k8s://namespace/name[/key]`; the webhook parses it again to fetch it.
fn check_secret_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("k8s://")
        .ok_or_else(|| format!("`{url}`: expected k8s://namespace/name[/key]"))?;
    let parts: Vec<&str> = rest.split('/').collect();
    let dns = |s: &str| {
        !s.is_empty()
            && s.len() <= 253
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    };
    let key_ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
    };
    match parts.as_slice() {
        [ns, name] if dns(ns) && dns(name) => Ok(()),
        [ns, name, key] if dns(ns) && dns(name) && key_ok(key) => Ok(()),
        _ => Err(format!(
            "`{url}`: expected k8s://namespace/name[/key] with lower-case DNS names"
        )),
    }
}

fn read_key(node: &Node<'_>, what: &str, errors: &mut Vec<ConfigError>) -> Option<KeySpec> {
    if node.as_map().is_none() {
        errors.push(err(
            node.pos,
            format!(
                "{what}: expected {{path: …}}, {{pem: …}} or {{secret: k8s://…}}, found {}",
                node.type_name()
            ),
        ));
        return None;
    }
    check_keys(node, what, &["path", "pem", "secret", "name"], errors);
    let name = node.get("name").and_then(|n| string(n, "name", errors));
    let mut sources = Vec::new();
    if let Some(n) = node.get("path")
        && let Some(s) = string(n, &format!("{what}.path"), errors)
    {
        sources.push(KeySource::Path(s));
    }
    if let Some(n) = node.get("pem")
        && let Some(s) = string(n, &format!("{what}.pem"), errors)
    {
        sources.push(KeySource::Pem(s));
    }
    if let Some(n) = node.get("secret")
        && let Some(s) = string(n, &format!("{what}.secret"), errors)
    {
        match check_secret_url(&s) {
            Ok(()) => sources.push(KeySource::Secret(s)),
            Err(e) => {
                errors.push(err(n.pos, format!("{what}.secret: {e}")));
                return None;
            }
        }
    }
    if sources.len() != 1 {
        errors.push(err(
            node.pos,
            format!("{what}: expected exactly one of `path`, `pem` or `secret`"),
        ));
        return None;
    }
    Some(KeySpec {
        source: sources.remove(0),
        name,
        pos: node.pos,
    })
}

fn read_rule(node: &Node<'_>, i: usize, errors: &mut Vec<ConfigError>) -> Option<VerifyImagesRule> {
    let what = format!("verifyImages[{i}]");
    if node.as_map().is_none() {
        errors.push(err(
            node.pos,
            format!("{what}: expected a mapping, found {}", node.type_name()),
        ));
        return None;
    }
    check_keys(
        node,
        &what,
        &[
            "images",
            "namespaces",
            "keys",
            "required",
            "mutateDigest",
            "failurePolicy",
        ],
        errors,
    );
    let images = node
        .get("images")
        .map(|n| strings(n, &format!("{what}.images"), errors))
        .unwrap_or_default();
    if images.is_empty() {
        errors.push(err(
            node.get("images").map_or(node.pos, |n| n.pos),
            format!("{what}: `images` needs at least one pattern (`registry.example/ml/*`)"),
        ));
    }
    for (j, p) in images.iter().enumerate() {
        if p.contains(char::is_whitespace) || p.is_empty() {
            let pos = node
                .get("images")
                .and_then(Node::as_seq)
                .and_then(|s| s.get(j))
                .map_or(node.pos, |n| n.pos);
            errors.push(err(
                pos,
                format!("{what}.images: `{p}` is not an image pattern"),
            ));
        }
    }
    let namespaces = node
        .get("namespaces")
        .map(|n| strings(n, &format!("{what}.namespaces"), errors))
        .unwrap_or_default();
    let mut keys = Vec::new();
    match node.get("keys") {
        Some(n) => match n.as_seq() {
            Some(items) => {
                for (j, k) in items.iter().enumerate() {
                    if let Some(k) = read_key(k, &format!("{what}.keys[{j}]"), errors) {
                        keys.push(k);
                    }
                }
                if items.is_empty() {
                    errors.push(err(n.pos, format!("{what}: `keys` needs at least one key")));
                }
            }
            None => errors.push(err(
                n.pos,
                format!("{what}.keys: expected a list, found {}", n.type_name()),
            )),
        },
        None => errors.push(err(
            node.pos,
            format!("{what}: `keys` is required (the public keys any one of which must have signed the image)"),
        )),
    }
    let required = node
        .get("required")
        .and_then(|n| boolean(n, &format!("{what}.required"), errors))
        .unwrap_or(true);
    let mutate_digest = node
        .get("mutateDigest")
        .and_then(|n| boolean(n, &format!("{what}.mutateDigest"), errors))
        .unwrap_or(true);
    let failure_policy = node
        .get("failurePolicy")
        .and_then(|n| failure_policy(n, &format!("{what}.failurePolicy"), errors));
    Some(VerifyImagesRule {
        images,
        namespaces,
        keys,
        required,
        mutate_digest,
        failure_policy,
        pos: node.pos,
    })
}

/// Reads `spec.verifyImages`.
pub(crate) fn read_rules(node: &Node<'_>, errors: &mut Vec<ConfigError>) -> Vec<VerifyImagesRule> {
    if node.is_null() {
        return Vec::new();
    }
    let Some(items) = node.as_seq() else {
        errors.push(err(
            node.pos,
            format!("verifyImages: expected a list, found {}", node.type_name()),
        ));
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, n)| read_rule(n, i, errors))
        .collect()
}

/// Reads `spec.imageVerification`.
pub(crate) fn read_settings(
    node: &Node<'_>,
    errors: &mut Vec<ConfigError>,
) -> ImageVerificationSettings {
    let mut out = ImageVerificationSettings::default();
    if node.is_null() {
        return out;
    }
    if node.as_map().is_none() {
        errors.push(err(
            node.pos,
            format!(
                "imageVerification: expected a mapping, found {}",
                node.type_name()
            ),
        ));
        return out;
    }
    check_keys(
        node,
        "imageVerification",
        &[
            "timeoutMs",
            "cacheTTLSeconds",
            "tagTTLSeconds",
            "cacheSize",
            "failurePolicy",
        ],
        errors,
    );
    if let Some(n) = node.get("timeoutMs")
        && let Some(v) = number(n, "imageVerification.timeoutMs", MAX_TIMEOUT_MS, errors)
    {
        out.timeout_ms = v;
    }
    if let Some(n) = node.get("cacheTTLSeconds")
        && let Some(v) = number(n, "imageVerification.cacheTTLSeconds", 86_400, errors)
    {
        out.cache_ttl_seconds = v;
    }
    if let Some(n) = node.get("tagTTLSeconds")
        && let Some(v) = number(n, "imageVerification.tagTTLSeconds", 86_400, errors)
    {
        out.tag_ttl_seconds = v;
    }
    if let Some(n) = node.get("cacheSize")
        && let Some(v) = number(n, "imageVerification.cacheSize", 1_000_000, errors)
    {
        out.cache_size = usize::try_from(v).unwrap_or(usize::MAX);
    }
    if let Some(n) = node.get("failurePolicy")
        && let Some(v) = failure_policy(n, "imageVerification.failurePolicy", errors)
    {
        out.failure_policy = v;
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::Policy;

    use super::*;

    const POLICY: &str = r#"apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: signed}
spec:
  images: {requireDigest: true, resolveDigest: true}
  verifyImages:
    - images: ["registry.example/ml/*", "ghcr.io/acme/*"]
      namespaces: [serving]
      keys:
        - path: /etc/palisade/keys/release.pub
        - {secret: "k8s://palisade-system/cosign-keys", name: ci}
        - secret: k8s://palisade-system/keys/release.pub
      required: false
      mutateDigest: false
      failurePolicy: Ignore
    - images: ["*"]
      keys:
        - pem: |
            -----BEGIN PUBLIC KEY-----
            MFkw
            -----END PUBLIC KEY-----
  imageVerification: {timeoutMs: 1500, cacheTTLSeconds: 60, tagTTLSeconds: 10, cacheSize: 100, failurePolicy: Ignore}
"#;

    #[test]
    fn reads_rules_keys_and_settings() {
        let p = Policy::from_yaml(POLICY).unwrap();
        assert!(p.images.resolve_digest);
        let r = &p.verify_images;
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].images, ["registry.example/ml/*", "ghcr.io/acme/*"]);
        assert_eq!(r[0].namespaces, ["serving"]);
        assert_eq!(
            r[0].keys
                .iter()
                .map(|k| k.source.clone())
                .collect::<Vec<_>>(),
            [
                KeySource::Path("/etc/palisade/keys/release.pub".into()),
                KeySource::Secret("k8s://palisade-system/cosign-keys".into()),
                KeySource::Secret("k8s://palisade-system/keys/release.pub".into()),
            ]
        );
        assert_eq!(r[0].keys[1].name.as_deref(), Some("ci"));
        assert_eq!(r[0].keys[0].pos.line, 10);
        assert!(!r[0].required && !r[0].mutate_digest);
        assert_eq!(r[0].failure_policy, Some(FailurePolicy::Ignore));
        // Defaults: required, pinned, failure policy from imageVerification.
        assert!(r[1].required && r[1].mutate_digest && r[1].failure_policy.is_none());
        assert!(matches!(&r[1].keys[0].source, KeySource::Pem(p) if p.contains("MFkw")));
        let s = &p.image_verification;
        assert_eq!(
            (
                s.timeout_ms,
                s.cache_ttl_seconds,
                s.tag_ttl_seconds,
                s.cache_size,
                s.failure_policy
            ),
            (1500, 60, 10, 100, FailurePolicy::Ignore)
        );
    }

    fn errors_of(src: &str) -> Vec<String> {
        Policy::from_yaml(src)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn errors_name_line_and_column() {
        let bad = POLICY
            .replace("required: false", "required: maybe")
            .replace("mutateDigest: false", "mutateDigets: false")
            .replace(
                "k8s://palisade-system/keys/release.pub",
                "k8s://Palisade/keys",
            )
            .replace("failurePolicy: Ignore\n    -", "failurePolicy: Open\n    -")
            .replace("timeoutMs: 1500", "timeoutMs: 0");
        let errors = errors_of(&bad);
        let expect = [
            "12:19: verifyImages[0].keys[2].secret: `k8s://Palisade/keys`",
            "13:17: verifyImages[0].required: expected true or false",
            "14:7: unknown field `mutateDigets` in verifyImages[0]",
            "15:22: verifyImages[0].failurePolicy: expected `Fail` or `Ignore`",
            "22:34: imageVerification.timeoutMs: expected a whole number from 1 to 30000",
        ];
        for e in expect {
            assert!(errors.iter().any(|x| x.starts_with(e)), "{e}\n{errors:#?}");
        }
        assert_eq!(errors.len(), expect.len(), "{errors:#?}");
    }

    #[test]
    fn a_key_needs_exactly_one_source_and_a_rule_needs_keys_and_images() {
        let src = "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nspec:\n  verifyImages:\n    - images: []\n      keys:\n        - {path: a.pub, pem: x}\n        - {}\n        - k8s://ns/name\n    - images: [x]\n";
        let errors = errors_of(src);
        let expect = [
            "5:15: verifyImages[0]: `images` needs at least one pattern",
            "7:11: verifyImages[0].keys[0]: expected exactly one of `path`, `pem` or `secret`",
            "8:11: verifyImages[0].keys[1]: expected exactly one of",
            "9:11: verifyImages[0].keys[2]: expected {path: …}, {pem: …} or {secret: k8s://…}, found string",
            "10:7: verifyImages[1]: `keys` is required",
        ];
        for e in expect {
            assert!(errors.iter().any(|x| x.starts_with(e)), "{e}\n{errors:#?}");
        }
        assert_eq!(errors.len(), expect.len(), "{errors:#?}");
    }
}
