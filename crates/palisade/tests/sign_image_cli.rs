//! `palisade sign image` / `palisade verify image` through the real binary against a real
//! registry (Debian's `docker-registry`, started on a free port; skipped when not installed).

#[path = "../../palisade-sign/tests/support/mod.rs"]
mod registry_support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn palisade(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("PALISADE_PASSWORD", "s3cret")
        .env_remove("COSIGN_PASSWORD")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .output()
        .unwrap()
}

fn out(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn sign_and_verify_an_image_in_a_registry() {
    let Some(reg) = registry_support::Registry::start() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for prefix in ["release", "other"] {
        let o = palisade(d, &["keys", "generate", "--output-key-prefix", prefix]);
        assert!(o.status.success(), "{:?}", out(&o));
    }
    let client = reg.client();
    let digest = reg.push_image(&client, "ml/server", "v1", b"model server layer");
    let image = format!("{}/ml/server:v1", reg.host);

    // Unsigned: exit 1, and it says so.
    let o = palisade(d, &["verify", "image", &image, "--key", "release.pub"]);
    let (_, err) = out(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "{image} ({digest}): no signature verifies with the given keys"
        )),
        "{err}"
    );

    // Classic signature with an annotation.
    let o = palisade(
        d,
        &[
            "sign",
            "image",
            &image,
            "--key",
            "release.key",
            "-a",
            "pipeline=ci-42",
        ],
    );
    let (_, err) = out(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(&format!("Signed {image} ({digest}) in the classic")),
        "{err}"
    );
    // Messages on stderr, as `verify blob` / `verify model` (and cosign) print them; stdout
    // is for the JSON result. `table` is the human format, as on every command; `text` is
    // still accepted.
    for format in [None, Some("table"), Some("text")] {
        let mut args = vec!["verify", "image", &image, "--key", "release.pub"];
        args.extend(format.iter().flat_map(|f| ["-f", *f]));
        let o = palisade(d, &args);
        let (stdout, err) = out(&o);
        assert!(o.status.success(), "{format:?}: {stdout}{err}");
        assert_eq!(stdout, "", "{format:?}");
        assert!(
            err.contains(&format!(
                "Verified OK: {image} ({digest}) signed by release.pub in the classic"
            )),
            "{format:?}: {err}"
        );
        assert!(err.contains("annotation pipeline=\"ci-42\""), "{err}");
    }

    // Another key: exit 1, with the reason per signature.
    let o = palisade(d, &["verify", "image", &image, "--key", "other.pub"]);
    let (_, err) = out(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("does not verify with any trusted key"),
        "{err}"
    );

    // The bundle format, signed with the other key; JSON names formats and rejection kinds.
    let o = palisade(
        d,
        &[
            "sign",
            "image",
            &image,
            "--key",
            "other.key",
            "--bundle-format",
        ],
    );
    assert!(o.status.success(), "{:?}", out(&o));
    let o = palisade(
        d,
        &[
            "verify",
            "image",
            &image,
            "--key",
            "other.pub",
            "-f",
            "json",
        ],
    );
    let (stdout, err) = out(&o);
    assert!(o.status.success(), "{stdout}{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["digest"], digest);
    assert_eq!(v["verified"][0]["format"], "bundle");
    assert_eq!(v["verified"][0]["key"], "other.pub");
    assert_eq!(v["rejected"][0]["kind"], "untrusted-key");

    // Either key suffices when both are given.
    let o = palisade(
        d,
        &[
            "verify",
            "image",
            &image,
            "--key",
            "release.pub",
            "--key",
            "other.pub",
        ],
    );
    let (_, err) = out(&o);
    assert!(o.status.success());
    assert_eq!(err.matches("Verified OK").count(), 2, "{err}");

    // A Secret key outside a cluster is an input error that says what is missing.
    let o = palisade(
        d,
        &["verify", "image", &image, "--key", "k8s://ci/cosign-keys"],
    );
    let (_, err) = out(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("KUBERNETES_SERVICE_HOST"), "{err}");

    // A registry that is not there: exit 2, not "unsigned".
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let o = palisade(
        d,
        &[
            "verify",
            "image",
            &format!("{addr}/ml/server:v1"),
            "--key",
            "release.pub",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{:?}", out(&o));
}
