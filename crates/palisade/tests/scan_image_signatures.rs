//! `palisade scan image` requiring signatures (PAL104): the policy's `verifyImages` rules and
//! `--verify-key`, through the real binary, against a real registry (Debian's
//! `docker-registry`; skipped when not installed), signed by `palisade sign image` in both
//! formats.

#[path = "../../palisade-sign/tests/support/mod.rs"]
mod registry_support;

use std::path::Path;
use std::process::{Command, Stdio};

use palisade_image::build::{BuiltImage, Entry, layer_tar};
use palisade_image::decode::Compression;
use serde_json::Value;

/// Runs the binary with registry credentials and the cache pointed into `dir`.
fn palisade(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("PALISADE_PASSWORD", "s3cret")
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("DOCKER_CONFIG", dir.join("docker"))
        .env("REGISTRY_AUTH_FILE", dir.join("auth.json"))
        .env("NO_COLOR", "1")
        .env_remove("COSIGN_PASSWORD")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn image() -> BuiltImage {
    let files = vec![Entry::file(
        "etc/os-release",
        "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
    )];
    BuiltImage::new(
        vec![(layer_tar(&files).unwrap(), Compression::Gzip)],
        serde_json::json!({"User": "10001"}),
    )
    .unwrap()
}

fn push(reference: &str) {
    let client = palisade_image::source::registry::Client::new(
        &palisade_image::parse_registry_ref(reference).unwrap(),
        &palisade_image::OpenOptions {
            auth_file: Some("/nonexistent".into()),
            ..palisade_image::OpenOptions::default()
        },
    );
    let tag = reference.rsplit_once(':').unwrap().1;
    image().push(&client, tag).unwrap();
}

/// `scan image … --select PAL104 -f json`: the exit code and the report.
fn scan(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["scan", "image"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--select", "PAL104", "-f", "json"]);
    let (code, out, err) = palisade(dir, &all);
    let report = serde_json::from_str(&out).unwrap_or(Value::Null);
    (code, report, err)
}

fn messages(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["code"], "PAL104", "{f}");
            f["message"].as_str().unwrap().to_string()
        })
        .collect()
}

fn notices(report: &Value) -> String {
    report["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `palisade keys generate` for each prefix (`release` → `release.key`, `release.pub`) in `dir`.
fn generate_keys(dir: &Path, prefixes: &[&str]) {
    for prefix in prefixes {
        let (code, _, err) = palisade(dir, &["keys", "generate", "--output-key-prefix", prefix]);
        assert_eq!(code, 0, "{err}");
    }
}

/// `dir/policy.yaml`: one verifyImages rule for `host/ml/*` trusting `release.pub`, with
/// `extra` YAML appended (rule fields indented by six spaces, spec fields by two).
fn write_policy(dir: &Path, host: &str, extra: &str) -> String {
    let p = dir.join("policy.yaml");
    std::fs::write(
        &p,
        format!(
            "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nspec:\n  verifyImages:\n    - images: [\"{host}/ml/*\"]\n      keys: [{{path: release.pub}}]\n{extra}"
        ),
    )
    .unwrap();
    p.display().to_string()
}

#[test]
fn scan_image_requires_a_signature_by_a_trusted_key() {
    let Some(reg) = registry_support::Registry::start() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    generate_keys(d, &["release", "other"]);
    let image = format!("{}/ml/server:v1", reg.host);
    push(&image);
    let policy = write_policy(d, &reg.host, "");
    let policy = policy.as_str();

    // Unsigned: a PAL104 finding (exit 1) from the key on the command line and from the policy.
    for how in [["--verify-key", "release.pub"], ["--config", policy]] {
        let (code, report, err) = scan(d, &[&image, how[0], how[1]]);
        assert_eq!(code, 1, "{how:?}: {err}");
        let m = messages(&report);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].contains("no signature: no signature by a trusted key"),
            "{m:?}"
        );
        assert_eq!(report["findings"][0]["file"], image.as_str());
    }

    // Signed by a key the scan does not trust: denied as such.
    let (code, _, err) = palisade(d, &["sign", "image", &image, "--key", "other.key"]);
    assert_eq!(code, 0, "{err}");
    let (code, report, err) = scan(d, &[&image, "--verify-key", "release.pub"]);
    assert_eq!(code, 1, "{err}");
    assert!(messages(&report)[0].contains("wrong key"), "{report}");
    // ... and verified when that key is trusted instead.
    let (code, report, err) = scan(d, &[&image, "--verify-key", "other.pub"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        notices(&report).contains("signature verified (verifyImages[0]): key other.pub, classic"),
        "{report}"
    );

    // Signed by the trusted key in the Sigstore-bundle format: both gates pass.
    let (code, _, err) = palisade(
        d,
        &[
            "sign",
            "image",
            &image,
            "--key",
            "release.key",
            "--bundle-format",
        ],
    );
    assert_eq!(code, 0, "{err}");
    for how in [["--verify-key", "release.pub"], ["--config", policy]] {
        let (code, report, err) = scan(d, &[&image, how[0], how[1]]);
        assert_eq!(code, 0, "{how:?}: {err}");
        assert!(messages(&report).is_empty());
        assert!(
            notices(&report).contains("key release.pub, sigstore bundle"),
            "{report}"
        );
    }
    // Both requirements apply together: the policy's key and the command line's.
    let (code, report, _) = scan(
        d,
        &[&image, "--config", policy, "--verify-key", "release.pub"],
    );
    assert_eq!(code, 0);
    assert_eq!(notices(&report).matches("signature verified").count(), 2);
}

#[test]
fn verify_images_rules_keep_their_scope_in_a_scan() {
    let Some(reg) = registry_support::Registry::start() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    generate_keys(d, &["release"]);
    let image = format!("{}/ml/unsigned:v1", reg.host);
    push(&image);
    let write_policy = |extra: &str| write_policy(d, &reg.host, extra);

    // A rule for one namespace applies when the scan is told the namespace.
    let policy = write_policy("      namespaces: [serving]\n");
    let (code, report, err) = scan(d, &[&image, "--config", &policy]);
    assert_eq!(code, 0, "{err}");
    assert!(messages(&report).is_empty());
    let (code, report, err) = scan(d, &[&image, "--config", &policy, "--namespace", "serving"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(messages(&report).len(), 1);

    // `required: false`: a missing signature is a warning, as at admission.
    let policy = write_policy("      required: false\n");
    let (code, report, err) = scan(d, &[&image, "--config", &policy]);
    assert_eq!(code, 0, "{err}");
    assert!(messages(&report).is_empty());
    assert!(
        notices(&report).contains("warning: PAL104 image-signature"),
        "{report}"
    );

    // The policy's severity override and exceptions apply as to any rule.
    let policy = write_policy("  rules:\n    PAL104: low\n");
    let (code, report, err) = scan(d, &[&image, "--config", &policy]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(report["findings"][0]["severity"], "low");
}

#[test]
fn signatures_cannot_be_checked_on_local_images_or_manifests() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    generate_keys(d, &["release"]);
    image()
        .write_oci_layout(&d.join("layout"), Some("v1"))
        .unwrap();
    let layout = format!("oci:{}:v1", d.join("layout").display());

    // A key requirement over an image read from disk cannot be met: exit 2, and why.
    let (code, report, err) = scan(d, &[&layout, "--verify-key", "release.pub"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(report["errors"][0]["file"], layout.as_str());
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("cannot verify: signatures are kept in a registry"),
        "{message}"
    );

    // A key that cannot be read fails before any image is read.
    let (code, _, err) = scan(d, &[&layout, "--verify-key", "missing.pub"]);
    assert_eq!(code, 2);
    assert!(err.contains("--verify-key missing.pub"), "{err}");

    // Manifests have no digest to verify: the flag is refused rather than ignored.
    std::fs::write(
        d.join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
    )
    .unwrap();
    let (code, _, err) = palisade(d, &["scan", "pod.yaml", "--verify-key", "release.pub"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--verify-key and --namespace apply to `palisade scan image"),
        "{err}"
    );
}
