//! Model-server, model-file and namespace rules: each fixture under
//! `resources/test/fixtures/rules/<CODE>.yaml` holds failing (`fail-*`) and passing (`pass-*`)
//! objects, including false-positive traps; the tests pin exactly which object, container
//! and JSON pointer each finding of that code names. Whole-scan rules run through
//! `rules::stream::check` as the CLI runs them, including across two files.

use std::collections::BTreeSet;
use std::sync::Arc;

use palisade_k8s::rules::stream;
use palisade_k8s::{FileScan, ScanOptions, scan_source};
use palisade_policy::{Finding, Selection};

mod common;
use common::{assert_fixture_findings, describe, fixture};

fn scan(name: &str, src: &str, opts: &ScanOptions) -> FileScan {
    let scan = scan_source(&Arc::from(name), src, opts);
    assert!(scan.errors.is_empty(), "{name}: {:?}", scan.errors);
    scan
}

/// Findings of `code` in the fixture, per-file and whole-scan together, as
/// `Kind/name container pointer`.
fn findings(code: &str) -> Vec<Finding> {
    let opts = ScanOptions::default();
    let file = scan(&format!("{code}.yaml"), &fixture(code), &opts);
    let mut all = stream::check(&[&file.inventory], &opts);
    all.extend(file.findings);
    all.retain(|f| f.rule.code == code);
    all
}

/// Asserts the exact findings (see `common`), each with a JSON pointer.
fn expect(code: &str, expected: &[&str]) {
    let found = findings(code);
    for f in &found {
        assert!(f.location.pointer.starts_with('/'), "{f:?}");
    }
    assert_fixture_findings(code, &found, expected);
}

const T: &str = "/spec/template/spec/containers/0";

#[test]
fn pal160_triton_model_control_open() {
    expect(
        "PAL160",
        &[
            &format!("Deployment/fail-triton-explicit triton {T}/args/-"),
            &format!("Deployment/fail-triton-grpc-open triton {T}/args/-"),
            "Pod/fail-triton-script server /spec/containers/0/command/2",
        ],
    );
}

#[test]
fn pal161_torchserve_token_auth_disabled() {
    expect(
        "PAL161",
        &[
            &format!("Deployment/fail-torchserve-flag torchserve {T}/args/2"),
            &format!("Deployment/fail-torchserve-env torchserve {T}/env/0/value"),
            "Pod/fail-torchserve-script torchserve /spec/containers/0/command/2",
        ],
    );
}

#[test]
fn pal162_torchserve_config_token_auth_disabled() {
    expect(
        "PAL162",
        &["ConfigMap/fail-torchserve-config - /data/config.properties"],
    );
}

#[test]
fn pal163_ray_dashboard_exposed() {
    expect(
        "PAL163",
        &[
            "RayCluster/fail-ray-head-all ray-head /spec/headGroupSpec/rayStartParams/dashboard-host",
            "RayCluster/fail-ray-head-default ray-head /spec/headGroupSpec/rayStartParams/dashboard-host",
            "RayJob/fail-rayjob ray-head /spec/rayClusterSpec/headGroupSpec/rayStartParams/dashboard-host",
            &format!("StatefulSet/fail-ray-start-args head {T}/command/3"),
        ],
    );
}

#[test]
fn pal164_jupyter_without_token() {
    expect(
        "PAL164",
        &[
            &format!("Deployment/fail-notebook-args notebook {T}/args/1"),
            "Pod/fail-serverapp-script lab /spec/containers/0/command/2",
            &format!("Notebook/fail-jupyter-env notebook {T}/env/0/value"),
            "Pod/fail-identity-provider server /spec/containers/0/args/2",
        ],
    );
}

#[test]
fn pal165_mlflow_server_without_auth() {
    expect(
        "PAL165",
        &[
            &format!("Deployment/fail-mlflow mlflow {T}/command/2"),
            "Pod/fail-mlflow-env mlflow /spec/containers/0/env/0/value",
        ],
    );
}

#[test]
fn pal166_llm_server_without_auth() {
    expect(
        "PAL166",
        &[
            &format!("Deployment/fail-vllm vllm {T}/env/-"),
            &format!("Deployment/fail-tgi tgi {T}/env/-"),
            &format!("Deployment/fail-ollama-explicit ollama {T}/env/0/value"),
            "Pod/fail-ollama-default ollama /spec/containers/0/env/-",
        ],
    );
}

#[test]
fn pal170_model_server_exposed_externally() {
    expect(
        "PAL170",
        &[
            "Service/fail-vllm-lb vllm /spec/type",
            "Service/fail-tf-nodeport serving /spec/type",
            "RayCluster/fail-ray-head-lb ray-head /spec/headGroupSpec/serviceType",
        ],
    );
}

#[test]
fn pal190_model_volume_writable() {
    expect(
        "PAL190",
        &[
            &format!("Deployment/fail-tf-hostpath serving {T}/volumeMounts/0/readOnly"),
            &format!("Deployment/fail-torchserve-pvc torchserve {T}/volumeMounts/1/readOnly"),
            &format!("StatefulSet/fail-vllm-hf-cache vllm {T}/volumeMounts/0/readOnly"),
        ],
    );
}

#[test]
fn pal191_model_revision_unpinned() {
    expect(
        "PAL191",
        &[
            &format!("Deployment/fail-vllm-model vllm {T}/args/-"),
            "Pod/fail-vllm-serve-branch vllm /spec/containers/0/command/3",
            &format!("Deployment/fail-tgi-env tgi {T}/env/-"),
            "InferenceService/fail-kserve-hf kserve-container /spec/predictor/model/storageUri",
        ],
    );
}

#[test]
fn pal192_trust_remote_code() {
    expect(
        "PAL192",
        &[
            &format!("Deployment/fail-vllm-flag vllm {T}/args/2"),
            "Pod/fail-tgi-env tgi /spec/containers/0/env/0/value",
            "Pod/fail-python-script app /spec/containers/0/command/2",
        ],
    );
}

#[test]
fn pal240_namespace_psa_enforce_missing() {
    let p = "/metadata/labels/pod-security.kubernetes.io~1enforce";
    expect(
        "PAL240",
        &[
            &format!("Namespace/fail-no-labels - {p}"),
            &format!("Namespace/fail-warn-only - {p}"),
            &format!("Namespace/fail-bad-level - {p}"),
        ],
    );
}

#[test]
fn pal241_namespace_without_default_deny() {
    expect(
        "PAL241",
        &[
            "Namespace/fail-ns-open - /metadata/name",
            "Namespace/fail-ns-allow-all - /metadata/name",
            "Namespace/fail-ns-egress-only - /metadata/name",
            "Namespace/fail-ns-selective - /metadata/name",
            "Deployment/fail-implicit-ns - /metadata/namespace",
        ],
    );
}

#[test]
fn pal242_workload_not_selected_by_network_policy() {
    expect(
        "PAL242",
        &[
            "Deployment/fail-triton - /spec/template/metadata/labels",
            "Pod/fail-public - /metadata/labels",
            "Pod/fail-sandboxed - /metadata/labels",
            "RayCluster/fail-ray-workers - /spec/workerGroupSpecs/0/template/metadata/labels",
            "Deployment/fail-other-namespace - /spec/template/metadata/labels",
        ],
    );
}

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: llama, namespace: llm}
spec:
  selector: {matchLabels: {app: llama}}
  template:
    metadata: {labels: {app: llama, team: nlp}}
    spec:
      containers:
        - name: server
          image: vllm/vllm-openai:v0.6.3
          args: [--model, /models/llama]
";

const SERVICE: &str = "\
apiVersion: v1
kind: Service
metadata: {name: llama-public, namespace: llm}
spec:
  selector: {app: llama}
  type: LoadBalancer
  ports: [{port: 80, targetPort: 8000}]
";

const POLICY: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: llm}
spec:
  podSelector: {}
  policyTypes: [Ingress]
";

/// The Service is in one file and the Deployment in another, scanned separately as the CLI
/// does (in parallel); the whole-scan check joins them.
#[test]
fn exposure_spans_files() {
    let opts = ScanOptions::default();
    let deployment = scan("deploy/llama.yaml", DEPLOYMENT, &opts);
    let service = scan("net/service.yaml", SERVICE, &opts);
    let findings = stream::check(&[&deployment.inventory, &service.inventory], &opts);
    let exposed: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule.code == "PAL170")
        .collect();
    assert_eq!(exposed.len(), 1, "{findings:?}");
    let f = exposed[0];
    assert_eq!(&*f.location.file, "net/service.yaml");
    assert_eq!((f.location.line, f.location.column), (6, 9));
    assert_eq!(f.location.document, Some(0));
    assert_eq!(f.location.pointer, "/spec/type");
    let o = f.object.as_ref().unwrap();
    assert_eq!(
        (o.kind.as_str(), o.namespace.as_deref(), o.name.as_str()),
        ("Service", Some("llm"), "llama-public")
    );
    assert_eq!(f.container.as_deref(), Some("server"));
    assert!(f.message.contains("deploy/llama.yaml:1"), "{}", f.message);
    // Order of the inventories does not matter.
    let reversed = stream::check(&[&service.inventory, &deployment.inventory], &opts);
    let mut a: Vec<String> = findings.iter().map(describe).collect();
    let mut b: Vec<String> = reversed.iter().map(describe).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);

    // Without a policy file, the namespace has no default deny and the pods no policy.
    let codes: BTreeSet<&str> = findings.iter().map(|f| f.rule.code).collect();
    assert!(
        codes.contains("PAL241") && codes.contains("PAL242"),
        "{codes:?}"
    );
    // A default-deny policy in a third file closes both.
    let policy = scan("net/policy.yaml", POLICY, &opts);
    let findings = stream::check(
        &[&deployment.inventory, &service.inventory, &policy.inventory],
        &opts,
    );
    let codes: BTreeSet<&str> = findings.iter().map(|f| f.rule.code).collect();
    assert_eq!(codes, BTreeSet::from(["PAL170"]));
}

/// A custom resource the policy declares (`customResources`) is a workload to the whole-scan
/// rules too: its pods are matched to Services and NetworkPolicies like a Deployment's.
#[test]
fn stream_rules_see_policy_declared_custom_resources() {
    const SERVING_RUN: &str = "\
apiVersion: example.com/v1
kind: ServingRun
metadata: {name: llama, namespace: llm}
spec:
  server:
    metadata: {labels: {app: llama}}
    spec:
      containers:
        - name: server
          image: vllm/vllm-openai:v0.6.3
          args: [--model, /models/llama]
";
    let exposed = |opts: &ScanOptions| {
        let run = scan_source(&Arc::from("run.yaml"), SERVING_RUN, opts);
        let service = scan("net/service.yaml", SERVICE, opts);
        stream::check(&[&run.inventory, &service.inventory], opts)
            .into_iter()
            .filter(|f| f.rule.code == "PAL170")
            .count()
    };
    assert_eq!(
        exposed(&ScanOptions::default()),
        0,
        "unknown CRDs carry no pods"
    );
    let declared = ScanOptions::new(
        palisade_policy::Standard::Restricted,
        palisade_k8s::pss::Version::LATEST,
        Selection::default(),
        vec![palisade_policy::CustomResource {
            api_version: "example.com".into(),
            kind: "ServingRun".into(),
            paths: vec!["/spec/server".into()],
        }],
    );
    assert_eq!(exposed(&declared), 1);
}

#[test]
fn stream_rules_respect_selection() {
    let rules = palisade_k8s::rules();
    let ignore = |s: &str| {
        ScanOptions::new(
            palisade_policy::Standard::Restricted,
            palisade_k8s::pss::Version::LATEST,
            Selection::new(&[], &[s.to_string()], &rules).unwrap(),
            Vec::new(),
        )
    };
    let opts = ignore("model-server-exposed-externally");
    let d = scan("a.yaml", DEPLOYMENT, &opts);
    let s = scan("b.yaml", SERVICE, &opts);
    let codes: BTreeSet<&str> = stream::check(&[&d.inventory, &s.inventory], &opts)
        .iter()
        .map(|f| f.rule.code)
        .collect();
    assert_eq!(codes, BTreeSet::from(["PAL241", "PAL242"]));
    let opts = ignore("namespaces");
    let d = scan("a.yaml", DEPLOYMENT, &opts);
    let s = scan("b.yaml", SERVICE, &opts);
    let codes: BTreeSet<&str> = stream::check(&[&d.inventory, &s.inventory], &opts)
        .iter()
        .map(|f| f.rule.code)
        .collect();
    assert_eq!(codes, BTreeSet::from(["PAL170"]));
}

#[test]
fn every_new_rule_is_listed_with_docs() {
    let rules = palisade_k8s::rules();
    for code in [
        "PAL160", "PAL161", "PAL162", "PAL163", "PAL164", "PAL165", "PAL166", "PAL170", "PAL190",
        "PAL191", "PAL192", "PAL240", "PAL241", "PAL242",
    ] {
        let matching: Vec<_> = rules.iter().filter(|r| r.code == code).collect();
        assert_eq!(matching.len(), 1, "{code} listed once");
        let docs = matching[0].docs;
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Fix",
        ] {
            assert!(docs.contains(section), "{code} lacks {section}");
        }
        assert!(!matching[0].references.is_empty(), "{code} has references");
    }
}

/// Arbitrary shapes in the fields these rules read never panic and never produce errors
/// beyond what the decoder reports.
#[test]
fn odd_shapes_do_not_panic() {
    let src = "\
apiVersion: v1
kind: Pod
metadata: {name: odd, namespace: x, labels: [a]}
spec:
  containers:
    - name: c
      image: vllm/vllm-openai:v0.6.3
      command: [{a: 1}, 7, null, \"\"]
      args: {not: a-list}
      env: [{name: OLLAMA_HOST}, {value: x}, 3]
      volumeMounts: [{name: m}, {mountPath: /models}, 5]
  volumes: [{name: m}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: x}
spec:
  podSelector: {matchExpressions: {key: a}}
  policyTypes: Ingress
  ingress: {from: x}
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: x}
spec: {type: [LoadBalancer], selector: [a]}
---
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: r, namespace: x}
spec:
  headGroupSpec:
    rayStartParams: [dashboard-host]
    serviceType: {x: 1}
    template: {spec: {containers: [{name: h, image: rayproject/ray:2.9.0}]}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {config.properties: [1]}
";
    let opts = ScanOptions::default();
    let file = scan_source(&Arc::from("odd.yaml"), src, &opts);
    let _ = stream::check(&[&file.inventory], &opts);
}
