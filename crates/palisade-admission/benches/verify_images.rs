//! Admission latency of a pod whose image must be signed (`spec.verifyImages`), through the
//! in-process router: the engine alone (no trust rule), a warm cache (tag and verdict cached:
//! no registry request), and a cold cache (tag resolved and signatures fetched from a real
//! `docker-registry` on loopback, classic format, one P-256 verification). Needs Debian's
//! `docker-registry`; without it the bench says so and measures nothing.

#[path = "../../palisade-sign/tests/support/mod.rs"]
mod registry_support;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use palisade_admission::log::Discard;
use palisade_admission::{AppState, Engine, Limits, StaticNamespaces, router};
use palisade_sign::SigningKey;
use palisade_sign::image;
use palisade_sign::registry::Reference;
use serde_json::json;
use tower::ServiceExt;

fn state(policy: &str) -> Arc<AppState> {
    let rules = palisade_admission::k8s_rules();
    let engine = Engine::from_yaml(policy, &rules, 1).unwrap();
    AppState::new(
        engine,
        rules,
        Arc::new(StaticNamespaces::default()),
        Arc::new(Discard),
        Limits::default(),
    )
}

fn review(image: &str) -> Vec<u8> {
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "server", "namespace": "ml"},
        "spec": {
            "automountServiceAccountToken": false,
            "serviceAccountName": "server",
            "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "app", "image": image, "imagePullPolicy": "IfNotPresent",
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}},
                "livenessProbe": {"httpGet": {"path": "/", "port": 8080}},
                "readinessProbe": {"httpGet": {"path": "/", "port": 8080}},
                "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}}
            }]
        }
    });
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "bench", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "name": "server", "namespace": "ml", "operation": "CREATE",
            "userInfo": {"username": "bench"}, "object": pod
        }
    }))
    .unwrap()
}

async fn admit(state: &Arc<AppState>, body: &[u8]) -> bool {
    let response = router(state.clone())
        .oneshot(
            Request::post("/validate")
                .header("content-type", "application/json")
                .body(Body::from(body.to_vec()))
                .unwrap(),
        )
        .await
        .unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["response"]["allowed"] == true
}

fn bench(c: &mut Criterion) {
    let Some(reg) = registry_support::Registry::start() else {
        return;
    };
    let client = reg.client();
    reg.push_image(&client, "ml/server", "v1", b"model server layer");
    let image_ref = format!("{}/ml/server:v1", reg.host);
    let key = SigningKey::generate().unwrap();
    image::sign_classic(
        &client,
        &Reference::parse(&image_ref).unwrap(),
        &key,
        &BTreeMap::new(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pub_path = dir.path().join("release.pub");
    std::fs::write(&pub_path, key.public_key().to_pem().unwrap()).unwrap();
    let plain =
        state("apiVersion: palisade.dev/v1alpha1\nkind: Policy\nspec: {standard: restricted}\n");
    let signed = state(&format!(
        "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nspec:\n  standard: restricted\n  verifyImages:\n    - images: [\"{}/ml/*\"]\n      keys: [{{path: \"{}\"}}]\n  imageVerification: {{tagTTLSeconds: 3600}}\n",
        reg.host,
        pub_path.display()
    ));
    let body = review(&image_ref);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    assert!(rt.block_on(admit(&plain, &body)));
    assert!(
        rt.block_on(admit(&signed, &body)),
        "the signed image is admitted"
    );
    let gate = signed.engine().images().unwrap().clone();

    let mut g = c.benchmark_group("admission_signed_image");
    g.bench_function("engine_only_no_trust_rule", |b| {
        b.iter(|| black_box(rt.block_on(admit(&plain, &body))));
    });
    g.bench_function("warm_cache", |b| {
        b.iter(|| black_box(rt.block_on(admit(&signed, &body))));
    });
    let (requests_before, misses_before) = (gate.registry_requests(), verdict_misses(&gate));
    g.bench_function("cold_cache", |b| {
        b.iter_batched(
            || gate.clear_caches(),
            |()| black_box(rt.block_on(admit(&signed, &body))),
            BatchSize::PerIteration,
        );
    });
    g.finish();
    // Measured, not assumed: each cold admission is one verdict-cache miss.
    let cold_runs = (verdict_misses(&gate) - misses_before).max(1);
    eprintln!(
        "registry requests per cold admission: {:.1}",
        (gate.registry_requests() - requests_before) as f64 / cold_runs as f64
    );
}

fn verdict_misses(gate: &palisade_admission::verify_images::ImageGate) -> u64 {
    gate.render_metrics()
        .lines()
        .find(|l| {
            l.starts_with("palisade_image_cache_lookups_total{cache=\"verdict\",result=\"miss\"}")
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench
}
criterion_main!(benches);
