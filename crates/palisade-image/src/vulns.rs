//! The image's packages as `palisade-vuln` packages: what `palisade scan image` matches
//! against the vulnerability database and what `palisade sbom --db` lists vulnerabilities of.
//!
//! The catalogers already carry the OSV ecosystem derived from the image's os-release
//! (`Debian:12`, `Alpine:v3.20`, `Ubuntu:22.04:LTS`) and the source package of OS packages
//! (dpkg `Source:`, apk origin), which is what Debian, Ubuntu and Alpine advisories name.

use crate::catalog::{Package, PackageType};
use crate::scan::ImageScan;

/// Whether a cataloged package can be matched: it has an OSV ecosystem and a version a
/// package manager installed (Go's `(devel)` main module has none). A Java archive known
/// only by its file name has no groupId, and OSV names Maven packages `group:artifact`:
/// it stays in the inventory and the SBOM but is not matched (Trivy drops such jars when
/// its Java index cannot supply the groupId).
#[must_use]
pub fn matchable(p: &Package) -> bool {
    let devel_build = p.kind == PackageType::Go && p.version == "(devel)";
    let no_group = p.kind == PackageType::Jar && !p.name.contains(':');
    !(p.ecosystem.is_empty() || p.version.is_empty() || devel_build || no_group)
}

/// One package for the matcher. `file` is the image reference; `layer` is
/// `<layer digest>/<path of the metadata file>`, as model findings in images name theirs.
#[must_use]
pub fn to_vuln_package(reference: &str, p: &Package) -> palisade_vuln::Package {
    palisade_vuln::Package {
        ecosystem: p.ecosystem.clone(),
        name: p.name.clone(),
        version: p.version.clone(),
        source_name: p.source_name.clone(),
        source_version: p.source_version.clone(),
        purl: Some(p.purl.clone()).filter(|s| !s.is_empty()),
        file: reference.to_string(),
        layer: Some(if p.layer.is_empty() {
            p.path.clone()
        } else {
            format!("{}/{}", p.layer, p.path)
        }),
        line: 0,
    }
}

/// Every matchable package of a scanned image.
#[must_use]
pub fn vuln_packages(scan: &ImageScan) -> Vec<palisade_vuln::Package> {
    scan.inventory
        .packages
        .iter()
        .filter(|p| matchable(p))
        .map(|p| to_vuln_package(&scan.reference, p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(kind: PackageType, eco: &str, name: &str, version: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            kind,
            source_name: None,
            source_version: None,
            ecosystem: eco.into(),
            purl: format!("pkg:x/{name}@{version}"),
            license: None,
            arch: None,
            layer: "sha256:aa".into(),
            path: "var/lib/dpkg/status".into(),
            found_by: None,
        }
    }

    #[test]
    fn conda_and_devel_builds_are_not_matched_and_locations_name_layer_and_path() {
        assert!(!matchable(&pkg(PackageType::Conda, "", "numpy", "1.0")));
        assert!(!matchable(&pkg(
            PackageType::Go,
            "Go",
            "example.com/m",
            "(devel)"
        )));
        let mut deb = pkg(PackageType::Deb, "Debian:12", "libssl3", "3.0.11-1");
        deb.source_name = Some("openssl".into());
        assert!(matchable(&deb));
        let v = to_vuln_package("oci:x:1", &deb);
        assert_eq!(v.match_name(), "openssl");
        assert_eq!(v.file, "oci:x:1");
        assert_eq!(v.layer.as_deref(), Some("sha256:aa/var/lib/dpkg/status"));
        assert_eq!(v.ecosystem, "Debian:12");
        assert!(matchable(&pkg(
            PackageType::Jar,
            "Maven",
            "org.apache.logging.log4j:log4j-core",
            "2.14.1"
        )));
        assert!(!matchable(&pkg(
            PackageType::Jar,
            "Maven",
            "log4j-core",
            "2.14.1"
        )));
    }
}
