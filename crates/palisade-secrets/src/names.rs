//! Secret recognisers: secret-looking variable names, well-known token formats, credentials
//! in URLs and credential files. They return *where* a secret is and what kind it is, never
//! the value, so no finding can leak it.

/// Whether an `ENV`/`ARG` name says it holds a secret (`HF_TOKEN`, `DB_PASSWORD`,
/// `OPENAI_API_KEY`), in the spirit of BuildKit's `SecretsUsedInArgOrEnv` check.
#[must_use]
pub fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if matches!(upper.as_str(), "PWD" | "OLDPWD") {
        return false;
    }
    let parts: Vec<&str> = upper
        .split(['_', '-', '.'])
        .filter(|p| !p.is_empty())
        .collect();
    // Names of files, paths or switches about a secret are not the secret.
    const NOT_THE_SECRET: &[&str] = &[
        "FILE",
        "PATH",
        "DIR",
        "NAME",
        "URL",
        "ID",
        "TYPE",
        "SIZE",
        "LEN",
        "LENGTH",
        "FORMAT",
        "ENABLED",
        "REQUIRED",
        "HEADER",
        "ENV",
        "VAR",
        "MOUNT",
        "LOCATION",
        "ALGORITHM",
        "FINGERPRINT",
        "KEYRING",
        "EXPIRY",
        "TTL",
    ];
    if parts.last().is_some_and(|l| NOT_THE_SECRET.contains(l)) {
        return false;
    }
    // `GPG_KEY` in the official python images is a public key fingerprint.
    if parts
        .iter()
        .any(|p| matches!(*p, "PUBLIC" | "PUB" | "GPG" | "PGP"))
    {
        return false;
    }
    const SECRET_WORDS: &[&str] = &[
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "PASSPHRASE",
        "SECRET",
        "KEY",
        "APIKEY",
        "CREDENTIAL",
        "CREDENTIALS",
    ];
    parts
        .iter()
        .any(|p| *p == "PASS" || *p == "PW" || SECRET_WORDS.iter().any(|w| p.ends_with(w)))
}

/// Whether a value is a literal (not a variable reference, a placeholder switch or a path).
#[must_use]
pub fn literal_value(v: &str) -> bool {
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

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Count of bytes from `i` that satisfy `f`.
fn run_len(b: &[u8], i: usize, f: impl Fn(u8) -> bool) -> usize {
    b.get(i..)
        .map_or(0, |r| r.iter().take_while(|&&c| f(c)).count())
}

/// The first well-known token in `s`: (byte offset, kind).
#[must_use]
pub fn find_token(s: &str) -> Option<(usize, &'static str)> {
    let b = s.as_bytes();
    let boundary_before =
        |i: usize| i == 0 || b.get(i - 1).is_none_or(|&c| !is_alnum(c) && c != b'_');
    for (i, &c) in b.iter().enumerate() {
        // Only these bytes start a token format; skip the rest cheaply.
        if !matches!(c, b'h' | b's' | b'A' | b'g' | b'x' | b'-') {
            continue;
        }
        let rest = b.get(i..).unwrap_or(&[]);
        let found = if rest.starts_with(b"hf_") && boundary_before(i) {
            (run_len(b, i + 3, is_alnum) >= 30).then_some("Hugging Face token")
        } else if rest.starts_with(b"sk-") && boundary_before(i) {
            let n = run_len(b, i + 3, |c| is_alnum(c) || c == b'-' || c == b'_');
            (n >= 20).then_some(if rest.starts_with(b"sk-ant-") {
                "Anthropic API key"
            } else {
                "OpenAI-style API key (sk-…)"
            })
        } else if (rest.starts_with(b"AKIA") || rest.starts_with(b"ASIA")) && boundary_before(i) {
            let n = run_len(b, i + 4, |c| c.is_ascii_uppercase() || c.is_ascii_digit());
            (n == 16).then_some("AWS access key ID")
        } else if (rest.starts_with(b"ghp_")
            || rest.starts_with(b"gho_")
            || rest.starts_with(b"ghu_")
            || rest.starts_with(b"ghs_")
            || rest.starts_with(b"ghr_"))
            && boundary_before(i)
        {
            (run_len(b, i + 4, is_alnum) >= 36).then_some("GitHub token")
        } else if rest.starts_with(b"github_pat_") && boundary_before(i) {
            (run_len(b, i + 11, |c| is_alnum(c) || c == b'_') >= 22).then_some("GitHub token")
        } else if rest.starts_with(b"glpat-") && boundary_before(i) {
            (run_len(b, i + 6, |c| is_alnum(c) || c == b'-' || c == b'_') >= 20)
                .then_some("GitLab token")
        } else if rest.starts_with(b"xox") && boundary_before(i) {
            let kind = rest.get(3).copied();
            (matches!(kind, Some(b'b' | b'p' | b'a' | b'r' | b's'))
                && rest.get(4) == Some(&b'-')
                && run_len(b, i + 5, |c| is_alnum(c) || c == b'-') >= 10)
                .then_some("Slack token")
        } else if rest.starts_with(b"AIza") && boundary_before(i) {
            (run_len(b, i + 4, |c| is_alnum(c) || c == b'-' || c == b'_') >= 35)
                .then_some("Google API key")
        } else if rest.starts_with(b"-----BEGIN ") {
            let line_end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            rest.get(..line_end)
                .is_some_and(|l| l.windows(16).any(|w| w == b"PRIVATE KEY-----"))
                .then_some("private key")
        } else {
            None
        };
        if let Some(kind) = found {
            return Some((i, kind));
        }
    }
    None
}

/// `scheme://user:password@host` with a literal password: byte offset of the password.
#[must_use]
pub fn url_credentials(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(rel) = s.get(from..).and_then(|r| r.find("://")) {
        let auth_start = from + rel + 3;
        from = auth_start;
        let rest = s.get(auth_start..)?;
        let end = rest
            .find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(rest.len());
        let authority = rest.get(..end)?;
        let Some(at) = authority.rfind('@') else {
            continue;
        };
        let userinfo = authority.get(..at)?;
        let Some((_, password)) = userinfo.split_once(':') else {
            continue;
        };
        if password.is_empty() || password.starts_with('$') || password.contains("${") {
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
            "DB_PASSWORD",
            "AWS_SECRET_ACCESS_KEY",
            "WANDB_API_KEY",
            "apiKey",
            "MY_SECRET",
        ] {
            assert!(secret_name(n), "{n}");
        }
        for n in [
            "GPG_KEY",
            "HF_TOKEN_PATH",
            "TOKENIZERS_PARALLELISM",
            "PWD",
            "AWS_ACCESS_KEY_ID",
            "KEYRING_PROVIDER",
            "PYTHON_VERSION",
            "SSH_PUBLIC_KEY",
        ] {
            assert!(!secret_name(n), "{n}");
        }
    }

    #[test]
    fn tokens() {
        let hf = format!("x hf_{}", "a1B2".repeat(9));
        assert_eq!(find_token(&hf), Some((2, "Hugging Face token")));
        assert!(find_token("hf_transfer").is_none());
        assert_eq!(
            find_token("AKIAIOSFODNN7EXAMPLE").map(|t| t.1),
            Some("AWS access key ID")
        );
        assert!(find_token("task-manager").is_none());
        assert_eq!(
            find_token(&format!("sk-proj-{}", "x".repeat(40))).map(|t| t.1),
            Some("OpenAI-style API key (sk-…)")
        );
        assert_eq!(
            find_token("-----BEGIN OPENSSH PRIVATE KEY-----\n").map(|t| t.1),
            Some("private key")
        );
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
