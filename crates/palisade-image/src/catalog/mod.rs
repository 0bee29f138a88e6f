//! Catalogers: the OS and the packages installed in an image, read from the files package
//! managers leave behind (see `shared/data/osv/INVENTORY.md` for what Trivy, Syft and
//! osv-scalibr read). Catalogers only read what the layer pass captured ([`wants`]).

pub mod exe;
pub mod golang;
pub mod java;
mod lang;
mod os;
pub mod purl;
pub mod rpm;
pub mod rust;

pub use os::OsRelease;

use serde::Serialize;

use crate::fs::FileView;

/// What the layer pass should keep of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Nothing,
    /// Hold the bytes in memory for a cataloger.
    Metadata,
    /// Hand the bytes to the model scanner.
    Model,
    /// Search for Go build info and a Rust dependency list (`cargo auditable`).
    Executable,
    /// Read a Java archive for the Maven packages in it.
    JavaArchive,
}

/// Files read by the OS cataloger, in order of preference.
pub const OS_FILES: &[&str] = &[
    "etc/os-release",
    "usr/lib/os-release",
    "etc/alpine-release",
    "etc/debian_version",
    "etc/lsb-release",
    "etc/redhat-release",
    "etc/system-release",
];

const APK_DBS: &[&str] = &[
    "lib/apk/db/installed",
    "usr/lib/apk/db/installed",
    "var/lib/apk/db/installed",
];

/// Extensions routed to the model scanner. Generic archives (`.gz`, `.zip`, `.tar`) are
/// left out: images hold thousands (`/usr/share/doc/*/changelog.gz`) and the model scanner
/// looks inside archives only to find models.
const MODEL_EXT: &[&str] = &[
    "pkl",
    "pickle",
    "joblib",
    "dill",
    "pt",
    "pth",
    "ckpt",
    "npy",
    "npz",
    "h5",
    "hdf5",
    "keras",
    "onnx",
    "safetensors",
    "gguf",
    "pb",
    "tflite",
    "mar",
];

/// Paths that belong to package managers or documentation, never models.
fn model_ext_exempt(path: &str) -> bool {
    path.starts_with("usr/share/")
}

/// What the catalogers and the model scanner want of a regular file.
#[must_use]
pub fn wants(path: &str, size: u64, mode: u32) -> Want {
    let (dir, base) = path.rsplit_once('/').unwrap_or(("", path));
    if OS_FILES.contains(&path) || APK_DBS.contains(&path) || path == "var/lib/dpkg/status" {
        return Want::Metadata;
    }
    if rpm::DB_PATHS.iter().any(|(p, _)| *p == path) {
        return Want::Metadata;
    }
    if dir == "var/lib/dpkg/status.d" && !base.ends_with(".md5sums") {
        return Want::Metadata;
    }
    if (base == "METADATA" && dir.ends_with(".dist-info"))
        || (base == "PKG-INFO" && (dir.ends_with(".egg-info") || dir.ends_with("EGG-INFO")))
        || (base.ends_with(".egg-info") && size < 1 << 20)
    {
        return Want::Metadata;
    }
    if dir.ends_with("conda-meta") && base.ends_with(".json") && base != "history" {
        return Want::Metadata;
    }
    if base == "package.json" && lang::npm_package_dir(dir) {
        return Want::Metadata;
    }
    if let Some((_, ext)) = base.rsplit_once('.')
        && MODEL_EXT.iter().any(|e| ext.eq_ignore_ascii_case(e))
        && !model_ext_exempt(path)
    {
        return Want::Model;
    }
    if size > 0
        && (base == "pytorch_model.bin" || (path.contains("/models/") && base.ends_with(".bin")))
    {
        return Want::Model;
    }
    // Before executables: jars are often mode 0755, and are zips, not ELF.
    if size > 0 && java::is_archive_name(base) {
        return Want::JavaArchive;
    }
    // Windows executables in an image (Wine, cross-built tools) seldom have an x bit.
    let windows = [b".exe", b".dll"].iter().any(|e| {
        let b = base.as_bytes();
        b.len() > e.len() && b[b.len() - e.len()..].eq_ignore_ascii_case(*e)
    });
    if (mode & 0o111 != 0 || windows) && size >= 64 * 1024 {
        return Want::Executable;
    }
    Want::Nothing
}

/// Package ecosystems.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageType {
    Deb,
    Apk,
    Rpm,
    Python,
    Conda,
    Npm,
    /// A Go module compiled into a binary.
    Go,
    /// The Go toolchain (standard library) a binary was built with.
    GoStdlib,
    /// A Maven package in a Java archive.
    Jar,
    /// A crate compiled into a Rust binary (`cargo auditable`).
    Cargo,
}

impl PackageType {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            PackageType::Deb => "deb",
            PackageType::Apk => "apk",
            PackageType::Rpm => "rpm",
            PackageType::Python => "python",
            PackageType::Conda => "conda",
            PackageType::Npm => "npm",
            PackageType::Go => "go-module",
            PackageType::GoStdlib => "go-stdlib",
            PackageType::Jar => "jar",
            PackageType::Cargo => "cargo",
        }
    }
}

/// One installed package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    pub name: String,
    pub version: String,
    #[serde(rename = "type")]
    pub kind: PackageType,
    /// Source package (dpkg `Source:`, apk origin, the rpm's source rpm), when the format
    /// records one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// OSV ecosystem (`Debian:12`, `Alpine:v3.20`, `PyPI`, `npm`, `Go`), empty when OSV has
    /// none (conda).
    pub ecosystem: String,
    pub purl: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Digest of the layer that holds the metadata file.
    pub layer: String,
    /// The metadata file (or binary, or archive) inside the image; a nested Java archive
    /// as `outer.jar!/BOOT-INF/lib/inner.jar`.
    pub path: String,
    /// How the package was identified, where the format leaves room for doubt: Java
    /// archives say `pom.properties`, `MANIFEST.MF` or `file name` (no groupId).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found_by: Option<&'static str>,
}

/// The OS and packages of an image.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Inventory {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<OsRelease>,
    pub packages: Vec<Package>,
    /// Package databases that could not be read, as (path, message); the rest of the
    /// inventory stands.
    #[serde(skip)]
    pub errors: Vec<(String, String)>,
}

/// Where a cataloger found something.
pub(crate) struct Found<'a> {
    pub path: &'a str,
    pub layer: &'a str,
}

/// The packages of a Java archive at `path`: ecosystem Maven, name `group:artifact` (just
/// the artifactId when only the file name was there), purl `pkg:maven/group/artifact@v`.
fn java_packages(jar: &java::JavaArchive, path: &str, layer: &str, out: &mut Vec<Package>) {
    for j in &jar.packages {
        let name = if j.group.is_empty() {
            j.artifact.clone()
        } else {
            format!("{}:{}", j.group, j.artifact)
        };
        out.push(Package {
            purl: purl::build("maven", Some(&j.group), &j.artifact, &j.version, &[]),
            name,
            version: j.version.clone(),
            kind: PackageType::Jar,
            source_name: None,
            source_version: None,
            ecosystem: "Maven".into(),
            license: None,
            arch: None,
            layer: layer.to_string(),
            path: if j.member.is_empty() {
                path.to_string()
            } else {
                format!("{path}!/{}", j.member)
            },
            found_by: Some(j.evidence.name()),
        });
    }
}

/// Runs every cataloger over the merged view. `layers` maps layer indexes to digests.
#[must_use]
pub fn catalog(view: &FileView, layers: &[String]) -> Inventory {
    let layer_name = |i: usize| layers.get(i).cloned().unwrap_or_default();
    let os = os::detect(view);
    let mut packages = Vec::new();
    let mut errors = Vec::new();
    for (path, node) in view.iter() {
        let found = || (path.to_string(), layer_name(node.layer));
        if let Some(data) = &node.data {
            let (p, l) = found();
            let at = Found {
                path: &p,
                layer: &l,
            };
            let (dir, base) = path.rsplit_once('/').unwrap_or(("", path));
            if path == "var/lib/dpkg/status" || dir == "var/lib/dpkg/status.d" {
                os::dpkg(data, os.as_ref(), &at, &mut packages);
            } else if APK_DBS.contains(&path) {
                os::apk(data, os.as_ref(), &at, &mut packages);
            } else if let Some((_, format)) = rpm::DB_PATHS.iter().find(|(p, _)| *p == path) {
                if let Err(e) = rpm::rpm(data, *format, os.as_ref(), &at, &mut packages) {
                    errors.push((path.to_string(), format!("rpm database: {e}")));
                }
            } else if base == "METADATA" || base == "PKG-INFO" || base.ends_with(".egg-info") {
                lang::python(data, &at, &mut packages);
            } else if dir.ends_with("conda-meta") {
                lang::conda(data, &at, &mut packages);
            } else if base == "package.json" {
                lang::npm(data, &at, &mut packages);
            }
        }
        if let Some(jar) = &node.java {
            let (p, l) = found();
            java_packages(jar, &p, &l, &mut packages);
            for e in &jar.errors {
                errors.push((p.clone(), e.clone()));
            }
        }
        if let Some(rs) = &node.rust {
            let (p, l) = found();
            lang::rust(
                &rs.crates,
                &Found {
                    path: &p,
                    layer: &l,
                },
                &mut packages,
            );
            for e in &rs.errors {
                errors.push((p.clone(), e.clone()));
            }
        }
        if let Some(go) = &node.go {
            let (p, l) = found();
            lang::go(
                go,
                &Found {
                    path: &p,
                    layer: &l,
                },
                &mut packages,
            );
            for e in &go.notes {
                errors.push((p.clone(), e.clone()));
            }
        }
    }
    packages.sort_by(|a, b| {
        (a.kind.name(), &a.name, &a.version, &a.path).cmp(&(
            b.kind.name(),
            &b.name,
            &b.version,
            &b.path,
        ))
    });
    packages.dedup();
    Inventory {
        os,
        packages,
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executables_by_mode_and_windows_ones_by_name() {
        let big = 64 * 1024;
        assert_eq!(wants("usr/bin/app", big, 0o755), Want::Executable);
        assert_eq!(wants("usr/bin/app", big, 0o644), Want::Nothing);
        assert_eq!(wants("usr/bin/app", big - 1, 0o755), Want::Nothing);
        // Wine and cross-built tools: no x bit, found by name, whatever its case.
        assert_eq!(wants("opt/tool/App.EXE", big, 0o644), Want::Executable);
        assert_eq!(wants("opt/tool/lib.dll", big, 0o644), Want::Executable);
        assert_eq!(wants("opt/tool/.dll", big, 0o644), Want::Nothing);
        assert_eq!(wants("opt/tool/naïve.dll", big, 0o644), Want::Executable);
        assert_eq!(wants("opt/tool/ü", big, 0o644), Want::Nothing);
    }
}
