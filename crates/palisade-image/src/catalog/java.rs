//! Java archives (`.jar`, `.war`, `.ear`, `.jpi`, `.hpi`, `.par`): the Maven packages in
//! them, found the way Trivy's and Syft's jar catalogers find them.
//!
//! An archive is read from memory (the layer pass hands over its bytes, bounded by
//! [`JavaLimits::max_archive_size`]) through its central directory. Packages come from, in
//! order of trust:
//!
//! 1. every `META-INF/maven/<group>/<artifact>/pom.properties` (a shaded jar holds several,
//!    Spring Boot keeps the application's under `BOOT-INF/classes/`);
//! 2. when none of those is the archive itself (no pom.properties whose artifactId is the
//!    one in the file name), `META-INF/MANIFEST.MF`: groupId from `Implementation-Vendor-Id`
//!    or `Bundle-SymbolicName`, artifactId from `Implementation-Title`, version from
//!    `Implementation-Version`/`Bundle-Version`;
//! 3. failing both, the file name (`artifact-1.2.3.jar`), which has no groupId.
//!
//! Archives inside archives (fat jars, Spring Boot `BOOT-INF/lib/`, WAR `WEB-INF/lib/`, EAR
//! modules) are read the same way, in memory, down to [`JavaLimits::max_depth`]. Nothing is
//! extracted: entry names are only compared and shown, and names that would climb out of
//! an extraction directory (absolute, `..`, backslashes, NUL) are skipped so a location
//! never suggests a path outside the archive.

use std::io::{Cursor, Read};

use serde::Serialize;

/// Extensions of Java archives (Trivy's and Syft's list).
pub const EXTENSIONS: &[&str] = &["jar", "war", "ear", "jpi", "hpi", "par"];

/// Bounds on what one Java archive (with everything nested in it) may make Palisade read.
#[derive(Clone, Debug)]
pub struct JavaLimits {
    /// Largest archive read into memory, top-level or nested (bigger ones are reported).
    pub max_archive_size: u64,
    /// Central directory entries over a top-level archive and everything nested in it.
    pub max_entries: usize,
    /// Archives read counting the top-level one: 3 reads `app.war!/WEB-INF/lib/a.jar!/b.jar`
    /// and reports anything deeper.
    pub max_depth: u32,
    /// Bytes inflated (nested archives and metadata files) per top-level archive: a zip
    /// bomb stops here, whatever sizes its headers claim.
    pub max_decompressed: u64,
    /// Largest `pom.properties` or `MANIFEST.MF` read.
    pub max_metadata: u64,
}

impl Default for JavaLimits {
    fn default() -> Self {
        JavaLimits {
            // Uber jars of ML stacks (H2O, Spark assemblies) reach a few hundred MiB.
            max_archive_size: 512 << 20,
            max_entries: 250_000,
            max_depth: 3,
            max_decompressed: 1 << 30,
            max_metadata: 1 << 20,
        }
    }
}

/// How a package was identified; only the first two name a groupId.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Evidence {
    PomProperties,
    Manifest,
    FileName,
}

impl Evidence {
    /// As shown in inventories and SBOMs.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Evidence::PomProperties => "pom.properties",
            Evidence::Manifest => "MANIFEST.MF",
            Evidence::FileName => "file name",
        }
    }
}

/// One package found in an archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JavaPackage {
    /// Empty when only the file name was there to go on.
    pub group: String,
    pub artifact: String,
    pub version: String,
    pub evidence: Evidence,
    /// The nested archive it was found in, relative to the top-level one
    /// (`BOOT-INF/lib/a.jar`, `lib/a.jar!/b.jar`); empty for the top-level archive itself.
    pub member: String,
}

/// What reading one top-level archive found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JavaArchive {
    pub packages: Vec<JavaPackage>,
    /// Corrupt archives and limits hit, each naming the (nested) archive; what could be
    /// read before is kept.
    pub errors: Vec<String>,
}

/// Whether a file name has a Java archive extension.
#[must_use]
pub fn is_archive_name(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && EXTENSIONS.iter().any(|e| ext.eq_ignore_ascii_case(e))
    })
}

/// Whether bytes start like a zip: a local file header, an empty archive's end record, or a
/// shell script (Spring Boot's "fully executable" jars put a launch script before the zip,
/// which the central directory's offsets allow for).
#[must_use]
pub fn looks_like_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") || head.starts_with(b"#!")
}

/// Reads the archive at `path` (for messages and the file-name fallback). `None` when the
/// bytes are not a zip at all: a file merely named `.jar` is not reported.
#[must_use]
pub fn read(path: &str, data: &[u8], limits: &JavaLimits) -> Option<JavaArchive> {
    if !looks_like_zip(data) {
        return None;
    }
    let mut walk = Walk {
        top: path,
        limits,
        entries: 0,
        inflated: 0,
        stopped: false,
        out: JavaArchive::default(),
    };
    walk.archive("", base_name(path), data, 1);
    Some(walk.out)
}

fn base_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, b)| b)
}

/// A name that is safe to show as a location inside the archive.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name.contains(['\\', '\0'])
        && !name.split('/').any(|c| c == "..")
}

/// The walk over one top-level archive and what it nests, with the budgets they share.
struct Walk<'a> {
    top: &'a str,
    limits: &'a JavaLimits,
    entries: usize,
    inflated: u64,
    /// A shared budget ran out: read nothing more.
    stopped: bool,
    out: JavaArchive,
}

impl Walk<'_> {
    fn location(&self, member: &str) -> String {
        if member.is_empty() {
            self.top.to_string()
        } else {
            format!("{}!/{member}", self.top)
        }
    }

    fn error(&mut self, member: &str, message: impl std::fmt::Display) {
        let loc = self.location(member);
        self.out
            .errors
            .push(format!("Java archive `{loc}`: {message}"));
    }

    /// Inflates one entry, charging the shared budget; `None` (after reporting) when it
    /// is over a limit or corrupt.
    fn inflate(
        &mut self,
        zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
        index: usize,
        cap: u64,
        member: &str,
        what: &str,
    ) -> Option<Vec<u8>> {
        let left = self.limits.max_decompressed.saturating_sub(self.inflated);
        let budget_bound = left <= cap;
        let cap = cap.min(left);
        let mut f = match zip.by_index(index) {
            Ok(f) => f,
            Err(e) => {
                self.error(member, format!("{what}: {e}"));
                return None;
            }
        };
        // The declared size is only a hint (a bomb lies); `take` is the bound.
        let mut buf = Vec::with_capacity(usize::try_from(f.size().min(cap)).unwrap_or(0));
        if let Err(e) = (&mut f).take(cap + 1).read_to_end(&mut buf) {
            self.error(member, format!("{what}: {e}"));
            return None;
        }
        self.inflated += buf.len() as u64;
        if buf.len() as u64 > cap {
            if budget_bound {
                self.stopped = true;
                self.error(
                    member,
                    format!(
                        "{what}: more than {} bytes inflated from this archive; the rest is not read",
                        self.limits.max_decompressed
                    ),
                );
            } else {
                self.error(
                    member,
                    format!("{what}: over the {cap}-byte limit; not read"),
                );
            }
            return None;
        }
        Some(buf)
    }

    /// Reads one archive. `member` is its place inside the top-level archive ("" for that
    /// one), `file` its own file name, `depth` 1 for the top-level archive.
    fn archive(&mut self, member: &str, file: &str, data: &[u8], depth: u32) {
        let mut zip = match zip::ZipArchive::new(Cursor::new(data)) {
            Ok(z) => z,
            Err(e) => {
                self.error(member, format!("not a readable zip archive ({e})"));
                return;
            }
        };
        self.entries += zip.len();
        if self.entries > self.limits.max_entries {
            self.stopped = true;
            self.error(
                member,
                format!(
                    "more than {} zip entries in this archive and the ones it nests; not read",
                    self.limits.max_entries
                ),
            );
            return;
        }
        // Sort the central directory once: what each entry is for.
        let mut poms = Vec::new();
        let mut manifest = None;
        let mut nested = Vec::new();
        for i in 0..zip.len() {
            let Ok(e) = zip.by_index_data(i) else {
                continue;
            };
            if e.is_dir() {
                continue;
            }
            let Ok(name) = e.name() else { continue };
            if !safe_name(&name) {
                continue;
            }
            if name.ends_with("/pom.properties") && name.contains("META-INF/maven/") {
                poms.push((i, name.into_owned()));
            } else if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
                manifest = Some(i);
            } else if is_archive_name(base_name(&name)) {
                nested.push((i, name.into_owned()));
            }
        }
        let max_meta = self.limits.max_metadata;
        let mut found: Vec<JavaPackage> = Vec::new();
        for (i, name) in poms {
            if self.stopped {
                return;
            }
            if let Some(text) = self.inflate(&mut zip, i, max_meta, member, &name)
                && let Some((group, artifact, version)) = pom_properties(&text)
            {
                found.push(JavaPackage {
                    group,
                    artifact,
                    version,
                    evidence: Evidence::PomProperties,
                    member: member.to_string(),
                });
            }
        }
        // The archive's own identity when no pom.properties is it (Trivy's rule: one whose
        // artifactId is the file name's).
        let from_name = file_name(file);
        let own_pom = match &from_name {
            Some((artifact, _)) => found.iter().any(|p| &p.artifact == artifact),
            None => !found.is_empty(),
        };
        if !own_pom && !self.stopped {
            let from_manifest = manifest
                .and_then(|i| self.inflate(&mut zip, i, max_meta, member, "META-INF/MANIFEST.MF"))
                .and_then(|m| {
                    manifest_coordinates(&m, from_name.as_ref().map(|(a, _)| a.as_str()))
                });
            let own = match (from_manifest, from_name) {
                (Some((group, artifact, version)), _) => {
                    Some((group, artifact, version, Evidence::Manifest))
                }
                (None, Some((artifact, version))) => {
                    Some((String::new(), artifact, version, Evidence::FileName))
                }
                (None, None) => None,
            };
            if let Some((group, artifact, version, evidence)) = own
                && !found
                    .iter()
                    .any(|p| p.group == group && p.artifact == artifact && p.version == version)
            {
                found.push(JavaPackage {
                    group,
                    artifact,
                    version,
                    evidence,
                    member: member.to_string(),
                });
            }
        }
        self.out.packages.extend(found);
        if depth >= self.limits.max_depth {
            if let Some((_, first)) = nested.first() {
                let n = nested.len();
                self.error(
                    member,
                    format!(
                        "{n} nested archive(s) (first `{first}`) deeper than the limit of {} levels; not read",
                        self.limits.max_depth
                    ),
                );
            }
            return;
        }
        for (i, name) in nested {
            if self.stopped {
                return;
            }
            let inner = if member.is_empty() {
                name.clone()
            } else {
                format!("{member}!/{name}")
            };
            let cap = self.limits.max_archive_size;
            let Some(bytes) = self.inflate(&mut zip, i, cap, &inner, "nested archive") else {
                continue;
            };
            if looks_like_zip(&bytes) {
                self.archive(&inner, base_name(&name), &bytes, depth + 1);
            }
        }
    }
}

/// `groupId`, `artifactId` and `version` of a `pom.properties` (Java properties: `=`, `:`
/// or blank separates, `#`/`!` comments). Unresolved `${…}` placeholders do not count.
fn pom_properties(text: &[u8]) -> Option<(String, String, String)> {
    let text = String::from_utf8_lossy(text);
    let (mut g, mut a, mut v) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let cut = line.find(['=', ':', ' ', '\t']).unwrap_or(line.len());
        let key = &line[..cut];
        let value = line[cut..]
            .trim_start_matches([' ', '\t'])
            .trim_start_matches(['=', ':'])
            .trim();
        let slot = match key {
            "groupId" => &mut g,
            "artifactId" => &mut a,
            "version" => &mut v,
            _ => continue,
        };
        *slot = Some(value.to_string());
    }
    let ok = |s: &Option<String>| {
        s.as_ref()
            .is_some_and(|s| !s.is_empty() && !s.contains("${"))
    };
    if ok(&g) && ok(&a) && ok(&v) {
        Some((g?, a?, v?))
    } else {
        None
    }
}

/// The main section of a manifest as (name, value), continuation lines joined.
fn manifest_main(text: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(text);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if let Some(rest) = line.strip_prefix(' ') {
            if let Some(last) = out.last_mut() {
                last.1.push_str(rest);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

/// A Maven-looking identifier: no blanks, nothing that needs quoting in a purl namespace.
fn id_like(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Coordinates from a manifest, as Trivy derives them, but only from attributes that hold
/// identifiers: `Implementation-Vendor` ("The Apache Software Foundation") is a display
/// name, not a groupId, so it is not used, nor is a title with blanks (then the file name's
/// artifactId is). `None` without a groupId and a version.
fn manifest_coordinates(
    text: &[u8],
    name_artifact: Option<&str>,
) -> Option<(String, String, String)> {
    let attrs = manifest_main(text);
    let get = |k: &str| {
        attrs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let symbolic = get("Bundle-SymbolicName").map(|s| s.split(';').next().unwrap_or(s).trim());
    let group = get("Implementation-Vendor-Id")
        .filter(|g| id_like(g))
        .or_else(|| {
            // `com.fasterxml.jackson.core.jackson-databind` → `com.fasterxml.jackson.core`.
            symbolic
                .and_then(|s| s.rsplit_once('.'))
                .map(|(g, _)| g)
                .filter(|g| id_like(g))
        })?;
    let artifact = get("Implementation-Title")
        .filter(|t| id_like(t))
        .or(name_artifact)?;
    let version = get("Implementation-Version")
        .or_else(|| get("Bundle-Version"))
        .or_else(|| get("Specification-Version"))
        .filter(|v| !v.contains(char::is_whitespace))?;
    Some((group.to_string(), artifact.to_string(), version.to_string()))
}

/// `artifact-1.2.3.jar` → (`artifact`, `1.2.3`): the version starts at the last `-` before a
/// digit (`log4j-1.2-api-2.17.1.jar` → `log4j-1.2-api`, `2.17.1`), as Trivy splits it.
fn file_name(file: &str) -> Option<(String, String)> {
    let (stem, _) = file.rsplit_once('.')?;
    let b = stem.as_bytes();
    let cut = (1..b.len())
        .rev()
        .find(|&i| b[i - 1] == b'-' && b[i].is_ascii_digit())?;
    let (artifact, version) = (&stem[..cut - 1], &stem[cut..]);
    (!artifact.is_empty() && !version.is_empty())
        .then(|| (artifact.to_string(), version.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_magic() {
        assert!(is_archive_name("log4j-core-2.14.1.jar"));
        assert!(is_archive_name("APP.WAR"));
        assert!(!is_archive_name(".jar"));
        assert!(!is_archive_name("x.jar.sha1"));
        assert!(looks_like_zip(b"PK\x03\x04rest"));
        assert!(!looks_like_zip(b"<html>"));
        assert!(read("a.jar", b"not a zip", &JavaLimits::default()).is_none());
    }

    #[test]
    fn file_names() {
        let f = |s| file_name(s);
        assert_eq!(
            f("commons-io-2.11.0.jar"),
            Some(("commons-io".into(), "2.11.0".into()))
        );
        assert_eq!(
            f("log4j-1.2-api-2.17.1.jar"),
            Some(("log4j-1.2-api".into(), "2.17.1".into()))
        );
        assert_eq!(
            f("spring-core-5.3.4-SNAPSHOT.jar"),
            Some(("spring-core".into(), "5.3.4-SNAPSHOT".into()))
        );
        assert_eq!(f("guava.jar"), None);
        assert_eq!(f("-1.0.jar"), None);
        assert_eq!(f("x-.jar"), None);
    }

    #[test]
    fn properties_and_manifests() {
        assert_eq!(
            pom_properties(b"#Generated by Maven\n#Tue\ngroupId=org.apache.logging.log4j\nartifactId = log4j-core\nversion: 2.14.1\n"),
            Some(("org.apache.logging.log4j".into(), "log4j-core".into(), "2.14.1".into()))
        );
        assert_eq!(
            pom_properties(b"groupId=g\nartifactId=a\nversion=${revision}\n"),
            None
        );
        assert_eq!(pom_properties(b"artifactId=a\nversion=1\n"), None);
        let m = b"Manifest-Version: 1.0\r\nBundle-SymbolicName: com.fasterxml.jackson.core.jackson-da\r\n tabind;singleton:=true\r\nImplementation-Title: jackson-databind\r\nImplementation-Vendor: FasterXML\r\nBundle-Version: 2.15.2\r\n\r\nName: x\r\nImplementation-Version: 9\r\n";
        assert_eq!(
            manifest_coordinates(m, None),
            Some((
                "com.fasterxml.jackson.core".into(),
                "jackson-databind".into(),
                "2.15.2".into()
            ))
        );
        // A display-name title falls back to the file name's artifactId; a vendor name is
        // never a groupId.
        let m = b"Implementation-Title: Apache Commons IO\nImplementation-Vendor-Id: commons-io\nImplementation-Version: 2.11.0\n";
        assert_eq!(
            manifest_coordinates(m, Some("commons-io")),
            Some(("commons-io".into(), "commons-io".into(), "2.11.0".into()))
        );
        let m = b"Implementation-Title: x\nImplementation-Vendor: The Apache Software Foundation\nImplementation-Version: 1\n";
        assert_eq!(manifest_coordinates(m, None), None);
    }

    /// A one-entry zip64 archive whose end records claim `files` entries, a central
    /// directory of `size` bytes at `offset`.
    fn zip64_claiming(files: u64, size: u64, offset: Option<u64>) -> Vec<u8> {
        let name = b"META-INF/maven/g/a/pom.properties";
        let data = b"groupId=g\nartifactId=a\nversion=1\n";
        let crc = 0x13c3_4f14_u32; // zlib.crc32(data)
        let mut z = Vec::new();
        let le16 = |z: &mut Vec<u8>, v: u16| z.extend_from_slice(&v.to_le_bytes());
        let le32 = |z: &mut Vec<u8>, v: u32| z.extend_from_slice(&v.to_le_bytes());
        let le64 = |z: &mut Vec<u8>, v: u64| z.extend_from_slice(&v.to_le_bytes());
        le32(&mut z, 0x0403_4b50);
        for v in [20, 0, 0, 0, 0] {
            le16(&mut z, v);
        }
        le32(&mut z, crc);
        le32(&mut z, data.len() as u32);
        le32(&mut z, data.len() as u32);
        le16(&mut z, name.len() as u16);
        le16(&mut z, 0);
        z.extend_from_slice(name);
        z.extend_from_slice(data);
        let cd_off = z.len() as u64;
        le32(&mut z, 0x0201_4b50);
        for v in [20, 20, 0, 0, 0, 0] {
            le16(&mut z, v);
        }
        le32(&mut z, crc);
        le32(&mut z, data.len() as u32);
        le32(&mut z, data.len() as u32);
        for v in [name.len() as u16, 0, 0, 0, 0] {
            le16(&mut z, v);
        }
        le32(&mut z, 0);
        le32(&mut z, 0);
        z.extend_from_slice(name);
        let cd_len = z.len() as u64 - cd_off;
        let z64 = z.len() as u64;
        le32(&mut z, 0x0606_4b50);
        le64(&mut z, 44);
        le16(&mut z, 45);
        le16(&mut z, 45);
        le32(&mut z, 0);
        le32(&mut z, 0);
        le64(&mut z, files);
        le64(&mut z, files);
        le64(&mut z, if files == 1 { cd_len } else { size });
        le64(&mut z, offset.unwrap_or(cd_off));
        le32(&mut z, 0x0706_4b50);
        le32(&mut z, 0);
        le64(&mut z, z64);
        le32(&mut z, 1);
        le32(&mut z, 0x0605_4b50);
        for v in [0, 0, 0xffff, 0xffff] {
            le16(&mut z, v);
        }
        le32(&mut z, u32::MAX);
        le32(&mut z, u32::MAX);
        le16(&mut z, 0);
        z
    }

    #[test]
    fn end_records_that_lie_are_errors_not_allocations() {
        let limits = JavaLimits::default();
        let ok = read("x.jar", &zip64_claiming(1, 0, None), &limits).unwrap();
        assert_eq!(ok.packages.len(), 1, "{ok:?}");
        // 2^36 entries in a 300-byte file: the zip crate refuses before allocating for them.
        for (files, size, offset) in [
            (1 << 36, 1 << 50, Some(1 << 40)),
            (1 << 36, 1 << 50, None),
            (i64::MAX as u64, u64::MAX, Some(1 << 63)),
        ] {
            let a = read("x.jar", &zip64_claiming(files, size, offset), &limits).unwrap();
            assert!(a.packages.is_empty());
            assert!(a.errors[0].contains("not a readable zip archive"), "{a:?}");
        }
    }

    #[test]
    fn truncated_and_flipped_archives_never_panic() {
        let limits = JavaLimits::default();
        let good = zip64_claiming(1, 0, None);
        for cut in 0..good.len() {
            let _ = read("x.jar", &good[..cut], &limits);
        }
        for i in 0..good.len() {
            for bit in [0x01, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[i] ^= bit;
                let _ = read("x.jar", &bad, &limits);
            }
        }
    }

    #[test]
    fn unsafe_names() {
        assert!(safe_name("BOOT-INF/lib/a.jar"));
        for n in [
            "/etc/a.jar",
            "../a.jar",
            "lib/../../a.jar",
            "lib\\a.jar",
            "",
        ] {
            assert!(!safe_name(n), "{n}");
        }
    }
}
