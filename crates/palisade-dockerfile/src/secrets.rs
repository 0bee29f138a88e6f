//! Secret recognisers: the shared detector of `palisade-secrets` (token formats, names,
//! URL credentials, credential files by path), re-exported where the Dockerfile rules have
//! always found them.

pub use palisade_secrets::{
    NamedLiteral, URL_PASSWORD, find_credential, named_literal, secret_name, secret_path,
    with_article,
};
