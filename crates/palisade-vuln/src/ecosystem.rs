//! OSV ecosystem names (`PyPI`, `Debian:12`, `Alpine:v3.20`, …): which version scheme orders
//! them and how their package names are normalised.

use crate::version::Scheme;

/// The part of an ecosystem name before the first `:` (`Debian` for `Debian:12`).
#[must_use]
pub fn base(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or(ecosystem).trim()
}

/// The version scheme that orders `ECOSYSTEM` ranges of an ecosystem, or `None` when
/// Palisade does not implement it (then only `versions` lists and `SEMVER` ranges are used).
#[must_use]
pub fn scheme(ecosystem: &str) -> Option<Scheme> {
    Some(match base(ecosystem) {
        "PyPI" => Scheme::Pep440,
        "Debian" | "Ubuntu" => Scheme::Dpkg,
        "Alpine" | "Wolfi" | "Chainguard" | "Alpaquita" | "BellSoft Hardened Containers" => {
            Scheme::Apk
        }
        "npm" | "crates.io" | "Go" | "Bitnami" => Scheme::Semver,
        "Red Hat" | "Rocky Linux" | "AlmaLinux" | "SUSE" | "openSUSE" | "Azure Linux"
        | "Mageia" | "openEuler" | "Photon OS" => Scheme::Rpm,
        "Maven" => Scheme::Maven,
        _ => return None,
    })
}

/// Normalises a package name the way the ecosystem's OSV data spells it: PEP 503 for PyPI
/// (`Foo_Bar.baz` → `foo-bar-baz`), lower case for npm and crates.io names compared
/// case-insensitively, as written everywhere else (Debian and Alpine name source packages).
#[must_use]
pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    let name = name.trim();
    match base(ecosystem) {
        "PyPI" => pep503(name),
        "crates.io" => name.to_ascii_lowercase().replace('_', "-"),
        "npm" | "NuGet" | "Packagist" => name.to_ascii_lowercase(),
        _ => name.to_string(),
    }
}

/// PEP 503: lower case, runs of `-`, `_` and `.` become one `-`.
#[must_use]
pub fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The ecosystem an advisory's entry is filed under for matching. Red Hat's OSV records
/// scope a package to a product stream by CPE (`Red Hat:enterprise_linux:9::appstream`,
/// `Red Hat:enterprise_linux:9::baseos`); an image says only `rhel` and `9` in its
/// os-release, so the streams of RHEL's own `enterprise_linux` product for a major release
/// are all `Red Hat:9`, the ecosystem the image catalogers give RHEL and UBI packages. The
/// extended-support products (`rhel_eus`, `rhel_aus`, `rhel_e4s`, …) and layered products
/// keep their names: a plain RHEL image does not get their builds.
#[must_use]
pub fn canonical(ecosystem: &str) -> std::borrow::Cow<'_, str> {
    let eco = ecosystem.trim();
    match red_hat_major(eco) {
        Some(major) => std::borrow::Cow::Owned(format!("Red Hat:{major}")),
        None => std::borrow::Cow::Borrowed(eco),
    }
}

/// The major release of a stream of RHEL's own product (`9` of
/// `Red Hat:enterprise_linux:9::appstream`), or `None` for any other ecosystem.
fn red_hat_major(ecosystem: &str) -> Option<&str> {
    let rest = ecosystem
        .strip_prefix("Red Hat:")?
        .strip_prefix("enterprise_linux:")?;
    let major = rest.split(':').next().unwrap_or_default();
    (!major.is_empty() && major.bytes().all(|b| b.is_ascii_digit())).then_some(major)
}

/// Whether an advisory entry filed under `ecosystem` is filed under one of `lookup` (see
/// [`lookup_names`]), with [`canonical`]'s mapping but without building its string: the
/// matcher asks this for every entry of every candidate advisory.
#[must_use]
pub fn filed_under(ecosystem: &str, lookup: &[&str]) -> bool {
    let eco = ecosystem.trim();
    match red_hat_major(eco) {
        Some(major) => lookup
            .iter()
            .any(|l| l.strip_prefix("Red Hat:") == Some(major)),
        None => lookup.contains(&eco),
    }
}

/// The index key of a package: ecosystem ([`canonical`], suffix included) and normalised
/// name.
#[must_use]
pub fn key(ecosystem: &str, name: &str) -> String {
    // Built by hand: `format!` was two thirds of this function's instructions (callgrind).
    let eco = canonical(ecosystem);
    let eco = eco.as_ref();
    let name = normalize_name(ecosystem, name);
    let mut key = String::with_capacity(eco.len() + 1 + name.len());
    key.push_str(eco);
    key.push('\0');
    key.push_str(&name);
    key
}

/// Ecosystem names to look a package up under: the full name and, for a suffixed one, its
/// base (an advisory for plain `Debian` applies to every Debian release).
#[must_use]
pub fn lookup_names(ecosystem: &str) -> Vec<&str> {
    let full = ecosystem.trim();
    let b = base(full);
    if b == full { vec![full] } else { vec![full, b] }
}

/// The OSV ecosystem of a Debian, Ubuntu or Alpine image from its os-release `ID` and
/// `VERSION_ID`, as osv-scalibr derives it: `Debian:12`, `Alpine:v3.20`, `Ubuntu:22.04`.
#[must_use]
pub fn from_os_release(id: &str, version_id: &str) -> Option<String> {
    let v = version_id.trim().trim_matches('"');
    match id.trim().trim_matches('"') {
        "debian" => Some(format!("Debian:{}", v.split('.').next().unwrap_or(v))),
        "alpine" => {
            let mut parts = v.split('.');
            let (Some(major), Some(minor)) = (parts.next(), parts.next()) else {
                return Some(format!("Alpine:v{v}"));
            };
            Some(format!("Alpine:v{major}.{minor}"))
        }
        "ubuntu" => {
            let lts = v.ends_with(".04")
                && v.split('.')
                    .next()
                    .and_then(|y| y.parse::<u32>().ok())
                    .is_some_and(|y| y % 2 == 0);
            Some(if lts {
                format!("Ubuntu:{v}:LTS")
            } else {
                format!("Ubuntu:{v}")
            })
        }
        "wolfi" => Some("Wolfi".into()),
        "chainguard" => Some("Chainguard".into()),
        "rocky" => Some(format!("Rocky Linux:{}", v.split('.').next().unwrap_or(v))),
        "almalinux" => Some(format!("AlmaLinux:{}", v.split('.').next().unwrap_or(v))),
        "rhel" => Some(format!("Red Hat:{}", v.split('.').next().unwrap_or(v))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ecosystems() {
        assert_eq!(pep503("Foo__Bar.baz"), "foo-bar-baz");
        assert_eq!(pep503("Pillow"), "pillow");
        assert_eq!(normalize_name("PyPI", "scikit_learn"), "scikit-learn");
        assert_eq!(normalize_name("Debian:12", "OpenSSL"), "OpenSSL");
        assert_eq!(base("Ubuntu:22.04:LTS"), "Ubuntu");
        assert_eq!(lookup_names("Debian:12"), vec!["Debian:12", "Debian"]);
        assert_eq!(scheme("Alpine:v3.20"), Some(Scheme::Apk));
        assert_eq!(scheme("Hackage"), None);
        assert_eq!(from_os_release("debian", "12").unwrap(), "Debian:12");
        assert_eq!(from_os_release("alpine", "3.20.3").unwrap(), "Alpine:v3.20");
        assert_eq!(
            from_os_release("ubuntu", "\"22.04\"").unwrap(),
            "Ubuntu:22.04:LTS"
        );
        assert_eq!(from_os_release("rhel", "9.4").unwrap(), "Red Hat:9");
    }

    #[test]
    fn red_hat_streams_of_a_major_release_are_one_ecosystem() {
        for cpe in [
            "Red Hat:enterprise_linux:9::appstream",
            "Red Hat:enterprise_linux:9::baseos",
            "Red Hat:enterprise_linux:9",
        ] {
            assert_eq!(canonical(cpe), "Red Hat:9", "{cpe}");
        }
        assert_eq!(canonical("Red Hat:enterprise_linux:7::server"), "Red Hat:7");
        // Extended-support and layered products keep their names.
        for other in [
            "Red Hat:rhel_eus:9.2::appstream",
            "Red Hat:rhel_aus:8.4::appstream",
            "Red Hat:openshift:4.15::el9",
            "Red Hat:enterprise_linux:9.2::appstream",
            "Debian:12",
        ] {
            assert_eq!(canonical(other), other);
        }
        assert_eq!(
            key("Red Hat:enterprise_linux:9::baseos", "openssl"),
            key("Red Hat:9", "openssl")
        );
        let rhel9 = lookup_names("Red Hat:9");
        assert!(filed_under("Red Hat:enterprise_linux:9::appstream", &rhel9));
        assert!(!filed_under(
            "Red Hat:enterprise_linux:8::appstream",
            &rhel9
        ));
        assert!(!filed_under("Red Hat:rhel_eus:9.2::appstream", &rhel9));
        assert!(filed_under("Debian:12", &lookup_names("Debian:12")));
        assert!(filed_under("Debian", &lookup_names("Debian:12")));
    }
}
