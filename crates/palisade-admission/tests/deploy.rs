//! The deployment manifests keep the promises docs/admission.md makes: no lockout, answers
//! within the timeout, every pod-carrying kind covered, and Palisade passes its own policy.

use std::sync::Arc;

use palisade_k8s::workload::WORKLOAD_KINDS;
use serde_json::Value;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn manifest() -> (String, Vec<Value>) {
    let src = std::fs::read_to_string(root().join("deploy/manifests/palisade.yaml")).unwrap();
    let objects = palisade_yaml::parse_stream(&src)
        .into_iter()
        .map(|d| serde_json::from_str(&d.unwrap().root.to_json()).unwrap())
        .collect();
    (src, objects)
}

fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

fn plural(kind: &str) -> String {
    format!("{}s", kind.to_ascii_lowercase())
}

#[test]
fn webhooks_cannot_lock_the_cluster_out_and_answer_in_time() {
    let (_, objects) = manifest();
    let deployment = find(&objects, "Deployment");
    assert!(deployment["spec"]["replicas"].as_u64().unwrap() >= 2);
    assert_eq!(
        find(&objects, "PodDisruptionBudget")["spec"]["minAvailable"],
        1
    );
    let args: Vec<&str> = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let deadline_ms: u64 = args
        .iter()
        .find_map(|a| a.strip_prefix("--deadline-ms="))
        .unwrap()
        .parse()
        .unwrap();
    let namespace = deployment["metadata"]["namespace"].as_str().unwrap();
    for (kind, policy) in [
        ("ValidatingWebhookConfiguration", "Fail"),
        ("MutatingWebhookConfiguration", "Ignore"),
    ] {
        for hook in find(&objects, kind)["webhooks"].as_array().unwrap() {
            assert_eq!(hook["sideEffects"], "None", "{kind}");
            assert_eq!(hook["failurePolicy"], policy, "{kind}");
            let timeout = hook["timeoutSeconds"].as_u64().unwrap();
            assert!(timeout <= 5, "{kind}");
            assert!(deadline_ms < timeout * 1000, "deadline below the timeout");
            let excluded: Vec<&str> = hook["namespaceSelector"]["matchExpressions"][0]["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(
                hook["namespaceSelector"]["matchExpressions"][0]["key"],
                "kubernetes.io/metadata.name"
            );
            assert!(
                excluded.contains(&"kube-system") && excluded.contains(&namespace),
                "{kind}"
            );
            // Every kind the scanner finds pod templates in is sent to the webhook.
            for wk in WORKLOAD_KINDS {
                let covered = hook["rules"].as_array().unwrap().iter().any(|r| {
                    r["apiGroups"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|g| g == wk.group)
                        && r["resources"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|res| res.as_str() == Some(plural(wk.kind).as_str()))
                });
                assert!(covered, "{kind} does not cover {}/{}", wk.group, wk.kind);
            }
        }
    }
    let helpers =
        std::fs::read_to_string(root().join("deploy/helm/palisade/templates/_helpers.tpl"))
            .unwrap();
    for wk in WORKLOAD_KINDS {
        assert!(
            helpers.contains(&format!("\"{}\"", plural(wk.kind))),
            "chart misses {}",
            wk.kind
        );
    }
}

#[test]
fn the_bundled_policy_loads_and_palisade_passes_its_own_policy() {
    let (src, objects) = manifest();
    let policy = find(&objects, "ConfigMap")["data"]["policy.yaml"]
        .as_str()
        .unwrap();
    palisade_admission::Engine::from_yaml(policy, &palisade_admission::k8s_rules(), 1).unwrap();
    let p = palisade_policy::Policy::from_yaml(policy).unwrap();
    let opts =
        palisade_k8s::ScanOptions::from_policy(&p, palisade_policy::Selection::default()).unwrap();
    let file: Arc<str> = Arc::from("deploy/manifests/palisade.yaml");
    let scan = palisade_k8s::scan_source(&file, &src, &opts);
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    let applied = palisade_policy::apply_policy(&p, scan.findings, palisade_policy::Date::today());
    let failing: Vec<String> = applied
        .findings
        .iter()
        .filter(|f| f.severity >= p.fail_on)
        .map(|f| format!("{} {} {}", f.rule.code, f.location.pointer, f.message))
        .collect();
    assert!(failing.is_empty(), "{failing:#?}");
}

#[test]
fn namespace_labels_come_from_the_api_with_list_and_watch_only() {
    let (_, objects) = manifest();
    let role = objects
        .iter()
        .find(|o| o["kind"] == "ClusterRole")
        .expect("a ClusterRole");
    assert_eq!(
        role["rules"],
        serde_json::json!([{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list", "watch"]}])
    );
    let binding = find(&objects, "ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    let deployment = find(&objects, "Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(
        binding["subjects"],
        serde_json::json!([{"kind": "ServiceAccount", "name": pod["serviceAccountName"],
            "namespace": deployment["metadata"]["namespace"]}])
    );
    // The token is projected into Palisade's container, where the in-cluster configuration
    // reads it; it is never automounted.
    assert_eq!(pod["automountServiceAccountToken"], false);
    let container = &pod["containers"][0];
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(args.contains(&"--namespaces-from-api"), "{args:?}");
    assert!(
        args.iter().any(|a| a.starts_with("--max-connections=")),
        "{args:?}"
    );
    let mount = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount")
        .expect("the service-account mount");
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap();
    let sources = volume["projected"]["sources"].as_array().unwrap();
    assert!(
        sources
            .iter()
            .any(|s| s["serviceAccountToken"]["path"] == "token")
    );
    assert!(
        sources
            .iter()
            .any(|s| s["configMap"]["name"] == "kube-root-ca.crt")
    );
    // The chart renders the same from namespaceLabels.fromApiServer.
    let tpl =
        std::fs::read_to_string(root().join("deploy/helm/palisade/templates/rbac.yaml")).unwrap();
    for line in [
        "if .Values.namespaceLabels.fromApiServer",
        "resources: [namespaces]",
        "verbs: [list, watch]",
    ] {
        assert!(tpl.contains(line), "rbac.yaml misses {line}");
    }
}
