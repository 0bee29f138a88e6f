//! Credential recognisers shared by Palisade's scanners, so a Dockerfile, an image config, a
//! file in an image layer and a Kubernetes manifest are judged by one detector.
//!
//! - [`scan`] finds credentials by their format anywhere in a text: private keys (with a
//!   body), AWS access key IDs and secret access keys, Google Cloud service-account keys and
//!   API keys, Azure storage account keys and client secrets, Hugging Face, OpenAI-style,
//!   Anthropic, GitHub, GitLab, Slack, Stripe, PyPI and npm tokens. Documented samples and
//!   placeholder runs are marked [`Secret::placeholder`].
//! - [`scan_file`] adds what a credential file's own format reveals (`.netrc`, `.pypirc`,
//!   Docker `config.json` auths, `.env`, `.git-credentials`, `.npmrc`).
//! - [`find_credential`]: the one verdict on a short value (an env value, an argument, a
//!   ConfigMap entry): a working credential by format, or a URL with a literal password.
//! - [`named_literal`]: the one verdict on a literal under a name (an env var, a ConfigMap
//!   key, a Dockerfile `ENV`/`ARG`, an image config's `Env`): a real-looking credential, a
//!   well-known default password, or nothing (references, templates, placeholders).
//! - [`names`]: secret-looking variable names ([`secret_name_kind`]), whether a value under
//!   one looks like a real credential ([`credential_like`]), placeholders, URL credentials
//!   and credential files by path.
//!
//! Nothing returns a secret's value: callers get its position and kind, and [`redact`] for a
//! hint that gives nothing away.

mod detect;
mod files;
pub mod names;

pub use detect::{
    Secret, URL_PASSWORD, find_credential, find_credentials, redact, scan, with_article,
};
pub use files::{CredentialFile, scan_file};
pub use names::{
    NamedLiteral, SecretName, credential_like, is_placeholder, named_literal, secret_name,
    secret_name_kind, secret_path, url_credentials,
};

/// 1-based line and column of byte offset `at` in `text`.
#[must_use]
pub fn line_col(text: &[u8], at: usize) -> (u32, u32) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}
