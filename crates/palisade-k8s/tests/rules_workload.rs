//! Image, resource, GPU, secret, service-account and filesystem rules: each fixture under
//! `resources/test/fixtures/rules/<CODE>.yaml` holds failing (`fail-*`) and passing (`pass-*`)
//! objects, including false-positive traps; the tests pin exactly which object, container
//! and JSON pointer (the field a fix sets) each finding of that code names.

use std::collections::BTreeSet;
use std::sync::Arc;

use palisade_k8s::rules::RuleConfig;
use palisade_k8s::{ScanOptions, scan_source};
use palisade_policy::{Finding, ImagePolicy};

mod common;
use common::{assert_fixture_findings, fixture};

fn findings_with(code: &str, config: RuleConfig) -> Vec<Finding> {
    let opts = ScanOptions::default().with_config(config);
    let src = fixture(code);
    let scan = scan_source(&Arc::from(format!("{code}.yaml")), &src, &opts);
    assert!(scan.errors.is_empty(), "{code}: {:?}", scan.errors);
    scan.findings
        .into_iter()
        .filter(|f| f.rule.code == code)
        .collect()
}

/// Asserts the exact findings (see `common`), each with its source excerpt.
fn expect_with(code: &str, config: RuleConfig, expected: &[&str]) -> Vec<Finding> {
    let found = findings_with(code, config);
    for f in &found {
        assert!(f.snippet.is_some(), "{f:?}");
    }
    assert_fixture_findings(code, &found, expected);
    found
}

fn expect(code: &str, expected: &[&str]) -> Vec<Finding> {
    expect_with(code, RuleConfig::default(), expected)
}

/// Pointers of the first container of a pod template and of a Pod.
const T: &str = "/spec/template/spec/containers/0";
const P: &str = "/spec/containers/0";

// ---------------------------------------------------------------- images

#[test]
fn pal100_mutable_tag() {
    expect(
        "PAL100",
        &[
            &format!("Pod/fail-latest-and-untagged serving {P}/image"),
            "Pod/fail-latest-and-untagged proxy /spec/containers/1/image",
        ],
    );
}

#[test]
fn pal101_not_pinned_by_digest_only_when_required() {
    let require = RuleConfig {
        images: ImagePolicy {
            require_digest: true,
            ..ImagePolicy::default()
        },
    };
    expect_with(
        "PAL101",
        require,
        &[
            &format!("Pod/fail-version-tag app {P}/image"),
            "Pod/fail-init-and-no-tag fetch /spec/initContainers/0/image",
        ],
    );
    assert!(findings_with("PAL101", RuleConfig::default()).is_empty());
}

#[test]
fn pal102_registry_not_allowed() {
    let allowed = || RuleConfig {
        images: ImagePolicy {
            allowed_registries: vec!["registry.internal/ml".into(), "docker.io/library".into()],
            ..ImagePolicy::default()
        },
    };
    let found = expect_with(
        "PAL102",
        allowed(),
        &[
            &format!("Pod/fail-docker-hub-user-image vllm {P}/image"),
            &format!("Pod/fail-lookalike-path app {P}/image"),
            "Pod/fail-lookalike-path sidecar /spec/containers/1/image",
        ],
    );
    assert!(
        found[0].message.contains("docker.io"),
        "{}",
        found[0].message
    );
    assert!(findings_with("PAL102", RuleConfig::default()).is_empty());
}

#[test]
fn pal103_pull_policy_not_always() {
    expect(
        "PAL103",
        &[
            &format!("Pod/fail-latest-if-not-present app {P}/imagePullPolicy"),
            &format!("Pod/fail-nightly-default-policy ray {P}/imagePullPolicy"),
            "Pod/fail-nightly-default-policy cli /spec/containers/1/imagePullPolicy",
        ],
    );
}

// ---------------------------------------------------------------- resources

#[test]
fn pal120_memory_limit_missing() {
    expect(
        "PAL120",
        &[
            &format!("Pod/fail-no-resources app {P}/resources/limits/memory"),
            "Deployment/fail-request-only-and-init download /spec/template/spec/initContainers/0/resources/limits/memory",
            "Deployment/fail-request-only-and-init sidecar /spec/template/spec/containers/1/resources/limits/memory",
        ],
    );
}

#[test]
fn pal121_cpu_limit_missing() {
    expect(
        "PAL121",
        &[&format!(
            "Pod/fail-memory-only app {P}/resources/limits/cpu"
        )],
    );
}

#[test]
fn pal122_requests_missing() {
    expect(
        "PAL122",
        &[
            &format!("Pod/fail-nothing app {P}/resources/requests/cpu"),
            &format!("Pod/fail-nothing app {P}/resources/requests/memory"),
            &format!("Pod/fail-cpu-only app {P}/resources/requests/memory"),
        ],
    );
}

#[test]
fn pal123_emptydir_size_limit_missing() {
    expect(
        "PAL123",
        &["Pod/fail-unbounded-cache - /spec/volumes/1/emptyDir/sizeLimit"],
    );
}

#[test]
fn pal124_memory_emptydir_size_limit_missing() {
    let found = expect(
        "PAL124",
        &[
            "Deployment/fail-dshm trainer /spec/template/spec/volumes/0/emptyDir/sizeLimit",
            "Pod/fail-memory-scratch - /spec/volumes/0/emptyDir/sizeLimit",
        ],
    );
    let dshm = found.iter().find(|f| f.container.is_some()).unwrap();
    assert!(
        dshm.message.contains("/dev/shm") && dshm.message.contains("PyTorch DataLoader"),
        "{}",
        dshm.message
    );
    // The finding sits on the `emptyDir:` key, where sizeLimit goes.
    assert_eq!(dshm.snippet.as_deref().map(str::trim), Some("emptyDir:"));
}

// ---------------------------------------------------------------- GPUs

const GPU_LIMIT: &str = "resources/limits/nvidia.com~1gpu";

#[test]
fn pal140_gpu_limit_missing() {
    expect(
        "PAL140",
        &[
            &format!("Job/fail-cuda-image trainer {T}/{GPU_LIMIT}"),
            &format!("Pod/fail-ngc-gpu-tag-env-and-zero triton {P}/{GPU_LIMIT}"),
            &format!("Pod/fail-ngc-gpu-tag-env-and-zero tf /spec/containers/1/{GPU_LIMIT}"),
            &format!("Pod/fail-ngc-gpu-tag-env-and-zero env /spec/containers/2/{GPU_LIMIT}"),
            &format!("Pod/fail-ngc-gpu-tag-env-and-zero zero /spec/containers/3/{GPU_LIMIT}"),
            &format!("Pod/fail-runtime-class app {P}/{GPU_LIMIT}"),
        ],
    );
}

#[test]
fn pal141_visible_devices_env() {
    let found = expect(
        "PAL141",
        &[
            &format!("Pod/fail-all app {P}/env/1"),
            &format!("Deployment/fail-index-and-value-from worker {T}/env/0"),
            "Deployment/fail-index-and-value-from monitor /spec/template/spec/containers/1/env/0",
        ],
    );
    assert!(
        found
            .iter()
            .any(|f| f.message.contains("every GPU of the node"))
    );
}

#[test]
fn pal142_driver_capabilities_env() {
    expect(
        "PAL142",
        &[
            &format!("Pod/fail-all-capabilities app {P}/env/0"),
            "Pod/fail-all-capabilities render /spec/containers/1/env/0",
        ],
    );
}

#[test]
fn pal143_gpu_device_host_access() {
    expect(
        "PAL143",
        &[
            &format!(
                "StatefulSet/fail-privileged-and-device-node triton {T}/securityContext/privileged"
            ),
            "StatefulSet/fail-privileged-and-device-node - /spec/template/spec/volumes/0/hostPath/path",
            "StatefulSet/fail-privileged-and-device-node - /spec/template/spec/volumes/1/hostPath/path",
            &format!("Pod/fail-privileged-cuda train {P}/securityContext/privileged"),
        ],
    );
}

#[test]
fn pal144_gpu_request_limit_mismatch() {
    expect(
        "PAL144",
        &[
            &format!("Pod/fail-differ train {P}/{GPU_LIMIT}"),
            &format!("Pod/fail-request-only train {P}/resources/limits/nvidia.com~1mig-1g.5gb"),
        ],
    );
}

// ---------------------------------------------------------------- secrets

/// Fake credentials of the fixtures: none may appear in any message.
const FAKE_SECRETS: &[&str] = &[
    "hf_Fak3T0ken",
    "AKIA2E0A8F3B244C9986",
    "Zx9vQ2mLp7",
    "ghp_Fak3",
    "sk-proj-Fak3",
    "FakeKeyMaterial",
    "hunter22",
    "3f9a1c0d7e5b",
    "q8N#v2!LmZ0r",
    "internal-mirror-token",
    "Tr4ck1ng-pw",
    "S3cretFeaturePw",
];

fn assert_no_secret_in_messages(found: &[Finding]) {
    for f in found {
        for s in FAKE_SECRETS {
            assert!(!f.message.contains(s), "{}: {}", f.rule.code, f.message);
        }
    }
}

#[test]
fn pal200_env_credential_literal() {
    let found = expect(
        "PAL200",
        &[
            &format!("Deployment/fail-hf-token tgi {T}/env/1/value"),
            &format!("Pod/fail-cloud-keys-and-args sync {P}/env/0/value"),
            &format!("Pod/fail-cloud-keys-and-args sync {P}/env/1/value"),
            &format!("Pod/fail-cloud-keys-and-args sync {P}/args/4"),
            "Pod/fail-cloud-keys-and-args client /spec/containers/1/command/3",
            "Pod/fail-cloud-keys-and-args client /spec/containers/1/env/0/value",
        ],
    );
    assert_no_secret_in_messages(&found);
    let kinds: BTreeSet<&str> = found
        .iter()
        .filter_map(|f| {
            [
                "Hugging Face",
                "AWS access key",
                "embedded password",
                "GitHub",
                "OpenAI",
                "private key",
            ]
            .into_iter()
            .find(|k| f.message.contains(k))
        })
        .collect();
    assert_eq!(kinds.len(), 6, "each finding names its kind: {kinds:?}");
}

#[test]
fn pal201_env_secret_literal() {
    let found = expect(
        "PAL201",
        &[
            &format!("Pod/fail-passwords-and-keys app {P}/env/0/value"),
            &format!("Pod/fail-passwords-and-keys app {P}/env/1/value"),
            &format!("Pod/fail-passwords-and-keys app {P}/env/2/value"),
            &format!("Deployment/fail-hf-token-plain vllm {T}/env/0/value"),
            &format!("Pod/fail-default-password app {P}/env/0/value"),
        ],
    );
    assert_no_secret_in_messages(&found);
    assert!(
        found
            .iter()
            .any(|f| f.message.contains("well-known default password")),
        "{found:#?}"
    );
}

#[test]
fn pal202_configmap_credential() {
    let found = expect(
        "PAL202",
        &[
            "ConfigMap/fail-token-in-configmap - /data/HF_TOKEN",
            "ConfigMap/fail-files-in-configmap - /data/settings.ini",
            "ConfigMap/fail-files-in-configmap - /data/tls.key",
            "ConfigMap/fail-two-in-one-file - /data/settings.env",
            "ConfigMap/fail-two-in-one-file - /data/settings.env",
        ],
    );
    let in_file = |line: &str| {
        found.iter().any(|f| {
            f.location.pointer == "/data/settings.env"
                && f.message.contains(&format!("line {line}"))
        })
    };
    assert!(in_file("1") && in_file("3"), "{found:#?}");
    assert_no_secret_in_messages(&found);
    assert!(
        found
            .iter()
            .any(|f| f.message.contains("line 3") && f.message.contains("AWS")),
        "{found:#?}"
    );
}

#[test]
fn pal203_configmap_secret_literal() {
    let found = expect(
        "PAL203",
        &[
            "ConfigMap/fail-env-style - /data/DB_PASSWORD",
            "ConfigMap/fail-properties-file - /data/application.properties",
            "ConfigMap/fail-default-password - /data/postgres.env",
            "ConfigMap/fail-several-in-one-file - /data/config.yaml",
            "ConfigMap/fail-several-in-one-file - /data/config.yaml",
        ],
    );
    let several: Vec<&str> = found
        .iter()
        .filter(|f| f.location.pointer == "/data/config.yaml")
        .map(|f| f.message.as_str())
        .collect();
    assert!(
        several
            .iter()
            .any(|m| m.contains("\"api_key\"") && m.contains("line 3"))
            && several
                .iter()
                .any(|m| m.contains("\"password\"") && m.contains("line 5")),
        "{several:#?}"
    );
    assert_no_secret_in_messages(&found);
    assert!(found.iter().any(|f| f.message.contains("line 3")));
    assert!(
        found
            .iter()
            .any(|f| f.message.contains("well-known default password on line 2")),
        "{found:#?}"
    );
}

// ---------------------------------------------------------------- service accounts

#[test]
fn pal220_token_automount() {
    expect(
        "PAL220",
        &[
            "Pod/fail-default-account - /spec/automountServiceAccountToken",
            "Deployment/fail-explicit-true - /spec/template/spec/automountServiceAccountToken",
        ],
    );
}

#[test]
fn pal221_default_service_account() {
    expect(
        "PAL221",
        &[
            "Pod/fail-no-account - /spec/serviceAccountName",
            "CronJob/fail-explicit-default - /spec/jobTemplate/spec/template/spec/serviceAccountName",
        ],
    );
}

// ---------------------------------------------------------------- filesystem

#[test]
fn pal230_read_only_root_filesystem() {
    expect(
        "PAL230",
        &[
            "Pod/fail-unset-and-false fetch /spec/initContainers/0/securityContext/readOnlyRootFilesystem",
            &format!("Pod/fail-unset-and-false app {P}/securityContext/readOnlyRootFilesystem"),
            "Pod/fail-unset-and-false sidecar /spec/containers/1/securityContext/readOnlyRootFilesystem",
        ],
    );
}

#[test]
fn pal231_serving_probes_missing() {
    expect(
        "PAL231",
        &[
            &format!("Deployment/fail-ports-no-probes api {T}/readinessProbe"),
            &format!("Deployment/fail-ports-no-probes api {T}/livenessProbe"),
            &format!("Pod/fail-model-server-readiness-only vllm {P}/livenessProbe"),
        ],
    );
}

/// Every rule of these families has a fixture, docs in the fixed sections and a reference.
#[test]
fn every_rule_has_a_fixture_and_docs() {
    let families = [
        "images",
        "resources",
        "gpus",
        "secrets",
        "service-accounts",
        "filesystem",
    ];
    let rules: Vec<_> = palisade_k8s::rules::rules()
        .into_iter()
        .filter(|r| families.contains(&r.family))
        .collect();
    assert_eq!(rules.len(), 22);
    for r in rules {
        let path = format!(
            "{}/resources/test/fixtures/rules/{}.yaml",
            env!("CARGO_MANIFEST_DIR"),
            r.code
        );
        assert!(std::path::Path::new(&path).exists(), "{path}");
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Fix",
        ] {
            assert!(r.docs.contains(section), "{} lacks {section}", r.code);
        }
        assert!(!r.references.is_empty(), "{}", r.code);
    }
}
