//! Version schemes. Each scheme parses a version string into a value with a total order and
//! rejects what its ecosystem's own tool rejects: an invalid version is reported, never
//! guessed at.
//!
//! | scheme | used by | proven against |
//! |---|---|---|
//! | [`Scheme::Pep440`] | PyPI | pypa/packaging's test versions, pairs, invalid and normalised forms |
//! | [`Scheme::Dpkg`] | Debian, Ubuntu | dpkg's own tests and 1,500 pairs answered by `dpkg --compare-versions` |
//! | [`Scheme::Apk`] | Alpine, Wolfi, Chainguard | apk-tools' `version.data` |
//! | [`Scheme::Semver`] | npm, crates.io, Go (with `v` and pseudo-versions), OSV `SEMVER` ranges | the SemVer 2.0.0 spec and node-semver fixtures |
//! | [`Scheme::Rpm`] | Red Hat, Rocky, AlmaLinux, SUSE, openSUSE, Azure Linux | rpm's `rpmvercmp` test cases |
//! | [`Scheme::Maven`] | Maven | maven-artifact 3.8's `ComparableVersion` (its own test cases and generated pairs) |

use std::cmp::Ordering;
use std::fmt;

pub mod apk;
pub mod dpkg;
pub mod maven;
pub mod pep440;
pub mod rpm;
pub mod semver;

/// A way of ordering versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    Pep440,
    Dpkg,
    Apk,
    Semver,
    Rpm,
    Maven,
}

impl Scheme {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Pep440 => "PEP 440",
            Scheme::Dpkg => "dpkg",
            Scheme::Apk => "apk",
            Scheme::Semver => "SemVer 2",
            Scheme::Rpm => "RPM",
            Scheme::Maven => "Maven",
        }
    }

    /// Parses `text` under this scheme.
    pub fn parse(self, text: &str) -> Result<Version, VersionError> {
        let invalid = |reason: String| VersionError {
            scheme: self,
            version: text.to_string(),
            reason,
        };
        Ok(match self {
            Scheme::Pep440 => Version::Pep440(pep440::Version::parse(text).map_err(invalid)?),
            Scheme::Dpkg => Version::Dpkg(dpkg::Version::parse(text).map_err(invalid)?),
            Scheme::Apk => Version::Apk(apk::Version::parse(text).map_err(invalid)?),
            Scheme::Semver => Version::Semver(semver::Version::parse(text).map_err(invalid)?),
            Scheme::Rpm => Version::Rpm(rpm::Version::parse(text).map_err(invalid)?),
            Scheme::Maven => Version::Maven(maven::Version::parse(text).map_err(invalid)?),
        })
    }

    /// Compares two version strings under this scheme.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        let a = self.parse(a)?;
        let b = self.parse(b)?;
        Ok(a.cmp_same(&b))
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A version string that its scheme rejects.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid {scheme} version `{version}`: {reason}")]
pub struct VersionError {
    pub scheme: Scheme,
    pub version: String,
    pub reason: String,
}

/// A parsed version of some scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Version {
    Pep440(pep440::Version),
    Dpkg(dpkg::Version),
    Apk(apk::Version),
    Semver(semver::Version),
    Rpm(rpm::Version),
    Maven(maven::Version),
}

impl Version {
    #[must_use]
    pub fn scheme(&self) -> Scheme {
        match self {
            Version::Pep440(_) => Scheme::Pep440,
            Version::Dpkg(_) => Scheme::Dpkg,
            Version::Apk(_) => Scheme::Apk,
            Version::Semver(_) => Scheme::Semver,
            Version::Rpm(_) => Scheme::Rpm,
            Version::Maven(_) => Scheme::Maven,
        }
    }

    /// Orders two versions of the same scheme. Versions of different schemes never meet in
    /// practice (a range has one scheme); they are ordered by scheme so the order stays total.
    #[must_use]
    pub fn cmp_same(&self, other: &Version) -> Ordering {
        match (self, other) {
            (Version::Pep440(a), Version::Pep440(b)) => a.cmp(b),
            (Version::Dpkg(a), Version::Dpkg(b)) => a.cmp(b),
            (Version::Apk(a), Version::Apk(b)) => a.cmp(b),
            (Version::Semver(a), Version::Semver(b)) => a.cmp(b),
            (Version::Rpm(a), Version::Rpm(b)) => a.cmp(b),
            (Version::Maven(a), Version::Maven(b)) => a.cmp(b),
            _ => self.scheme().cmp(&other.scheme()),
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_same(other)
    }
}

/// Compares two runs of ASCII digits as unbounded numbers (leading zeros ignored).
#[must_use]
pub fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// A non-negative integer of any size. Numbers that fit in a `u64` (every version component
/// in practice) are kept as one, so that parsing a version does not allocate per component;
/// longer ones keep their digits without leading zeros.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Num(Repr);

/// `Small` exactly when the digits without leading zeros are at most 19 ASCII digits, so
/// equal numbers have equal representations.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Repr {
    Small(u64),
    Big(Box<str>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Small(0)
    }
}

impl Num {
    #[must_use]
    pub fn new(digits: &str) -> Num {
        let d = digits.trim_start_matches('0');
        if d.len() <= 19 && d.bytes().all(|b| b.is_ascii_digit()) {
            // At most 19 digits always fit in a u64.
            Num(Repr::Small(
                d.bytes().fold(0u64, |n, b| n * 10 + u64::from(b - b'0')),
            ))
        } else {
            Num(Repr::Big(d.into()))
        }
    }
    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.0 == Repr::Small(0)
    }
    fn digits(&self) -> std::borrow::Cow<'_, str> {
        match &self.0 {
            Repr::Small(0) => "".into(),
            Repr::Small(n) => n.to_string().into(),
            Repr::Big(d) => (&**d).into(),
        }
    }
}

impl Ord for Num {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.0, &other.0) {
            (Repr::Small(a), Repr::Small(b)) => a.cmp(b),
            _ => cmp_digits(&self.digits(), &other.digits()),
        }
    }
}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Small(n) => write!(f, "{n}"),
            Repr::Big(d) if d.is_empty() => f.write_str("0"),
            Repr::Big(d) => f.write_str(d),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_order_as_their_digits_do() {
        let cases = [
            "0",
            "",
            "007",
            "7",
            "18446744073709551615",
            "18446744073709551616",
            "9999999999999999999",
            "10000000000000000000",
            "0000000000000000000000012",
            "123456789012345678901234567890",
        ];
        for a in cases {
            for b in cases {
                assert_eq!(Num::new(a).cmp(&Num::new(b)), cmp_digits(a, b), "{a} {b}");
                assert_eq!(
                    Num::new(a) == Num::new(b),
                    cmp_digits(a, b).is_eq(),
                    "{a} {b}"
                );
            }
            let shown = Num::new(a).to_string();
            let expected = a.trim_start_matches('0');
            assert_eq!(shown, if expected.is_empty() { "0" } else { expected });
        }
        assert!(Num::new("000").is_zero() && Num::default().is_zero());
    }
}
