//! SBOMs from an image inventory: CycloneDX 1.6 JSON and SPDX 2.3 JSON.
//!
//! Own structs via `serde_json` (the `cyclonedx-bom` crate covers 1.5 only); the
//! CycloneDX output is validated against the official 1.6 schema in the tests.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::catalog::Package;
use crate::scan::ImageScan;

/// SBOM formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    CycloneDx,
    Spdx,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cyclonedx" | "cyclonedx-json" | "cdx" => Ok(Format::CycloneDx),
            "spdx" | "spdx-json" => Ok(Format::Spdx),
            other => Err(format!(
                "unknown SBOM format `{other}`: expected cyclonedx or spdx"
            )),
        }
    }
}

/// What a document is stamped with; fixed values make output reproducible in tests.
#[derive(Clone, Debug)]
pub struct Stamp {
    /// RFC 3339 UTC time.
    pub timestamp: String,
    pub tool_version: String,
}

impl Default for Stamp {
    fn default() -> Self {
        Stamp {
            timestamp: now_rfc3339(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
#[must_use]
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let day =
        palisade_policy::Date::from_days_since_epoch(i64::try_from(secs / 86_400).unwrap_or(0));
    let s = secs % 86_400;
    format!("{day}T{:02}:{:02}:{:02}Z", s / 3600, (s / 60) % 60, s % 60)
}

/// A UUID (version 4 layout) derived from `seed`, so the same scan at the same time gives
/// the same serial number.
fn uuid(seed: &str) -> String {
    let h = Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = crate::digest::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

fn image_version(scan: &ImageScan) -> String {
    scan.manifest_digest
        .clone()
        .or_else(|| scan.config_digest.clone())
        .unwrap_or_default()
}

/// Renders the SBOM.
#[must_use]
pub fn render(scan: &ImageScan, format: Format, stamp: &Stamp) -> String {
    let v = match format {
        Format::CycloneDx => cyclonedx(scan, stamp),
        Format::Spdx => spdx(scan, stamp),
    };
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

fn prop(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

fn cdx_component(p: &Package, i: usize) -> Value {
    let mut props = vec![
        prop("palisade:package:type", p.kind.name()),
        prop("palisade:location:layer", &p.layer),
        prop("palisade:location:path", &p.path),
    ];
    if !p.ecosystem.is_empty() {
        props.push(prop("palisade:osv:ecosystem", &p.ecosystem));
    }
    if let Some(s) = &p.source_name {
        props.push(prop("palisade:package:source-name", s));
    }
    if let Some(s) = &p.source_version {
        props.push(prop("palisade:package:source-version", s));
    }
    if let Some(by) = p.found_by {
        props.push(prop("palisade:package:found-by", by));
    }
    let mut c = json!({
        "type": "library",
        "bom-ref": format!("pkg-{i}-{}", p.purl),
        "name": p.name,
        "version": p.version,
        "purl": p.purl,
        "properties": props,
    });
    if let Some(l) = &p.license {
        c["licenses"] = json!([{"license": {"name": l}}]);
    }
    // CycloneDX has a field for the Maven groupId; `name` is then the artifactId, as
    // Maven's own CycloneDX plugin writes it.
    if p.kind == crate::catalog::PackageType::Jar
        && let Some((group, artifact)) = p.name.split_once(':')
    {
        c["group"] = json!(group);
        c["name"] = json!(artifact);
    }
    c
}

/// CycloneDX 1.6 JSON.
#[must_use]
pub fn cyclonedx(scan: &ImageScan, stamp: &Stamp) -> Value {
    let version = image_version(scan);
    let mut components: Vec<Value> = Vec::new();
    if let Some(os) = &scan.inventory.os {
        let mut c = json!({
            "type": "operating-system",
            "bom-ref": format!("os-{}", os.distro()),
            "name": os.id,
            "version": os.version_id,
            "properties": [prop("palisade:location:path", &os.source)],
        });
        if !os.pretty_name.is_empty() {
            c["description"] = json!(os.pretty_name);
        }
        components.push(c);
    }
    components.extend(
        scan.inventory
            .packages
            .iter()
            .enumerate()
            .map(|(i, p)| cdx_component(p, i)),
    );
    let mut image = json!({
        "type": "container",
        "bom-ref": format!("image-{}", scan.reference),
        "name": scan.reference,
    });
    if !version.is_empty() {
        image["version"] = json!(version);
    }
    let layer_props: Vec<Value> = scan
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| prop(&format!("palisade:image:layer:{i}"), &l.digest))
        .collect();
    if !layer_props.is_empty() {
        image["properties"] = json!(layer_props);
    }
    let refs: Vec<Value> = components
        .iter()
        .filter_map(|c| c.get("bom-ref").cloned())
        .collect();
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", uuid(&format!("{}{version}{}", scan.reference, stamp.timestamp))),
        "version": 1,
        "metadata": {
            "timestamp": stamp.timestamp,
            "tools": {"components": [{"type": "application", "name": "palisade", "version": stamp.tool_version}]},
            "component": image,
        },
        "components": components,
        "dependencies": [{"ref": format!("image-{}", scan.reference), "dependsOn": refs}],
    })
}

/// An SPDX identifier from arbitrary text (`SPDXRef-` + `[A-Za-z0-9.-]`).
fn spdx_id(kind: &str, i: usize, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(60)
        .collect();
    format!("SPDXRef-{kind}-{i}-{clean}")
}

/// SPDX 2.3 JSON.
#[must_use]
pub fn spdx(scan: &ImageScan, stamp: &Stamp) -> Value {
    let version = image_version(scan);
    let image_id = "SPDXRef-Image".to_string();
    let mut image = json!({
        "SPDXID": image_id,
        "name": scan.reference,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": "CONTAINER",
    });
    if !version.is_empty() {
        image["versionInfo"] = json!(version);
    }
    let mut packages = vec![image];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": image_id,
    })];
    if let Some(os) = &scan.inventory.os {
        let id = spdx_id("OperatingSystem", 0, &os.id);
        packages.push(json!({
            "SPDXID": id,
            "name": os.id,
            "versionInfo": os.version_id,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "primaryPackagePurpose": "OPERATING-SYSTEM",
        }));
        relationships.push(json!({"spdxElementId": image_id, "relationshipType": "CONTAINS", "relatedSpdxElement": id}));
    }
    for (i, p) in scan.inventory.packages.iter().enumerate() {
        let id = spdx_id("Package", i, &p.name);
        let mut pkg = json!({
            "SPDXID": id,
            "name": p.name,
            "versionInfo": p.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseDeclared": "NOASSERTION",
            "sourceInfo": format!(
                "{} metadata at /{} in layer {}{}",
                p.kind.name(),
                p.path,
                p.layer,
                p.found_by.map(|b| format!(" (identified by {b})")).unwrap_or_default()
            ),
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": p.purl,
            }],
        });
        if let Some(s) = &p.source_name {
            pkg["comment"] = json!(format!(
                "source package: {s}{}",
                p.source_version
                    .as_ref()
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default()
            ));
        }
        packages.push(pkg);
        relationships.push(json!({"spdxElementId": image_id, "relationshipType": "CONTAINS", "relatedSpdxElement": id}));
    }
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": scan.reference,
        "documentNamespace": format!("https://palisade.dev/spdxdocs/{}", uuid(&format!("{}{version}{}", scan.reference, stamp.timestamp))),
        "creationInfo": {
            "created": stamp.timestamp,
            "creators": [format!("Tool: palisade-{}", stamp.tool_version)],
        },
        "packages": packages,
        "relationships": relationships,
    })
}
