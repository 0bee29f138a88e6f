//! Secret-looking variable names, literal values, credentials in URLs and credential files
//! by path. They return *where* a secret is and what kind it is, never the value.

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
