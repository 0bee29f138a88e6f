//! SemVer 2.0.0 versions (npm, crates.io, Go modules, OSV `SEMVER` ranges). Precedence ignores
//! build metadata. A leading `v` (Go, and node-semver's strict parser) is accepted; Go
//! pseudo-versions (`v0.0.0-20210101000000-abcdef123456`) are pre-releases and order as such.

use std::cmp::Ordering;
use std::fmt;

use super::Num;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ident {
    Num(Num),
    Alnum(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    pub major: Num,
    pub minor: Num,
    pub patch: Num,
    pub pre: Vec<Ident>,
    pub build: Vec<String>,
}

/// node-semver's limits: versions longer than this are rejected…
const MAX_LENGTH: usize = 256;
/// …and so are numeric parts above `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;

fn numeric(part: &str, what: &str) -> Result<Num, String> {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} `{part}` is not a number"));
    }
    if part.len() > 1 && part.starts_with('0') {
        return Err(format!("{what} `{part}` has a leading zero"));
    }
    if part.len() > 16 || part.parse::<u64>().map_or(true, |n| n > MAX_SAFE_INTEGER) {
        return Err(format!("{what} `{part}` is too big"));
    }
    Ok(Num::new(part))
}

fn ident_ok(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl Version {
    pub fn parse(text: &str) -> Result<Version, String> {
        let s = text.trim();
        if s.len() > MAX_LENGTH {
            return Err(format!("longer than {MAX_LENGTH} characters"));
        }
        let s = s.strip_prefix('v').unwrap_or(s);
        let (rest, build) = match s.split_once('+') {
            Some((r, b)) => (r, Some(b)),
            None => (s, None),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (rest, None),
        };
        let mut parts = core.split('.');
        let (Some(ma), Some(mi), Some(pa), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("expected MAJOR.MINOR.PATCH[-prerelease][+build]".into());
        };
        let major = numeric(ma, "major version")?;
        let minor = numeric(mi, "minor version")?;
        let patch = numeric(pa, "patch version")?;
        let mut pre_ids = Vec::new();
        if let Some(pre) = pre {
            for id in pre.split('.') {
                if !ident_ok(id) {
                    return Err(format!("invalid pre-release identifier `{id}`"));
                }
                if id.bytes().all(|b| b.is_ascii_digit()) {
                    if id.len() > 1 && id.starts_with('0') {
                        return Err(format!("pre-release identifier `{id}` has a leading zero"));
                    }
                    pre_ids.push(Ident::Num(Num::new(id)));
                } else {
                    pre_ids.push(Ident::Alnum(id.to_string()));
                }
            }
        }
        let mut build_ids = Vec::new();
        if let Some(build) = build {
            for id in build.split('.') {
                if !ident_ok(id) {
                    return Err(format!("invalid build identifier `{id}`"));
                }
                build_ids.push(id.to_string());
            }
        }
        Ok(Version {
            major,
            minor,
            patch,
            pre: pre_ids,
            build: build_ids,
        })
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.major
            .cmp(&other.major)
            .then_with(|| self.minor.cmp(&other.minor))
            .then_with(|| self.patch.cmp(&other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.pre.iter().zip(&other.pre) {
                        let o = match (a, b) {
                            (Ident::Num(a), Ident::Num(b)) => a.cmp(b),
                            (Ident::Alnum(a), Ident::Alnum(b)) => a.cmp(b),
                            (Ident::Num(_), Ident::Alnum(_)) => Ordering::Less,
                            (Ident::Alnum(_), Ident::Num(_)) => Ordering::Greater,
                        };
                        if o != Ordering::Equal {
                            return o;
                        }
                    }
                    self.pre.len().cmp(&other.pre.len())
                }
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, id) in self.pre.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            match id {
                Ident::Num(n) => write!(f, "{n}")?,
                Ident::Alnum(s) => f.write_str(s)?,
            }
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build.join("."))?;
        }
        Ok(())
    }
}
