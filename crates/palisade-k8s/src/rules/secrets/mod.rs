//! Credentials written into manifests: env values, container arguments, ConfigMaps.
//!
//! Nothing here ever copies a matched value into a message: findings name the location and
//! the kind of credential only.

pub mod configmap_credential;
pub mod configmap_secret_name;
pub mod env_credential;
pub mod env_secret_name;

/// Recognises credentials by their format and says which kind they are.
#[must_use]
pub fn known_credential(value: &str) -> Option<&'static str> {
    // Every env value and argument of every container comes through here, and nearly all
    // hold none of the markers: one pass over the bytes finds which markers occur, and the
    // exact checks below run only for those (a substring search per marker cost more than
    // parsing the document).
    // Most env values (`4`, `info`, `/cache`) are shorter than anything recognised below.
    if value.len() < SHORTEST_CREDENTIAL {
        return None;
    }
    let seen = Markers::find(value);
    if seen.service_account && value.contains("\"private_key\"") {
        return Some("a Google Cloud service-account key");
    }
    if let Some(i) = seen.begin
        && value[i..]
            .lines()
            .next()
            .is_some_and(|l| l.contains("PRIVATE KEY"))
    {
        return Some("a private key");
    }
    for (k, (prefix, min, kind)) in TOKENS.iter().enumerate() {
        if seen.tokens & (1 << k) != 0 && token_after(value, prefix, *min) {
            return Some(kind);
        }
    }
    if seen.slack_webhook {
        return Some("a Slack webhook URL");
    }
    // A URL needs `://`; without one no word can carry a password.
    if seen.scheme && url_with_password(value) {
        return Some("a URL with an embedded password");
    }
    None
}

/// Length of `s://u:p@h`: no value [`known_credential`] recognises is shorter (the token
/// prefixes need 15 bytes and more, and a one-letter password is a placeholder anyway).
const SHORTEST_CREDENTIAL: usize = 9;

/// (prefix, minimum length after the prefix, kind), in the order they are tried.
const TOKENS: &[(&str, usize, &str)] = &[
    ("AKIA", 16, "an AWS access key ID"),
    ("ASIA", 16, "an AWS temporary access key ID"),
    ("hf_", 30, "a Hugging Face access token"),
    ("api_org_", 30, "a Hugging Face organization token"),
    ("sk-ant-", 32, "an Anthropic API key"),
    ("sk-", 20, "an OpenAI-style API key"),
    ("sk_live_", 16, "a Stripe secret key"),
    ("ghp_", 36, "a GitHub personal access token"),
    ("gho_", 36, "a GitHub OAuth token"),
    ("ghu_", 36, "a GitHub user-to-server token"),
    ("ghs_", 36, "a GitHub server-to-server token"),
    ("ghr_", 36, "a GitHub refresh token"),
    ("github_pat_", 22, "a GitHub fine-grained access token"),
    ("glpat-", 20, "a GitLab personal access token"),
    ("xoxb-", 10, "a Slack bot token"),
    ("xoxp-", 10, "a Slack user token"),
    ("xoxa-", 10, "a Slack app token"),
    ("xoxr-", 10, "a Slack refresh token"),
    ("xoxs-", 10, "a Slack session token"),
    ("AIza", 35, "a Google API key"),
];

/// For each byte, the `TOKENS` (as a bit set) whose prefix starts with it: most bytes start
/// none, so most of a value is read with one table lookup per byte.
const TOKEN_STARTS: [u32; 256] = {
    assert!(TOKENS.len() <= 32);
    let mut table = [0u32; 256];
    let mut k = 0;
    while k < TOKENS.len() {
        table[TOKENS[k].0.as_bytes()[0] as usize] |= 1 << k;
        k += 1;
    }
    table
};

/// Which of the markers [`known_credential`] looks for occur in a value.
#[derive(Default)]
struct Markers {
    service_account: bool,
    /// Byte offset of the first `-----BEGIN `.
    begin: Option<usize>,
    /// Bit `k` set when `TOKENS[k]`'s prefix occurs.
    tokens: u32,
    slack_webhook: bool,
    scheme: bool,
}

impl Markers {
    fn find(value: &str) -> Markers {
        let bytes = value.as_bytes();
        let mut m = Markers::default();
        for (i, &b) in bytes.iter().enumerate() {
            let rest = &bytes[i..];
            match b {
                b'"' => m.service_account |= rest.starts_with(b"\"service_account\""),
                b'-' if m.begin.is_none() && rest.starts_with(b"-----BEGIN ") => m.begin = Some(i),
                b':' => m.scheme |= rest.starts_with(b"://"),
                b'h' if rest.starts_with(b"https://hooks.slack.com/services/T") => {
                    m.slack_webhook = true;
                }
                _ => {}
            }
            let mut candidates = TOKEN_STARTS[usize::from(b)];
            while candidates != 0 {
                let k = candidates.trailing_zeros() as usize;
                candidates &= candidates - 1;
                if rest.starts_with(TOKENS[k].0.as_bytes()) {
                    m.tokens |= 1 << k;
                }
            }
        }
        m
    }
}

/// Whether `prefix` starts a token (not preceded by a token character) followed by at least
/// `min` token characters that are not a placeholder run like `xxxx…`.
fn token_after(value: &str, prefix: &str, min: usize) -> bool {
    let is_token = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut from = 0;
    while let Some(i) = value.get(from..).and_then(|s| s.find(prefix)) {
        let start = from + i;
        from = start + prefix.len();
        if value[..start].chars().next_back().is_some_and(is_token) {
            continue;
        }
        let tail: &str = value[from..]
            .split(|c: char| !is_token(c))
            .next()
            .unwrap_or_default();
        // AWS key IDs are exactly 20 upper-case characters; the others only have a minimum.
        let ok_len = if prefix.starts_with("AKIA") || prefix.starts_with("ASIA") {
            tail.len() == min
                && tail
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        } else {
            tail.len() >= min
        };
        // AWS documents `AKIAIOSFODNN7EXAMPLE`; tokens spelled `EXAMPLE` are samples.
        if ok_len && distinct_chars(tail) >= 8 && !tail.to_ascii_uppercase().contains("EXAMPLE") {
            return true;
        }
    }
    false
}

/// `scheme://user:password@host` with a password that is not a placeholder or a variable.
fn url_with_password(value: &str) -> bool {
    value.split_whitespace().any(|word| {
        let Some((_, rest)) = word.split_once("://") else {
            return false;
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let Some((userinfo, _host)) = authority.rsplit_once('@') else {
            return false;
        };
        let Some((_user, password)) = userinfo.split_once(':') else {
            return false;
        };
        !password.is_empty() && !is_placeholder(password)
    })
}

fn distinct_chars(s: &str) -> usize {
    let mut seen = std::collections::BTreeSet::new();
    for c in s.chars() {
        seen.insert(c);
    }
    seen.len()
}

/// Splits `HF_TOKEN`, `hfToken`, `db.password` into upper-case words.
fn words<'u>(name: &str, upper: &'u str) -> Vec<&'u str> {
    // Boundaries come from `name`'s case; the words are slices of `upper`, `name` upper-cased
    // (same byte offsets: only ASCII letters change), so no word needs its own allocation.
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut prev_lower = false;
    for (i, c) in name.char_indices() {
        if !c.is_ascii_alphanumeric() {
            if let Some(s) = start.take() {
                out.push(&upper[s..i]);
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase()
            && prev_lower
            && let Some(s) = start.replace(i)
        {
            out.push(&upper[s..i]);
        }
        start.get_or_insert(i);
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    if let Some(s) = start {
        out.push(&upper[s..]);
    }
    out
}

/// Variables that hold a credential of a known AI/ML or cloud service whatever the value
/// looks like.
const PROVIDER_VARS: &[&str] = &[
    "HF_TOKEN",
    "HF_API_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HUGGINGFACE_HUB_TOKEN",
    "HUGGINGFACEHUB_API_TOKEN",
    "OPENAI_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "COHERE_API_KEY",
    "MISTRAL_API_KEY",
    "GROQ_API_KEY",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "REPLICATE_API_TOKEN",
    "NGC_API_KEY",
    "KAGGLE_KEY",
    "WANDB_API_KEY",
    "COMET_API_KEY",
    "NEPTUNE_API_TOKEN",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
    "PINECONE_API_KEY",
    "LANGCHAIN_API_KEY",
    "LANGSMITH_API_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AZURE_STORAGE_KEY",
    "AZURE_CLIENT_SECRET",
    "GITHUB_TOKEN",
];

/// How a name marks its value as a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretName {
    /// A known service's credential variable (`HF_TOKEN`, `OPENAI_API_KEY`).
    Provider,
    /// A generic credential word (`*TOKEN*`, `*PASSWORD*`, `*SECRET*`, `*API_KEY*`).
    Generic,
}

/// Whether a variable or key name says its value is a credential. Names are split into
/// words so `MAX_TOKENS`, `TOKENIZERS_PARALLELISM` and `SECRET_NAME` are not credentials.
#[must_use]
pub fn secret_name(name: &str) -> Option<SecretName> {
    // Every env name of every container comes through here and almost none is a credential:
    // each credential word contains one of these stems, so a name without any is rejected
    // before it is upper-cased and split.
    if !has_credential_stem(name.as_bytes()) {
        return None;
    }
    if PROVIDER_VARS.contains(&name) {
        return Some(SecretName::Provider);
    }
    let upper = name.to_ascii_uppercase();
    let w = words(name, &upper);
    const NOT_A_VALUE: &[&str] = &[
        "FILE",
        "PATH",
        "DIR",
        "NAME",
        "REF",
        "ID",
        "URL",
        "URI",
        "TTL",
        "EXPIRY",
        "EXPIRES",
        "EXPIRATION",
        "LENGTH",
        "LEN",
        "TYPE",
        "ENABLED",
        "ENABLE",
        "DISABLED",
        "DISABLE",
        "REQUIRED",
        "HEADER",
        "FIELD",
        "MOUNT",
        "LOCATION",
        "ARN",
        "TIMEOUT",
        "SECONDS",
        "VERSION",
        "USER",
        "USERNAME",
        "ENDPOINT",
        "HOST",
        "PORT",
        "REGION",
        "COUNT",
        "LIMIT",
        "SIZE",
        "MODE",
        "FORMAT",
        "KEY",
        "PREFIX",
        "ALGORITHM",
        "POLICY",
        "PROVIDER",
        "SOURCE",
        "STORE",
        "REFRESH",
        "ROTATION",
        "INTERVAL",
    ];
    // `API_KEY` ends in KEY and is a credential; `SECRET_KEY` too; only a lone trailing KEY
    // after a non-credential word (`CACHE_KEY`, `PARTITION_KEY`) is not.
    let last = w.last().copied().unwrap_or_default();
    let pair = |a: &str, b: &str| w.windows(2).any(|p| p[0] == a && p[1] == b);
    let keyed = [
        "API",
        "ACCESS",
        "PRIVATE",
        "SECRET",
        "AUTH",
        "ENCRYPTION",
        "SIGNING",
        "MASTER",
    ]
    .iter()
    .any(|a| pair(a, "KEY"))
        || w.contains(&"APIKEY");
    let worded = w.iter().any(|x| {
        matches!(
            *x,
            "PASSWORD"
                | "PASSWD"
                | "PASSPHRASE"
                | "SECRET"
                | "TOKEN"
                | "CREDENTIAL"
                | "CREDENTIALS"
        )
    });
    if keyed && last == "KEY" {
        return Some(SecretName::Generic);
    }
    if (worded || keyed) && !NOT_A_VALUE.contains(&last) {
        return Some(SecretName::Generic);
    }
    None
}

/// Whether `name` contains, in any case, a stem of a credential word ([`secret_name`]'s
/// `PASSWORD`, `PASSWD`, `PASSPHRASE`, `SECRET`, `TOKEN`, `CREDENTIAL(S)`, `…KEY`, and every
/// [`PROVIDER_VARS`] entry).
fn has_credential_stem(name: &[u8]) -> bool {
    const STEMS: &[&[u8]] = &[b"PASS", b"SECRET", b"TOKEN", b"CREDENTIAL", b"KEY"];
    name.windows(3).enumerate().any(|(i, w)| {
        let rest = &name[i..];
        // The first three letters pick the only stem that can start here.
        let stem: &[u8] = match [
            w[0].to_ascii_uppercase(),
            w[1].to_ascii_uppercase(),
            w[2].to_ascii_uppercase(),
        ] {
            [b'P', b'A', b'S'] => STEMS[0],
            [b'S', b'E', b'C'] => STEMS[1],
            [b'T', b'O', b'K'] => STEMS[2],
            [b'C', b'R', b'E'] => STEMS[3],
            [b'K', b'E', b'Y'] => STEMS[4],
            _ => return false,
        };
        rest.len() >= stem.len() && rest[..stem.len()].eq_ignore_ascii_case(stem)
    })
}

/// Values that stand for "fill this in" rather than a credential.
#[must_use]
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim().trim_matches(['"', '\'']);
    let lower = v.to_ascii_lowercase();
    if v.is_empty() || distinct_chars(v) <= 2 {
        return true;
    }
    const EXACT: &[&str] = &[
        "changeme",
        "change-me",
        "change_me",
        "changeit",
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "api-key",
        "api_key",
        "example",
        "sample",
        "dummy",
        "test",
        "testing",
        "placeholder",
        "replaceme",
        "replace-me",
        "replace_me",
        "todo",
        "tbd",
        "none",
        "null",
        "nil",
        "redacted",
        "unset",
        "undefined",
        "default",
        "mysecret",
        "mypassword",
        "secretpassword",
        "notsecret",
        "not-a-secret",
        "fake",
    ];
    if EXACT.contains(&lower.as_str()) {
        return true;
    }
    // Templates and references that something else fills in.
    [
        "${",
        "{{",
        "$(",
        "<",
        "%(",
        "your-",
        "your_",
        "example",
        "placeholder",
        "changeme",
        "redacted",
    ]
    .iter()
    .any(|m| crate::rules::text::contains(&lower, m))
}

/// Whether a literal under a credential name is worth reporting: not a placeholder, not a
/// flag or number or path, and either the name is a known service credential or the value
/// looks random enough (at least 8 characters with ≥ 3 bits of entropy per character, or
/// mixing letters with digits or symbols). `changeme`-style words stay quiet.
#[must_use]
pub fn credential_like(name: SecretName, value: &str) -> bool {
    let v = value.trim();
    if is_placeholder(v) || v.starts_with('/') || v.starts_with("file:") {
        return false;
    }
    if matches!(
        v.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off"
    ) || v.parse::<f64>().is_ok()
    {
        return false;
    }
    if name == SecretName::Provider {
        return true;
    }
    if v.chars().count() < 8 || v.contains(char::is_whitespace) {
        return false;
    }
    let classes = [
        v.chars().any(|c| c.is_ascii_lowercase()),
        v.chars().any(|c| c.is_ascii_uppercase()),
        v.chars().any(|c| c.is_ascii_digit()),
        v.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    shannon_entropy(v) >= 3.0 || classes >= 2
}

fn shannon_entropy(s: &str) -> f64 {
    let mut counts = std::collections::BTreeMap::new();
    let mut n = 0u32;
    for c in s.chars() {
        *counts.entry(c).or_insert(0u32) += 1;
        n += 1;
    }
    let n = f64::from(n.max(1));
    counts
        .values()
        .map(|&k| {
            let p = f64::from(k) / n;
            -p * p.log2()
        })
        .sum()
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

    #[test]
    fn names() {
        for n in [
            "HF_TOKEN",
            "DB_PASSWORD",
            "client_secret",
            "apiKey",
            "AWS_SECRET_ACCESS_KEY",
            "STRIPE_API_KEY",
            "db.password",
            "SECRET_KEY",
            "JWT_SIGNING_KEY",
        ] {
            assert!(secret_name(n).is_some(), "{n}");
        }
        for n in [
            "MAX_TOKENS",
            "MAX_TOTAL_TOKENS",
            "TOKENIZERS_PARALLELISM",
            "SECRET_NAME",
            "PASSWORD_FILE",
            "AWS_ACCESS_KEY_ID",
            "CACHE_KEY",
            "TOKEN_URL",
            "PWD",
            "MODEL_PATH",
        ] {
            assert!(secret_name(n).is_none(), "{n}");
        }
    }

    #[test]
    fn every_credential_name_has_a_stem() {
        for n in PROVIDER_VARS {
            assert!(has_credential_stem(n.as_bytes()), "{n}");
        }
        for n in [
            "dbPassword",
            "api-key",
            "Client_Secret",
            "x.credentials",
            "authToken",
        ] {
            assert!(has_credential_stem(n.as_bytes()), "{n}");
        }
        for n in ["MODEL_NAME", "OMP_NUM_THREADS", "LOG_LEVEL", "pa", ""] {
            assert!(!has_credential_stem(n.as_bytes()), "{n}");
        }
    }

    #[test]
    fn values() {
        let g = SecretName::Generic;
        assert!(!credential_like(g, "changeme"));
        assert!(!credential_like(g, "<your-token>"));
        assert!(!credential_like(g, "${DB_PASSWORD}"));
        assert!(!credential_like(g, "$(TOKEN)"));
        assert!(!credential_like(g, "xxxxxxxxxxxx"));
        assert!(!credential_like(g, "true"));
        assert!(!credential_like(g, "3600"));
        assert!(!credential_like(g, "/var/run/secrets/token"));
        assert!(credential_like(g, "hunter22"));
        assert!(credential_like(g, "Zq81bP0xLmR3"));
        assert!(credential_like(SecretName::Provider, "abc"));
        assert!(!credential_like(SecretName::Provider, "changeme"));
    }

    #[test]
    fn formats() {
        assert_eq!(
            known_credential("AKIA2E0A8F3B244C9986"),
            Some("an AWS access key ID")
        );
        assert!(known_credential("AKIAIOSFODNN7EXAMPLE").is_none());
        assert!(known_credential("AKIA2E0A8F3B244C99861").is_none());
        assert!(known_credential("hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789").is_some());
        assert!(known_credential("hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx").is_none());
        assert!(known_credential("risk-assessment-model-for-loans-v2").is_none());
        assert!(known_credential("--token=ghp_0123456789abcdefghijABCDEFGHIJklmnop").is_some());
        assert!(known_credential("postgres://app:S3cr3tPw@db:5432/x").is_some());
        // The length bound is below the shortest value recognised.
        assert!(known_credential("s://u:pw1@h").is_some());
        assert!("s://u:pw1@h".len() > SHORTEST_CREDENTIAL);
        assert!(known_credential("postgres://app:${PW}@db:5432/x").is_none());
        assert!(known_credential("https://example.com/a:b@c").is_none());
        assert!(known_credential("-----BEGIN PUBLIC KEY-----").is_none());
        assert!(known_credential("-----BEGIN OPENSSH PRIVATE KEY-----\nabc").is_some());
        assert!(known_credential("sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34").is_some());
        assert!(known_credential("task-scheduler-worker-pool-main").is_none());
    }
}
