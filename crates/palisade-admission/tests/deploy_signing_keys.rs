//! The optional RBAC for signing keys in Secrets grants exactly `get` on the named Secret to
//! Palisade's service account, in the rendered manifests and in the chart template alike.

use serde_json::Value;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn signing_key_rbac_is_get_on_one_secret() {
    let src = std::fs::read_to_string(root().join("deploy/manifests/signing-keys.yaml")).unwrap();
    let objects: Vec<Value> = palisade_yaml::parse_stream(&src)
        .into_iter()
        .map(|d| serde_json::from_str(&d.unwrap().root.to_json()).unwrap())
        .collect();
    let role = objects.iter().find(|o| o["kind"] == "Role").unwrap();
    assert_eq!(
        role["rules"],
        serde_json::json!([{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["cosign-keys"], "verbs": ["get"]}])
    );
    let binding = objects.iter().find(|o| o["kind"] == "RoleBinding").unwrap();
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    assert_eq!(
        binding["metadata"]["namespace"],
        role["metadata"]["namespace"]
    );
    // The subject is the service account the Deployment of palisade.yaml runs as.
    let main = std::fs::read_to_string(root().join("deploy/manifests/palisade.yaml")).unwrap();
    let deployment: Value = palisade_yaml::parse_stream(&main)
        .into_iter()
        .map(|d| serde_json::from_str::<Value>(&d.unwrap().root.to_json()).unwrap())
        .find(|o| o["kind"] == "Deployment")
        .unwrap();
    assert_eq!(
        binding["subjects"],
        serde_json::json!([{
            "kind": "ServiceAccount",
            "name": deployment["spec"]["template"]["spec"]["serviceAccountName"],
            "namespace": deployment["metadata"]["namespace"],
        }])
    );
    // The chart template renders the same rule from imageVerification.keySecrets.
    let tpl =
        std::fs::read_to_string(root().join("deploy/helm/palisade/templates/rbac.yaml")).unwrap();
    for line in [
        "range .Values.imageVerification.keySecrets",
        "resources: [secrets]",
        "resourceNames: [{{ .name | quote }}]",
        "verbs: [get]",
    ] {
        assert!(tpl.contains(line), "rbac.yaml misses {line}");
    }
}
