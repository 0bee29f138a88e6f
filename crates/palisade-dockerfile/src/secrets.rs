//! Secret recognisers: the shared detector of `palisade-secrets` (token formats, names,
//! URL credentials, credential files by path), re-exported where the Dockerfile rules have
//! always found them.

pub use palisade_secrets::{find_token, literal_value, secret_name, secret_path, url_credentials};
