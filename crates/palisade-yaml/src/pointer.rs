//! JSON Pointer (RFC 6901) construction.

use std::fmt::Write;

/// Escapes one reference token: `~` becomes `~0`, `/` becomes `~1`.
#[must_use]
pub fn escape_token(token: &str) -> std::borrow::Cow<'_, str> {
    // A byte test: pointers are built for every container and finding, and a `char` set
    // pattern costs several times more on keys this short.
    if token.bytes().any(|b| b == b'~' || b == b'/') {
        token.replace('~', "~0").replace('/', "~1").into()
    } else {
        token.into()
    }
}

/// Returns `base` extended with a map key.
#[must_use]
pub fn push_key(base: &str, key: &str) -> String {
    let mut out = String::with_capacity(base.len() + key.len() + 1);
    out.push_str(base);
    append_key(&mut out, key);
    out
}

/// Returns `base` extended with a sequence index.
#[must_use]
pub fn push_index(base: &str, index: usize) -> String {
    let mut out = String::with_capacity(base.len() + 4);
    out.push_str(base);
    append_index(&mut out, index);
    out
}

/// Extends `ptr` in place with a map key (walks that extend, recurse and truncate).
pub fn append_key(ptr: &mut String, key: &str) {
    ptr.push('/');
    ptr.push_str(&escape_token(key));
}

/// Extends `ptr` in place with a sequence index.
pub fn append_index(ptr: &mut String, index: usize) {
    ptr.push('/');
    if index < 10 {
        // Nearly every index is a container, env entry or port number below ten.
        ptr.push(char::from(b'0' + index as u8));
    } else {
        let _ = write!(ptr, "{index}");
    }
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
        assert_eq!(push_index("/spec/containers", 0), "/spec/containers/0");
        assert_eq!(push_index("", 10), "/10");
        assert_eq!(push_index("/x", 1234), "/x/1234");
        assert_eq!(push_key("", "spec"), "/spec");
    }
}
