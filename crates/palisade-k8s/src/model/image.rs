//! Container image references, split once per container when the pod spec is decoded.

/// Splits an image reference into (registry, repository, tag, digest) the way the container
/// runtime resolves it: no registry means Docker Hub, no tag and no digest means `latest`.
#[must_use]
pub fn parse_image(image: &str) -> ImageRef<'_> {
    // Byte searches: a dozen rules parse every container's image, and `str` char patterns
    // cost several times more on strings this short.
    let (rest, digest) = match image.bytes().position(|b| b == b'@') {
        Some(i) => (&image[..i], Some(&image[i + 1..])),
        None => (image, None),
    };
    // A tag is after the last ':' that follows the last '/' (a ':' before it is a port).
    let last_slash = rest.bytes().rposition(|b| b == b'/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].bytes().rposition(|b| b == b':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    let (registry, repository) = match name.bytes().position(|b| b == b'/') {
        Some(i)
            if name[..i].bytes().any(|b| b == b'.' || b == b':') || &name[..i] == "localhost" =>
        {
            (&name[..i], &name[i + 1..])
        }
        _ => ("docker.io", name),
    };
    ImageRef {
        registry,
        repository,
        tag,
        digest,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    pub registry: &'a str,
    pub repository: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

impl ImageRef<'_> {
    /// `latest`, or no tag and no digest (which the runtime resolves to `latest`).
    #[must_use]
    pub fn is_mutable_latest(&self) -> bool {
        self.digest.is_none() && matches!(self.tag, None | Some("latest"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references() {
        let r = parse_image("nvcr.io/nvidia/tritonserver:24.08-py3");
        assert_eq!(
            (r.registry, r.repository, r.tag, r.digest),
            ("nvcr.io", "nvidia/tritonserver", Some("24.08-py3"), None)
        );
        let r = parse_image("python");
        assert_eq!(
            (r.registry, r.repository, r.tag),
            ("docker.io", "python", None)
        );
        assert!(r.is_mutable_latest());
        let r = parse_image("localhost:5000/ml/model@sha256:abc");
        assert_eq!(
            (r.registry, r.repository, r.tag, r.digest),
            ("localhost:5000", "ml/model", None, Some("sha256:abc"))
        );
        assert!(!r.is_mutable_latest());
        let r = parse_image("registry.internal:443/team/app:1.2@sha256:def");
        assert_eq!(
            (r.registry, r.tag, r.digest),
            ("registry.internal:443", Some("1.2"), Some("sha256:def"))
        );
    }
}
