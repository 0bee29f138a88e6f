//! OSV matching: range-event edge cases from OSV-NOTES.md, own Debian/Alpine/npm/Go
//! fixtures, and the shared PyPA advisories.

use std::path::PathBuf;

use palisade_policy::Severity;
use palisade_vuln::matcher::evaluate;
use palisade_vuln::osv::Affected;
use palisade_vuln::{Database, Package, match_packages};

fn affected(json: &str) -> Affected {
    serde_json::from_str(json).unwrap()
}

fn hit(a: &Affected, eco: &str, v: &str) -> bool {
    evaluate(a, eco, v, "TEST").affected
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv")
}

fn shared_pypi() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv/pypi");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: {} not found", p.display());
        None
    }
}

#[test]
fn several_introduced_fixed_pairs_in_one_range() {
    // tensorflow PYSEC-2021-156's shape.
    let a = affected(
        r#"{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.1.4"},
        {"introduced":"2.2.0"},{"fixed":"2.2.3"},{"introduced":"2.3.0"},{"fixed":"2.3.3"},
        {"introduced":"2.4.0"},{"fixed":"2.4.2"}]}]}"#,
    );
    for (v, want) in [
        ("1.15.0", true),
        ("2.1.3", true),
        ("2.1.4", false),
        ("2.1.9", false),
        ("2.2.0", true),
        ("2.2.3", false),
        ("2.3.2", true),
        ("2.4.1", true),
        ("2.4.2", false),
        ("2.5.0", false),
        ("2.4.0rc1", false),
        ("2.2.0.post1", true),
    ] {
        assert_eq!(hit(&a, "PyPI", v), want, "{v}");
    }
    // Events out of order are sorted before evaluation.
    let shuffled = affected(
        r#"{"ranges":[{"type":"ECOSYSTEM","events":[{"fixed":"2.2.3"},{"introduced":"2.2.0"},
        {"fixed":"2.1.4"},{"introduced":"0"}]}]}"#,
    );
    assert!(hit(&shuffled, "PyPI", "2.2.1"));
    assert!(!hit(&shuffled, "PyPI", "2.1.5"));
    let ev = evaluate(&a, "PyPI", "2.2.1", "T");
    assert!(ev.fixed.contains(&"2.2.3".to_string()));
}

#[test]
fn last_affected_is_an_inclusive_ceiling() {
    let a = affected(
        r#"{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.0"},{"last_affected":"1.4.1"}]}]}"#,
    );
    assert!(!hit(&a, "PyPI", "0.9"));
    assert!(hit(&a, "PyPI", "1.0"));
    assert!(hit(&a, "PyPI", "1.4.1"));
    assert!(!hit(&a, "PyPI", "1.4.2"));
    assert!(evaluate(&a, "PyPI", "1.2", "T").fixed.is_empty());
}

#[test]
fn limit_events_bound_the_range() {
    let a = affected(
        r#"{"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"limit":"2.0.0"},{"limit":"3.0.0"}]}]}"#,
    );
    assert!(hit(&a, "npm", "1.9.9"));
    assert!(hit(&a, "npm", "2.5.0"), "below one of the limits");
    assert!(!hit(&a, "npm", "3.0.0"));
    let star = affected(
        r#"{"ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"limit":"*"}]}]}"#,
    );
    assert!(hit(&star, "npm", "99.0.0"));
    assert!(!hit(&star, "npm", "0.9.0"));
}

#[test]
fn introduced_zero_and_open_ranges() {
    let a = affected(r#"{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}"#);
    assert!(hit(&a, "PyPI", "0.0.1.dev0"));
    assert!(hit(&a, "PyPI", "999"));
    let empty = affected(r#"{"ranges":[{"type":"ECOSYSTEM","events":[]}]}"#);
    assert!(!hit(&empty, "PyPI", "1.0"));
}

#[test]
fn versions_list_alone_and_git_ranges_ignored() {
    let a = affected(
        r#"{"versions":["1.0.1.post2","1.2"],"ranges":[{"type":"GIT","repo":"https://x","events":[{"introduced":"0"},{"fixed":"abc"}]}]}"#,
    );
    assert!(hit(&a, "PyPI", "1.0.1.post2"));
    assert!(
        hit(&a, "PyPI", "1.2.0"),
        "PEP 440 equal to a listed version"
    );
    assert!(!hit(&a, "PyPI", "1.3"));
    let ev = evaluate(&a, "PyPI", "1.3", "T");
    assert!(
        ev.notes.is_empty(),
        "a GIT range next to a versions list costs nothing: {:?}",
        ev.notes
    );
    // A GIT range with nothing else to go on is reported, not guessed.
    let git_only = affected(
        r#"{"ranges":[{"type":"GIT","repo":"https://x","events":[{"introduced":"0"},{"fixed":"abc"}]}]}"#,
    );
    let ev = evaluate(&git_only, "PyPI", "1.3", "T");
    assert!(!ev.affected);
    assert_eq!(ev.notes.len(), 1, "{:?}", ev.notes);
    assert!(
        ev.notes[0].starts_with("T: GIT range not evaluated"),
        "{:?}",
        ev.notes
    );
}

#[test]
fn invalid_versions_are_reported_not_guessed() {
    let a = affected(
        r#"{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0"}]}]}"#,
    );
    let ev = evaluate(&a, "PyPI", "not a version", "T");
    assert!(!ev.affected);
    assert!(
        ev.notes[0].contains("invalid PEP 440 version"),
        "{:?}",
        ev.notes
    );
    let bad_event = affected(
        r#"{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0 final"}]}]}"#,
    );
    let ev = evaluate(&bad_event, "PyPI", "1.0", "T");
    assert!(!ev.affected);
    assert!(
        ev.notes[0].contains("range not evaluated"),
        "{:?}",
        ev.notes
    );
    let unknown = affected(
        r#"{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}],"versions":["1.0"]}"#,
    );
    let ev = evaluate(&unknown, "Hackage", "1.0", "T");
    assert!(ev.affected, "versions list still applies");
    assert!(ev.notes[0].contains("no version ordering"));
}

fn own_db(dir: &tempfile::TempDir) -> Database {
    let db = dir.path().join("vuln.db");
    let report = palisade_vuln::import::import(&[fixtures()], &db).unwrap();
    assert_eq!(report.meta.advisories, 5);
    Database::open(&db).unwrap()
}

#[test]
fn os_and_language_fixtures_match() {
    let dir = tempfile::tempdir().unwrap();
    let db = own_db(&dir);
    let mut deb = Package::new("Debian:12", "libssl3", "3.0.11-1~deb12u2");
    deb.source_name = Some("openssl".into());
    let packages = vec![
        deb,
        Package::new("Debian:12", "openssl", "3.0.15-1~deb12u1"),
        Package::new("Debian:11", "openssl", "1.1.1n-0+deb11u5"),
        Package::new("Alpine:v3.20", "busybox", "1.36.1-r28"),
        Package::new("Alpine:v3.20", "busybox", "1.36.1-r29"),
        Package::new("Alpine:v3.19", "busybox", "1.36.1-r1"),
        Package::new("npm", "lodash", "4.17.20"),
        Package::new("npm", "lodash", "5.1.0"),
        Package::new("Go", "golang.org/x/net", "v0.22.0"),
        Package::new("PyPI", "mlflow", "2.9.1"),
    ];
    let report = match_packages(&db, &packages).unwrap();
    let by_pkg = |i: usize| {
        report
            .matches
            .iter()
            .filter(|m| m.package == i)
            .collect::<Vec<_>>()
    };
    let m = by_pkg(0);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].id, "CVE-2026-0001");
    assert_eq!(m[0].aliases, vec!["DSA-9001-1"]);
    assert_eq!(m[0].fixed.as_deref(), Some("3.0.15-1~deb12u1"));
    assert_eq!(m[0].severity.severity, Some(Severity::Critical));
    assert!(by_pkg(1).is_empty(), "fixed version is not affected");
    assert_eq!(by_pkg(2)[0].fixed.as_deref(), Some("1.1.1w-0+deb11u2"));
    assert_eq!(
        by_pkg(3)[0].severity.severity,
        Some(Severity::Low),
        "database_specific severity"
    );
    assert!(by_pkg(4).is_empty());
    assert!(by_pkg(5).is_empty(), "another Alpine release");
    assert_eq!(by_pkg(6)[0].fixed.as_deref(), Some("4.17.21"));
    assert!(by_pkg(7).is_empty(), "above the limit");
    let go = by_pkg(8);
    assert_eq!(go[0].id, "CVE-2026-0004");
    // Only a CVSS v4.0 vector (VA:H alone over the network): 8.7, high.
    assert_eq!(go[0].severity.severity, Some(Severity::High));
    assert_eq!(go[0].severity.score, Some(8.7));
    assert_eq!(go[0].severity.source, "CVSS_V4 8.7");
    // The GHSA fixture has no PYSEC twin in this DB: one row.
    assert_eq!(by_pkg(9)[0].severity.severity, Some(Severity::Critical));
}

#[test]
fn shared_pypi_advisories_import_and_match() {
    let Some(pypi) = shared_pypi() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("pypi.db");
    let report = palisade_vuln::import::import(&[pypi, fixtures()], &db_path).unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(
        report.meta.withdrawn_skipped, 2,
        "aiohttp and flask-caching examples"
    );
    assert!(report.meta.advisories > 900, "{}", report.meta.advisories);
    let db = Database::open(&db_path).unwrap();
    assert_eq!(
        db.meta.ecosystems["PyPI"].packages, 15,
        "12 package directories + aiohttp, imagecodecs, py"
    );
    let packages = vec![
        Package::new("PyPI", "torch", "1.13.0"),
        Package::new("PyPI", "torch", "1.13.1"),
        Package::new("PyPI", "MLflow", "2.9.1"),
        Package::new("PyPI", "mlflow", "2.9.2"),
        Package::new("PyPI", "tensorflow", "2.4.1"),
        Package::new("PyPI", "tensorflow", "2.16.1"),
        Package::new("PyPI", "py", "1.11.0"),
        Package::new("PyPI", "Pillow", "9.0.0"),
        Package::new("PyPI", "py", "1.11.1"),
        Package::new("PyPI", "aiohttp", "3.8.1"),
    ];
    let report = match_packages(&db, &packages).unwrap();
    let ids = |i: usize| {
        report
            .matches
            .iter()
            .filter(|m| m.package == i)
            .map(|m| m.id.clone())
            .collect::<Vec<_>>()
    };
    // torch PYSEC-2022-43015: introduced 0, fixed 1.13.1.
    let torch = report.matches.iter().find(|m| m.package == 0).unwrap();
    assert!(
        torch.aliases.contains(&"PYSEC-2022-43015".to_string()),
        "{torch:?}"
    );
    assert_eq!(torch.fixed.as_deref(), Some("1.13.1"));
    assert!(ids(1).is_empty(), "{:?}", ids(1));
    // mlflow PYSEC-2023-252 (CVE-2023-6909) fixed in 2.9.2, plus the GHSA fixture: one row.
    let mlflow: Vec<_> = report.matches.iter().filter(|m| m.package == 2).collect();
    let row = mlflow.iter().find(|m| m.id == "CVE-2023-6909").unwrap();
    assert!(
        row.aliases.contains(&"PYSEC-2023-252".into())
            && row.aliases.contains(&"GHSA-gggg-hhhh-iiii".into())
    );
    assert_eq!(row.fixed.as_deref(), Some("2.9.2"));
    assert_eq!(
        row.severity.severity,
        Some(Severity::Critical),
        "highest of the group"
    );
    assert_eq!(mlflow.iter().filter(|m| m.id == "CVE-2023-6909").count(), 1);
    assert!(!ids(3).contains(&"CVE-2023-6909".to_string()));
    // tensorflow 2.4.1 is in many multi-pair ranges; the fix for PYSEC-2021-156 is 2.4.2.
    let tf = report
        .matches
        .iter()
        .find(|m| m.package == 4 && m.aliases.contains(&"PYSEC-2021-156".to_string()))
        .unwrap();
    assert_eq!(tf.fixed.as_deref(), Some("2.4.2"));
    assert!(ids(4).len() > 100, "{}", ids(4).len());
    assert!(ids(5).is_empty(), "snapshot predates 2.16: {:?}", ids(5));
    // py PYSEC-2022-42969: introduced 0, last_affected 1.11.0 (inclusive), no fix.
    let py = report.matches.iter().find(|m| m.package == 6).unwrap();
    assert_eq!(py.id, "CVE-2022-42969");
    assert_eq!(py.fixed, None);
    assert!(ids(8).is_empty(), "above last_affected");
    // aiohttp PYSEC-2022-43059 is withdrawn: never reported.
    assert!(!ids(9).contains(&"CVE-2022-33124".to_string()));
    // CVSS v3 severities are computed.
    assert!(
        report
            .matches
            .iter()
            .any(|m| m.severity.source.starts_with("CVSS_V3") && m.severity.score.is_some())
    );
}

#[test]
fn maven_ranges_use_maven_ordering() {
    // CVE-2021-44228 (log4j-core) as OSV publishes it for Maven, plus a later fix line.
    let a = affected(
        r#"{"package":{"ecosystem":"Maven","name":"org.apache.logging.log4j:log4j-core"},
        "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"2.0-beta9"},{"fixed":"2.3.1"},
        {"introduced":"2.4"},{"fixed":"2.12.2"},{"introduced":"2.13.0"},{"fixed":"2.15.0"}]}]}"#,
    );
    for (v, want) in [
        ("2.0-beta8", false),
        ("2.0-beta9", true),
        ("2.0-rc1", true),
        ("2.0", true),
        ("2.3", true),
        ("2.3.1", false),
        ("2.3.2", false),
        ("2.4.1", true),
        ("2.12.1", true),
        ("2.12.2", false),
        ("2.13.0", true),
        ("2.14.1", true),
        ("2.15.0-rc1", true),
        ("2.15.0", false),
        ("2.15.0.Final", false),
        ("2.16.0", false),
    ] {
        assert_eq!(hit(&a, "Maven", v), want, "{v}");
    }
    let ev = evaluate(&a, "Maven", "2.14.1", "TEST");
    assert_eq!(ev.fixed, vec!["2.15.0".to_string()]);
}

/// Red Hat's OSV records scope packages to product streams by CPE
/// (`Red Hat:enterprise_linux:9::appstream`); a RHEL or UBI image's packages are
/// `Red Hat:9`, matched by source rpm and `EPOCH:VERSION-RELEASE`. Extended-support streams
/// are other products.
#[test]
fn red_hat_streams_match_rhel_images_by_source_rpm_and_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let osv = dir.path().join("osv");
    std::fs::create_dir(&osv).unwrap();
    std::fs::write(
        osv.join("RHSA-2026_0001.json"),
        r#"{"id": "RHSA-2026:0001", "modified": "2026-02-01T00:00:00Z", "aliases": ["CVE-2026-0100"],
            "summary": "openssl security update",
            "affected": [
              {"package": {"ecosystem": "Red Hat:enterprise_linux:9::baseos", "name": "openssl"},
               "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:3.0.7-28.el9_4"}]}]},
              {"package": {"ecosystem": "Red Hat:rhel_eus:9.2::baseos", "name": "openssl"},
               "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:3.0.7-99.el9_2"}]}]}
            ],
            "database_specific": {"severity": "Important"}}"#,
    )
    .unwrap();
    let db_path = dir.path().join("vuln.db");
    palisade_vuln::import::import(&[osv], &db_path).unwrap();
    let db = Database::open(&db_path).unwrap();
    let rpm = |version: &str| {
        let mut p = Package::new("Red Hat:9", "openssl-libs", version);
        p.source_name = Some("openssl".into());
        p.source_version = Some(version.into());
        p
    };
    let packages = vec![
        rpm("1:3.0.7-27.el9"),
        rpm("1:3.0.7-28.el9_4"),
        // Without its epoch this would sort below every fix with one.
        rpm("1:3.0.7-29.el9"),
        rpm("3.0.7-30.el9"),
    ];
    let report = match_packages(&db, &packages).unwrap();
    let affected: Vec<(usize, Option<&str>)> = report
        .matches
        .iter()
        .map(|m| (m.package, m.fixed.as_deref()))
        .collect();
    // The EUS stream's later fix is not offered to a plain RHEL 9 image; epoch 0 is older
    // than every epoch-1 build.
    assert_eq!(
        affected,
        vec![(0, Some("1:3.0.7-28.el9_4")), (3, Some("1:3.0.7-28.el9_4"))]
    );
    assert_eq!(report.matches[0].id, "CVE-2026-0100");
    assert_eq!(report.matches[0].aliases, vec!["RHSA-2026:0001"]);
}
