//! `harden` round trips on every example: scan → harden → scan leaves no fixable finding,
//! hardening twice changes nothing, nothing is lost (containers, images, ports, volumes,
//! comments), untouched documents stay byte for byte, and the result is valid Kubernetes
//! (every pod template decodes into the k8s-openapi types).

use std::path::PathBuf;
use std::sync::Arc;

use palisade_k8s::fix::HardenOptions;
use palisade_k8s::harden::harden_source;
use palisade_k8s::resource::resources_in_document;
use palisade_k8s::workload::pod_sites;
use palisade_k8s::{ScanOptions, scan_source};
use serde_json::Value;

fn examples() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
    out.sort();
    assert!(out.len() >= 5, "examples found: {}", out.len());
    out
}

fn opts() -> ScanOptions {
    ScanOptions::default().with_fixes(HardenOptions::default())
}

/// Containers (name, image), their ports and the pod's volume names, per pod site.
fn inventory(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for doc in palisade_yaml::parse_stream(src) {
        let doc = doc.unwrap();
        let (resources, _) = resources_in_document(&doc.root);
        for res in &resources {
            for site in pod_sites(res, &[]).unwrap() {
                let json: Value = serde_json::from_str(&site.spec.to_json()).unwrap();
                for key in ["initContainers", "containers"] {
                    for c in json[key].as_array().into_iter().flatten() {
                        out.push(format!(
                            "{} {} {} {}",
                            res.name, c["name"], c["image"], c["ports"]
                        ));
                    }
                }
                for v in json["volumes"].as_array().into_iter().flatten() {
                    out.push(format!("{} volume {}", res.name, v));
                }
            }
        }
    }
    out
}

/// Decodes every pod template / pod spec with the upstream Go-compatible types.
fn assert_valid_kubernetes(name: &str, src: &str) {
    for doc in palisade_yaml::parse_stream(src) {
        let doc = doc.unwrap();
        let json: Value = serde_json::from_str(&doc.root.to_json()).unwrap();
        let kind = json["kind"].as_str().unwrap_or_default();
        let typed: Result<(), serde_json::Error> = match kind {
            "Deployment" => {
                serde_json::from_value::<k8s_openapi::api::apps::v1::Deployment>(json.clone())
                    .map(drop)
            }
            "StatefulSet" => {
                serde_json::from_value::<k8s_openapi::api::apps::v1::StatefulSet>(json.clone())
                    .map(drop)
            }
            "Pod" => {
                serde_json::from_value::<k8s_openapi::api::core::v1::Pod>(json.clone()).map(drop)
            }
            "Service" => {
                serde_json::from_value::<k8s_openapi::api::core::v1::Service>(json.clone())
                    .map(drop)
            }
            _ => Ok(()),
        };
        typed.unwrap_or_else(|e| panic!("{name}: {kind} is not valid: {e}"));
        let (resources, _) = resources_in_document(&doc.root);
        for res in &resources {
            for site in pod_sites(res, &[]).unwrap() {
                let spec: Value = serde_json::from_str(&site.spec.to_json()).unwrap();
                serde_json::from_value::<k8s_openapi::api::core::v1::PodSpec>(spec).unwrap_or_else(
                    |e| panic!("{name}: pod spec of {} is not valid: {e}", res.name),
                );
            }
        }
    }
}

#[test]
fn hardened_examples_have_no_fixable_findings_and_lose_nothing() {
    for (name, src) in examples() {
        let file: Arc<str> = Arc::from(name.as_str());
        let once = harden_source(&file, &src, &opts());
        assert!(once.errors.is_empty(), "{name}: {:?}", once.errors);
        assert!(
            !once.fixed.is_empty(),
            "{name}: the examples all have something to fix"
        );

        let rescan = scan_source(&file, &once.text, &opts());
        let fixable: Vec<String> = rescan
            .findings
            .iter()
            .filter(|f| !f.fix.is_empty())
            .map(|f| format!("{} {} {}", f.rule.code, f.location.pointer, f.message))
            .collect();
        assert!(
            fixable.is_empty(),
            "{name}: still fixable after harden: {fixable:#?}\n{}",
            once.text
        );

        let twice = harden_source(&file, &once.text, &opts());
        assert_eq!(twice.text, once.text, "{name}: hardening is idempotent");
        assert!(twice.patches.is_empty(), "{name}");

        // Everything is kept; the only additions are the scratch volumes for a read-only root.
        let kept: Vec<String> = inventory(&once.text)
            .into_iter()
            .filter(|entry| {
                !entry.contains("\"palisade-tmp\"") && !entry.contains("\"palisade-cache-")
            })
            .collect();
        assert_eq!(
            inventory(&src),
            kept,
            "{name}: containers, images, ports and volumes are kept"
        );
        for line in src.lines().filter(|l| l.trim_start().starts_with('#')) {
            assert!(once.text.contains(line), "{name}: comment kept: {line}");
        }
        assert_valid_kubernetes(&name, &once.text);
    }
}

#[test]
fn documents_without_fixes_stay_byte_for_byte() {
    let src = "# keep me\napiVersion: v1\nkind: Service\nmetadata: {name: s}   # trailing\nspec: {ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: app   # the app\n      image: registry.example.com/app:1.0\n";
    let out = harden_source(&Arc::from("s.yaml"), src, &opts());
    let (first_in, _) = src.split_once("---\n").unwrap();
    let (first_out, second_out) = out.text.split_once("---\n").unwrap();
    assert_eq!(first_in, first_out);
    assert!(
        second_out.contains("    - name: app   # the app\n"),
        "{second_out}"
    );
    assert!(
        second_out.contains("allowPrivilegeEscalation: false"),
        "{second_out}"
    );
}

#[test]
fn choices_are_respected() {
    let src = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: app, image: registry.example.com/app:1.0}]\n";
    let options = HardenOptions {
        run_as_user: 10001,
        seccomp: "Localhost".into(),
        seccomp_localhost_profile: Some("profiles/model-server.json".into()),
        ..HardenOptions::default()
    };
    let out = harden_source(
        &Arc::from("p.yaml"),
        src,
        &ScanOptions::default().with_fixes(options),
    );
    let doc = palisade_yaml::parse_stream(&out.text).remove(0).unwrap();
    assert_eq!(
        doc.root
            .pointer("/spec/securityContext/runAsUser")
            .and_then(|n| n.as_i64()),
        Some(10001)
    );
    assert_eq!(
        doc.root
            .pointer("/spec/securityContext/seccompProfile/localhostProfile")
            .and_then(|n| n.as_str()),
        Some("profiles/model-server.json")
    );
    assert!(
        out.notes.iter().any(|n| n.contains("non-root UID")),
        "{:?}",
        out.notes
    );
}

#[test]
fn a_read_only_root_keeps_the_caches_the_container_writes_writable() {
    // HF_HUB_CACHE lies under HF_HOME (one volume), TRITON_CACHE_DIR under a mounted volume
    // (none), XDG_CACHE_HOME is relative to a variable (left alone); the
    // text-generation-inference image writes /data.
    let src = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: vllm\n      image: vllm/vllm-openai:v0.6.3\n      env:\n        - {name: HF_HOME, value: /models/hf}\n        - {name: HF_HUB_CACHE, value: /models/hf/hub/}\n        - {name: TRITON_CACHE_DIR, value: /cache/triton}\n        - {name: XDG_CACHE_HOME, value: $(HOME)/.cache}\n      volumeMounts: [{name: cache, mountPath: /cache/}]\n    - name: tgi\n      image: ghcr.io/huggingface/text-generation-inference:2.4.0\n    - name: app\n      image: registry.example.com/app:1.0\n  volumes: [{name: cache, emptyDir: {sizeLimit: 5Gi}}]\n";
    let options = HardenOptions {
        cache_size_limit: "50Gi".into(),
        ..HardenOptions::default()
    };
    let opts = ScanOptions::default().with_fixes(options);
    let out = harden_source(&Arc::from("p.yaml"), src, &opts);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let doc = palisade_yaml::parse_stream(&out.text).remove(0).unwrap();
    let mounts = |i: usize| mounts_of(&doc.root, i);
    assert_eq!(
        mounts(0),
        [
            "cache /cache/",
            "palisade-tmp /tmp",
            "palisade-cache-vllm /models/hf"
        ]
    );
    assert_eq!(mounts(1), ["palisade-tmp /tmp", "palisade-cache-tgi /data"]);
    assert_eq!(mounts(2), ["palisade-tmp /tmp"]);
    let limit = |name: &str| {
        doc.root
            .get("spec")
            .and_then(|s| s.get("volumes"))
            .and_then(|v| v.as_seq())
            .unwrap_or_default()
            .iter()
            .find(|v| v.get("name").and_then(|n| n.as_str()) == Some(name))
            .and_then(|v| v.pointer("/emptyDir/sizeLimit"))
            .and_then(|n| n.as_str())
            .map(str::to_string)
    };
    assert_eq!(limit("palisade-cache-vllm").as_deref(), Some("50Gi"));
    assert_eq!(limit("palisade-cache-tgi").as_deref(), Some("50Gi"));
    assert_eq!(limit("palisade-tmp").as_deref(), Some("1Gi"));
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("/models/hf, a cache the container writes")),
        "{:?}",
        out.notes
    );
    assert_valid_kubernetes("p.yaml", &out.text);
    let twice = harden_source(&Arc::from("p.yaml"), &out.text, &opts);
    assert_eq!(twice.text, out.text, "idempotent");

    // A cache in /tmp itself (the vLLM production-stack chart's default HF_HOME) gets one
    // volume there, the cache's: two mounts at /tmp would be rejected.
    let src = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: vllm\n      image: vllm/vllm-openai:v0.6.3\n      env: [{name: HF_HOME, value: /tmp}]\n";
    let out = harden_source(&Arc::from("p.yaml"), src, &opts);
    let doc = palisade_yaml::parse_stream(&out.text).remove(0).unwrap();
    assert_eq!(
        mounts_of(&doc.root, 0),
        ["palisade-cache-vllm /tmp"],
        "{}",
        out.text
    );
    assert_valid_kubernetes("p.yaml", &out.text);
}

fn mounts_of(root: &palisade_yaml::Node<'_>, container: usize) -> Vec<String> {
    root.pointer(&format!("/spec/containers/{container}/volumeMounts"))
        .and_then(|n| n.as_seq())
        .unwrap_or_default()
        .iter()
        .map(|m| {
            format!(
                "{} {}",
                m.get("name").and_then(|n| n.as_str()).unwrap_or_default(),
                m.get("mountPath")
                    .and_then(|n| n.as_str())
                    .unwrap_or_default()
            )
        })
        .collect()
}
