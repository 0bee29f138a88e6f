//! JSON Pointer (RFC 6901) construction.

use std::fmt::Write;

/// Escapes one reference token: `~` becomes `~0`, `/` becomes `~1`.
#[must_use]
pub fn escape_token(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1").into()
    } else {
        token.into()
    }
}

/// Returns `base` extended with a map key.
#[must_use]
pub fn push_key(base: &str, key: &str) -> String {
    let key = escape_token(key);
    let mut out = String::with_capacity(base.len() + key.len() + 1);
    out.push_str(base);
    out.push('/');
    out.push_str(&key);
    out
}

/// Returns `base` extended with a sequence index.
#[must_use]
pub fn push_index(base: &str, index: usize) -> String {
    let mut out = String::with_capacity(base.len() + 4);
    out.push_str(base);
    let _ = write!(out, "/{index}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_per_rfc_6901() {
        assert_eq!(
            push_key("/metadata/annotations", "a/b~c"),
            "/metadata/annotations/a~1b~0c"
        );
        assert_eq!(push_index("/spec/containers", 3), "/spec/containers/3");
        assert_eq!(push_key("", "spec"), "/spec");
    }
}
