//! The vulnerability stage end to end: `palisade scan image` and `palisade sbom --db` on images
//! built here (dpkg, apk, Python and npm packages with known-vulnerable versions), and
//! `palisade scan DIR` on lock files, against a database imported from palisade-vuln's OSV
//! fixtures. The expected findings follow from those fixtures: each advisory's affected
//! range, aliases, severity and fixed version.

use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_image::build::{BuiltImage, Entry, layer_tar};
use palisade_image::decode::Compression;
use serde_json::Value;

// Debian's `docker-registry` on a free loopback port, as every crate's tests start it.
#[path = "../../palisade-sign/tests/support/docker_registry.rs"]
mod docker_registry;
use docker_registry::Registry;

#[path = "../../palisade-image/tests/common/cyclonedx_schema.rs"]
mod cyclonedx_schema;
use cyclonedx_schema::cyclonedx_validator;

fn vuln_fixture(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../palisade-vuln/tests/fixtures")
        .join(p)
}

/// Runs the binary with the user's cache dir (and registry credentials) pointed into `home`,
/// so a database or credentials the machine may have never leak into a test.
fn palisade(home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("DOCKER_CONFIG", home.join("docker"))
        .env("REGISTRY_AUTH_FILE", home.join("auth.json"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A database from the fixtures plus `extra` advisories (file name, JSON).
fn database(dir: &Path, extra: &[(&str, &str)]) -> String {
    let db = dir.join("vuln.db");
    let more = dir.join("more-advisories");
    std::fs::create_dir_all(&more).unwrap();
    for (name, json) in extra {
        std::fs::write(more.join(name), json).unwrap();
    }
    let (code, _, err) = palisade(
        dir,
        &[
            "db",
            "import",
            vuln_fixture("osv").to_str().unwrap(),
            more.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    db.display().to_string()
}

const DPKG_STATUS: &str = "\
Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2

Package: openssl
Status: install ok installed
Architecture: amd64
Version: 3.0.15-1~deb12u1

Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b2
";

/// A Debian 12 image: libssl3 from a vulnerable openssl source, a fixed openssl, mlflow
/// 2.9.1 (dist-info) and lodash 4.17.20 (node_modules); `User` set so no config rule fires.
fn debian_image(dir: &Path) -> String {
    debian_built_image()
        .write_oci_layout(&dir.join("debian"), Some("v1"))
        .unwrap();
    format!("oci:{}:v1", dir.join("debian").display())
}

fn debian_built_image() -> BuiltImage {
    let l = vec![
        Entry::file(
            "etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
        ),
        Entry::file("var/lib/dpkg/status", DPKG_STATUS),
        Entry::file(
            "usr/local/lib/python3.11/site-packages/mlflow-2.9.1.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: mlflow\nVersion: 2.9.1\n",
        ),
        Entry::file(
            "usr/local/lib/node_modules/lodash/package.json",
            r#"{"name": "lodash", "version": "4.17.20"}"#,
        ),
    ];
    BuiltImage::new(
        vec![(layer_tar(&l).unwrap(), Compression::Gzip)],
        serde_json::json!({"User": "10001"}),
    )
    .unwrap()
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// (severity, message, member path after the layer digest) of every PAL700 finding.
fn vulns(report: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "PAL700")
        .map(|f| {
            let member = f["member"].as_str().unwrap_or("");
            let path = member.split_once('/').map_or("", |(_, p)| p).to_string();
            (
                f["severity"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
                path,
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn image_vulnerabilities_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = database(d, &[]);
    let image = debian_image(d);
    let (code, out, err) = palisade(d, &["scan", "image", &image, "--db", &db, "-f", "json"]);
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    let mut want = vec![
        (
            "critical".to_string(),
            "mlflow 2.9.1: CVE-2023-6909 (GHSA-gggg-hhhh-iiii) [critical, database CRITICAL]; fixed in 2.9.2: mlflow path traversal (GHSA copy of PYSEC-2023-252)".to_string(),
            "usr/local/lib/python3.11/site-packages/mlflow-2.9.1.dist-info/METADATA".to_string(),
        ),
        (
            "critical".to_string(),
            "libssl3 3.0.11-1~deb12u2 (source openssl 3.0.11-1~deb12u2): CVE-2026-0001 (DSA-9001-1) [critical, CVSS_V3 9.8]; fixed in 3.0.15-1~deb12u1: openssl security update".to_string(),
            "var/lib/dpkg/status".to_string(),
        ),
        (
            "high".to_string(),
            "lodash 4.17.20: CVE-2026-0003 (GHSA-aaaa-bbbb-cccc) [high, database HIGH]; fixed in 4.17.21: lodash prototype pollution".to_string(),
            "usr/local/lib/node_modules/lodash/package.json".to_string(),
        ),
    ];
    want.sort();
    assert_eq!(vulns(&report), want);
    // libssl3, openssl, bash, mlflow and lodash went to the matcher.
    assert!(
        report["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "checked 5 package(s) against 5 advisories"),
        "{}",
        report["notices"]
    );
    // Every finding is about the image reference and names the layer it came from.
    for f in report["findings"].as_array().unwrap() {
        assert_eq!(f["file"], image.as_str());
        assert!(f["member"].as_str().unwrap().starts_with("sha256:"), "{f}");
    }

    // The same facts as fields, for jq and dashboards: the binary package and the source
    // package the Debian advisory names, installed and fixed versions, the CVSS score.
    let libssl = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["vulnerability"]["id"] == "CVE-2026-0001")
        .expect("libssl3 finding");
    let v = &libssl["vulnerability"];
    assert_eq!(v["aliases"], serde_json::json!(["DSA-9001-1"]));
    assert_eq!(v["package"]["name"], "libssl3");
    assert_eq!(v["package"]["sourceName"], "openssl");
    assert_eq!(v["package"]["version"], "3.0.11-1~deb12u2");
    assert_eq!(v["package"]["ecosystem"], "Debian:12");
    assert!(
        v["package"]["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/debian/libssl3@")
    );
    assert_eq!(v["fixedVersion"], "3.0.15-1~deb12u1");
    assert_eq!(v["status"], "fixed");
    assert_eq!(
        (&v["severitySource"], &v["cvssScore"]),
        (&"CVSS_V3".into(), &9.8.into())
    );
    assert_eq!(v["url"], "https://osv.dev/vulnerability/CVE-2026-0001");

    // SARIF: one result per vulnerability, under a rule of its own (`PAL700/<id>`, scored
    // from its CVSS vector), with the whole message and the fields as properties.
    let (code, out, _) = palisade(d, &["scan", "image", &image, "--db", &db, "-f", "sarif"]);
    assert_eq!(code, 1);
    let sarif = json(&out);
    let results: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"].as_str().unwrap().starts_with("PAL700/"))
        .collect();
    let texts: Vec<&str> = results
        .iter()
        .map(|r| r["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    let libssl = results
        .iter()
        .find(|r| r["ruleId"] == "PAL700/CVE-2026-0001")
        .expect("rule per vulnerability");
    assert_eq!(
        libssl["properties"]["vulnerability"]["package"]["sourceName"],
        "openssl"
    );
    let rule = &sarif["runs"][0]["tool"]["driver"]["rules"]
        [usize::try_from(libssl["ruleIndex"].as_u64().unwrap()).unwrap()];
    assert_eq!(rule["id"], "PAL700/CVE-2026-0001");
    assert_eq!(rule["properties"]["security-severity"], "9.8");
    for (_, message, _) in &want {
        assert!(
            texts.iter().any(|t| t.contains(message.as_str())),
            "{message}"
        );
    }
    // JUnit and the table carry the same facts.
    let (_, junit, _) = palisade(d, &["scan", "image", &image, "--db", &db, "-f", "junit"]);
    let (_, table, _) = palisade(
        d,
        &["scan", "image", &image, "--db", &db, "--color", "never"],
    );
    for needle in [
        "CVE-2026-0001",
        "DSA-9001-1",
        "fixed in 3.0.15-1~deb12u1",
        "CVE-2023-6909",
        "4.17.21",
    ] {
        assert!(junit.contains(needle), "junit lacks {needle}");
    }
    // The table is Trivy's grid: a row per vulnerability and package, fixed version in its
    // column (aliases stay in the structured outputs).
    assert!(table.contains("PAL700 known-vulnerability"), "{table}");
    for needle in [
        "CVE-2026-0001",
        "3.0.15-1~deb12u1",
        "CVE-2023-6909",
        "4.17.21",
    ] {
        assert!(table.contains(needle), "table lacks {needle}");
    }
    // --fail-on critical still fails (two critical); --ignore-unfixed keeps fixed ones;
    // --select image leaves the vulnerability stage out.
    let (code, _, _) = palisade(
        d,
        &[
            "scan",
            "image",
            &image,
            "--db",
            &db,
            "--fail-on",
            "critical",
        ],
    );
    assert_eq!(code, 1);
    let (code, out, _) = palisade(
        d,
        &[
            "scan", "image", &image, "--db", &db, "--select", "image", "-f", "json",
        ],
    );
    assert_eq!(code, 0);
    assert!(vulns(&json(&out)).is_empty());
    // The ignore file drops one by alias.
    let ignore = d.join("ignore.yaml");
    std::fs::write(
        &ignore,
        "ignore:\n  - id: DSA-9001-1\n    justification: libssl3 is not used by the server\n",
    )
    .unwrap();
    let (_, out, _) = palisade(
        d,
        &[
            "scan",
            "image",
            &image,
            "--db",
            &db,
            "--ignore-file",
            ignore.to_str().unwrap(),
            "-f",
            "json",
        ],
    );
    let report = json(&out);
    assert_eq!(vulns(&report).len(), 2);
    assert_eq!(report["summary"]["suppressed"], 1, "{}", report["summary"]);
}

#[test]
fn alpine_packages_match_by_origin_in_the_alpine_release() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = database(d, &[]);
    let l = vec![
        Entry::file("etc/os-release", "ID=alpine\nVERSION_ID=3.20.3\n"),
        Entry::file(
            "lib/apk/db/installed",
            "P:busybox-binsh\nV:1.36.1-r28\no:busybox\n\nP:busybox\nV:1.36.1-r29\no:busybox\n",
        ),
    ];
    let img = BuiltImage::new(
        vec![(layer_tar(&l).unwrap(), Compression::Gzip)],
        serde_json::json!({"User": "10001"}),
    )
    .unwrap();
    img.write_docker_archive(&d.join("alpine.tar"), "t/alpine:1")
        .unwrap();
    let tar = d.join("alpine.tar").display().to_string();
    let (code, out, err) = palisade(d, &["scan", "image", &tar, "--db", &db, "-f", "json"]);
    // LOW is below the default --fail-on high.
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        vulns(&json(&out)),
        vec![(
            "low".to_string(),
            "busybox-binsh 1.36.1-r28 (source busybox 1.36.1-r28): CVE-2026-0002 (ALPINE-CVE-2026-0002) [low, database LOW]; fixed in 1.36.1-r29: busybox: a heap overflow in the shell".to_string(),
            "lib/apk/db/installed".to_string()
        )]
    );
}

#[test]
fn without_a_database_the_scan_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let l = vec![
        Entry::file("etc/os-release", "ID=debian\nVERSION_ID=12\n"),
        Entry::file("var/lib/dpkg/status", DPKG_STATUS),
        Entry::file(
            "models/m.pkl",
            b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.".to_vec(),
        ),
    ];
    let img = BuiltImage::new(
        vec![(layer_tar(&l).unwrap(), Compression::Gzip)],
        serde_json::json!({"User": "10001"}),
    )
    .unwrap();
    img.write_oci_layout(&d.join("img"), Some("v1")).unwrap();
    let image = format!("oci:{}:v1", d.join("img").display());
    // No database at the default location: a notice saying how to get one; the model
    // finding is still reported and decides the exit code.
    let (code, out, err) = palisade(d, &["scan", "image", &image, "-f", "json"]);
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    let notices: Vec<&str> = report["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notices.iter().any(
            |n| n.starts_with("vulnerabilities not checked: no database at ")
                && n.contains("palisade db update")
                && n.contains("palisade db import")
        ),
        "{notices:?}"
    );
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"PAL801"), "{codes:?}");
    // A database named with --db that is not there is an input error (exit 2); the other
    // findings are still reported.
    let missing = d.join("nope.db");
    let (code, out, _) = palisade(
        d,
        &[
            "scan",
            "image",
            &image,
            "--db",
            missing.to_str().unwrap(),
            "-f",
            "json",
        ],
    );
    assert_eq!(code, 2);
    let report = json(&out);
    assert!(
        report["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot open the vulnerability database"),
        "{}",
        report["errors"]
    );
    assert_eq!(report["errors"][0]["file"], missing.to_str().unwrap());
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "PAL801")
    );
}

#[test]
fn sbom_lists_vulnerabilities_of_its_components() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = database(d, &[]);
    let image = debian_image(d);
    let (code, out, err) = palisade(d, &["sbom", &image, "--db", &db]);
    assert_eq!(code, 0, "{err}");
    let bom = json(&out);
    let vulns = bom["vulnerabilities"].as_array().unwrap();
    let ids: Vec<&str> = vulns.iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["CVE-2023-6909", "CVE-2026-0001", "CVE-2026-0003"]);
    // Each names the component it affects by bom-ref, at the installed version.
    for v in vulns {
        for a in v["affects"].as_array().unwrap() {
            let component = bom["components"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["bom-ref"] == a["ref"])
                .unwrap_or_else(|| panic!("no component {}", a["ref"]));
            assert_eq!(a["versions"][0]["version"], component["version"]);
        }
    }
    let ssl = &vulns[1];
    assert_eq!(ssl["references"][0]["id"], "DSA-9001-1");
    assert_eq!(ssl["ratings"][0]["score"], 9.8);
    assert_eq!(ssl["ratings"][0]["method"], "CVSSv31");
    assert_eq!(ssl["ratings"][0]["severity"], "critical");
    assert_eq!(
        ssl["recommendation"],
        "Upgrade openssl to 3.0.15-1~deb12u1 or later."
    );
    let affected: Vec<&str> = ssl["affects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["ref"].as_str().unwrap())
        .collect();
    assert_eq!(affected.len(), 1);
    assert!(
        affected[0].contains("pkg:deb/debian/libssl3@"),
        "{affected:?}"
    );
    if let Some(v) = cyclonedx_validator() {
        let errors: Vec<String> = v.iter_errors(&bom).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
    // Without --db the SBOM has no vulnerabilities; SPDX has no place for them.
    let (_, out, _) = palisade(d, &["sbom", &image]);
    assert!(json(&out).get("vulnerabilities").is_none());
    let (code, _, err) = palisade(d, &["sbom", &image, "--db", &db, "--format", "spdx"]);
    assert_eq!(code, 2);
    assert!(err.contains("SPDX"), "{err}");
}

const SMALLVEC: &str = r#"{"id": "RUSTSEC-2021-0003", "modified": "2021-02-05T00:00:00Z",
 "aliases": ["CVE-2021-25900", "GHSA-43w2-9j62-hq99"],
 "summary": "Buffer overflow in SmallVec::insert_many",
 "affected": [{"package": {"ecosystem": "crates.io", "name": "smallvec"},
   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0.3.0"}, {"fixed": "0.6.14"}, {"introduced": "1.0.0"}, {"fixed": "1.6.1"}]}]}],
 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}"#;

const LOG4SHELL: &str = r#"{"id": "GHSA-jfh8-c2jp-5v3q", "modified": "2021-12-10T00:00:00Z",
 "aliases": ["CVE-2021-44228"], "summary": "Remote code injection in Log4j",
 "affected": [{"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.3.1"},
     {"introduced": "2.4"}, {"fixed": "2.12.2"}, {"introduced": "2.13.0"}, {"fixed": "2.15.0"}]}]}],
 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}]}"#;

/// A Rust binary built with `cargo auditable` (its `.dep-v0` section written here, holding
/// what the tool wrote for a real binary): smallvec 1.6.0 from crates.io is matched; the
/// root crate (a path dependency) is listed but not matched; the build dependencies (cc,
/// libc) are not in the binary and not listed, as Trivy does.
#[test]
fn rust_binaries_are_matched_like_go_modules() {
    use palisade_image::build::exe::{CARGO_AUDITABLE_JSON, auditable_binary};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = database(d, &[("RUSTSEC-2021-0003.json", SMALLVEC)]);
    let l = vec![
        Entry::file("etc/os-release", "ID=debian\nVERSION_ID=12\n"),
        Entry::File {
            path: "usr/local/bin/audbin".into(),
            data: auditable_binary(CARGO_AUDITABLE_JSON, 100_000),
            mode: 0o755,
        },
    ];
    let img = BuiltImage::new(
        vec![(layer_tar(&l).unwrap(), Compression::Zstd)],
        serde_json::json!({"User": "10001"}),
    )
    .unwrap();
    img.write_oci_layout(&d.join("rust"), Some("v1")).unwrap();
    let image = format!("oci:{}:v1", d.join("rust").display());
    let (code, out, err) = palisade(d, &["scan", "image", &image, "--db", &db, "-f", "json"]);
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    assert_eq!(
        vulns(&report),
        vec![(
            "critical".to_string(),
            "smallvec 1.6.0: CVE-2021-25900 (GHSA-43w2-9j62-hq99, RUSTSEC-2021-0003) [critical, CVSS_V3 9.8]; fixed in 1.6.1: Buffer overflow in SmallVec::insert_many".to_string(),
            "usr/local/bin/audbin".to_string()
        )]
    );
    assert_eq!(
        report["images"][0]["packages"],
        serde_json::json!({"total": 2, "byType": {"cargo": 2}, "byEcosystem": {"crates.io": 1}})
    );
    // The SBOM lists both crates with cargo purls, and the vulnerability names smallvec.
    let (code, out, err) = palisade(d, &["sbom", &image, "--db", &db]);
    assert_eq!(code, 0, "{err}");
    let bom = json(&out);
    let mut cargo: Vec<(String, String)> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:cargo/"))
        })
        .map(|c| {
            let prop = |name: &str| {
                c["properties"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|p| p["name"] == name)
                    .map_or(String::new(), |p| p["value"].as_str().unwrap().to_string())
            };
            (
                c["purl"].as_str().unwrap().to_string(),
                format!(
                    "{} {} {}",
                    prop("palisade:package:type"),
                    prop("palisade:osv:ecosystem"),
                    prop("palisade:package:found-by")
                ),
            )
        })
        .collect();
    cargo.sort();
    assert_eq!(
        cargo,
        vec![
            (
                "pkg:cargo/audbin@0.1.0".to_string(),
                "cargo  cargo-auditable: local source".to_string()
            ),
            (
                "pkg:cargo/smallvec@1.6.0".to_string(),
                "cargo crates.io cargo-auditable".to_string()
            ),
        ]
    );
    let vulns = bom["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 1, "{vulns:?}");
    assert_eq!(vulns[0]["id"], "CVE-2021-25900");
    assert!(
        vulns[0]["affects"][0]["ref"]
            .as_str()
            .unwrap()
            .contains("pkg:cargo/smallvec@1.6.0")
    );
    if let Some(v) = cyclonedx_validator() {
        let errors: Vec<String> = v.iter_errors(&bom).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[test]
fn lock_files_in_a_scanned_directory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = database(
        d,
        &[
            ("RUSTSEC-2021-0003.json", SMALLVEC),
            ("GHSA-jfh8-c2jp-5v3q.json", LOG4SHELL),
        ],
    );
    let repo = d.join("repo");
    std::fs::create_dir_all(repo.join("svc")).unwrap();
    std::fs::create_dir_all(repo.join("jvm")).unwrap();
    for (from, to) in [
        ("lock/requirements.txt", "requirements.txt"),
        ("lock/Cargo.lock", "svc/Cargo.lock"),
        ("lock/go.mod", "svc/go.mod"),
        ("lock/go.sum", "svc/go.sum"),
        ("lock/gradle.lockfile", "jvm/gradle.lockfile"),
    ] {
        std::fs::copy(vuln_fixture(from), repo.join(to)).unwrap();
    }
    std::fs::write(
        repo.join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: nginx:latest\n",
    )
    .unwrap();
    std::fs::create_dir_all(repo.join("web")).unwrap();
    std::fs::write(
        repo.join("web/package-lock.json"),
        "{\n  \"name\": \"web\",\n  oops\n}\n",
    )
    .unwrap();
    let repo_s = repo.display().to_string();
    let (code, out, err) = palisade(d, &["scan", &repo_s, "--db", &db, "-f", "json"]);
    // The broken package-lock.json is an input error (2); everything else is still scanned.
    assert_eq!(code, 2, "{err}");
    let report = json(&out);
    let lock_findings: Vec<(String, u64, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "PAL700")
        .map(|f| {
            let file = f["file"].as_str().unwrap();
            (
                file.strip_prefix(&format!("{repo_s}/"))
                    .unwrap_or(file)
                    .to_string(),
                f["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let row = |file: &str, line: u64, message: &str| (file.to_string(), line, message.to_string());
    assert_eq!(
        lock_findings,
        vec![
            // Maven ordering: 2.14.1 is in [2.13.0, 2.15.0).
            row(
                "jvm/gradle.lockfile",
                5,
                "org.apache.logging.log4j:log4j-core 2.14.1: CVE-2021-44228 (GHSA-jfh8-c2jp-5v3q) [critical, CVSS_V3 10.0]; fixed in 2.15.0: Remote code injection in Log4j"
            ),
            row(
                "requirements.txt",
                3,
                "MLflow 2.9.1: CVE-2023-6909 (GHSA-gggg-hhhh-iiii) [critical, database CRITICAL]; fixed in 2.9.2: mlflow path traversal (GHSA copy of PYSEC-2023-252)"
            ),
            row(
                "svc/Cargo.lock",
                14,
                "smallvec 1.6.0: CVE-2021-25900 (GHSA-43w2-9j62-hq99, RUSTSEC-2021-0003) [critical, CVSS_V3 9.8]; fixed in 1.6.1: Buffer overflow in SmallVec::insert_many"
            ),
            // From go.mod (line 8), not from go.sum beside it.
            row(
                "svc/go.mod",
                8,
                "golang.org/x/net v0.22.0: CVE-2026-0004 (GHSA-dddd-eeee-ffff, GO-2026-0004) [high, CVSS_V4 8.7]; fixed in 0.23.0: x/net: excessive memory use"
            ),
        ]
    );
    // The manifest was scanned as before.
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["file"].as_str().unwrap().ends_with("pod.yaml"))
    );
    // The broken lock file's error names the file and the line.
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("web/package-lock.json")
    );
    assert_eq!(errors[0]["line"], 3);
    // The table's grid gives the lock-file line of each vulnerable package.
    std::fs::remove_file(repo.join("web/package-lock.json")).unwrap();
    let (code, table, _) = palisade(d, &["scan", &repo_s, "--db", &db, "--color", "never"]);
    assert_eq!(code, 1);
    assert!(
        table
            .lines()
            .any(|l| l.trim_start().starts_with("14 ") && l.contains("smallvec")),
        "{table}"
    );
    // Without a database: the note, and the manifest findings alone decide the exit code.
    let (code, out, _) = palisade(d, &["scan", &repo_s, "-f", "json"]);
    let report = json(&out);
    assert_eq!(code, 1);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["code"] != "PAL700")
    );
    assert!(
        report["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("palisade db update"))
    );
}

#[test]
fn image_from_a_registry_has_the_same_vulnerabilities() {
    let Some(reg) = Registry::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = database(d, &[]);
    let reference = format!("localhost:{}/ml/server:1", reg.port);
    let client = palisade_image::source::registry::Client::new(
        &palisade_image::parse_registry_ref(&reference).unwrap(),
        &palisade_image::OpenOptions {
            auth_file: Some("/nonexistent".into()),
            ..palisade_image::OpenOptions::default()
        },
    );
    debian_built_image().push(&client, "1").unwrap();
    let layout = debian_image(d);
    let (code, out, err) = palisade(d, &["scan", "image", &reference, "--db", &db, "-f", "json"]);
    assert_eq!(code, 1, "{err}");
    let from_registry = json(&out);
    let (_, out, _) = palisade(d, &["scan", "image", &layout, "--db", &db, "-f", "json"]);
    let from_layout = json(&out);
    assert_eq!(vulns(&from_registry).len(), 3);
    assert_eq!(vulns(&from_registry), vulns(&from_layout));
    for f in from_registry["findings"].as_array().unwrap() {
        assert_eq!(f["file"], reference.as_str());
    }
}

const UBUNTU_ADVISORY: &str = r#"{"id": "UBUNTU-CVE-2026-0005", "modified": "2026-02-01T00:00:00Z",
 "aliases": ["CVE-2026-0005"], "upstream": ["CVE-2026-0005"],
 "details": "openssl: a timing side channel",
 "severity": [{"type": "Ubuntu", "score": "medium"}],
 "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "openssl"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.2-0ubuntu1.18"}]}]},
  {"package": {"ecosystem": "Ubuntu:24.04:LTS", "name": "openssl"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.13-0ubuntu3.2"}]}]}]}"#;

#[test]
fn ubuntu_lts_images_match_their_release_and_source_package() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = database(d, &[("UBUNTU-CVE-2026-0005.json", UBUNTU_ADVISORY)]);
    let l = vec![
        Entry::file(
            "etc/os-release",
            // As ubuntu:22.04 ships it: the LTS mark is in the names, not in VERSION_ID.
            "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nID=ubuntu\nID_LIKE=debian\n",
        ),
        Entry::file(
            "var/lib/dpkg/status",
            "Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.2-0ubuntu1.15\n",
        ),
    ];
    let img = BuiltImage::new(
        vec![(layer_tar(&l).unwrap(), Compression::Gzip)],
        serde_json::json!({"User": "10001"}),
    )
    .unwrap();
    img.write_oci_layout(&d.join("ubuntu"), Some("22.04"))
        .unwrap();
    let image = format!("oci:{}:22.04", d.join("ubuntu").display());
    let (code, out, err) = palisade(d, &["scan", "image", &image, "--db", &db, "-f", "json"]);
    // Ubuntu's `medium` priority is below the default --fail-on high.
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        vulns(&json(&out)),
        vec![(
            "medium".to_string(),
            "libssl3 3.0.2-0ubuntu1.15 (source openssl 3.0.2-0ubuntu1.15): CVE-2026-0005 (UBUNTU-CVE-2026-0005) [medium, Ubuntu medium]; fixed in 3.0.2-0ubuntu1.18: openssl: a timing side channel".to_string(),
            "var/lib/dpkg/status".to_string()
        )]
    );
}
