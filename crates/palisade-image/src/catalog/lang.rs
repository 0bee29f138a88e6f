//! Language packages as installed in an image: Python `METADATA`/`PKG-INFO`, conda
//! `conda-meta/*.json`, npm `node_modules/**/package.json`, Go build info.

use super::golang::GoBuildInfo;
use super::rust::Crate;
use super::{Found, Package, PackageType, purl};

/// Whether `dir` is a package directory directly under `node_modules`
/// (`…/node_modules/NAME` or `…/node_modules/@SCOPE/NAME`).
pub(crate) fn npm_package_dir(dir: &str) -> bool {
    let mut parts = dir.rsplit('/');
    let (Some(name), Some(up)) = (parts.next(), parts.next()) else {
        return false;
    };
    if name.is_empty() || name.starts_with('.') {
        return false;
    }
    up == "node_modules" || (up.starts_with('@') && parts.next() == Some("node_modules"))
}

/// PEP 503 names, normalised exactly as the vulnerability matcher normalises them.
pub use palisade_vuln::ecosystem::pep503;

/// Core metadata (`METADATA`, `PKG-INFO`): RFC 822 headers up to the first blank line.
pub(crate) fn python(data: &[u8], at: &Found<'_>, out: &mut Vec<Package>) {
    let text = String::from_utf8_lossy(data);
    let mut name = None;
    let mut version = None;
    let mut license = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        match k.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(v.trim().to_string()),
            "version" => version = Some(v.trim().to_string()),
            "license-expression" => license = Some(v.trim().to_string()),
            "license" if license.is_none() && !v.trim().is_empty() && v.len() < 100 => {
                license = Some(v.trim().to_string());
            }
            _ => {}
        }
    }
    let (Some(name), Some(version)) = (name, version) else {
        return;
    };
    if name.is_empty() || version.is_empty() {
        return;
    }
    out.push(Package {
        purl: purl::build("pypi", None, &pep503(&name), &version, &[]),
        name,
        version,
        kind: PackageType::Python,
        source_name: None,
        source_version: None,
        ecosystem: "PyPI".into(),
        license,
        arch: None,
        layer: at.layer.to_string(),
        path: at.path.to_string(),
        found_by: None,
    });
}

/// A conda package record (`conda-meta/NAME-VERSION-BUILD.json`).
pub(crate) fn conda(data: &[u8], at: &Found<'_>, out: &mut Vec<Package>) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let (name, version) = (s("name"), s("version"));
    if name.is_empty() || version.is_empty() {
        return;
    }
    let build = s("build");
    let subdir = s("subdir");
    let channel = s("channel");
    let q = [
        ("build", build.as_str()),
        ("subdir", subdir.as_str()),
        ("channel", channel.as_str()),
    ];
    out.push(Package {
        purl: purl::build("conda", None, &name, &version, &q),
        name,
        version,
        kind: PackageType::Conda,
        source_name: None,
        source_version: None,
        ecosystem: String::new(),
        license: Some(s("license")).filter(|l| !l.is_empty()),
        arch: Some(subdir).filter(|a| !a.is_empty()),
        layer: at.layer.to_string(),
        path: at.path.to_string(),
        found_by: None,
    });
}

/// An installed npm package's `package.json`.
pub(crate) fn npm(data: &[u8], at: &Found<'_>, out: &mut Vec<Package>) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let (name, version) = (s("name"), s("version"));
    if name.is_empty() || version.is_empty() {
        return;
    }
    let (ns, base) = match name.split_once('/') {
        Some((scope, n)) if scope.starts_with('@') => (Some(scope), n),
        _ => (None, name.as_str()),
    };
    let license = match v.get("license") {
        Some(serde_json::Value::String(l)) => Some(l.clone()),
        Some(serde_json::Value::Object(o)) => {
            o.get("type").and_then(|t| t.as_str()).map(str::to_string)
        }
        _ => None,
    };
    out.push(Package {
        purl: purl::build("npm", ns, base, &version, &[]),
        name: name.clone(),
        version,
        kind: PackageType::Npm,
        source_name: None,
        source_version: None,
        ecosystem: "npm".into(),
        license,
        arch: None,
        layer: at.layer.to_string(),
        path: at.path.to_string(),
        found_by: None,
    });
}

fn go_purl(path: &str, version: &str) -> String {
    match path.rsplit_once('/') {
        Some((ns, name)) => purl::build("golang", Some(ns), name, version, &[]),
        None => purl::build("golang", None, path, version, &[]),
    }
}

/// The modules and toolchain of a Go binary.
pub(crate) fn go(info: &GoBuildInfo, at: &Found<'_>, out: &mut Vec<Package>) {
    let mut push = |name: &str, version: &str, kind: PackageType, purl: String| {
        out.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            kind,
            source_name: None,
            source_version: None,
            ecosystem: "Go".into(),
            purl,
            license: None,
            arch: None,
            layer: at.layer.to_string(),
            path: at.path.to_string(),
            found_by: None,
        });
    };
    if let Some(v) = info.go_version.strip_prefix("go") {
        // OSV lists Go toolchain vulnerabilities under the `stdlib` module.
        let v = v.split_whitespace().next().unwrap_or(v);
        push(
            "stdlib",
            &format!("v{v}"),
            PackageType::GoStdlib,
            go_purl("stdlib", &format!("v{v}")),
        );
    }
    if let Some(m) = &info.main
        && !m.path.is_empty()
    {
        // `(devel)` is what `go build` in a checkout records.
        push(
            &m.path,
            &m.version,
            PackageType::Go,
            go_purl(&m.path, &m.version),
        );
    }
    for d in &info.deps {
        let (p, v) = d
            .replaced_by
            .as_ref()
            .map_or((d.path.as_str(), d.version.as_str()), |(p, v)| {
                (p.as_str(), v.as_str())
            });
        if !p.is_empty() && !p.starts_with('.') && !p.starts_with('/') {
            push(p, v, PackageType::Go, go_purl(p, v));
        }
    }
}

/// The crates of a Rust binary, as Trivy reports them: build dependencies (build scripts,
/// proc macros) are left out, since their code is not in the binary; the root package is
/// kept. Only crates from crates.io get an OSV ecosystem (`crates.io`); crates from git,
/// a path or another registry are listed (with their source in `found_by`) but not
/// matched, since an advisory for a crates.io name says nothing about them.
pub(crate) fn rust(crates: &[Crate], at: &Found<'_>, out: &mut Vec<Package>) {
    for c in crates.iter().filter(|c| !c.build) {
        let (ecosystem, found_by) = match c.source.as_str() {
            "crates.io" => ("crates.io", "cargo-auditable"),
            "git" => ("", "cargo-auditable: git source"),
            "local" => ("", "cargo-auditable: local source"),
            "registry" => ("", "cargo-auditable: alternative registry"),
            _ => ("", "cargo-auditable: other source"),
        };
        out.push(Package {
            name: c.name.clone(),
            version: c.version.clone(),
            kind: PackageType::Cargo,
            source_name: None,
            source_version: None,
            ecosystem: ecosystem.into(),
            purl: purl::build("cargo", None, &c.name, &c.version, &[]),
            license: None,
            arch: None,
            layer: at.layer.to_string(),
            path: at.path.to_string(),
            found_by: Some(found_by),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_dirs() {
        assert!(npm_package_dir("app/node_modules/express"));
        assert!(npm_package_dir("node_modules/@types/node"));
        assert!(!npm_package_dir("app/node_modules/express/lib"));
        assert!(!npm_package_dir("app"));
        assert!(!npm_package_dir("node_modules/.bin"));
    }

    #[test]
    fn python_metadata() {
        let mut out = Vec::new();
        let at = Found {
            path: "usr/lib/python3/dist-packages/Foo_Bar-1.0.dist-info/METADATA",
            layer: "l",
        };
        python(
            b"Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0\nLicense: MIT\n\nName: not-this\n",
            &at,
            &mut out,
        );
        assert_eq!(out[0].name, "Foo_Bar");
        assert_eq!(out[0].purl, "pkg:pypi/foo-bar@1.0");
        assert_eq!(out[0].license.as_deref(), Some("MIT"));
        python(b"garbage\xff", &at, &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn conda_and_npm() {
        let mut out = Vec::new();
        let at = Found {
            path: "opt/conda/conda-meta/numpy-1.26.4-py311h.json",
            layer: "l",
        };
        conda(br#"{"name":"numpy","version":"1.26.4","build":"py311h","subdir":"linux-64","channel":"https://conda.anaconda.org/conda-forge"}"#, &at, &mut out);
        assert!(
            out[0]
                .purl
                .starts_with("pkg:conda/numpy@1.26.4?build=py311h&channel=")
        );
        npm(
            br#"{"name":"@types/node","version":"20.1.0","license":"MIT"}"#,
            &at,
            &mut out,
        );
        assert_eq!(out[1].purl, "pkg:npm/%40types/node@20.1.0");
        npm(b"[1,2]", &at, &mut out);
        assert_eq!(out.len(), 2);
    }
}
