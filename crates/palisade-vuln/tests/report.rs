//! Lock files, purls, findings (`--ignore-unfixed`, the ignore file with expiry) over the own
//! fixtures.

use std::path::{Path, PathBuf};

use palisade_policy::{Date, Severity};
use palisade_vuln::findings::{IgnoreFile, ReportOptions, to_findings};
use palisade_vuln::lockfile::{package_from_purl, parse};
use palisade_vuln::{Database, Package, match_packages};

fn fixture(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

fn read(p: &Path) -> Vec<Package> {
    parse(p, &std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn lock_files_pin_exact_versions_with_lines() {
    let req = read(&fixture("lock/requirements.txt"));
    let got: Vec<_> = req
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.line))
        .collect();
    assert_eq!(
        got,
        vec![
            ("torch", "1.13.0", 2),
            ("MLflow", "2.9.1", 3),
            ("numpy", "1.26.4", 6)
        ]
    );
    let npm = read(&fixture("lock/package-lock.json"));
    let got: Vec<_> = npm
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert!(got.contains(&("lodash", "4.17.20")) && got.contains(&("lodash", "4.17.21")));
    assert!(got.contains(&("@scope/thing", "1.2.3")));
    assert_eq!(npm.iter().find(|p| p.version == "4.17.20").unwrap().line, 6);
    let go = read(&fixture("lock/go.sum"));
    assert_eq!(go.len(), 1);
    assert_eq!(
        (go[0].ecosystem.as_str(), go[0].version.as_str()),
        ("Go", "v0.22.0")
    );
    let poetry = read(&fixture("lock/poetry.lock"));
    let got: Vec<_> = poetry
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.line))
        .collect();
    assert_eq!(got, vec![("mlflow", "2.9.1", 2), ("torch", "1.13.1", 10)]);
    let pipenv = read(&fixture("lock/Pipfile.lock"));
    assert_eq!(pipenv.len(), 2);
    // Cargo.lock and uv.lock: registry packages only (not the workspace member, the git
    // source or the editable project), each at the line of its `name`.
    let rows = |ps: &[Package]| -> Vec<(String, String, String, u32)> {
        ps.iter()
            .map(|p| {
                (
                    p.ecosystem.clone(),
                    p.name.clone(),
                    p.version.clone(),
                    p.line,
                )
            })
            .collect()
    };
    let s = |a: &str, b: &str, c: &str, l: u32| (a.to_string(), b.to_string(), c.to_string(), l);
    assert_eq!(
        rows(&read(&fixture("lock/Cargo.lock"))),
        vec![
            s("crates.io", "smallvec", "1.6.0", 14),
            s("crates.io", "time", "0.1.43", 25)
        ]
    );
    assert_eq!(
        rows(&read(&fixture("lock/uv.lock"))),
        vec![
            s("PyPI", "mlflow", "2.9.1", 5),
            s("PyPI", "requests", "2.31.0", 28)
        ]
    );
    // yarn.lock v1 and Berry, pnpm-lock.yaml v9 and v5: registry packages at their key line;
    // scoped names, peer suffixes, the workspace entry and `__metadata` handled.
    assert_eq!(
        rows(&read(&fixture("lock/yarn.lock"))),
        vec![
            s("npm", "@babel/code-frame", "7.12.13", 5),
            s("npm", "lodash", "4.17.20", 12)
        ]
    );
    assert_eq!(
        rows(&read(&fixture("lock/berry/yarn.lock"))),
        vec![s("npm", "lodash", "4.17.20", 8)]
    );
    assert_eq!(
        rows(&read(&fixture("lock/pnpm-lock.yaml"))),
        vec![
            s("npm", "@babel/core", "7.24.0", 17),
            s("npm", "lodash", "4.17.20", 21),
            s("npm", "react-dom", "18.2.0", 24)
        ]
    );
    assert_eq!(
        rows(&read(&fixture("lock/pnpm-v5/pnpm-lock.yaml"))),
        vec![
            s("npm", "lodash", "4.17.20", 11),
            s("npm", "@types/node", "20.1.0", 15),
            s("npm", "react-dom", "18.2.0", 19)
        ]
    );
    // gradle.lockfile: Maven coordinates, comments and the `empty=` line skipped.
    assert_eq!(
        rows(&read(&fixture("lock/gradle.lockfile"))),
        vec![
            s(
                "Maven",
                "com.fasterxml.jackson.core:jackson-databind",
                "2.13.4.2",
                4
            ),
            s("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1", 5),
            s("Maven", "org.apache.logging.log4j:log4j-api", "2.17.1", 6)
        ]
    );
    // go.mod: single and block `require`s, comments and quotes dropped, `replace` not read.
    assert_eq!(
        rows(&read(&fixture("lock/go.mod"))),
        vec![
            s("Go", "github.com/gin-gonic/gin", "v1.9.1", 5),
            s("Go", "golang.org/x/net", "v0.22.0", 8),
            s("Go", "golang.org/x/text", "v0.14.0", 9)
        ]
    );
    // Errors name the file and what was expected.
    let e = parse(Path::new("x/package-lock.json"), "{nope").unwrap_err();
    assert!(
        e.starts_with("x/package-lock.json:1:") && e.contains("expected package-lock.json"),
        "{e}"
    );
    assert!(
        parse(Path::new("Gemfile.lock"), "")
            .unwrap_err()
            .contains("not a lock file")
    );
}

#[test]
fn purls_map_to_osv_ecosystems() {
    let p = package_from_purl(
        "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl",
    )
    .unwrap();
    assert_eq!(
        (p.ecosystem.as_str(), p.match_name()),
        ("Debian:12", "openssl")
    );
    let p = package_from_purl("pkg:apk/alpine/busybox@1.36.1-r28?distro=3.20.3").unwrap();
    assert_eq!(p.ecosystem, "Alpine:v3.20");
    let p = package_from_purl("pkg:npm/%40scope/thing@1.2.3").unwrap();
    assert_eq!(p.name, "@scope/thing");
    let p = package_from_purl("pkg:golang/golang.org/x/net@v0.22.0").unwrap();
    assert_eq!(
        (p.ecosystem.as_str(), p.name.as_str()),
        ("Go", "golang.org/x/net")
    );
    assert_eq!(
        package_from_purl("pkg:pypi/torch@1.0").unwrap().ecosystem,
        "PyPI"
    );
    assert!(package_from_purl("torch==1.0").is_err());
    assert!(package_from_purl("pkg:pypi/torch").is_err());
}

fn db(dir: &tempfile::TempDir) -> Database {
    let path = dir.path().join("v.db");
    palisade_vuln::import::import(&[fixture("osv")], &path).unwrap();
    Database::open(&path).unwrap()
}

#[test]
fn findings_ignore_file_expiry_and_unfixed() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir);
    let mut packages = read(&fixture("lock/requirements.txt"));
    packages.extend(read(&fixture("lock/package-lock.json")));
    let mut deb = Package::new("Debian:12", "libssl3", "3.0.11-1");
    deb.source_name = Some("openssl".into());
    deb.file = "registry.local/ml:1".into();
    deb.layer = Some("sha256:abc/var/lib/dpkg/status".into());
    packages.push(deb);
    packages.push(Package::new("Go", "golang.org/x/net", "v0.1.0"));
    let report = match_packages(&db, &packages).unwrap();
    let all = to_findings(&packages, &report.matches, &ReportOptions::default());
    let msgs: Vec<_> = all.findings.iter().map(|f| f.message.clone()).collect();
    assert_eq!(all.findings.len(), 4, "{msgs:#?}");
    let mlflow = all
        .findings
        .iter()
        .find(|f| f.message.starts_with("MLflow 2.9.1"))
        .unwrap();
    assert_eq!(mlflow.rule.code, "PAL700");
    assert_eq!(mlflow.severity, Severity::Critical);
    assert_eq!(
        (mlflow.location.line, &*mlflow.location.file),
        (
            3,
            fixture("lock/requirements.txt")
                .display()
                .to_string()
                .as_str()
        )
    );
    assert!(
        mlflow
            .message
            .contains("CVE-2023-6909 (GHSA-gggg-hhhh-iiii)")
            && mlflow.message.contains("fixed in 2.9.2")
    );
    let deb = all
        .findings
        .iter()
        .find(|f| f.message.starts_with("libssl3"))
        .unwrap();
    assert_eq!(
        deb.location.member.as_deref(),
        Some("sha256:abc/var/lib/dpkg/status")
    );
    // The same facts as fields: the binary package, the source package the advisory names,
    // the fixed version and the CVSS vector the severity was computed from.
    let v = deb.vulnerability.as_deref().expect("vulnerability details");
    assert_eq!(
        (v.id.as_str(), v.aliases.clone()),
        ("CVE-2026-0001", vec!["DSA-9001-1".to_string()])
    );
    assert_eq!(
        (
            v.package.ecosystem.as_str(),
            v.package.name.as_str(),
            v.package.source_name.as_deref()
        ),
        ("Debian:12", "libssl3", Some("openssl"))
    );
    assert_eq!(
        (v.fixed_version.as_deref(), v.status),
        (Some("3.0.15-1~deb12u1"), "fixed")
    );
    assert_eq!(
        (v.severity_source.as_str(), v.cvss_score),
        ("CVSS_V3", Some(9.8))
    );
    assert_eq!(
        v.cvss_vector.as_deref(),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    );
    assert_eq!(v.url, "https://osv.dev/vulnerability/CVE-2026-0001");
    let go = all
        .findings
        .iter()
        .find(|f| f.message.starts_with("golang.org/x/net"))
        .unwrap();
    // The advisory has only a CVSS v4.0 vector: its computed score gives the severity.
    assert_eq!(go.severity, Severity::High);
    assert!(go.message.contains("[high, CVSS_V4 8.7]"), "{}", go.message);
    let v = go.vulnerability.as_deref().expect("vulnerability details");
    assert_eq!(
        (v.severity_source.as_str(), v.cvss_score),
        ("CVSS_V4", Some(8.7))
    );

    let ignore = IgnoreFile::parse(
        "ignore.yaml",
        "ignore:\n  - id: CVE-2026-0003\n    packages: [lodash@4.17.20]\n    justification: not reachable\n  - id: DSA-9001-1\n    justification: patched in our base image\n    expires: 2026-01-01\n",
    )
    .unwrap();
    let opts = ReportOptions {
        ignore: Some(&ignore),
        today: Some(Date::parse("2026-06-01").unwrap()),
        ..ReportOptions::default()
    };
    let r = to_findings(&packages, &report.matches, &opts);
    assert_eq!(r.suppressed, 1, "lodash ignored");
    assert_eq!(
        r.findings.len(),
        3,
        "the expired DSA entry no longer applies"
    );
    assert_eq!(
        r.notices,
        vec![
            "ignore.yaml:5: ignore entry for DSA-9001-1 expired on 2026-01-01 and no longer applies"
        ]
    );
    let before = ReportOptions {
        today: Some(Date::parse("2025-12-01").unwrap()),
        ..opts.clone()
    };
    assert_eq!(
        to_findings(&packages, &report.matches, &before)
            .findings
            .len(),
        2
    );

    let mut unfixed = db.lookup("PyPI", "mlflow").unwrap();
    assert_eq!(unfixed.len(), 1);
    unfixed[0].affected[0].ranges[0].events.pop();
    let (m, _) = palisade_vuln::matcher::match_advisories(
        0,
        &Package::new("PyPI", "mlflow", "2.9.1"),
        &unfixed,
    );
    assert_eq!(m[0].fixed, None);
    let pk = vec![Package::new("PyPI", "mlflow", "2.9.1")];
    let opts = ReportOptions {
        ignore_unfixed: true,
        ..ReportOptions::default()
    };
    let r = to_findings(&pk, &m, &opts);
    assert!(r.findings.is_empty());
    assert_eq!(r.suppressed, 1);
}

#[test]
fn ignore_file_errors_name_file_and_line() {
    let e = IgnoreFile::parse("ig.yaml", "ignore:\n  - id: CVE-1\n  - justification: x\n  - id: CVE-2\n    justification: y\n    expires: soon\n  - id: CVE-3\n    justification: z\n    status: maybe\n").unwrap_err();
    assert_eq!(e.len(), 4, "{e:#?}");
    assert!(e[0].starts_with("ig.yaml:2:") && e[0].contains("justification"));
    assert!(e[1].starts_with("ig.yaml:3:") && e[1].contains("no `id`"));
    assert!(e[2].contains("invalid date `soon`"));
    assert!(e[3].contains("unknown status `maybe`"));
    assert!(IgnoreFile::parse("ig.yaml", "foo: 1\n").unwrap_err()[0].contains("`ignore:` list"));
}
