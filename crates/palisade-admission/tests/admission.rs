//! The admission semantics, in-process through `router()` with `tower::ServiceExt::oneshot`.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use base64::Engine as _;
use common::*;
use palisade_admission::Limits;
use serde_json::{Value, json};

#[tokio::test]
async fn hardened_pod_is_allowed_and_says_which_policy_decided() {
    let h = harness(RESTRICTED);
    let r = call(
        &h.state,
        "/validate",
        &review("CREATE", &hardened_pod(), None),
    )
    .await;
    assert_eq!(r["allowed"], true, "{r}");
    assert!(r.get("status").is_none());
    assert_eq!(r["auditAnnotations"]["policy"], "test@1");
    assert_eq!(r["auditAnnotations"]["decision"], "allow");
}

#[tokio::test]
async fn privileged_pod_is_denied_with_403_naming_rule_and_field() {
    let h = harness(RESTRICTED);
    let r = call(
        &h.state,
        "/validate",
        &review("CREATE", &privileged_pod(), None),
    )
    .await;
    assert_eq!(r["allowed"], false);
    assert_eq!(r["status"]["code"], 403);
    let msg = r["status"]["message"].as_str().unwrap();
    assert!(msg.contains("PAL007 privileged"), "{msg}");
    assert!(
        msg.contains("/spec/containers/0/securityContext/privileged"),
        "{msg}"
    );
    assert!(msg.contains("Pod ml/priv"), "{msg}");
    assert_eq!(rules_of(&r), ["PAL007"]);
    assert_eq!(r["auditAnnotations"]["decision"], "deny");
}

#[tokio::test]
async fn deployment_denial_lists_every_violated_rule() {
    let h = harness(RESTRICTED);
    let deployment = &example("tf-serving-root.yaml")[0];
    let r = call(&h.state, "/validate", &review("CREATE", deployment, None)).await;
    assert_eq!(r["allowed"], false);
    let msg = r["status"]["message"].as_str().unwrap();
    let rules = rules_of(&r);
    assert!(rules.contains(&"PAL016".to_string()), "{rules:?}");
    for rule in &rules {
        assert!(msg.contains(rule.as_str()), "{rule} missing from {msg}");
    }
    assert!(
        msg.contains("/spec/template/spec/volumes/0/hostPath"),
        "{msg}"
    );
}

#[tokio::test]
async fn ml_custom_resources_are_evaluated_at_their_pod_templates() {
    let h = harness(RESTRICTED);
    let isvc = &example("kserve-inferenceservice.yaml")[0];
    assert_eq!(isvc["kind"], "InferenceService");
    let r = call(&h.state, "/validate", &review("CREATE", isvc, None)).await;
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        r["status"]["message"]
            .as_str()
            .unwrap()
            .contains("/spec/predictor"),
        "{r}"
    );
    let ray = example("raycluster.yaml")
        .into_iter()
        .find(|o| o["kind"] == "RayCluster")
        .unwrap();
    let r = call(&h.state, "/validate", &review("CREATE", &ray, None)).await;
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        r["status"]["message"]
            .as_str()
            .unwrap()
            .contains("/spec/headGroupSpec/template/spec"),
        "{r}"
    );
}

#[tokio::test]
async fn update_that_keeps_pod_templates_is_admitted_with_warnings() {
    let h = harness(RESTRICTED);
    let old = example("tf-serving-root.yaml")[0].clone();
    let mut scaled = old.clone();
    scaled["spec"]["replicas"] = json!(5);
    scaled["metadata"]["labels"]["team"] = json!("vision");
    let r = call(
        &h.state,
        "/validate",
        &review("UPDATE", &scaled, Some(&old)),
    )
    .await;
    assert_eq!(r["allowed"], true, "{r}");
    assert_eq!(r["auditAnnotations"]["podTemplates"], "unchanged");
    let warnings = r["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("not enforced")),
        "{warnings:?}"
    );
    // Changing the template is evaluated as a create is.
    let mut changed = old.clone();
    changed["spec"]["template"]["spec"]["containers"][0]["image"] =
        json!("tensorflow/serving:2.16.1");
    let r = call(
        &h.state,
        "/validate",
        &review("UPDATE", &changed, Some(&old)),
    )
    .await;
    assert_eq!(r["allowed"], false, "{r}");
}

#[tokio::test]
async fn delete_and_unrelated_subresources_are_allowed() {
    let h = harness(RESTRICTED);
    let r = call(
        &h.state,
        "/validate",
        &review("DELETE", &privileged_pod(), None),
    )
    .await;
    assert_eq!(r["allowed"], true);
    assert_eq!(r["auditAnnotations"]["decision"], "skip");
    for sub in ["status", "scale", "exec", "binding"] {
        let mut rv = review("UPDATE", &privileged_pod(), Some(&privileged_pod()));
        rv["request"]["subResource"] = json!(sub);
        let r = call(&h.state, "/validate", &rv).await;
        assert_eq!(r["allowed"], true, "{sub}: {r}");
    }
}

#[tokio::test]
async fn ephemeral_containers_subresource_is_evaluated() {
    let h = harness(RESTRICTED);
    let old = hardened_pod();
    let mut debugged = old.clone();
    debugged["spec"]["ephemeralContainers"] = json!([{
        "name": "debugger", "image": "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "securityContext": {"privileged": true}
    }]);
    let mut rv = review("UPDATE", &debugged, Some(&old));
    rv["request"]["subResource"] = json!("ephemeralcontainers");
    let r = call(&h.state, "/validate", &rv).await;
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        r["status"]["message"]
            .as_str()
            .unwrap()
            .contains("ephemeralContainers/0"),
        "{r}"
    );
}

#[tokio::test]
async fn dry_run_gets_the_same_answer_and_is_marked_in_the_log() {
    let h = harness(RESTRICTED);
    let normal = call(
        &h.state,
        "/validate",
        &review("CREATE", &privileged_pod(), None),
    )
    .await;
    let mut rv = review("CREATE", &privileged_pod(), None);
    rv["request"]["dryRun"] = json!(true);
    let dry = call(&h.state, "/validate", &rv).await;
    assert_eq!(normal, dry);
    let lines = h.log.lines();
    let last: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(last["dryRun"], true);
}

#[tokio::test]
async fn warn_mode_admits_with_short_warnings() {
    let policy = format!("{RESTRICTED}  admission:\n    rules: {{privileged: warn}}\n");
    let h = harness(&policy);
    let r = call(
        &h.state,
        "/validate",
        &review("CREATE", &privileged_pod(), None),
    )
    .await;
    assert_eq!(r["allowed"], true, "{r}");
    let warnings = r["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().starts_with("PAL007 privileged")),
        "{warnings:?}"
    );
    for w in warnings {
        assert!(w.as_str().unwrap().chars().count() <= 120, "{w}");
    }
}

#[tokio::test]
async fn audit_mode_admits_silently_and_annotates() {
    let policy = format!("{RESTRICTED}  admission:\n    mode: audit\n");
    let h = harness(&policy);
    let r = call(
        &h.state,
        "/validate",
        &review("CREATE", &privileged_pod(), None),
    )
    .await;
    assert_eq!(r["allowed"], true);
    assert!(r.get("warnings").is_none(), "{r}");
    let violations = r["auditAnnotations"]["violations"].as_str().unwrap();
    assert!(
        violations.contains("PAL007 /spec/containers/0/securityContext/privileged"),
        "{violations}"
    );
}

#[tokio::test]
async fn exempt_namespaces_users_and_groups_are_not_evaluated() {
    let policy = format!(
        "{RESTRICTED}  admission:\n    exemptions: {{namespaces: [gpu-operator], usernames: [system:serviceaccount:ci:deployer], groups: [break-glass]}}\n"
    );
    let h = harness(&policy);
    let mut pod = privileged_pod();
    pod["metadata"]["namespace"] = json!("gpu-operator");
    let r = call(&h.state, "/validate", &review("CREATE", &pod, None)).await;
    assert_eq!(r["allowed"], true);
    assert_eq!(r["auditAnnotations"]["exempt"], "namespace");
    let mut rv = review("CREATE", &privileged_pod(), None);
    rv["request"]["userInfo"]["username"] = json!("system:serviceaccount:ci:deployer");
    assert_eq!(
        call(&h.state, "/validate", &rv).await["auditAnnotations"]["exempt"],
        "username"
    );
    let mut rv = review("CREATE", &privileged_pod(), None);
    rv["request"]["userInfo"]["groups"] = json!(["system:authenticated", "break-glass"]);
    assert_eq!(
        call(&h.state, "/validate", &rv).await["auditAnnotations"]["exempt"],
        "group"
    );
}

/// A pod that breaks `restricted` PSS checks only (no baseline check, no high non-PSS rule).
fn restricted_only_violation() -> Value {
    let mut pod = hardened_pod();
    pod["metadata"]["name"] = json!("root");
    pod["spec"]["securityContext"] = json!({"seccompProfile": {"type": "RuntimeDefault"}});
    pod["spec"]["containers"][0]["securityContext"]["runAsUser"] = json!(0);
    pod
}

#[tokio::test]
async fn namespace_labels_set_levels_from_cache_or_namespace_object() {
    let h = harness(RESTRICTED);
    let pod = restricted_only_violation();
    let r = call(&h.state, "/validate", &review("CREATE", &pod, None)).await;
    assert_eq!(r["allowed"], false, "restricted by default: {r}");
    // The namespace cache (fed by a file or the API in production; a fake here).
    h.namespaces.replace(
        [(
            "ml".to_string(),
            [
                ("palisade.dev/enforce".to_string(), "baseline".to_string()),
                ("palisade.dev/warn".to_string(), "restricted".to_string()),
            ]
            .into_iter()
            .collect(),
        )]
        .into_iter()
        .collect(),
    );
    let r = call(&h.state, "/validate", &review("CREATE", &pod, None)).await;
    assert_eq!(r["allowed"], true, "baseline in ml: {r}");
    let warnings = r["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().starts_with("PAL018")),
        "restricted warnings: {warnings:?}"
    );
    // A namespaceObject in the request wins over the cache.
    let mut rv = review("CREATE", &pod, None);
    rv["request"]["namespaceObject"] =
        json!({"metadata": {"labels": {"palisade.dev/enforce": "restricted"}}});
    let r = call(&h.state, "/validate", &rv).await;
    assert_eq!(r["allowed"], false, "{r}");
}

#[tokio::test]
async fn exceptions_apply_until_they_expire() {
    let make = |expires: &str| {
        format!(
            "{RESTRICTED}  exceptions:\n    - {{rules: [privileged], namespaces: [ml], reason: driver, expires: {expires}}}\n"
        )
    };
    let h = harness(&make("2999-01-01"));
    let r = call(
        &h.state,
        "/validate",
        &review("CREATE", &privileged_pod(), None),
    )
    .await;
    assert_eq!(r["allowed"], true, "{r}");
    let h = harness(&make("2020-01-01"));
    let r = call(
        &h.state,
        "/validate",
        &review("CREATE", &privileged_pod(), None),
    )
    .await;
    assert_eq!(r["allowed"], false, "{r}");
}

#[tokio::test]
async fn exceptions_match_generated_names_and_request_namespaces() {
    let policy = format!(
        "{RESTRICTED}  exceptions:\n    - {{rules: [privileged], namespaces: [gpu], kinds: [Pod], names: [\"nvidia-device-plugin-*\"], reason: GPU operator}}\n"
    );
    let h = harness(&policy);
    let mut pod = privileged_pod();
    // As a DaemonSet controller creates it: no name, no namespace in the object.
    pod["metadata"] = json!({"generateName": "nvidia-device-plugin-"});
    let mut rv = review("CREATE", &pod, None);
    rv["request"]["namespace"] = json!("gpu");
    rv["request"]["name"] = json!("");
    let r = call(&h.state, "/validate", &rv).await;
    assert_eq!(r["allowed"], true, "{r}");
}

fn apply_patch(object: &Value, response: &Value) -> Value {
    assert_eq!(response["patchType"], "JSONPatch");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(response["patch"].as_str().unwrap())
        .unwrap();
    let patch: json_patch::Patch = serde_json::from_slice(&bytes).unwrap();
    let mut out = object.clone();
    json_patch::patch(&mut out, &patch).unwrap();
    out
}

#[tokio::test]
async fn mutation_then_validation_agree() {
    // Every fixable rule mutated: the patched object must pass /validate.
    let policy = format!("{RESTRICTED}  admission:\n    mutate: {{rules: [all]}}\n");
    let h = harness(&policy);
    let mut pod = hardened_pod();
    pod["metadata"]["name"] = json!("fixable");
    pod["spec"]["securityContext"] = json!({});
    pod["spec"]["containers"][0]["securityContext"] = json!({"readOnlyRootFilesystem": true});
    let before = call(&h.state, "/validate", &review("CREATE", &pod, None)).await;
    assert_eq!(before["allowed"], false, "{before}");
    let m = call(&h.state, "/mutate", &review("CREATE", &pod, None)).await;
    assert_eq!(m["allowed"], true);
    let mutated = apply_patch(&pod, &m);
    assert_eq!(
        mutated["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"],
        false
    );
    let after = call(&h.state, "/validate", &review("CREATE", &mutated, None)).await;
    assert_eq!(after["allowed"], true, "{after}");
    let again = call(&h.state, "/mutate", &review("CREATE", &mutated, None)).await;
    assert!(
        again.get("patch").is_none(),
        "mutation is idempotent: {again}"
    );
    // The metric of fixes that did not satisfy their own rule stays at zero.
    assert!(
        h.state
            .metrics
            .render()
            .contains("palisade_admission_mutation_incomplete_total 0")
    );
}

#[tokio::test]
async fn default_mutation_set_fixes_only_safe_defaults() {
    let h = harness(RESTRICTED);
    let deployment = &example("tf-serving-root.yaml")[0];
    let m = call(&h.state, "/mutate", &review("CREATE", deployment, None)).await;
    let mutated = apply_patch(deployment, &m);
    let c = &mutated["spec"]["template"]["spec"]["containers"][0]["securityContext"];
    assert_eq!(c["allowPrivilegeEscalation"], false, "{mutated}");
    assert_eq!(c["capabilities"]["drop"], json!(["ALL"]));
    // runAsUser is not a safe default (the image may need its own UID): not set.
    assert!(
        mutated
            .pointer("/spec/template/spec/securityContext/runAsUser")
            .is_none()
            && c.get("runAsUser").is_none(),
        "{mutated}"
    );
    let mutated_rules = m["auditAnnotations"]["mutated"].as_str().unwrap();
    assert!(mutated_rules.contains("PAL013"), "{mutated_rules}");
    // A pod UPDATE is never patched: pod specs are immutable.
    let pod = restricted_only_violation();
    let mut changed = pod.clone();
    changed["spec"]["containers"][0]["image"] = json!("registry.example.com/ml/app:2");
    let m = call(&h.state, "/mutate", &review("UPDATE", &changed, Some(&pod))).await;
    assert!(m.get("patch").is_none(), "{m}");
}

#[tokio::test]
async fn malformed_requests_get_400_json_errors() {
    let h = harness(RESTRICTED);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"not json".to_vec(), "not an AdmissionReview"),
        (b"{}".to_vec(), "not an AdmissionReview"),
        (
            br#"{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","request":{"uid":"1","operation":"CREATE"}}"#.to_vec(),
            "unsupported",
        ),
        (
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_vec(),
            "no request",
        ),
        (
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"CREATE"}}"#.to_vec(),
            "object is missing",
        ),
        (
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"CREATE","object":[1,2]}}"#.to_vec(),
            "not a JSON object",
        ),
        (
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"PATCH","object":{}}}"#.to_vec(),
            "not an AdmissionReview",
        ),
    ];
    for (body, expected) in cases {
        for path in ["/validate", "/mutate"] {
            let (status, v) = call_raw(&h.state, path, body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
            assert!(v["error"].as_str().unwrap().contains(expected), "{v}");
        }
    }
    // A pod spec of the wrong shape in a CRD is not waved through.
    let ray = json!({"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "r", "namespace": "ml"},
        "spec": {"headGroupSpec": {"template": {"spec": {"containers": "oops"}}}}});
    let r = call(&h.state, "/validate", &review("CREATE", &ray, None)).await;
    assert_eq!(r["allowed"], false, "{r}");
    assert_eq!(r["status"]["code"], 400);
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let limits = Limits {
        max_body_bytes: 1024,
        ..Limits::default()
    };
    let h = harness_with(RESTRICTED, limits);
    let mut pod = hardened_pod();
    pod["metadata"]["annotations"] = json!({"big": "x".repeat(4096)});
    let (status, v) = call_raw(
        &h.state,
        "/validate",
        serde_json::to_vec(&review("CREATE", &pod, None)).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert!(v["error"].as_str().unwrap().contains("exceeds 1024 bytes"));
}

#[tokio::test]
async fn large_objects_are_evaluated_off_the_async_workers() {
    let limits = Limits {
        inline_body_bytes: 64,
        ..Limits::default()
    };
    let h = harness_with(RESTRICTED, limits);
    let r = call(
        &h.state,
        "/validate",
        &review("CREATE", &privileged_pod(), None),
    )
    .await;
    assert_eq!(r["allowed"], false);
}

/// A request body that never arrives: holds a slot until the deadline.
struct Stalled;

impl http_body::Body for Stalled {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

/// Sends a request whose body never arrives: it holds an evaluation slot until its deadline
/// or until the task is aborted.
fn stalled_request(
    state: &std::sync::Arc<palisade_admission::AppState>,
) -> tokio::task::JoinHandle<axum::response::Response> {
    use tower::ServiceExt;
    let state = state.clone();
    tokio::spawn(async move {
        palisade_admission::router(state)
            .oneshot(
                axum::http::Request::post("/validate")
                    .body(axum::body::Body::new(Stalled))
                    .unwrap(),
            )
            .await
            .unwrap()
    })
}

/// Polls until `check` holds (the server side runs on other tasks); a bound on the number of
/// polls, not a timed assertion.
async fn until(mut check: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("condition never held");
}

#[tokio::test]
async fn beyond_max_concurrent_requests_are_shed_with_429_and_no_retry_after() {
    use tower::ServiceExt;
    let limits = Limits {
        max_concurrent: 2,
        queue_wait: Duration::from_millis(10),
        // Long: the held requests must not time out while the test looks at the third.
        deadline: Duration::from_secs(600),
        ..Limits::default()
    };
    let h = harness_with(RESTRICTED, limits);
    let held = [stalled_request(&h.state), stalled_request(&h.state)];
    until(|| h.state.available_slots() == 0).await;
    let response = palisade_admission::router(h.state.clone())
        .oneshot(
            axum::http::Request::post("/validate")
                .body(axum::body::Body::from(
                    serde_json::to_vec(&review("CREATE", &hardened_pod(), None)).unwrap(),
                ))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // client-go would sleep and retry inside the webhook timeout on a Retry-After.
    assert!(response.headers().get("retry-after").is_none());
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    // A metav1.Status, so the API server shows the message to the user.
    assert_eq!(v["kind"], "Status");
    assert_eq!(v["reason"], "TooManyRequests");
    assert_eq!(v["code"], 429);
    assert!(
        v["message"].as_str().unwrap().contains("--max-concurrent"),
        "{v}"
    );
    for task in &held {
        task.abort();
    }
    until(|| h.state.available_slots() == 2).await;
    let r = call(
        &h.state,
        "/validate",
        &review("CREATE", &hardened_pod(), None),
    )
    .await;
    assert_eq!(r["allowed"], true);
    let metrics = h.state.metrics.render();
    assert!(metrics.contains("outcome=\"shed\"} 1"), "{metrics}");
}

#[tokio::test]
async fn a_request_past_its_deadline_gets_504_and_frees_its_slot() {
    let limits = Limits {
        max_concurrent: 1,
        deadline: Duration::from_millis(100),
        ..Limits::default()
    };
    let h = harness_with(RESTRICTED, limits);
    let stalled = stalled_request(&h.state).await.unwrap();
    assert_eq!(stalled.status(), StatusCode::GATEWAY_TIMEOUT);
    let body = axum::body::to_bytes(stalled.into_body(), 1 << 20)
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["reason"], "Timeout");
    assert_eq!(h.state.available_slots(), 1);
    let r = call(
        &h.state,
        "/validate",
        &review("CREATE", &hardened_pod(), None),
    )
    .await;
    assert_eq!(r["allowed"], true);
    assert!(h.state.metrics.render().contains("outcome=\"timeout\"} 1"));
}

#[tokio::test]
async fn decision_log_has_one_line_per_request_without_values() {
    let h = harness(RESTRICTED);
    let secret = "hunter2-very-secret-token";
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "ml"},
        "data": {"AWS_SECRET_ACCESS_KEY": secret, "HF_TOKEN": secret}});
    let r = call(&h.state, "/validate", &review("CREATE", &cm, None)).await;
    call(
        &h.state,
        "/validate",
        &review("CREATE", &privileged_pod(), None),
    )
    .await;
    let lines = h.log.lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in &lines {
        assert!(!line.contains(secret), "{line}");
    }
    let first: Value = serde_json::from_str(&lines[0]).unwrap();
    for key in [
        "ts",
        "uid",
        "kind",
        "namespace",
        "name",
        "user",
        "decision",
        "rules",
        "latencyMs",
        "policy",
    ] {
        assert!(first.get(key).is_some(), "{key} missing from {first}");
    }
    assert_eq!(first["kind"], "ConfigMap");
    assert_eq!(first["user"], "alice@example.com");
    let second: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(second["decision"], "deny");
    assert_eq!(second["rules"], json!(["PAL007"]));
    // The response to the user may name the key; it never echoes the value.
    assert!(!r.to_string().contains(secret), "{r}");
}

#[tokio::test]
async fn probes_and_metrics() {
    let h = harness(RESTRICTED);
    call(
        &h.state,
        "/validate",
        &review("CREATE", &privileged_pod(), None),
    )
    .await;
    for (path, expected) in [("/healthz", "ok"), ("/readyz", "ok")] {
        let (status, v) = get(&h, path).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v, expected);
    }
    let (_, metrics) = get(&h, "/metrics").await;
    assert!(
        metrics
            .contains("palisade_admission_requests_total{webhook=\"validate\",outcome=\"deny\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "palisade_admission_rule_violations_total{rule=\"PAL007\",action=\"deny\"} 1"
        )
    );
    assert!(
        metrics
            .contains("palisade_admission_request_duration_seconds_count{webhook=\"validate\"} 1")
    );
    h.state.set_ready(false);
    assert_eq!(get(&h, "/readyz").await.0, StatusCode::SERVICE_UNAVAILABLE);
}

async fn get(h: &Harness, path: &str) -> (StatusCode, String) {
    use tower::ServiceExt;
    let r = palisade_admission::router(h.state.clone())
        .oneshot(
            axum::http::Request::get(path)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = r.status();
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn policy_reload_rejects_bad_policies_and_keeps_the_old_one() {
    let h = harness(RESTRICTED);
    let bad = "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nspec:\n  standard: strict\n";
    let errors = h.state.reload_policy(bad).unwrap_err();
    assert!(errors[0].contains("unknown standard"), "{errors:?}");
    let r = call(
        &h.state,
        "/validate",
        &review("CREATE", &privileged_pod(), None),
    )
    .await;
    assert_eq!(r["allowed"], false, "old policy still enforced");
    assert_eq!(r["auditAnnotations"]["policy"], "test@1");
    let metrics = h.state.metrics.render();
    assert!(
        metrics.contains("palisade_policy_reload_failures_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("palisade_policy_last_reload_success 0"));
    assert!(
        h.log
            .lines()
            .iter()
            .any(|l| l.contains("\"level\":\"error\"") && l.contains("policy rejected"))
    );
    // A typo in a rule key is rejected too (it would silently change a mode).
    let typo = format!("{RESTRICTED}  admission:\n    rules: {{privilegd: warn}}\n");
    assert!(h.state.reload_policy(&typo).is_err());
    let good = format!("{RESTRICTED}  admission:\n    rules: {{privileged: warn}}\n");
    assert_eq!(h.state.reload_policy(&good).unwrap(), 2);
    let r = call(
        &h.state,
        "/validate",
        &review("CREATE", &privileged_pod(), None),
    )
    .await;
    assert_eq!(r["allowed"], true, "{r}");
    assert_eq!(r["auditAnnotations"]["policy"], "test@2");
    assert!(
        h.state
            .metrics
            .render()
            .contains("palisade_policy_last_reload_success 1")
    );
}

#[tokio::test]
async fn v1beta1_reviews_are_echoed_in_their_version() {
    let h = harness(RESTRICTED);
    let mut rv = review("CREATE", &hardened_pod(), None);
    rv["apiVersion"] = json!("admission.k8s.io/v1beta1");
    let r = call(&h.state, "/validate", &rv).await;
    assert_eq!(r["allowed"], true);
}
