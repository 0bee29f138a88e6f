//! `palisade scan` on model files, end to end: what a model finding says in every output
//! format, the policy's pickle import lists, and Hugging Face model directories. The inputs
//! are `palisade-model`'s generated fixtures (`crates/palisade-model/tests/fixtures/gen.py`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../palisade-model/tests/fixtures")
        .join(rel)
}

fn scan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .env("NO_COLOR", "1")
        .arg("scan")
        .args(args)
        .output()
        .expect("palisade runs")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

fn findings(report: &serde_json::Value) -> &[serde_json::Value] {
    report["findings"].as_array().expect("findings")
}

fn policy_file(dir: &Path, models: &str) -> PathBuf {
    let path = dir.join("policy.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nmetadata: {{name: models}}\nspec:\n  models:\n{models}"
        ),
    )
    .unwrap();
    path
}

/// `torch/evil.pt`: `archive/data.pkl` calls `posix.system('id')` at offset 17.
#[test]
fn every_format_says_member_offset_callable_call_and_atlas() {
    let evil = fixture("torch/evil.pt");
    let evil = evil.to_str().unwrap();

    let out = scan(&[evil, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    let f = &findings(&report)[0];
    assert_eq!(f["code"], "PAL801");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["member"], "archive/data.pkl");
    assert_eq!(f["offset"], 17);
    assert_eq!(f["callable"], "posix.system");
    assert_eq!(f["callChain"], "posix.system('id')");
    let atlas: Vec<&str> = f["references"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "ATLAS")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(atlas, ["AML.T0011.000", "AML.T0010"]);

    let sarif = json(&scan(&[evil, "--format", "sarif"]));
    let run = &sarif["runs"][0];
    let result = &run["results"][0];
    let props = &result["properties"];
    assert_eq!(props["member"], "archive/data.pkl");
    assert_eq!(props["offset"], 17);
    assert_eq!(props["callable"], "posix.system");
    assert_eq!(props["callChain"], "posix.system('id')");
    let rule = &run["tool"]["driver"]["rules"][result["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(rule["id"], "PAL801");
    assert!(
        rule.to_string().contains("AML.T0011.000"),
        "ATLAS reference in the SARIF rule: {rule}"
    );

    for format in ["junit", "table"] {
        let out = text(&scan(&[evil, "--format", format]));
        for expected in [
            "evil.pt!/archive/data.pkl",
            "offset: 17",
            "callable: posix.system",
            "call: posix.system(",
            "atlas: AML.T0011.000, AML.T0010",
        ] {
            assert!(
                out.contains(expected),
                "{format}: no {expected:?} in\n{out}"
            );
        }
    }
}

#[test]
fn policy_extends_the_pickle_import_lists() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = fixture("pickle/unknown_import.pkl");
    let unknown = unknown.to_str().unwrap();
    // Without a policy `mylib.helpers.Config` is an unknown import (medium).
    let report = json(&scan(&[unknown, "--format", "json"]));
    assert_eq!(findings(&report)[0]["code"], "PAL802", "{report}");

    let allow = policy_file(dir.path(), "    allowedImports: [mylib.helpers]\n");
    let out = scan(&[unknown, "--format", "json", "-c", allow.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(findings(&json(&out)).is_empty());

    // A deny entry makes an allowlisted callable critical.
    let benign = fixture("pickle/benign_state_dict.pkl");
    let deny = policy_file(dir.path(), "    deniedImports: [collections.OrderedDict]\n");
    let out = scan(&[
        benign.to_str().unwrap(),
        "--format",
        "json",
        "-c",
        deny.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = json(&out);
    let f = &findings(&report)[0];
    assert_eq!(f["code"], "PAL801");
    assert_eq!(f["callable"], "collections.OrderedDict");

    // An entry that is not a dotted name is a usage error naming its line.
    let bad = policy_file(dir.path(), "    allowedImports: [\"os; rm -rf /\"]\n");
    let out = scan(&[unknown, "-c", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(":6:") && err.contains("not a dotted Python name"),
        "{err}"
    );
}

#[test]
fn hugging_face_model_directories_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    for (sub, fixture_dir, files) in [
        (
            "model",
            "hf/remote_code",
            &["config.json", "modeling_custom.py"][..],
        ),
        ("app", "hf/not_a_model", &["config.json", "main.py"][..]),
    ] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        for f in files {
            std::fs::copy(fixture(fixture_dir).join(f), dir.path().join(sub).join(f)).unwrap();
        }
    }
    let out = scan(&[dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = json(&out);
    let remote: Vec<&str> = findings(&report)
        .iter()
        .filter(|f| f["code"] == "PAL850")
        .map(|f| f["callable"].as_str().unwrap())
        .collect();
    assert_eq!(
        remote,
        ["modeling_custom.py", "other/repo--configuration.Cfg"],
        "{report}"
    );
    assert!(
        findings(&report)
            .iter()
            .all(|f| !f["file"].as_str().unwrap().contains("/app")),
        "{report}"
    );
    // Each directory's config.json was read (the Python files are not reported on as files).
    assert_eq!(report["summary"]["files"], 2, "{report}");
}

/// A Hugging Face cache snapshot (`snapshots/REV/` files are symlinks into `blobs/`), named
/// as the model's directory: the weights are scanned through the link, as any walked symlink
/// to a file is.
#[test]
fn model_files_in_a_hugging_face_cache_snapshot_are_scanned_through_their_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = dir.path().join("models--org--m/blobs");
    let snapshot = dir.path().join("models--org--m/snapshots/0123abcd");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::create_dir_all(&snapshot).unwrap();
    std::fs::write(
        blobs.join("5f1e0c"),
        b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.",
    )
    .unwrap();
    std::os::unix::fs::symlink("../../blobs/5f1e0c", snapshot.join("pytorch_model.bin")).unwrap();
    // The snapshot's config and remote code are links too: the directory checks read them.
    for (blob, name) in [("c0nf1g", "config.json"), ("m0d3l", "modeling_custom.py")] {
        std::fs::copy(fixture("hf/remote_code").join(name), blobs.join(blob)).unwrap();
        std::os::unix::fs::symlink(format!("../../blobs/{blob}"), snapshot.join(name)).unwrap();
    }
    let out = scan(&[snapshot.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = json(&out);
    let model = snapshot.join("pytorch_model.bin");
    // The whole cache, blobs and snapshot: the pickle is read once, under its snapshot name
    // (the link), not its blob hash.
    let whole = json(&scan(&[dir.path().to_str().unwrap(), "--format", "json"]));
    let pickles: Vec<&str> = findings(&whole)
        .iter()
        .filter(|f| f["code"] == "PAL801")
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(pickles, [model.to_str().unwrap()], "{whole}");
    assert!(
        findings(&report).iter().any(|f| f["code"] == "PAL801"
            && f["callable"] == "posix.system"
            && f["file"] == model.to_str().unwrap()),
        "{report}"
    );
    assert!(
        findings(&report)
            .iter()
            .any(|f| f["code"] == "PAL850" && f["callable"] == "modeling_custom.py"),
        "{report}"
    );
}
