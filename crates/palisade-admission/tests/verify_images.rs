//! Image signatures and digest pinning at admission, end to end: the in-process router, a real
//! `docker-registry` (Debian's package) holding images signed with palisade-sign in both
//! formats, and, for keys in Secrets, the stand-in API server of palisade-sign's tests.

mod common;

#[path = "../../palisade-sign/tests/support/fake_apiserver.rs"]
mod fake_apiserver;
#[path = "../../palisade-sign/tests/support/mod.rs"]
mod registry_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use common::{Harness, call, hardened_pod, harness, review};
use palisade_sign::SigningKey;
use palisade_sign::image;
use palisade_sign::kube::KubeClient;
use palisade_sign::registry::Reference;
use registry_support::Registry;
use serde_json::{Value, json};

/// A registry with five images under `ml/`: signed (classic), signed (bundle), unsigned,
/// signed by an untrusted key, and one carrying a copy of another image's valid signature.
struct World {
    reg: Registry,
    dir: tempfile::TempDir,
    release: SigningKey,
    digests: BTreeMap<&'static str, String>,
}

impl World {
    fn start() -> Option<World> {
        let reg = Registry::start()?;
        let client = reg.client();
        let release = SigningKey::generate().unwrap();
        let mallory = SigningKey::generate().unwrap();
        let mut digests = BTreeMap::new();
        for (name, content) in [
            ("signed", &b"model server"[..]),
            ("bundle", b"bundle-signed server"),
            ("unsigned", b"unsigned server"),
            ("wrongkey", b"mallory's server"),
            ("copied", b"backdoored server"),
            ("sidecar", b"signed sidecar"),
        ] {
            digests.insert(
                name,
                reg.push_image(&client, &format!("ml/{name}"), "v1", content),
            );
        }
        let r = |name: &str| Reference::parse(&format!("{}/ml/{name}:v1", reg.host)).unwrap();
        image::sign_classic(&client, &r("signed"), &release, &BTreeMap::new()).unwrap();
        image::sign_classic(&client, &r("sidecar"), &release, &BTreeMap::new()).unwrap();
        image::sign_bundle(&client, &r("bundle"), &release).unwrap();
        image::sign_classic(&client, &r("wrongkey"), &mallory, &BTreeMap::new()).unwrap();
        // The valid signature manifest of `signed`, pushed as `copied`'s signature.
        let sig = client
            .get_manifest(
                &reg.host,
                "ml/signed",
                &image::signature_tag(&digests["signed"]),
            )
            .unwrap()
            .unwrap();
        let blob = |repo: &str, d: &str| client.get_blob(&reg.host, repo, d, 1 << 20).unwrap();
        let m: Value = serde_json::from_slice(&sig.bytes).unwrap();
        for d in [&m["config"]["digest"], &m["layers"][0]["digest"]] {
            let bytes = blob("ml/signed", d.as_str().unwrap());
            client.put_blob(&reg.host, "ml/copied", &bytes).unwrap();
        }
        client
            .put_manifest(
                &reg.host,
                "ml/copied",
                &image::signature_tag(&digests["copied"]),
                &sig.bytes,
                "application/vnd.oci.image.manifest.v1+json",
            )
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("release.pub"),
            release.public_key().to_pem().unwrap(),
        )
        .unwrap();
        Some(World {
            reg,
            dir,
            release,
            digests,
        })
    }

    fn image(&self, name: &str) -> String {
        format!("{}/ml/{name}:v1", self.reg.host)
    }

    fn key_path(&self) -> String {
        self.dir.path().join("release.pub").display().to_string()
    }

    /// A policy trusting `release.pub` for `ml/*`, plus `extra` lines under `spec`.
    fn policy(&self, rule_extra: &str, spec_extra: &str) -> String {
        format!(
            "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nmetadata: {{name: signed}}\nspec:\n  standard: restricted\n  verifyImages:\n    - images: [\"{}/ml/*\"]\n      keys: [{{path: \"{}\"}}]\n{rule_extra}{spec_extra}",
            self.reg.host,
            self.key_path()
        )
    }
}

fn pod(name: &str, image: &str) -> Value {
    let mut p = hardened_pod();
    p["metadata"]["name"] = json!(name);
    p["spec"]["containers"][0]["image"] = json!(image);
    p
}

async fn validate(h: &Harness, object: &Value) -> Value {
    call(&h.state, "/validate", &review("CREATE", object, None)).await
}

fn message(resp: &Value) -> String {
    resp["status"]["message"].as_str().unwrap_or("").to_string()
}

fn patch_of(resp: &Value) -> Vec<Value> {
    resp["patch"]
        .as_str()
        .map(|b| {
            serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(b).unwrap())
                .unwrap()
        })
        .unwrap_or_default()
}

fn warning_about(resp: &Value, prefix: &str) -> bool {
    resp["warnings"].as_array().is_some_and(|ws| {
        ws.iter()
            .any(|w| w.as_str().is_some_and(|w| w.starts_with(prefix)))
    })
}

fn registry_requests(h: &Harness) -> u64 {
    h.state.engine().images().unwrap().registry_requests()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_admitted_unsigned_wrong_key_and_copied_signature_denied() {
    let Some(w) = World::start() else { return };
    let h = harness(&w.policy("", ""));

    for name in ["signed", "bundle"] {
        let resp = validate(&h, &pod(name, &w.image(name))).await;
        assert_eq!(resp["allowed"], true, "{name}: {resp}");
        assert!(
            resp["auditAnnotations"]["imagesVerified"]
                .as_str()
                .unwrap()
                .starts_with("app=sha256:"),
            "{resp}"
        );
    }

    for (name, why) in [
        ("unsigned", "no signature: no signature by a trusted key"),
        ("wrongkey", "wrong key:"),
        ("copied", "digest mismatch:"),
    ] {
        let resp = validate(&h, &pod(name, &w.image(name))).await;
        assert_eq!(resp["allowed"], false, "{name}: {resp}");
        assert_eq!(resp["status"]["code"], 403);
        let m = message(&resp);
        assert!(
            m.contains(&format!(
                "PAL104 image-signature [high] at /spec/containers/0/image: container \"app\" image {}",
                w.image(name)
            )),
            "{m}"
        );
        assert!(m.contains(why), "{name}: {m}");
        assert!(m.contains(&w.digests[name][..19]), "{m}");
        assert_eq!(resp["auditAnnotations"]["rules"], "PAL104");
    }

    // Init and ephemeral containers are checked like the others, each named in the message.
    let mut p = pod("init", &w.image("signed"));
    p["spec"]["initContainers"] = json!([{"name": "fetch", "image": w.image("unsigned"),
        "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]);
    p["spec"]["ephemeralContainers"] = json!([{"name": "debug", "image": w.image("wrongkey"),
        "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]);
    let m = message(&validate(&h, &p).await);
    assert!(
        m.contains("at /spec/initContainers/0/image: container \"fetch\""),
        "{m}"
    );
    assert!(
        m.contains("at /spec/ephemeralContainers/0/image: container \"debug\""),
        "{m}"
    );
    assert!(
        !m.contains("container \"app\""),
        "the signed container is fine: {m}"
    );

    // An ML custom resource: KServe names the predictor's container `kserve-container`.
    let isvc = json!({
        "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
        "metadata": {"name": "llm", "namespace": "ml"},
        "spec": {"predictor": {"containers": [{"name": "kserve-container", "image": w.image("unsigned")}]}}
    });
    let resp = validate(&h, &isvc).await;
    assert_eq!(resp["allowed"], false);
    assert!(
        message(&resp)
            .contains("at /spec/predictor/containers/0/image: container \"kserve-container\""),
        "{resp}"
    );

    // Images no rule covers are not looked up at all.
    let before = registry_requests(&h);
    let resp = validate(&h, &pod("other", "registry.example.com/ml/app:1.0")).await;
    assert_eq!(resp["allowed"], true, "{resp}");
    assert_eq!(registry_requests(&h), before);

    // The decision log names the rule; the verification line names container, image and why.
    let lines = h.log.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"msg\":\"image verification\"")
                && l.contains("\"container\":\"app\"")
                && l.contains("\"why\":\"digest mismatch\""))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutate_pins_the_verified_digest_and_the_cache_spares_the_registry() {
    let Some(w) = World::start() else { return };
    let h = harness(&w.policy("", ""));
    let signed = pod("signed", &w.image("signed"));

    // Cold: the tag is resolved and the signatures fetched.
    let resp = call(&h.state, "/mutate", &review("CREATE", &signed, None)).await;
    assert_eq!(resp["allowed"], true);
    let pinned = format!("{}@{}", w.image("signed"), w.digests["signed"]);
    assert_eq!(
        patch_of(&resp),
        vec![json!({"op": "replace", "path": "/spec/containers/0/image", "value": pinned})]
    );
    assert_eq!(resp["patchType"], "JSONPatch");
    let cold = registry_requests(&h);
    assert!(cold > 0);

    // Warm: the same admission again, through /validate, costs no registry request (and no
    // extra log line: the cold one was logged).
    let image_lines = |h: &Harness| {
        h.log
            .lines()
            .iter()
            .filter(|l| l.contains("\"msg\":\"image verification\""))
            .count()
    };
    assert_eq!(image_lines(&h), 1);
    let resp = validate(&h, &signed).await;
    assert_eq!(resp["allowed"], true);
    assert_eq!(
        registry_requests(&h),
        cold,
        "tag and verdict came from the caches"
    );
    assert_eq!(image_lines(&h), 1);

    // The patched object (what the API server stores) passes, again from the cache.
    let mut patched = signed.clone();
    let patch: json_patch::Patch = serde_json::from_value(Value::Array(patch_of(
        &call(&h.state, "/mutate", &review("CREATE", &signed, None)).await,
    )))
    .unwrap();
    json_patch::patch(&mut patched, &patch).unwrap();
    assert_eq!(patched["spec"]["containers"][0]["image"], json!(pinned));
    let resp = validate(&h, &patched).await;
    assert_eq!(resp["allowed"], true, "{resp}");
    // Pinned: nothing left to patch.
    let resp = call(&h.state, "/mutate", &review("CREATE", &patched, None)).await;
    assert!(resp["patch"].is_null(), "{resp}");
    assert_eq!(registry_requests(&h), cold);

    // Two containers, one of them a new image: only that one goes to the registry, and both
    // are pinned in one patch after the engine's own fixes.
    let mut two = signed.clone();
    two["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "sidecar", "image": w.image("sidecar")}));
    let resp = call(&h.state, "/mutate", &review("CREATE", &two, None)).await;
    let ops = patch_of(&resp);
    let pins: Vec<&Value> = ops
        .iter()
        .filter(|o| o["path"].as_str().unwrap().ends_with("/image"))
        .collect();
    assert_eq!(pins.len(), 2, "{ops:?}");
    assert!(
        ops.len() > 2,
        "the sidecar also got the security defaults: {ops:?}"
    );
    let mut applied = two.clone();
    json_patch::patch(
        &mut applied,
        &serde_json::from_value::<json_patch::Patch>(Value::Array(ops)).unwrap(),
    )
    .unwrap();
    assert_eq!(
        applied["spec"]["containers"][1]["image"],
        json!(format!("{}@{}", w.image("sidecar"), w.digests["sidecar"]))
    );

    // An unsigned image is not pinned (validate denies it).
    let resp = call(
        &h.state,
        "/mutate",
        &review("CREATE", &pod("u", &w.image("unsigned")), None),
    )
    .await;
    assert!(resp["patch"].is_null(), "{resp}");

    // Verdict hits: validate, second mutate, validate and mutate of the pinned object, the
    // first container of `two`. Tag hits: the three of those that name the tag. Pins: one per
    // mutate of `signed` by tag, two for `two`.
    let text = metrics_text(&h).await;
    assert!(
        text.contains("palisade_image_cache_lookups_total{cache=\"verdict\",result=\"hit\"} 5"),
        "{text}"
    );
    assert!(
        text.contains("palisade_image_cache_lookups_total{cache=\"tag\",result=\"hit\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("palisade_image_digest_pins_total 4"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "palisade_registry_requests_total {}",
            registry_requests(&h)
        )),
        "{text}"
    );
}

async fn metrics_text(h: &Harness) -> String {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    let response = palisade_admission::router(h.state.clone())
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_cold_admissions_ask_the_registry_once() {
    let Some(w) = World::start() else { return };
    let p = pod("s", &w.image("signed"));
    // What one cold admission costs, measured on a state of its own.
    let solo = harness(&w.policy("", ""));
    assert_eq!(validate(&solo, &p).await["allowed"], true);
    let one = registry_requests(&solo);
    // Sixteen at once (a Deployment scaled up): one lookup, the others wait for its answer or
    // find it cached, however they interleave.
    let h = harness(&w.policy("", ""));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (state, review) = (h.state.clone(), review("CREATE", &p, None));
            tokio::spawn(async move { call(&state, "/validate", &review).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap()["allowed"], true);
    }
    assert_eq!(registry_requests(&h), one);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warn_audit_and_required_false() {
    let Some(w) = World::start() else { return };
    let unsigned = pod("u", &w.image("unsigned"));

    let h = harness(&w.policy("", "  admission: {rules: {image-signature: warn}}\n"));
    let resp = validate(&h, &unsigned).await;
    assert_eq!(resp["allowed"], true, "{resp}");
    let warnings: Vec<&str> = resp["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    let expected = format!(
        "PAL104 image-signature: container \"app\": no signature: {}",
        w.image("unsigned")
    );
    assert!(warnings.contains(&expected.as_str()), "{warnings:?}");

    let h = harness(&w.policy("", "  admission: {rules: {PAL104: audit}}\n"));
    let resp = validate(&h, &unsigned).await;
    assert_eq!(resp["allowed"], true);
    assert!(!warning_about(&resp, "PAL104"), "{resp}");
    assert!(
        resp["auditAnnotations"]["violations"]
            .as_str()
            .unwrap()
            .contains("PAL104 /spec/containers/0/image"),
        "{resp}"
    );

    // `required: false`: no signature at all is a warning, a wrong one is still a denial.
    let h = harness(&w.policy("      required: false\n", ""));
    let resp = validate(&h, &unsigned).await;
    assert_eq!(resp["allowed"], true, "{resp}");
    assert!(
        warning_about(
            &resp,
            "PAL104 image-signature: container \"app\": no signature: "
        ),
        "{resp}"
    );
    let resp = validate(&h, &pod("m", &w.image("wrongkey"))).await;
    assert_eq!(resp["allowed"], false, "{resp}");

    // An exception for the namespace (unexpired) covers it; an expired one does not.
    let h = harness(&w.policy(
        "",
        "  exceptions:\n    - {rules: [image-signature], namespaces: [ml], reason: \"legacy images\", expires: 2999-01-01}\n",
    ));
    let resp = validate(&h, &unsigned).await;
    assert_eq!(resp["allowed"], true, "{resp}");
    assert_eq!(resp["auditAnnotations"]["imagesExcepted"], "PAL104");
    let h = harness(&w.policy(
        "",
        "  exceptions:\n    - {rules: [PAL104], namespaces: [ml], reason: \"legacy images\", expires: 2020-01-01}\n",
    ));
    assert_eq!(validate(&h, &unsigned).await["allowed"], false);

    // Inline suppression on the object, as for every rule; the other containers still count.
    let h = harness(&w.policy("", ""));
    let mut annotated = unsigned.clone();
    annotated["metadata"]["annotations"] =
        json!({"palisade.dev/ignore": "image-signature -- vendor image, verified upstream"});
    let resp = validate(&h, &annotated).await;
    assert_eq!(resp["allowed"], true, "{resp}");
    assert_eq!(resp["auditAnnotations"]["imagesSuppressed"], "1");
    annotated["metadata"]["annotations"] = json!({"palisade.dev/ignore": "PAL100 -- other"});
    assert_eq!(validate(&h, &annotated).await["allowed"], false);

    // The rule turned off in `rules`: nothing is reported.
    let h = harness(&w.policy("", "  rules: {image-signature: off}\n"));
    assert_eq!(validate(&h, &unsigned).await["allowed"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_failures_follow_the_failure_policy() {
    let Some(w) = World::start() else { return };
    // A port nobody listens on, and one that accepts connections but never answers.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let policy = |host: &str, failure: &str| {
        format!(
            "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nmetadata: {{name: p}}\nspec:\n  verifyImages:\n    - images: [\"{host}/*\"]\n      keys: [{{path: \"{}\"}}]\n      failurePolicy: {failure}\n  imageVerification: {{timeoutMs: 300}}\n",
            w.key_path()
        )
    };
    let down = pod("down", &format!("{closed_addr}/ml/server:v1"));

    let h = harness(&policy(&closed_addr.to_string(), "Fail"));
    let resp = validate(&h, &down).await;
    assert_eq!(resp["allowed"], false, "{resp}");
    assert!(
        message(&resp).contains("cannot verify (failurePolicy Fail)"),
        "{resp}"
    );

    let h = harness(&policy(&closed_addr.to_string(), "Ignore"));
    let resp = validate(&h, &down).await;
    assert_eq!(resp["allowed"], true, "{resp}");
    assert!(
        warning_about(
            &resp,
            "PAL104 image-signature: container \"app\": cannot verify (failurePolicy Ignore): "
        ),
        "{resp}"
    );

    // A registry that hangs: the request-wide timeout answers, and Fail denies.
    let h = harness(&policy(&silent_addr.to_string(), "Fail"));
    let resp = validate(&h, &pod("hang", &format!("{silent_addr}/ml/server:v1"))).await;
    assert_eq!(resp["allowed"], false, "{resp}");
    assert!(
        message(&resp).contains("the registry did not answer within 300 ms"),
        "{resp}"
    );
    let text = metrics_text(&h).await;
    assert!(
        text.contains("palisade_image_verification_timeouts_total 1"),
        "{text}"
    );
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_digest_pins_tags_without_signatures() {
    let Some(w) = World::start() else { return };
    let policy = "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nmetadata: {name: pin}\nspec:\n  images: {requireDigest: true, resolveDigest: true}\n";
    let h = harness(policy);
    let p = pod("u", &w.image("unsigned"));
    // Validate alone: PAL101 denies the tag.
    let resp = validate(&h, &p).await;
    assert_eq!(resp["allowed"], false);
    assert_eq!(common::rules_of(&resp), ["PAL101"]);
    // Mutate resolves the tag through the registry API and pins it…
    let resp = call(&h.state, "/mutate", &review("CREATE", &p, None)).await;
    let ops = patch_of(&resp);
    let pinned = format!("{}@{}", w.image("unsigned"), w.digests["unsigned"]);
    assert_eq!(
        ops,
        vec![json!({"op": "replace", "path": "/spec/containers/0/image", "value": pinned})]
    );
    assert_eq!(
        resp["auditAnnotations"]["pinned"],
        format!("app={}", &w.digests["unsigned"][..19])
    );
    // …and the pinned object passes.
    let mut patched = p.clone();
    json_patch::patch(
        &mut patched,
        &serde_json::from_value::<json_patch::Patch>(Value::Array(ops)).unwrap(),
    )
    .unwrap();
    assert_eq!(validate(&h, &patched).await["allowed"], true);
    // A tag the registry does not have is left alone; PAL101 still denies it at /validate.
    let missing = pod("m", &format!("{}/ml/nothing:v1", w.reg.host));
    let resp = call(&h.state, "/mutate", &review("CREATE", &missing, None)).await;
    assert!(resp["patch"].is_null(), "{resp}");
    assert_eq!(common::rules_of(&validate(&h, &missing).await), ["PAL101"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_from_a_kubernetes_secret() {
    let Some(w) = World::start() else { return };
    let api = fake_apiserver::FakeApiServer::start();
    api.put_secret(
        "palisade-system",
        "cosign-keys",
        &[(
            "cosign.pub",
            w.release.public_key().to_pem().unwrap().as_bytes(),
        )],
    );
    api.put_secret("palisade-system", "locked", &[("cosign.pub", b"x")]);
    api.forbid("palisade-system", "locked");
    let policy = |secret: &str| {
        format!(
            "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nmetadata: {{name: s}}\nspec:\n  verifyImages:\n    - images: [\"{}/ml/*\"]\n      keys: [{{secret: \"{secret}\"}}]\n",
            w.reg.host
        )
    };
    let kube = Arc::new(
        KubeClient::new(
            &api.url,
            &api.token,
            api.ca_pem.as_bytes(),
            std::time::Duration::from_secs(5),
        )
        .unwrap(),
    );
    let h = harness(&policy("k8s://palisade-system/cosign-keys"));
    h.state
        .engine()
        .images()
        .unwrap()
        .set_kube_client(kube.clone());
    for name in ["signed", "bundle"] {
        let resp = validate(&h, &pod(name, &w.image(name))).await;
        assert_eq!(resp["allowed"], true, "{resp}");
    }
    let resp = validate(&h, &pod("u", &w.image("wrongkey"))).await;
    assert!(message(&resp).contains("wrong key"), "{resp}");
    assert_eq!(api.requests(), 1, "the key is read once and cached");

    // RBAC refuses the Secret: the registry side cannot decide, the failure policy does.
    let h = harness(&policy("k8s://palisade-system/locked"));
    h.state.engine().images().unwrap().set_kube_client(kube);
    let resp = validate(&h, &pod("s", &w.image("signed"))).await;
    assert_eq!(resp["allowed"], false);
    assert!(
        message(&resp).contains("RBAC: the service account needs `get` on this secret"),
        "{resp}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaced_rules_and_a_bad_reload_keeps_the_trust_rules() {
    let Some(w) = World::start() else { return };
    let h = harness(&w.policy("      namespaces: [serving]\n", ""));
    // hardened_pod() lives in `ml`: the rule does not apply there, and nothing is looked up.
    let resp = validate(&h, &pod("u", &w.image("unsigned"))).await;
    assert_eq!(resp["allowed"], true, "{resp}");
    assert_eq!(registry_requests(&h), 0);
    let mut serving = pod("u", &w.image("unsigned"));
    serving["metadata"]["namespace"] = json!("serving");
    assert_eq!(validate(&h, &serving).await["allowed"], false);

    // A new policy whose key file is missing is rejected with the key's line; the rules in
    // force stay, and keep denying.
    let bad = w
        .policy("", "")
        .replace(&w.key_path(), "/nonexistent/release.pub");
    let errors = h.state.reload_policy(&bad).unwrap_err();
    assert!(
        errors[0].starts_with("8:14: verifyImages[0].keys[0]: /nonexistent/release.pub"),
        "{errors:?}"
    );
    assert_eq!(h.state.engine().generation, 1);
    assert_eq!(validate(&h, &serving).await["allowed"], false);
}

#[test]
fn policy_errors_name_the_key_line() {
    let policy = "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nspec:\n  verifyImages:\n    - images: [\"x/*\"]\n      keys:\n        - path: /nonexistent/release.pub\n        - pem: not a key\n";
    let errors = palisade_admission::Engine::from_yaml(policy, &palisade_admission::k8s_rules(), 1)
        .unwrap_err();
    assert!(
        errors[0].starts_with("7:11: verifyImages[0].keys[0]: /nonexistent/release.pub:"),
        "{errors:?}"
    );
    assert!(
        errors[0].contains("8:11: verifyImages[0].keys[1]:"),
        "{errors:?}"
    );
}
