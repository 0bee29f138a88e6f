//! Package URLs (<https://github.com/package-url/purl-spec>).

/// Percent-encodes a purl name, namespace or version segment (keeps unreserved characters).
#[must_use]
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `pkg:TYPE/NAMESPACE/NAME@VERSION?k=v&…` with qualifiers sorted by key and empty values
/// dropped, as the spec's canonical form requires.
#[must_use]
pub fn build(
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    version: &str,
    qualifiers: &[(&str, &str)],
) -> String {
    let mut s = format!("pkg:{kind}/");
    if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
        for seg in ns.split('/') {
            s.push_str(&encode(seg));
            s.push('/');
        }
    }
    s.push_str(&encode(name));
    if !version.is_empty() {
        s.push('@');
        s.push_str(&encode(version));
    }
    let mut q: Vec<&(&str, &str)> = qualifiers.iter().filter(|(_, v)| !v.is_empty()).collect();
    q.sort_by_key(|(k, _)| *k);
    for (i, (k, v)) in q.iter().enumerate() {
        s.push(if i == 0 { '?' } else { '&' });
        s.push_str(k);
        s.push('=');
        s.push_str(&encode(v));
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn purls() {
        assert_eq!(
            super::build(
                "deb",
                Some("debian"),
                "libc6",
                "2.36-9+deb12u4",
                &[("distro", "debian-12"), ("arch", "amd64")]
            ),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
        );
        assert_eq!(
            super::build("npm", Some("@types"), "node", "20.1.0", &[]),
            "pkg:npm/%40types/node@20.1.0"
        );
        assert_eq!(
            super::build("golang", Some("github.com/a"), "b", "v1.0.0", &[]),
            "pkg:golang/github.com/a/b@v1.0.0"
        );
    }
}
