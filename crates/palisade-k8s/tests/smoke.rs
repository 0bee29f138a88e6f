use std::sync::Arc;

use palisade_k8s::{ScanOptions, scan_source};

#[test]
fn privileged_deployment_container_is_found_with_position_and_pointer() {
    let src = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ml}\nspec:\n  template:\n    spec:\n      securityContext: {runAsNonRoot: true}\n      containers:\n        - name: app\n          image: nginx\n          securityContext:\n            privileged: true\n";
    let scan = scan_source(&Arc::from("d.yaml"), src, &ScanOptions::default());
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    let f = scan
        .findings
        .iter()
        .find(|f| f.rule.code == "PAL007")
        .expect("privileged finding");
    assert_eq!((f.location.line, f.location.column), (12, 25));
    assert_eq!(
        f.location.pointer,
        "/spec/template/spec/containers/0/securityContext/privileged"
    );
    assert_eq!(
        f.message,
        "privileged (container \"app\" must not set securityContext.privileged=true)"
    );
    assert_eq!(f.object.as_ref().unwrap().to_string(), "Deployment/ml/web");
    assert!(!scan.findings.iter().any(|f| f.rule.code == "PAL017"));
}
