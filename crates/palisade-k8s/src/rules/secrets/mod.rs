//! Credentials written into manifests: env values, container arguments, ConfigMaps.
//!
//! Nothing here ever copies a matched value into a message: findings name the location and
//! the kind of credential only.

pub mod configmap_credential;
pub mod configmap_secret_name;
pub mod env_credential;
pub mod env_secret_name;

use std::borrow::Cow;

// Which values and names are credentials is decided by `palisade-secrets`, the detector the
// Dockerfile and image rules use too, so a token is judged the same at every gate; this
// family keeps only how its findings are worded and where they point.
pub use palisade_secrets::{NamedLiteral, SecretName, named_literal};

/// The first working credential in a value (not a documented sample or a placeholder), with
/// the kind of credential as the findings of this family word it.
#[must_use]
#[inline]
pub fn known_credential(value: &str) -> Option<(palisade_secrets::Secret, Cow<'static, str>)> {
    let found = palisade_secrets::find_credential(value)?;
    let kind = wording(value, &found);
    Some((found, kind))
}

/// Most findings one ConfigMap entry gives per rule: a file of credentials is reported,
/// not listed line by line without end.
pub const MAX_PER_ENTRY: usize = 16;

/// Every working credential in a ConfigMap entry that may hold a whole file, with the
/// wording of its kind.
#[must_use]
pub fn known_credentials(value: &str) -> Vec<(palisade_secrets::Secret, Cow<'static, str>)> {
    palisade_secrets::find_credentials(value, MAX_PER_ENTRY)
        .into_iter()
        .map(|s| {
            let kind = wording(value, &s);
            (s, kind)
        })
        .collect()
}

/// 1-based line of byte `at` in `value`.
#[must_use]
pub fn line_of(value: &str, at: usize) -> usize {
    value.as_bytes()[..at.min(value.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// "a Hugging Face access token": the detector's kind with an article, and for the formats
/// that share one kind (GitHub, Slack, AWS key IDs) which one it is, from its prefix.
#[cold]
fn wording(value: &str, s: &palisade_secrets::Secret) -> Cow<'static, str> {
    let v = value.get(s.start..).unwrap_or_default();
    let by_prefix = |table: &[(&str, &'static str)], other: &'static str| {
        table
            .iter()
            .find(|(p, _)| v.starts_with(p))
            .map_or(other, |(_, w)| *w)
    };
    Cow::Borrowed(match s.kind {
        "AWS access key ID" => by_prefix(
            &[("ASIA", "an AWS temporary access key ID")],
            "an AWS access key ID",
        ),
        "Hugging Face token" => "a Hugging Face access token",
        "OpenAI-style API key (sk-…)" => "an OpenAI-style API key",
        "GitHub token" => by_prefix(
            &[
                ("ghp_", "a GitHub personal access token"),
                ("gho_", "a GitHub OAuth token"),
                ("ghu_", "a GitHub user-to-server token"),
                ("ghs_", "a GitHub server-to-server token"),
                ("ghr_", "a GitHub refresh token"),
            ],
            "a GitHub fine-grained access token",
        ),
        "GitLab token" => "a GitLab personal access token",
        "Slack token" => by_prefix(
            &[
                ("xoxb-", "a Slack bot token"),
                ("xoxp-", "a Slack user token"),
                ("xoxa-", "a Slack app token"),
                ("xoxr-", "a Slack refresh token"),
            ],
            "a Slack session token",
        ),
        palisade_secrets::URL_PASSWORD => "a URL with an embedded password",
        // Said "en-pee-em".
        "npm access token" => "an npm access token",
        kind => {
            return Cow::Owned(palisade_secrets::with_article(kind));
        }
    })
}

/// A `key=value` / `key: value` / `"key": "value"` line of a config file, as (key, value).
#[must_use]
pub fn config_line(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    if line.starts_with(['#', ';']) || line.starts_with("//") {
        return None;
    }
    let line = line.strip_prefix("export ").unwrap_or(line);
    let i = line.find(['=', ':'])?;
    let key = line[..i].trim().trim_matches(['"', '\'']);
    let value = line[i + 1..]
        .trim()
        .trim_end_matches(',')
        .trim()
        .trim_matches(['"', '\'']);
    if key.is_empty() || key.contains(char::is_whitespace) || value.is_empty() {
        return None;
    }
    Some((key, value))
}

/// The string entries of a ConfigMap's `data`: (key, value, pointer, key position).
fn configmap_data<'n>(
    res: &'n crate::resource::Resource<'_>,
) -> Vec<(&'n str, &'n str, String, palisade_yaml::Pos)> {
    let data_ptr = palisade_yaml::push_key(&res.ptr, "data");
    res.node
        .get("data")
        .and_then(palisade_yaml::Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| {
            Some((
                e.key.as_ref(),
                e.value.as_str()?,
                palisade_yaml::push_key(&data_ptr, &e.key),
                e.key_pos,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(value: &str) -> Option<String> {
        known_credential(value).map(|(_, k)| k.into_owned())
    }

    /// The wording of every kind, as this family's findings have always put it.
    #[test]
    fn wording_of_each_kind() {
        let body = "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7cF0aB3dE6gH9jK2mN5pQ8sT1vW4yZ7cF0";
        let tok = |prefix: &str, n: usize| format!("{prefix}{}", &body[..n]);
        for (value, expected) in [
            ("AKIA2E0A8F3B244C9986".to_string(), "an AWS access key ID"),
            (
                "ASIA2E0A8F3B244C9986".to_string(),
                "an AWS temporary access key ID",
            ),
            (tok("hf_", 34), "a Hugging Face access token"),
            (tok("api_org_", 34), "a Hugging Face organization token"),
            (tok("sk-ant-api03-", 40), "an Anthropic API key"),
            (tok("sk-proj-", 40), "an OpenAI-style API key"),
            (tok("sk_live_", 24), "a Stripe secret key"),
            (tok("ghp_", 36), "a GitHub personal access token"),
            (tok("gho_", 36), "a GitHub OAuth token"),
            (tok("ghu_", 36), "a GitHub user-to-server token"),
            (tok("ghs_", 36), "a GitHub server-to-server token"),
            (tok("ghr_", 36), "a GitHub refresh token"),
            (tok("github_pat_", 50), "a GitHub fine-grained access token"),
            (tok("glpat-", 20), "a GitLab personal access token"),
            (tok("xoxb-", 20), "a Slack bot token"),
            (tok("xoxp-", 20), "a Slack user token"),
            (tok("xoxa-", 20), "a Slack app token"),
            (tok("xoxr-", 20), "a Slack refresh token"),
            (tok("xoxs-", 20), "a Slack session token"),
            (tok("AIza", 35), "a Google API key"),
            (
                format!("https://hooks.slack.com/services/T{}", &body[..30]),
                "a Slack webhook URL",
            ),
            (
                "postgres://app:S3cr3tPw@db:5432/x".to_string(),
                "a URL with an embedded password",
            ),
            (
                format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n"),
                "a private key",
            ),
            (
                format!(
                    "{{\"type\": \"service_account\", \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{body}\\n\"}}"
                ),
                "a Google Cloud service-account key",
            ),
            (tok("npm_", 36), "an npm access token"),
        ] {
            assert_eq!(kind(&value).as_deref(), Some(expected), "{value}");
        }
        assert_eq!(kind("AKIAIOSFODNN7EXAMPLE"), None);
        assert_eq!(kind("risk-assessment-model-for-loans-v2"), None);
    }
}
