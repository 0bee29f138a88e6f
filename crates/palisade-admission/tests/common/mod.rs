//! Helpers shared by the integration tests: AdmissionReview fixtures in the documented wire
//! format (k8s.io/api/admission/v1), a state with an in-memory log, and a router caller.
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use palisade_admission::log::Memory;
use palisade_admission::{AppState, Engine, Limits, StaticNamespaces, router};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const RESTRICTED: &str = "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nmetadata: {name: test}\nspec:\n  standard: restricted\n";

pub struct Harness {
    pub state: Arc<AppState>,
    pub log: Arc<Memory>,
    pub namespaces: Arc<StaticNamespaces>,
}

pub fn harness(policy: &str) -> Harness {
    harness_with(policy, Limits::default())
}

pub fn harness_with(policy: &str, limits: Limits) -> Harness {
    let rules = palisade_admission::k8s_rules();
    let engine = Engine::from_yaml(policy, &rules, 1).expect("test policy is valid");
    let log = Arc::new(Memory::default());
    let namespaces = Arc::new(StaticNamespaces::default());
    let state = AppState::new(engine, rules, namespaces.clone(), log.clone(), limits);
    Harness {
        state,
        log,
        namespaces,
    }
}

/// An AdmissionReview for `object` as the API server sends it.
pub fn review(operation: &str, object: &Value, old: Option<&Value>) -> Value {
    let api_version = object["apiVersion"].as_str().unwrap_or("v1");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let kind = object["kind"].as_str().unwrap_or("");
    let name = object
        .pointer("/metadata/name")
        .cloned()
        .unwrap_or(json!(""));
    let namespace = object
        .pointer("/metadata/namespace")
        .cloned()
        .unwrap_or(json!("default"));
    let resource = format!("{}s", kind.to_ascii_lowercase());
    let mut request = json!({
        "uid": format!("uid-{operation}-{kind}-{}", name.as_str().unwrap_or("")),
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": resource},
        "requestKind": {"group": group, "version": version, "kind": kind},
        "requestResource": {"group": group, "version": version, "resource": resource},
        "name": name,
        "namespace": namespace,
        "operation": operation,
        "userInfo": {"username": "alice@example.com", "uid": "1", "groups": ["system:authenticated"]},
        "object": object,
        "oldObject": old.cloned().unwrap_or(Value::Null),
        "dryRun": false,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
    });
    if operation == "DELETE" {
        request["object"] = Value::Null;
        request["oldObject"] = object.clone();
    }
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})
}

pub async fn call_raw(state: &Arc<AppState>, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let response = router(state.clone())
        .oneshot(
            Request::post(path)
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    let value =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)));
    (status, value)
}

/// Posts a review and returns `response`, checking the envelope.
pub async fn call(state: &Arc<AppState>, path: &str, review: &Value) -> Value {
    let (status, body) = call_raw(state, path, serde_json::to_vec(review).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["apiVersion"], review["apiVersion"]);
    assert_eq!(body["kind"], "AdmissionReview");
    assert_eq!(
        body["response"]["uid"], review["request"]["uid"],
        "uid is echoed"
    );
    body["response"].clone()
}

/// The objects of a YAML stream as JSON; empty documents are left out and a document that
/// does not parse fails the test.
pub fn objects(yaml: &str) -> Vec<Value> {
    palisade_yaml::parse_stream(yaml)
        .into_iter()
        .map(|d| {
            let d = d.unwrap_or_else(|e| panic!("line {}: {}", e.line, e.message));
            serde_json::from_str(&d.root.to_json()).unwrap()
        })
        .filter(|v: &Value| v.is_object())
        .collect()
}

pub fn example(name: &str) -> Vec<Value> {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    objects(&std::fs::read_to_string(path).unwrap())
}

/// A pod that passes `restricted`.
pub fn hardened_pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "ok", "namespace": "ml"},
        "spec": {
            "automountServiceAccountToken": false,
            "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "app", "image": "registry.example.com/ml/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "imagePullPolicy": "IfNotPresent",
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}},
                "livenessProbe": {"httpGet": {"path": "/", "port": 8080}},
                "readinessProbe": {"httpGet": {"path": "/", "port": 8080}},
                "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}}
            }]
        }
    })
}

/// A pod with a privileged container.
pub fn privileged_pod() -> Value {
    let mut pod = hardened_pod();
    pod["metadata"]["name"] = json!("priv");
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    pod
}

pub fn rules_of(response: &Value) -> Vec<String> {
    response["auditAnnotations"]["rules"]
        .as_str()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}
