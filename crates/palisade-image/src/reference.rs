//! Image references in the skopeo/containers-transports convention:
//! `oci:DIR[:REF]`, `docker-archive:FILE[:REF]`, `dir:ROOTFS`, `docker://NAME` or a plain
//! `registry/repo[:tag][@sha256:…]`.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// Where an image comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageRef {
    /// An OCI image layout directory, optionally a tag (`org.opencontainers.image.ref.name`)
    /// or a manifest digest.
    Oci { dir: PathBuf, tag: Option<String> },
    /// A `docker save` tarball, optionally naming one of its `RepoTags`.
    DockerArchive { file: PathBuf, tag: Option<String> },
    /// An unpacked root filesystem.
    Dir { root: PathBuf },
    /// An image in a registry, pulled with the OCI distribution API.
    Registry(RegistryRef),
}

/// `registry/repository[:tag][@digest]`, normalised as Docker does (`python` →
/// `docker.io/library/python:latest`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryRef {
    /// Host and optional port, as written (`docker.io`, `localhost:5000`).
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl RegistryRef {
    /// What to ask the registry for: the digest when given, else the tag (`latest` by
    /// default).
    #[must_use]
    pub fn reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// The host the API lives on (`docker.io` is served by `registry-1.docker.io`).
    #[must_use]
    pub fn api_host(&self) -> &str {
        if self.registry == "docker.io" {
            "registry-1.docker.io"
        } else {
            &self.registry
        }
    }

    /// Whether the registry is on this machine, where plain HTTP is the norm (as Docker
    /// treats `localhost` and 127.0.0.0/8 as insecure registries by default).
    #[must_use]
    pub fn is_local(&self) -> bool {
        let host = match self.registry.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => self.registry.as_str(),
        };
        host == "localhost" || host.starts_with("127.") || host == "[::1]"
    }
}

impl fmt::Display for RegistryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageRef::Oci { dir, tag } => {
                write!(f, "oci:{}", dir.display())?;
                if let Some(t) = tag {
                    write!(f, ":{t}")?;
                }
                Ok(())
            }
            ImageRef::DockerArchive { file, tag } => {
                write!(f, "docker-archive:{}", file.display())?;
                if let Some(t) = tag {
                    write!(f, ":{t}")?;
                }
                Ok(())
            }
            ImageRef::Dir { root } => write!(f, "dir:{}", root.display()),
            ImageRef::Registry(r) => r.fmt(f),
        }
    }
}

fn err(reference: &str, message: impl Into<String>) -> Error {
    Error::Reference {
        reference: reference.to_string(),
        message: message.into(),
    }
}

/// Splits `PATH[:REF]` the way skopeo does for `oci:`: the part after the last `:` is a
/// reference unless it contains a `/` (then it is part of the path).
fn split_path_ref(s: &str) -> (PathBuf, Option<String>) {
    // A digest reference (`…:sha256:abc`) keeps its own colon.
    if let Some(i) = s.find(":sha256:") {
        return (PathBuf::from(&s[..i]), Some(s[i + 1..].to_string()));
    }
    match s.rsplit_once(':') {
        Some((path, r)) if !r.contains('/') && !path.is_empty() => {
            (PathBuf::from(path), (!r.is_empty()).then(|| r.to_string()))
        }
        _ => (PathBuf::from(s), None),
    }
}

impl ImageRef {
    /// Parses a reference. Transport prefixes decide; anything else is a registry name.
    pub fn parse(s: &str) -> Result<ImageRef> {
        let s = s.trim();
        if s.is_empty() {
            return Err(err(s, "empty reference"));
        }
        if let Some(rest) = s.strip_prefix("oci:") {
            if rest.is_empty() {
                return Err(err(s, "expected oci:DIR[:TAG]"));
            }
            let (dir, tag) = split_path_ref(rest);
            return Ok(ImageRef::Oci { dir, tag });
        }
        if let Some(rest) = s.strip_prefix("docker-archive:") {
            if rest.is_empty() {
                return Err(err(s, "expected docker-archive:FILE[:REPO:TAG]"));
            }
            // `docker-archive:img.tar:repo/name:tag`: the path ends at the first `:` after
            // a `.tar`, when there is one.
            let (file, tag) = match rest.find(".tar:") {
                Some(i) => (
                    PathBuf::from(&rest[..i + 4]),
                    Some(rest[i + 5..].to_string()).filter(|t| !t.is_empty()),
                ),
                None => (PathBuf::from(rest), None),
            };
            return Ok(ImageRef::DockerArchive { file, tag });
        }
        if let Some(rest) = s.strip_prefix("dir:") {
            if rest.is_empty() {
                return Err(err(s, "expected dir:ROOTFS"));
            }
            return Ok(ImageRef::Dir {
                root: PathBuf::from(rest),
            });
        }
        let name = s.strip_prefix("docker://").unwrap_or(s);
        parse_registry(name).map(ImageRef::Registry)
    }
}

/// Parses `[registry/]repo[:tag][@sha256:…]` with Docker's normalisation.
pub fn parse_registry(s: &str) -> Result<RegistryRef> {
    let (name_tag, digest) = match s.split_once('@') {
        Some((n, d)) => {
            crate::digest::parse_sha256(d).map_err(|e| err(s, e.to_string()))?;
            (n, Some(d.to_string()))
        }
        None => (s, None),
    };
    // A tag is after the last `:` that follows the last `/` (a port is before a `/`).
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => (
            &name_tag[..last_slash + i],
            Some(name_tag[last_slash + i + 1..].to_string()),
        ),
        None => (name_tag, None),
    };
    if let Some(t) = &tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
            && !t.starts_with(['.', '-']);
        if !ok {
            return Err(err(
                s,
                format!("invalid tag `{t}`: expected [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}"),
            ));
        }
    }
    let (registry, repository) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => ("docker.io".to_string(), name.to_string()),
    };
    let registry = if registry == "index.docker.io" {
        "docker.io".to_string()
    } else {
        registry
    };
    let repository = if registry == "docker.io" && !repository.contains('/') {
        format!("library/{repository}")
    } else {
        repository
    };
    let valid_repo = !repository.is_empty()
        && repository.split('/').all(|c| {
            !c.is_empty()
                && c.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
        });
    if !valid_repo {
        return Err(err(
            s,
            format!(
                "invalid repository `{repository}`: expected lower-case path components (a-z, 0-9, . _ -)"
            ),
        ));
    }
    let tag = if tag.is_none() && digest.is_none() {
        Some("latest".to_string())
    } else {
        tag
    };
    Ok(RegistryRef {
        registry,
        repository,
        tag,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(s: &str) -> RegistryRef {
        match ImageRef::parse(s).unwrap() {
            ImageRef::Registry(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn registry_names() {
        let r = reg("python:3.9");
        assert_eq!(r.registry, "docker.io");
        assert_eq!(r.repository, "library/python");
        assert_eq!(r.reference(), "3.9");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        let r = reg("localhost:5000/test/img:1");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.reference()),
            ("localhost:5000", "test/img", "1")
        );
        assert!(r.is_local());
        let d = format!("sha256:{}", "a".repeat(64));
        let r = reg(&format!("ghcr.io/org/x@{d}"));
        assert_eq!(r.reference(), d);
        assert_eq!(r.tag, None);
        assert_eq!(
            reg("docker://alpine").to_string(),
            "docker.io/library/alpine:latest"
        );
        assert!(ImageRef::parse("Foo/Bar").is_err());
        assert!(ImageRef::parse("x@sha256:12").is_err());
        assert!(ImageRef::parse("x:-bad").is_err());
    }

    #[test]
    fn transports() {
        assert_eq!(
            ImageRef::parse("oci:/tmp/lay:v1").unwrap(),
            ImageRef::Oci {
                dir: "/tmp/lay".into(),
                tag: Some("v1".into())
            }
        );
        assert_eq!(
            ImageRef::parse("oci:./a/b").unwrap(),
            ImageRef::Oci {
                dir: "./a/b".into(),
                tag: None
            }
        );
        assert_eq!(
            ImageRef::parse("docker-archive:/x/img.tar:repo/n:tag").unwrap(),
            ImageRef::DockerArchive {
                file: "/x/img.tar".into(),
                tag: Some("repo/n:tag".into())
            }
        );
        assert_eq!(
            ImageRef::parse("dir:/r").unwrap(),
            ImageRef::Dir { root: "/r".into() }
        );
        assert!(ImageRef::parse("oci:").is_err());
    }
}
