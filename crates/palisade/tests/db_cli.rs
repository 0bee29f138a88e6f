//! `palisade db import|info|check` end to end with palisade-vuln's own fixtures.

use std::path::PathBuf;
use std::process::Command;

fn vuln_fixture(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../palisade-vuln/tests/fixtures")
        .join(p)
}

fn palisade(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn import_info_check_fail_on_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let db = db.to_str().unwrap();
    let osv = vuln_fixture("osv");
    let (code, _, err) = palisade(&["db", "import", osv.to_str().unwrap(), "--db", db]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("imported 5 advisories"), "{err}");
    let (code, out, _) = palisade(&["db", "info", "--db", db, "-f", "json"]);
    assert_eq!(code, 0);
    let info: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(info["advisories"], 5);
    assert_eq!(info["ecosystems"]["npm"]["packages"], 1);

    let req = vuln_fixture("lock/requirements.txt");
    let req = req.to_str().unwrap();
    // mlflow 2.9.1 is critical: fails at the default (high) and at critical, passes above none.
    let (code, out, _) = palisade(&["db", "check", req, "--db", db, "--fail-on", "critical"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("PAL700") && out.contains("CVE-2023-6909"),
        "{out}"
    );
    let (code, out, _) = palisade(&["db", "check", req, "--db", db, "-f", "sarif"]);
    assert_eq!(code, 1);
    let sarif: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["ruleId"],
        "PAL700/CVE-2023-6909"
    );
    // A directory: every lock file under it, subdirectories included, as `scan` walks.
    let lock_dir = vuln_fixture("lock");
    let (code, out, err) = palisade(&[
        "db",
        "check",
        lock_dir.to_str().unwrap(),
        "--db",
        db,
        "-f",
        "json",
    ]);
    assert_eq!(code, 1, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["summary"]["errors"], 0, "{}", report["errors"]);
    assert_eq!(report["summary"]["files"], 13);
    let berry = lock_dir.join("berry/yarn.lock");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["file"] == berry.to_str().unwrap()),
        "{out}"
    );
    let ignore = dir.path().join("ignore.yaml");
    std::fs::write(
        &ignore,
        "ignore:\n  - id: CVE-2023-6909\n    justification: proxy disabled\n",
    )
    .unwrap();
    let (code, out, _) = palisade(&[
        "db",
        "check",
        req,
        "--db",
        db,
        "--ignore-file",
        ignore.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = palisade(&[
        "db",
        "check",
        "--purl",
        "pkg:npm/lodash@4.17.20",
        "--db",
        db,
        "-f",
        "json",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("fixed in 4.17.21"));
    // A missing database is a usage/input error (2) that says how to build one.
    let (code, _, err) = palisade(&["db", "check", req, "--db", "/nonexistent/v.db"]);
    assert_eq!(code, 2);
    assert!(err.contains("palisade db update"), "{err}");
}

/// A lock file named twice, or named and found under a named directory, is checked once.
#[test]
fn check_reads_a_lock_file_named_twice_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let db = db.to_str().unwrap();
    let osv = vuln_fixture("osv");
    let (code, _, err) = palisade(&["db", "import", osv.to_str().unwrap(), "--db", db]);
    assert_eq!(code, 0, "{err}");
    let req = vuln_fixture("lock/requirements.txt");
    let req = req.to_str().unwrap();
    let count = |args: &[&str]| {
        let mut all = vec!["db", "check", "--db", db, "-f", "json"];
        all.extend_from_slice(args);
        let (_, out, err) = palisade(&all);
        let report: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
        (
            report["findings"].as_array().unwrap().len(),
            report["summary"]["files"].clone(),
        )
    };
    let once = count(&[req]);
    assert!(once.0 > 0);
    assert_eq!(count(&[req, req]), once);
    let lock_dir = vuln_fixture("lock");
    let lock_dir = lock_dir.to_str().unwrap();
    assert_eq!(count(&[lock_dir, req]), count(&[lock_dir]));
}

/// `db check` offers only the policy options that act on vulnerability findings: the Pod
/// Security Standards flags and rule selectors of `scan` did nothing there and are refused.
#[test]
fn check_refuses_flags_that_do_not_apply_to_lock_files() {
    let (code, help, _) = palisade(&["db", "check", "--help"]);
    assert_eq!(code, 0);
    for flag in ["--config", "--fail-on", "--severity", "--ignore-file"] {
        assert!(help.contains(flag), "{flag}: {help}");
    }
    for flag in [
        "--standard",
        "--kubernetes-version",
        "--select",
        "--ignore ",
    ] {
        assert!(!help.contains(flag), "{flag}: {help}");
    }
    let req = vuln_fixture("lock/requirements.txt");
    for flag in [
        ["--standard", "baseline"],
        ["--kubernetes-version", "v1.29"],
        ["--select", "PAL700"],
    ] {
        let (code, _, err) = palisade(&["db", "check", req.to_str().unwrap(), flag[0], flag[1]]);
        assert_eq!(code, 2, "{flag:?}");
        assert!(
            err.contains(&format!("unexpected argument '{}'", flag[0])),
            "{err}"
        );
    }
}
