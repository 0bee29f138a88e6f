//! The OS (`os-release` and the fall-backs Trivy and Syft use) and OS package databases
//! (dpkg, including distroless `status.d/`, and apk).

use serde::Serialize;

use super::{Found, Package, PackageType, purl};
use crate::fs::FileView;

/// What the image says its distribution is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OsRelease {
    /// `ID` (`debian`, `ubuntu`, `alpine`, `rhel`).
    pub id: String,
    /// `VERSION_ID` (`12`, `22.04`, `3.20.3`).
    pub version_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pretty_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub version_codename: String,
    /// `ID_LIKE` (`debian`, `rhel fedora`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id_like: String,
    /// The file it was read from.
    pub source: String,
}

impl OsRelease {
    /// The OSV ecosystem of this distribution's packages (`Debian:12`, `Ubuntu:22.04:LTS`,
    /// `Alpine:v3.20`), following osv-scalibr and the osv-schema ecosystem list.
    #[must_use]
    pub fn ecosystem(&self) -> String {
        let major = self.version_id.split('.').next().unwrap_or("");
        match self.id.as_str() {
            "debian" if !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()) => {
                format!("Debian:{major}")
            }
            "debian" => "Debian".into(),
            "ubuntu" => {
                if self.pretty_name.contains("LTS") {
                    format!("Ubuntu:{}:LTS", self.version_id)
                } else {
                    format!("Ubuntu:{}", self.version_id)
                }
            }
            "alpine" => {
                let mut parts = self.version_id.split('.');
                match (parts.next(), parts.next()) {
                    (Some(a), Some(b)) => format!("Alpine:v{a}.{b}"),
                    _ => "Alpine".into(),
                }
            }
            "wolfi" => "Wolfi".into(),
            "chainguard" => "Chainguard".into(),
            "rocky" => format!("Rocky Linux:{major}"),
            "almalinux" => format!("AlmaLinux:{major}"),
            "rhel" => format!("Red Hat:{major}"),
            "opensuse-leap" => format!("openSUSE:Leap {}", self.version_id),
            // SUSE's OSV records name products and service packs: `15.5` is `15 SP5`.
            "sles" | "sle_hpc" => format!(
                "SUSE:Linux Enterprise Server {}",
                suse_release(&self.version_id)
            ),
            "sle-micro" => format!("SUSE:Linux Enterprise Micro {}", self.version_id),
            "azurelinux" | "mariner" => format!("Azure Linux:{}", self.version_id),
            _ => String::new(),
        }
    }

    /// The `distro` purl qualifier (`debian-12`).
    #[must_use]
    pub fn distro(&self) -> String {
        if self.version_id.is_empty() {
            self.id.clone()
        } else {
            format!("{}-{}", self.id, self.version_id)
        }
    }
}

/// `15.5` → `15 SP5`, `15` → `15`, as SUSE names its service packs.
fn suse_release(version_id: &str) -> String {
    match version_id.split_once('.') {
        Some((major, sp)) if sp != "0" => format!("{major} SP{sp}"),
        Some((major, _)) => major.to_string(),
        None => version_id.to_string(),
    }
}

/// Parses `KEY=value` lines with shell quoting as os-release(5) allows.
fn parse_kv(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            if l.starts_with('#') {
                return None;
            }
            let (k, v) = l.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_string(), v.replace("\\\"", "\"")))
        })
        .collect()
}

fn from_os_release(text: &str, source: &str) -> Option<OsRelease> {
    let mut r = OsRelease {
        source: source.to_string(),
        ..OsRelease::default()
    };
    for (k, v) in parse_kv(text) {
        match k.as_str() {
            "ID" => r.id = v.to_ascii_lowercase(),
            "VERSION_ID" => r.version_id = v,
            "PRETTY_NAME" => r.pretty_name = v,
            "VERSION_CODENAME" => r.version_codename = v,
            "ID_LIKE" => r.id_like = v,
            "VERSION" if r.pretty_name.is_empty() => r.pretty_name = v,
            _ => {}
        }
    }
    (!r.id.is_empty()).then_some(r)
}

/// `Red Hat Enterprise Linux release 8.9 (Ootpa)` → (`rhel`, `8.9`).
fn from_redhat_release(text: &str, source: &str) -> Option<OsRelease> {
    let line = text.lines().next()?.trim();
    let lower = line.to_ascii_lowercase();
    let id = if lower.starts_with("red hat") {
        "rhel"
    } else if lower.starts_with("centos") {
        "centos"
    } else if lower.starts_with("rocky") {
        "rocky"
    } else if lower.starts_with("almalinux") {
        "almalinux"
    } else if lower.starts_with("fedora") {
        "fedora"
    } else if lower.starts_with("amazon") {
        "amzn"
    } else if lower.starts_with("oracle") {
        "ol"
    } else {
        return None;
    };
    let version = line
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or("")
        .to_string();
    Some(OsRelease {
        id: id.into(),
        version_id: version,
        pretty_name: line.to_string(),
        source: source.to_string(),
        ..OsRelease::default()
    })
}

/// Reads the OS from the first of [`super::OS_FILES`] that identifies one.
#[must_use]
pub fn detect(view: &FileView) -> Option<OsRelease> {
    for &file in super::OS_FILES {
        let Some(data) = view.read(file) else {
            continue;
        };
        let text = String::from_utf8_lossy(data);
        let found = match file {
            "etc/os-release" | "usr/lib/os-release" => from_os_release(&text, file),
            "etc/alpine-release" => Some(OsRelease {
                id: "alpine".into(),
                version_id: text.trim().to_string(),
                source: file.into(),
                ..OsRelease::default()
            }),
            "etc/debian_version" => {
                let v = text.trim();
                // `12.5` on releases, `trixie/sid` on testing.
                let version_id = if v.starts_with(|c: char| c.is_ascii_digit()) {
                    v.split('.').next().unwrap_or(v).to_string()
                } else {
                    String::new()
                };
                Some(OsRelease {
                    id: "debian".into(),
                    version_id,
                    pretty_name: format!("Debian {v}"),
                    source: file.into(),
                    ..OsRelease::default()
                })
            }
            "etc/lsb-release" => {
                let kv = parse_kv(&text);
                let get = |k: &str| {
                    kv.iter()
                        .find(|(a, _)| a == k)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                let id = get("DISTRIB_ID").to_ascii_lowercase();
                (!id.is_empty()).then(|| OsRelease {
                    id,
                    version_id: get("DISTRIB_RELEASE"),
                    pretty_name: get("DISTRIB_DESCRIPTION"),
                    version_codename: get("DISTRIB_CODENAME"),
                    source: file.into(),
                    ..OsRelease::default()
                })
            }
            _ => from_redhat_release(&text, file),
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// RFC 822-style paragraphs (dpkg status, apk installed uses its own form).
fn paragraphs(text: &str) -> impl Iterator<Item = Vec<(&str, String)>> {
    text.split("\n\n").filter_map(|para| {
        let mut fields: Vec<(&str, String)> = Vec::new();
        for line in para.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some(last) = fields.last_mut() {
                    last.1.push('\n');
                    last.1.push_str(line.trim());
                }
            } else if let Some((k, v)) = line.split_once(':') {
                fields.push((k.trim(), v.trim().to_string()));
            }
        }
        (!fields.is_empty()).then_some(fields)
    })
}

/// dpkg `status` and distroless `status.d/*` entries. Entries with a `Status:` that is not
/// `installed` (removed, config-files) are skipped; status.d entries have no `Status:`.
pub(crate) fn dpkg(data: &[u8], os: Option<&OsRelease>, at: &Found<'_>, out: &mut Vec<Package>) {
    let text = String::from_utf8_lossy(data).replace("\r\n", "\n");
    let distro_id = os.map_or("debian", |o| {
        if o.id.is_empty() {
            "debian"
        } else {
            o.id.as_str()
        }
    });
    let ecosystem = os.map(OsRelease::ecosystem).unwrap_or_default();
    let distro = os.map(OsRelease::distro).unwrap_or_default();
    for fields in paragraphs(&text) {
        let get = |k: &str| {
            fields
                .iter()
                .find(|(a, _)| a.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.as_str())
        };
        let (Some(name), Some(version)) = (get("Package"), get("Version")) else {
            continue;
        };
        if let Some(status) = get("Status")
            && !status.split_whitespace().any(|w| w == "installed")
        {
            continue;
        }
        let arch = get("Architecture").map(str::to_string);
        let (source_name, source_version) = match get("Source") {
            Some(src) => match src.split_once('(') {
                Some((n, v)) => (
                    Some(n.trim().to_string()),
                    Some(v.trim_end_matches(')').trim().to_string()),
                ),
                None => (Some(src.trim().to_string()), None),
            },
            None => (None, None),
        };
        let mut q: Vec<(&str, &str)> = vec![("distro", distro.as_str())];
        if let Some(a) = &arch {
            q.push(("arch", a));
        }
        let upstream = source_name.as_deref().map(|s| match &source_version {
            Some(v) => format!("{s}@{v}"),
            None => s.to_string(),
        });
        if let Some(u) = &upstream {
            q.push(("upstream", u));
        }
        out.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            kind: PackageType::Deb,
            purl: purl::build("deb", Some(distro_id), name, version, &q),
            source_name,
            source_version,
            ecosystem: ecosystem.clone(),
            license: None,
            arch,
            layer: at.layer.to_string(),
            path: at.path.to_string(),
            found_by: None,
        });
    }
}

/// apk `installed` database: `P:` name, `V:` version, `A:` arch, `o:` origin, `L:` licence,
/// blank lines between packages.
pub(crate) fn apk(data: &[u8], os: Option<&OsRelease>, at: &Found<'_>, out: &mut Vec<Package>) {
    let text = String::from_utf8_lossy(data).replace("\r\n", "\n");
    let ns = os.map_or("alpine", |o| {
        if o.id.is_empty() {
            "alpine"
        } else {
            o.id.as_str()
        }
    });
    let ecosystem = os
        .map(OsRelease::ecosystem)
        .unwrap_or_else(|| "Alpine".into());
    let distro = os.map(OsRelease::distro).unwrap_or_default();
    for block in text.split("\n\n") {
        let mut name = None;
        let mut version = None;
        let mut arch = None;
        let mut origin = None;
        let mut license = None;
        for line in block.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            match k {
                "P" => name = Some(v.to_string()),
                "V" => version = Some(v.to_string()),
                "A" => arch = Some(v.to_string()),
                "o" => origin = Some(v.to_string()),
                "L" => license = Some(v.to_string()),
                _ => {}
            }
        }
        let (Some(name), Some(version)) = (name, version) else {
            continue;
        };
        let mut q: Vec<(&str, &str)> = vec![("distro", distro.as_str())];
        if let Some(a) = &arch {
            q.push(("arch", a));
        }
        if let Some(o) = &origin {
            q.push(("upstream", o));
        }
        out.push(Package {
            purl: purl::build("apk", Some(ns), &name, &version, &q),
            name,
            source_version: origin.as_ref().map(|_| version.clone()),
            version,
            kind: PackageType::Apk,
            source_name: origin,
            ecosystem: ecosystem.clone(),
            license,
            arch,
            layer: at.layer.to_string(),
            path: at.path.to_string(),
            found_by: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_and_ecosystems() {
        let r = from_os_release(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
            "etc/os-release",
        )
        .unwrap();
        assert_eq!(r.ecosystem(), "Debian:12");
        assert_eq!(r.distro(), "debian-12");
        let u = from_os_release(
            "ID=ubuntu\nVERSION_ID=\"22.04\"\nPRETTY_NAME=\"Ubuntu 22.04.4 LTS\"",
            "x",
        )
        .unwrap();
        assert_eq!(u.ecosystem(), "Ubuntu:22.04:LTS");
        let a = from_os_release("ID=alpine\nVERSION_ID=3.20.3", "x").unwrap();
        assert_eq!(a.ecosystem(), "Alpine:v3.20");
        let rh = from_redhat_release("Rocky Linux release 9.3 (Blue Onyx)\n", "x").unwrap();
        assert_eq!((rh.id.as_str(), rh.version_id.as_str()), ("rocky", "9.3"));
        assert_eq!(rh.ecosystem(), "Rocky Linux:9");
        // SUSE's OSV ecosystems are product names with service packs (a BCI image is SLES).
        for (os_release, ecosystem) in [
            (
                "ID=\"sles\"\nVERSION_ID=\"15.5\"",
                "SUSE:Linux Enterprise Server 15 SP5",
            ),
            (
                "ID=\"sles\"\nVERSION_ID=\"15\"",
                "SUSE:Linux Enterprise Server 15",
            ),
            (
                "ID=\"sle-micro\"\nVERSION_ID=\"5.5\"",
                "SUSE:Linux Enterprise Micro 5.5",
            ),
            (
                "ID=\"opensuse-leap\"\nVERSION_ID=\"15.6\"",
                "openSUSE:Leap 15.6",
            ),
        ] {
            let r = from_os_release(os_release, "x").unwrap();
            assert_eq!(r.ecosystem(), ecosystem, "{os_release}");
        }
    }

    #[test]
    fn dpkg_status() {
        let status = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc (2.36-9)\nVersion: 2.36-9+deb12u4\nDescription: GNU C Library\n multi-line\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n\nPackage: bash\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n";
        let os = from_os_release("ID=debian\nVERSION_ID=12", "x");
        let mut out = Vec::new();
        dpkg(
            status.as_bytes(),
            os.as_ref(),
            &Found {
                path: "var/lib/dpkg/status",
                layer: "sha256:x",
            },
            &mut out,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].source_name.as_deref(), Some("glibc"));
        assert_eq!(out[0].source_version.as_deref(), Some("2.36-9"));
        assert_eq!(out[0].ecosystem, "Debian:12");
        assert_eq!(
            out[0].purl,
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc%402.36-9"
        );
        assert_eq!(out[1].name, "bash");
    }

    #[test]
    fn apk_installed() {
        let db = "C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:x86_64\nL:MIT\no:musl\n\nP:busybox-binsh\nV:1.36.1-r29\nA:x86_64\no:busybox\n";
        let os = from_os_release("ID=alpine\nVERSION_ID=3.20.3", "x");
        let mut out = Vec::new();
        apk(
            db.as_bytes(),
            os.as_ref(),
            &Found {
                path: "lib/apk/db/installed",
                layer: "l",
            },
            &mut out,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].source_name.as_deref(), Some("busybox"));
        assert_eq!(out[1].ecosystem, "Alpine:v3.20");
        assert_eq!(
            out[0].purl,
            "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3&upstream=musl"
        );
    }
}
