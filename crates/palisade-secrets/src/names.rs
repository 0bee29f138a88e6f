//! Secret-looking variable names, literal values, credentials in URLs and credential files
//! by path. They return *where* a secret is and what kind it is, never the value.

/// How a name marks its value as a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretName {
    /// A known service's credential variable (`HF_TOKEN`, `OPENAI_API_KEY`): any real value
    /// is a credential.
    Provider,
    /// A generic credential word (`*TOKEN*`, `*PASSWORD*`, `*SECRET*`, `*API_KEY*`): the value
    /// decides ([`credential_like`]).
    Generic,
}

/// Whether an `ENV`/`ARG`/env-var/config key name says it holds a secret (`HF_TOKEN`,
/// `DB_PASSWORD`, `OPENAI_API_KEY`), in the spirit of BuildKit's `SecretsUsedInArgOrEnv`
/// check. [`secret_name_kind`] says how.
#[must_use]
pub fn secret_name(name: &str) -> bool {
    secret_name_kind(name).is_some()
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

/// Last words that make a name about a secret rather than the secret itself: its file, path,
/// name, lifetime, switch or size (`PASSWORD_FILE`, `TOKEN_URL`, `SECRET_NAME`, `TOKEN_TTL`).
const NOT_THE_SECRET: &[&str] = &[
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
    "ENV",
    "VAR",
    "FINGERPRINT",
    "KEYRING",
];

/// Words that make a following `KEY` secret key material (`API_KEY`, `SECRET_KEY`,
/// `SSH_KEY`); after any other word a `KEY` is a lookup key (`CACHE_KEY`, `PARTITION_KEY`)
/// or a public fingerprint (`GPG_KEY` in the official python images).
const KEY_OWNERS: &[&str] = &[
    "API",
    "ACCESS",
    "PRIVATE",
    "SECRET",
    "AUTH",
    "ENCRYPTION",
    "SIGNING",
    "MASTER",
    "FERNET",
    "HMAC",
    "JWT",
    "SESSION",
    "SSH",
    "AWS",
];

/// Words that name a credential on their own, and (the long ones) as the end of a run-together
/// word (`AUTHTOKEN`, `DBPASSWORD`).
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "CREDENTIAL",
    "CREDENTIALS",
];

/// How a variable or key name marks its value as a credential, or `None`. Names are split
/// into words at `_`, `-`, `.` and camelCase humps, so `MAX_TOKENS`, `TOKENIZERS_PARALLELISM`,
/// `SECRET_NAME`, `CACHE_KEY` and `PWD` are not credentials while `jwtSecret`, `DB_PASS` and
/// `AUTHTOKEN` are.
#[must_use]
pub fn secret_name_kind(name: &str) -> Option<SecretName> {
    // Every env name of every container of every scanned manifest comes through here and
    // almost none is a credential: each credential word contains one of these stems, so a
    // name without any is rejected before it is upper-cased and split.
    if !has_credential_stem(name.as_bytes()) {
        return None;
    }
    if PROVIDER_VARS.contains(&name) {
        return Some(SecretName::Provider);
    }
    let upper = name.to_ascii_uppercase();
    let w = words(name, &upper);
    // A public key is not a secret (`SSH_PUBLIC_KEY`, `NEXT_PUBLIC_API_KEY`).
    if w.iter().any(|x| matches!(*x, "PUBLIC" | "PUB")) {
        return None;
    }
    let last = w.last().copied().unwrap_or_default();
    let keyed = w
        .windows(2)
        .any(|p| p[1] == "KEY" && KEY_OWNERS.contains(&p[0]))
        || w.iter().any(|x| {
            x.strip_suffix("KEY")
                .is_some_and(|owner| KEY_OWNERS.iter().any(|o| owner.ends_with(o)))
        });
    let worded = w
        .iter()
        .any(|x| matches!(*x, "PASS" | "PW") || SECRET_WORDS.iter().any(|s| x.ends_with(s)));
    // `API_KEY` ends in KEY and is a credential; a lone trailing KEY after a non-credential
    // word (`TOKEN_CACHE_KEY`) is not.
    if keyed && last == "KEY" {
        return Some(SecretName::Generic);
    }
    if (worded || keyed) && !NOT_THE_SECRET.contains(&last) {
        return Some(SecretName::Generic);
    }
    None
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

/// Whether `name` contains, in any case, a stem of a credential word ([`SECRET_WORDS`],
/// `PASS`, `PW`, `…KEY`, and so every [`PROVIDER_VARS`] entry).
fn has_credential_stem(name: &[u8]) -> bool {
    // `b | 0x20` lower-cases an ASCII letter and maps no other byte to a letter, so one
    // comparison per byte rejects nearly every position.
    (0..name.len()).any(|i| {
        let rest = &name[i..];
        let stem: &[u8] = match rest[0] | 0x20 {
            b'p' if rest.get(1).is_some_and(|&b| b | 0x20 == b'w') => return true,
            b'p' => b"PASS",
            b's' => b"SECRET",
            b't' => b"TOKEN",
            b'c' => b"CREDENTIAL",
            b'k' => b"KEY",
            _ => return false,
        };
        rest.len() >= stem.len() && rest[..stem.len()].eq_ignore_ascii_case(stem)
    })
}

/// Values that stand for "fill this in" rather than a credential: `changeme`, `<your-token>`,
/// `${VAR}`, Kubernetes' `$(VAR)`, Helm's `{{ … }}`, `xxxx`.
#[must_use]
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim().trim_matches(['"', '\'']);
    if v.is_empty() || distinct_chars(v) <= 2 {
        return true;
    }
    let lower = v.to_ascii_lowercase();
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
    .any(|m| lower.contains(m))
}

/// Whether a literal under a credential name is worth reporting: not a placeholder, not a
/// flag or number or path, and either the name is a known service credential or the value
/// looks like a password or key (at least 8 characters with ≥ 3 bits of entropy per
/// character or mixing character classes; 6 or 7 characters mixing letters with digits or
/// symbols). `changeme`-style words stay quiet here; [`named_literal`] reports them as
/// default passwords.
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
    let len = v.chars().count();
    if len < 6 || v.contains(char::is_whitespace) {
        return false;
    }
    let letters = v.chars().any(|c| c.is_ascii_alphabetic());
    if len < 8 {
        // Short passwords are real (`hunter2`), short words are settings (`Bearer`,
        // `vault`): under eight characters only letters mixed with digits or symbols count.
        return letters && v.chars().any(|c| !c.is_ascii_alphabetic());
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

/// What a literal value under a credential name is (see [`named_literal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamedLiteral {
    /// A real-looking credential: any value of a known service's variable, or a random-looking
    /// value under a generic credential name.
    Credential(SecretName),
    /// A well-known default password (`changeme`, `admin`, `123456`): whoever runs the
    /// workload or the image runs with a password anyone can guess.
    DefaultPassword,
}

/// Passwords that default installs and tutorials ship with. Under a credential name they are
/// reported, not dismissed as placeholders: a manifest or image that sets one runs with it.
const DEFAULT_PASSWORDS: &[&str] = &[
    "changeme",
    "change-me",
    "change_me",
    "changeit",
    "password",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "password1",
    "password123",
    "passwd",
    "pass",
    "secret",
    "mysecret",
    "mypassword",
    "secretpassword",
    "admin",
    "admin123",
    "administrator",
    "root",
    "toor",
    "default",
    "letmein",
    "welcome",
    "qwerty",
    "123456",
    "1234567",
    "12345678",
    "123456789",
    "1234567890",
];

/// The one verdict on a literal `value` under `name`, shared by every gate: an env var of a
/// container, a ConfigMap key, a Dockerfile `ENV`/`ARG`, an image config's `Env`. `None` when
/// the name is not about a credential ([`secret_name_kind`]), or the value is a reference or
/// template (`$VAR`, `${VAR}`, `$(VAR)`, `{{ … }}`, `<your-token>`), an illustrative
/// placeholder (`example`, `dummy`, `xxxx`), a path, a switch or a number, or too short and
/// plain to tell ([`credential_like`]). Credentials recognised by their format
/// ([`crate::find_credential`]) are judged before this, whatever the name.
#[must_use]
pub fn named_literal(name: &str, value: &str) -> Option<NamedLiteral> {
    let kind = secret_name_kind(name)?;
    let v = value.trim();
    // A reference to another variable (`$HF_TOKEN`, `${VAR}`, Kubernetes' `$(VAR)`).
    if v.starts_with('$') {
        return None;
    }
    let unquoted = v.trim_matches(['"', '\'']);
    if DEFAULT_PASSWORDS
        .iter()
        .any(|p| p.eq_ignore_ascii_case(unquoted))
    {
        return Some(NamedLiteral::DefaultPassword);
    }
    credential_like(kind, v).then_some(NamedLiteral::Credential(kind))
}

fn distinct_chars(s: &str) -> usize {
    let mut seen = std::collections::BTreeSet::new();
    for c in s.chars() {
        seen.insert(c);
    }
    seen.len()
}

/// Bits per character of `s`.
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

/// Whether a value in a credential file's password field is a literal (not a variable
/// reference, a switch or a path). Under a variable's name, [`named_literal`] decides.
#[must_use]
pub(crate) fn literal_value(v: &str) -> bool {
    let t = v.trim();
    if t.len() < 3 {
        return false;
    }
    if t.starts_with('$') || t.starts_with('/') {
        return false;
    }
    !matches!(
        t.to_ascii_lowercase().as_str(),
        "true" | "false" | "none" | "null" | "yes" | "no" | "off" | "on" | "disabled" | "enabled"
    )
}

/// `scheme://user:password@host` with a literal password: byte offset of the password. A
/// variable (`$PW`, `${PW}`, Kubernetes' `$(PW)`) or a placeholder (`<password>`, `changeme`)
/// is not a literal password.
#[must_use]
pub fn url_credentials(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(rel) = s.get(from..).and_then(|r| r.find("://")) {
        let auth_start = from + rel + 3;
        from = auth_start;
        let rest = s.get(auth_start..)?;
        // The authority ends at the path, query or fragment (RFC 3986 3.2), or where the URL
        // does.
        let end = rest
            .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'') || c.is_whitespace())
            .unwrap_or(rest.len());
        let authority = rest.get(..end)?;
        let Some(at) = authority.rfind('@') else {
            continue;
        };
        let userinfo = authority.get(..at)?;
        let Some((_, password)) = userinfo.split_once(':') else {
            continue;
        };
        if password.starts_with('$') || is_placeholder(password) {
            continue;
        }
        return Some(auth_start + userinfo.len() - password.len());
    }
    None
}

/// What kind of credential file a path is, or `None`.
#[must_use]
pub fn secret_path(path: &str) -> Option<&'static str> {
    let p = path.trim_end_matches('/');
    let lower = p.to_ascii_lowercase();
    let comps: Vec<&str> = lower
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let base = *comps.last()?;
    let has = |c: &str| comps.contains(&c);
    let parent = comps
        .len()
        .checked_sub(2)
        .and_then(|i| comps.get(i))
        .copied();
    if base == ".env"
        || (base.starts_with(".env.")
            && ![
                ".example",
                ".sample",
                ".template",
                ".dist",
                ".defaults",
                ".tmpl",
            ]
            .iter()
            .any(|s| base.ends_with(s)))
    {
        return Some("dotenv file");
    }
    if matches!(
        base,
        "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519" | "id_ecdsa_sk" | "id_ed25519_sk"
    ) {
        return Some("SSH private key");
    }
    if has(".ssh") && !(base.ends_with(".pub") || base == "known_hosts" || base == "config") {
        return Some("SSH directory");
    }
    if has(".aws") {
        return Some("AWS credentials");
    }
    if matches!(base, ".netrc" | "_netrc") {
        return Some("netrc credentials");
    }
    if base == ".pypirc" {
        return Some("PyPI credentials (.pypirc)");
    }
    if base == ".git-credentials" {
        return Some("git credentials");
    }
    if base == ".npmrc" {
        return Some("npm configuration that usually holds a token");
    }
    if base == ".pgpass" {
        return Some("PostgreSQL password file");
    }
    if base == ".vault-token" {
        return Some("Vault token");
    }
    if base == "kaggle.json" {
        return Some("Kaggle API key");
    }
    if base == ".boto" {
        return Some("boto credentials");
    }
    if base == "application_default_credentials.json"
        || (base.ends_with(".json") && base.contains("service-account"))
    {
        return Some("Google Cloud credentials");
    }
    if parent == Some(".docker") && base == "config.json" {
        return Some("Docker registry credentials");
    }
    if parent == Some(".kube") && base == "config" || base == "kubeconfig" {
        return Some("kubeconfig");
    }
    if (matches!(base, "token" | "stored_tokens")
        && matches!(parent, Some("huggingface" | ".huggingface")))
        || base == ".huggingface"
    {
        return Some("Hugging Face token");
    }
    let ext = base.rsplit_once('.').map(|(_, e)| e);
    match ext {
        Some("p12" | "pfx" | "jks" | "keystore" | "ppk") => return Some("key store"),
        Some("pem" | "key") => {
            // CA bundles and certificates are public; their names say so.
            let stem = base.rsplit_once('.').map_or(base, |(s, _)| s);
            let public = stem.split(['-', '_', '.']).any(|t| {
                matches!(
                    t,
                    "ca" | "cacert"
                        | "cert"
                        | "certs"
                        | "crt"
                        | "chain"
                        | "fullchain"
                        | "bundle"
                        | "pub"
                        | "public"
                        | "root"
                        | "roots"
                        | "trust"
                        | "certificate"
                )
            });
            if !public {
                return Some("private key");
            }
        }
        _ => {}
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for n in [
            "HF_TOKEN",
            "HUGGING_FACE_HUB_TOKEN",
            "OPENAI_API_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "WANDB_API_KEY",
        ] {
            assert_eq!(secret_name_kind(n), Some(SecretName::Provider), "{n}");
        }
        for n in [
            "DB_PASSWORD",
            "apiKey",
            "MY_SECRET",
            "client_secret",
            "STRIPE_API_KEY",
            "db.password",
            "SECRET_KEY",
            "JWT_SIGNING_KEY",
            "jwtSecret",
            // Where the two older name checks disagreed, these were right:
            "DB_PASS",         // a word of its own
            "SMTP_PW",         //
            "AUTHTOKEN",       // run-together words
            "OPENAIAPIKEY",    //
            "GPG_PASSPHRASE",  // GPG protects it; it is still a passphrase
            "PGP_PRIVATE_KEY", //
            "SSH_KEY",         // key material, not a lookup key
            "FERNET_KEY",      //
            "AWS_KEY",         //
            "hf_token",        // a provider variable in another case is still a token name
        ] {
            assert_eq!(secret_name_kind(n), Some(SecretName::Generic), "{n}");
        }
        for n in [
            "GPG_KEY",
            "HF_TOKEN_PATH",
            "TOKENIZERS_PARALLELISM",
            "PWD",
            "OLDPWD",
            "AWS_ACCESS_KEY_ID",
            "KEYRING_PROVIDER",
            "PYTHON_VERSION",
            "SSH_PUBLIC_KEY",
            "MAX_TOKENS",
            "MAX_TOTAL_TOKENS",
            "SECRET_NAME",
            "PASSWORD_FILE",
            "CACHE_KEY",
            "PARTITION_KEY",
            "TOKEN_URL",
            "MODEL_PATH",
            "BYPASS_CACHE",
            "MONKEY",
            "NEXT_PUBLIC_API_KEY",
        ] {
            assert!(!secret_name(n), "{n}");
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
            "DB_PW",
        ] {
            assert!(has_credential_stem(n.as_bytes()), "{n}");
        }
        for n in ["MODEL_NAME", "OMP_NUM_THREADS", "LOG_LEVEL", "pa", "p", ""] {
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
        assert!(credential_like(g, "hunter2"));
        assert!(!credential_like(g, "Bearer"));
        assert!(!credential_like(g, "vault"));
        assert!(credential_like(g, "Zq81bP0xLmR3"));
        assert!(credential_like(SecretName::Provider, "abc"));
        assert!(!credential_like(SecretName::Provider, "changeme"));
    }

    #[test]
    fn named_literals() {
        use NamedLiteral::{Credential, DefaultPassword};
        let verdict = |n, v| named_literal(n, v);
        // A default password is a finding under any credential name, quoted or not.
        assert_eq!(verdict("DB_PASSWORD", "changeme"), Some(DefaultPassword));
        assert_eq!(verdict("HF_TOKEN", "'admin'"), Some(DefaultPassword));
        assert_eq!(verdict("JWT_SECRET", "Secret"), Some(DefaultPassword));
        assert_eq!(verdict("REDIS_PASS", "123456"), Some(DefaultPassword));
        // Real-looking values, and anything under a provider's variable.
        assert_eq!(
            verdict("API_TOKEN", "s3cr3t-Value-99x"),
            Some(Credential(SecretName::Generic))
        );
        assert_eq!(
            verdict("WANDB_API_KEY", "abc"),
            Some(Credential(SecretName::Provider))
        );
        // References, templates, illustrations, switches, short plain words: nothing.
        for v in [
            "${DB_PASSWORD}",
            "$DB_PASSWORD",
            "$(TOKEN)",
            "{{ .Values.password }}",
            "<your-token>",
            "example",
            "xxxxxxxx",
            "true",
            "3600",
            "/run/secrets/db",
            "api",
            "",
        ] {
            assert_eq!(verdict("DB_PASSWORD", v), None, "{v:?}");
        }
        // Not a credential name: never a finding, whatever the value.
        assert_eq!(verdict("SECRET_NAME", "changeme"), None);
        assert_eq!(verdict("MODEL_NAME", "s3cr3t-Value-99x"), None);
    }

    #[test]
    fn url_creds() {
        assert_eq!(
            url_credentials("--index-url https://user:s3cret@pypi.corp/simple"),
            Some(25)
        );
        assert_eq!(url_credentials("https://user:${PW}@x"), None);
        assert_eq!(url_credentials("https://__token__@x"), None);
        assert_eq!(url_credentials("https://host:8080/x@y"), None);
        assert_eq!(
            url_credentials("postgres://app:S3cr3tPw@db:5432/x"),
            Some(15)
        );
        // A one-letter password and a word like `password` are placeholders; so are
        // Kubernetes' `$(VAR)` and templates.
        assert_eq!(url_credentials("s://u:p@h"), None);
        assert_eq!(url_credentials("s://u:pw1@h"), Some(6));
        assert_eq!(url_credentials("https://user:password@host"), None);
        assert_eq!(url_credentials("postgres://app:$(DB_PASSWORD)@db/x"), None);
        assert_eq!(url_credentials("https://u:<password>@host"), None);
        // The authority ends at a query or fragment: `a:b@c` there is not a password.
        assert_eq!(url_credentials("https://example.com?x=a:b@c"), None);
        assert_eq!(url_credentials("https://example.com/a:b@c"), None);
        // Every URL in a text is looked at, not only the first.
        assert_eq!(url_credentials("http://a,https://u:p4ss@h"), Some(19));
    }

    #[test]
    fn paths() {
        assert_eq!(secret_path(".env"), Some("dotenv file"));
        assert_eq!(secret_path(".env.example"), None);
        assert_eq!(secret_path("~/.aws/credentials"), Some("AWS credentials"));
        assert_eq!(
            secret_path("/root/.ssh/id_ed25519"),
            Some("SSH private key")
        );
        assert_eq!(secret_path("certs/server-key.pem"), Some("private key"));
        assert_eq!(secret_path("certs/ca-bundle.pem"), None);
        assert_eq!(
            secret_path("/root/.cache/huggingface/token"),
            Some("Hugging Face token")
        );
        assert_eq!(secret_path("app/"), None);
    }
}
