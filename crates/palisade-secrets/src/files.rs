//! Credentials that only a file's format reveals: passwords in `.netrc` and `.pypirc`,
//! `auths` in a Docker `config.json`, literal secrets in `.env` files, credentials in
//! `.git-credentials` URLs and npm tokens in `.npmrc`. [`scan_file`] adds these to the
//! format-based finds of [`crate::scan`].

use crate::detect::{Secret, scan};
use crate::names::{literal_value, named_literal, url_credentials};

/// The credential-file formats [`scan_file`] parses, by path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialFile {
    Netrc,
    Pypirc,
    DockerConfig,
    Dotenv,
    GitCredentials,
    Npmrc,
}

impl CredentialFile {
    /// The format of the file at `path` (any absolute or relative form), if it is one.
    #[must_use]
    pub fn of(path: &str) -> Option<CredentialFile> {
        let lower = path.to_ascii_lowercase();
        let mut comps = lower.rsplit('/');
        let base = comps.next().unwrap_or("");
        let parent = comps.next().unwrap_or("");
        match base {
            ".netrc" | "_netrc" => Some(CredentialFile::Netrc),
            ".pypirc" => Some(CredentialFile::Pypirc),
            ".git-credentials" => Some(CredentialFile::GitCredentials),
            ".npmrc" | "npmrc" => Some(CredentialFile::Npmrc),
            "config.json" if parent == ".docker" => Some(CredentialFile::DockerConfig),
            "auth.json" if parent == "containers" => Some(CredentialFile::DockerConfig),
            _ if crate::names::secret_path(&lower) == Some("dotenv file") => {
                Some(CredentialFile::Dotenv)
            }
            _ => None,
        }
    }
}

/// Byte offset of `line` (a sub-slice of `text`) in `text`.
fn offset_in(text: &str, part: &str) -> usize {
    part.as_ptr() as usize - text.as_ptr() as usize
}

fn secret(text: &str, value: &str, kind: &'static str) -> Secret {
    let start = offset_in(text, value);
    Secret {
        start,
        end: start + value.len(),
        kind,
        placeholder: false,
    }
}

fn unquote(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

fn netrc(text: &str, out: &mut Vec<Secret>) {
    // Tokens separated by white space; `password VALUE` anywhere (machine lines may be
    // split over several lines).
    let mut words = text
        .split(|c: char| c.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    while let Some(w) = words.next() {
        if (w == "password" || w == "passwd")
            && let Some(v) = words.next()
            && literal_value(v)
        {
            out.push(secret(text, v, "password in a .netrc file"));
        }
    }
}

fn ini_passwords(text: &str, out: &mut Vec<Secret>, kind: &'static str) {
    for line in text.lines() {
        let l = line.trim_start();
        if l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        let Some((k, v)) = l.split_once(['=', ':']) else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case("password") {
            let v = unquote(v);
            if literal_value(v) {
                out.push(secret(text, v, kind));
            }
        }
    }
}

fn dotenv(text: &str, out: &mut Vec<Secret>) {
    for line in text.lines() {
        let l = line.trim_start();
        let l = l.strip_prefix("export ").unwrap_or(l);
        if l.starts_with('#') {
            continue;
        }
        let Some((k, v)) = l.split_once('=') else {
            continue;
        };
        let v = unquote(v.split(" #").next().unwrap_or(v));
        // The verdict a container's env var or an image's `ENV` gets.
        if named_literal(k.trim(), v).is_some() {
            out.push(secret(text, v, "literal secret in a .env file"));
        }
    }
}

fn docker_config(text: &str, out: &mut Vec<Secret>) {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    let Some(auths) = v.get("auths").and_then(|a| a.as_object()) else {
        return;
    };
    for entry in auths.values() {
        for key in ["auth", "password", "identitytoken", "registrytoken"] {
            let Some(val) = entry.get(key).and_then(|a| a.as_str()) else {
                continue;
            };
            if val.is_empty() {
                continue;
            }
            // Point at the value in the text (JSON strings of credentials need no escapes).
            if let Some(p) = text.find(&format!("\"{val}\"")) {
                out.push(Secret {
                    start: p + 1,
                    end: p + 1 + val.len(),
                    kind: "registry credential in a Docker config.json",
                    placeholder: false,
                });
            }
        }
    }
}

fn git_credentials(text: &str, out: &mut Vec<Secret>) {
    for line in text.lines() {
        if let Some(p) = url_credentials(line) {
            let rest = &line[p..];
            let end = rest.find('@').unwrap_or(rest.len());
            out.push(secret(
                text,
                &rest[..end],
                "password in a .git-credentials URL",
            ));
        }
    }
}

fn npmrc(text: &str, out: &mut Vec<Secret>) {
    for line in text.lines() {
        let l = line.trim_start();
        let Some((k, v)) = l.split_once('=') else {
            continue;
        };
        let k = k.trim();
        if (k.ends_with("_authToken") || k.ends_with("_auth") || k.ends_with("_password"))
            && literal_value(unquote(v))
            && !v.contains("${")
        {
            out.push(secret(text, unquote(v), "token in an .npmrc file"));
        }
    }
}

/// Every credential in the file `path` with content `text`: the token formats of
/// [`crate::scan`] anywhere, plus what the file's own format says is a credential. At most
/// `max`, in text order; overlapping finds are kept once.
#[must_use]
pub fn scan_file(path: &str, text: &[u8], max: usize) -> Vec<Secret> {
    let mut out = scan(text, max);
    let Some(format) = CredentialFile::of(path) else {
        return out;
    };
    let Ok(s) = std::str::from_utf8(text) else {
        return out;
    };
    let mut more = Vec::new();
    match format {
        CredentialFile::Netrc => netrc(s, &mut more),
        CredentialFile::Pypirc => ini_passwords(s, &mut more, "password in a .pypirc file"),
        CredentialFile::DockerConfig => docker_config(s, &mut more),
        CredentialFile::Dotenv => dotenv(s, &mut more),
        CredentialFile::GitCredentials => git_credentials(s, &mut more),
        CredentialFile::Npmrc => npmrc(s, &mut more),
    }
    for m in more {
        if !out.iter().any(|o| m.start < o.end && o.start < m.end) {
            out.push(m);
        }
    }
    out.sort_by_key(|s| s.start);
    out.truncate(max);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(path: &str, text: &str) -> Vec<(&'static str, String)> {
        scan_file(path, text.as_bytes(), 50)
            .into_iter()
            .map(|s| (s.kind, text[s.start..s.end].to_string()))
            .collect()
    }

    #[test]
    fn netrc_and_pypirc() {
        assert_eq!(
            kinds(
                "/root/.netrc",
                "machine api.wandb.ai\n  login user\n  password s3cr3tValue\n"
            ),
            vec![("password in a .netrc file", "s3cr3tValue".into())]
        );
        assert!(kinds("/root/.netrc", "machine x login y\n").is_empty());
        assert_eq!(
            kinds(
                "home/app/.pypirc",
                "[distutils]\nindex-servers = corp\n[corp]\nrepository = https://pypi.corp\nusername = ci\npassword = hunter2x\n"
            ),
            vec![("password in a .pypirc file", "hunter2x".into())]
        );
    }

    #[test]
    fn docker_config_auths() {
        let text = r#"{"auths": {"registry.corp": {"auth": "Y2k6aHVudGVyMg=="}, "ghcr.io": {}}, "credsStore": "desktop"}"#;
        assert_eq!(
            kinds("root/.docker/config.json", text),
            vec![(
                "registry credential in a Docker config.json",
                "Y2k6aHVudGVyMg==".into()
            )]
        );
        assert!(kinds("root/.docker/config.json", r#"{"credsStore": "desktop"}"#).is_empty());
        assert!(
            kinds("app/config.json", text).is_empty(),
            "only Docker's config"
        );
    }

    #[test]
    fn dotenv_files() {
        let text = "# settings\nDEBUG=false\nexport DB_PASSWORD=\"p4ssw0rd!\"\nHF_TOKEN_FILE=/run/secrets/hf\nAPI_KEY=${API_KEY}\nWANDB_API_KEY=abcdef0123456789\n";
        assert_eq!(
            kinds("app/.env", text),
            vec![
                ("literal secret in a .env file", "p4ssw0rd!".into()),
                ("literal secret in a .env file", "abcdef0123456789".into())
            ]
        );
        assert!(kinds("app/.env.example", text).is_empty());
    }

    #[test]
    fn git_credentials_and_npmrc() {
        assert_eq!(
            kinds("root/.git-credentials", "https://ci:gh0stW0rd@github.com\n"),
            vec![("password in a .git-credentials URL", "gh0stW0rd".into())]
        );
        assert_eq!(
            kinds(
                "app/.npmrc",
                "registry=https://npm.corp/\n//npm.corp/:_authToken=abcd1234efgh\n"
            ),
            vec![("token in an .npmrc file", "abcd1234efgh".into())]
        );
        assert!(kinds("app/.npmrc", "//npm.corp/:_authToken=${NPM_TOKEN}\n").is_empty());
    }
}
