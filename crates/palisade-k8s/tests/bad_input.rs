//! Bad input gets an error naming the line and what was expected, and the rest of the
//! stream is still scanned.

use std::sync::Arc;

use palisade_k8s::{ScanOptions, scan_source};

const GOOD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: good}\nspec:\n  containers:\n    - {name: app, image: nginx, securityContext: {privileged: true}}\n";

/// Scans `bad` between two good documents; returns the errors as `line: message`.
fn errors_around(bad: &str) -> Vec<String> {
    let src = format!("{GOOD}---\n{bad}\n---\n{GOOD}");
    let scan = scan_source(&Arc::from("in.yaml"), &src, &ScanOptions::default());
    let privileged = scan
        .findings
        .iter()
        .filter(|f| f.rule.code == "PAL007")
        .count();
    assert_eq!(
        privileged, 2,
        "both good documents are still scanned: {:?}",
        scan.errors
    );
    scan.errors
        .iter()
        .map(|e| format!("{}: {}", e.line, e.message))
        .collect()
}

#[test]
fn invalid_yaml() {
    let errors = errors_around("apiVersion: v1\nkind: Pod\nspec: {containers: [\n");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("document 2: invalid YAML"), "{errors:?}");
    // The flow sequence opened on line 10 is still open when the document ends.
    let line: u32 = errors[0].split(':').next().unwrap().parse().unwrap();
    assert!((10..=12).contains(&line), "{errors:?}");
}

#[test]
fn a_document_that_is_not_an_object() {
    let errors = errors_around("- just\n- a list\n");
    assert_eq!(
        errors,
        [
            "8: document 2: expected a Kubernetes object (a mapping with apiVersion and kind), found list"
        ]
    );
    let errors = errors_around("hello\n");
    assert_eq!(
        errors,
        [
            "8: document 2: expected a Kubernetes object (a mapping with apiVersion and kind), found string"
        ]
    );
}

#[test]
fn missing_api_version_or_kind() {
    let errors = errors_around("kind: Pod\nmetadata: {name: x}\n");
    assert_eq!(
        errors,
        ["8: document 2: expected a Kubernetes object: missing apiVersion"]
    );
    let errors = errors_around("metadata: {name: x}\n");
    assert_eq!(
        errors,
        ["8: document 2: expected a Kubernetes object: missing apiVersion and kind"]
    );
}

#[test]
fn malformed_api_version() {
    let errors = errors_around("apiVersion: Apps/V1\nkind: Deployment\n");
    assert_eq!(
        errors,
        [
            "8: document 2: apiVersion: expected `version` or `group/version` (such as `apps/v1`), found \"Apps/V1\""
        ]
    );
}

#[test]
fn a_workload_without_its_pod_template() {
    let errors = errors_around(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1}\n",
    );
    assert_eq!(
        errors,
        ["8: document 2: Deployment: expected a pod template at /spec/template"]
    );
    let errors = errors_around("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n");
    assert_eq!(errors, ["8: document 2: Pod: expected a pod spec at /spec"]);
}

#[test]
fn wrong_field_types_name_the_field_and_the_expected_type() {
    let bad = "apiVersion: v1\nkind: Pod\nmetadata: {name: typed}\nspec:\n  securityContext:\n    runAsNonRoot: \"yes\"\n    runAsUser: root\n  containers: {name: app}\n";
    let errors = errors_around(bad);
    assert_eq!(
        errors,
        [
            "13: document 2: runAsNonRoot: expected a boolean (true or false), found string \"yes\"",
            "14: document 2: runAsUser: expected an integer, found string \"root\"",
            "15: document 2: containers: expected a list, found a mapping",
        ]
    );
}

#[test]
fn a_typed_error_stops_only_its_own_pod_spec() {
    let src = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: a}\n    spec: {hostPID: 1, containers: []}\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: b}\n    spec: {hostPID: true, containers: []}\n";
    let scan = scan_source(&Arc::from("list.yaml"), src, &ScanOptions::default());
    assert_eq!(scan.errors.len(), 1, "{:?}", scan.errors);
    assert_eq!(scan.errors[0].line, 7);
    assert!(
        scan.errors[0]
            .message
            .contains("hostPID: expected a boolean")
    );
    assert_eq!(scan.resources, 2);
    assert_eq!(scan.pod_specs, 1);
}
