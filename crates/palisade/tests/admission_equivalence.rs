//! One policy, one verdict: for every bundled example and a generated corpus, the webhook's
//! decision equals `palisade scan`'s verdict on the same object, and its JSON Patch equals the
//! one `palisade harden` writes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use palisade::cli::{ColorChoice, ImageScanArgs, PolicyArgs, ScanArgs};
use palisade_admission::review;
use palisade_admission::{Engine, Webhook};
use palisade_k8s::ScanOptions;
use palisade_k8s::fix::HardenOptions;
use palisade_policy::{Date, Policy, Selection};
use palisade_yaml::edit::PatchOp;
use serde_json::{Value, json};

const POLICY: &str = "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nmetadata: {name: equivalence}\nspec:\n  standard: restricted\n  failOn: high\n  admission:\n    mutate: {rules: [all]}\n";

fn objects() -> Vec<(String, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [root.clone(), root.join("hardened")] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        for (i, v) in to_json(&src).into_iter().enumerate() {
            out.push((
                format!("{}#{i}", f.file_name().unwrap().to_string_lossy()),
                v,
            ));
        }
    }
    for i in 0..40 {
        for v in to_json(&palisade::corpus::document(i)) {
            out.push((format!("corpus#{i}"), v));
        }
    }
    out
}

fn to_json(src: &str) -> Vec<Value> {
    palisade_yaml::parse_stream(src)
        .into_iter()
        .filter_map(Result::ok)
        .map(|d| serde_json::from_str(&d.root.to_json()).unwrap())
        .filter(|v: &Value| v.is_object())
        .collect()
}

fn request(object: &Value) -> review::AdmissionRequest {
    let (group, version) = object["apiVersion"]
        .as_str()
        .unwrap()
        .rsplit_once('/')
        .unwrap_or(("", "v1"));
    let body = json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "u", "operation": "CREATE",
            "kind": {"group": group, "version": version, "kind": object["kind"]},
            "name": object.pointer("/metadata/name"),
            "namespace": object.pointer("/metadata/namespace").cloned().unwrap_or(json!("default")),
            "userInfo": {"username": "ci"},
            "object": object
        }
    });
    review::parse(&serde_json::to_vec(&body).unwrap())
        .unwrap()
        .1
}

/// Rule codes at or above failOn that `palisade scan --config` reports for the object alone,
/// leaving out whole-scan rules (they need every object of a namespace, which one admission
/// request does not have).
fn scan_failing(dir: &Path, name: &str, object: &Value) -> Vec<&'static str> {
    let path = dir.join(format!("{}.json", name.replace(['#', '/'], "_")));
    std::fs::write(&path, object.to_string()).unwrap();
    let args = ScanArgs {
        paths: vec![path],
        format: "json".into(),
        output: None,
        policy: PolicyArgs {
            config: Some(dir.join("policy.yaml")),
            standard: None,
            kubernetes_version: None,
            fail_on: None,
            select: Vec::new(),
            ignore: Vec::new(),
        },
        color: ColorChoice::Never,
        image: ImageScanArgs {
            quiet: true,
            ..ImageScanArgs::default()
        },
        vuln: Default::default(),
        severity: Default::default(),
        helm_values: Vec::new(),
    };
    let report = palisade::execute_scan(&args).unwrap();
    assert!(report.errors.is_empty(), "{name}: {:?}", report.errors);
    let whole: Vec<&str> = palisade_k8s::rules::stream::rules()
        .iter()
        .map(|r| r.code)
        .collect();
    let mut codes: Vec<&'static str> = report
        .findings
        .iter()
        .filter(|f| f.severity >= report.fail_on && !whole.contains(&f.rule.code))
        .map(|f| f.rule.code)
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

#[test]
fn webhook_verdicts_and_patches_equal_scan_and_harden() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.yaml"), POLICY).unwrap();
    let rules = palisade::registry::all_rules();
    let engine = Engine::from_yaml(POLICY, &rules, 1).unwrap();
    let policy = Policy::from_yaml(POLICY).unwrap();
    let harden_opts = ScanOptions::from_policy(&policy, Selection::default())
        .unwrap()
        .with_fixes(HardenOptions::default());
    let mut denied = 0;
    let mut patched = 0;
    let objects = objects();
    assert!(objects.len() > 50, "{}", objects.len());
    for (name, object) in &objects {
        let req = request(object);
        let outcome = engine
            .review(&req, Webhook::Validate, None, Date::today())
            .unwrap();
        let expected = scan_failing(dir.path(), name, object);
        assert_eq!(outcome.denied, expected, "{name}: webhook vs scan");
        assert_eq!(outcome.response.allowed, expected.is_empty(), "{name}");
        denied += usize::from(!expected.is_empty());

        let m = engine
            .review(&req, Webhook::Mutate, None, Date::today())
            .unwrap();
        let webhook_patch: Vec<PatchOp> = m
            .response
            .patch
            .as_ref()
            .map(|p| {
                serde_json::from_slice(
                    &base64::engine::general_purpose::STANDARD.decode(p).unwrap(),
                )
                .unwrap()
            })
            .unwrap_or_default();
        let file: Arc<str> = Arc::from(name.as_str());
        let hardened =
            palisade_k8s::harden::harden_source(&file, &object.to_string(), &harden_opts);
        let harden_patch = hardened
            .patches
            .into_iter()
            .next()
            .map(|(_, ops)| ops)
            .unwrap_or_default();
        assert_eq!(
            webhook_patch, harden_patch,
            "{name}: webhook vs harden patch"
        );
        assert!(!m.mutation_incomplete, "{name}");
        patched += usize::from(!webhook_patch.is_empty());
    }
    assert!(
        denied > 10 && patched > 10,
        "denied {denied}, patched {patched}"
    );
}
