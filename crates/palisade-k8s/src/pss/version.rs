use std::fmt;

/// The newest version any check defines; newer requests are clamped to it, as upstream does.
pub const LATEST_MINOR: u32 = 37;

/// A Pod Security Standards version: `latest` or `v1.N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Version {
    minor: Option<u32>,
}

impl Version {
    pub const LATEST: Version = Version { minor: None };

    #[must_use]
    pub fn v1(minor: u32) -> Version {
        Version { minor: Some(minor) }
    }

    /// The minor version used for evaluation (`latest` and newer versions clamp to v1.37).
    #[must_use]
    pub fn minor(self) -> u32 {
        self.minor.map_or(LATEST_MINOR, |m| m.min(LATEST_MINOR))
    }

    /// Parses `latest`, `v1.N` or `1.N`.
    pub fn parse(s: &str) -> Result<Version, String> {
        let normalized = palisade_policy::normalize_kubernetes_version(s)?;
        if normalized == "latest" {
            return Ok(Version::LATEST);
        }
        let minor = normalized
            .strip_prefix("v1.")
            .and_then(|m| m.parse().ok())
            .ok_or_else(|| format!("invalid Kubernetes version `{s}`"))?;
        Ok(Version::v1(minor))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.minor {
            None => f.write_str("latest"),
            Some(m) => write!(f, "v1.{m}"),
        }
    }
}
