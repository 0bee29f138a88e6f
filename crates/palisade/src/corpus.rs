//! A synthetic corpus of realistic manifests for benchmarks: Deployments shaped like real
//! model servers (env, probes, resources, mounts, security contexts) and the ML custom
//! resources, in multi-document files.

use std::fmt::Write;

/// The `i`-th document of the corpus. Four in five are Deployments; the rest cycle through
/// a PyTorchJob (2 pod templates), a RayCluster (2) and a KServe InferenceService (2).
#[must_use]
pub fn document(i: usize) -> String {
    match i % 10 {
        3 => pytorch_job(i),
        6 => ray_cluster(i),
        9 => inference_service(i),
        _ => deployment(i),
    }
}

/// Pod specs carried by `document(i)`.
#[must_use]
pub fn pod_specs_in(i: usize) -> usize {
    match i % 10 {
        3 | 6 | 9 => 2,
        _ => 1,
    }
}

/// A multi-document file of `docs` documents starting at `first`.
#[must_use]
pub fn file(first: usize, docs: usize) -> String {
    let mut out = String::new();
    for i in first..first + docs {
        out.push_str("---\n");
        out.push_str(&document(i));
    }
    out
}

fn container(out: &mut String, indent: &str, name: &str, image: &str, i: usize, hardened: bool) {
    let _ = write!(
        out,
        "{indent}- name: {name}
{indent}  image: {image}
{indent}  imagePullPolicy: IfNotPresent
{indent}  args: [\"--port=8080\", \"--model-name=model-{i}\", \"--workers=4\"]
{indent}  ports:
{indent}    - {{name: http, containerPort: 8080, protocol: TCP}}
{indent}    - {{name: metrics, containerPort: 9090, protocol: TCP}}
{indent}  env:
"
    );
    for (k, v) in [
        ("MODEL_NAME", "resnet50"),
        ("MODEL_VERSION", "3"),
        ("OMP_NUM_THREADS", "4"),
        ("LOG_LEVEL", "info"),
        ("CACHE_DIR", "/cache"),
        ("BATCH_SIZE", "32"),
    ] {
        let _ = writeln!(out, "{indent}    - name: {k}\n{indent}      value: \"{v}\"");
    }
    let _ = write!(
        out,
        "{indent}    - name: POD_NAME
{indent}      valueFrom:
{indent}        fieldRef: {{fieldPath: metadata.name}}
{indent}  resources:
{indent}    requests: {{cpu: 500m, memory: 1Gi}}
{indent}    limits: {{cpu: \"2\", memory: 4Gi}}
{indent}  readinessProbe:
{indent}    httpGet: {{path: /v2/health/ready, port: 8080}}
{indent}    periodSeconds: 5
{indent}  livenessProbe:
{indent}    httpGet: {{path: /v2/health/live, port: 8080}}
{indent}    initialDelaySeconds: 30
{indent}  volumeMounts:
{indent}    - {{name: models, mountPath: /models, readOnly: true}}
{indent}    - {{name: cache, mountPath: /cache}}
"
    );
    if hardened {
        let _ = write!(
            out,
            "{indent}  securityContext:
{indent}    allowPrivilegeEscalation: false
{indent}    readOnlyRootFilesystem: true
{indent}    capabilities:
{indent}      drop: [\"ALL\"]
"
        );
    } else if i.is_multiple_of(7) {
        let _ = writeln!(
            out,
            "{indent}  securityContext:\n{indent}    privileged: true"
        );
    }
}

fn pod_spec(out: &mut String, indent: &str, i: usize, gpu: bool) {
    let hardened = i.is_multiple_of(2);
    if hardened {
        let _ = write!(
            out,
            "{indent}securityContext:
{indent}  runAsNonRoot: true
{indent}  runAsUser: 10001
{indent}  seccompProfile: {{type: RuntimeDefault}}
"
        );
    }
    let _ = write!(
        out,
        "{indent}serviceAccountName: model-server\n{indent}containers:\n"
    );
    let image = if gpu {
        "nvcr.io/nvidia/tritonserver:24.08-py3"
    } else {
        "registry.example.com/ml/server:1.2.3"
    };
    container(out, indent, "server", image, i, hardened);
    container(
        out,
        indent,
        "sidecar",
        "registry.example.com/ml/metrics-proxy:0.9.1",
        i,
        hardened,
    );
    let _ = write!(
        out,
        "{indent}volumes:
{indent}  - name: models
{indent}    persistentVolumeClaim: {{claimName: models-{i}}}
{indent}  - name: cache
{indent}    emptyDir: {{sizeLimit: 2Gi}}
"
    );
}

fn deployment(i: usize) -> String {
    let mut out = format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: model-{i}
  namespace: team-{ns}
  labels: {{app: model-{i}, team: team-{ns}, tier: serving}}
  annotations:
    deployment.kubernetes.io/revision: \"3\"
spec:
  replicas: 3
  selector:
    matchLabels: {{app: model-{i}}}
  template:
    metadata:
      labels: {{app: model-{i}}}
      annotations: {{prometheus.io/scrape: \"true\"}}
    spec:
",
        ns = i % 17
    );
    pod_spec(&mut out, "      ", i, i.is_multiple_of(4));
    out
}

fn pytorch_job(i: usize) -> String {
    let mut out = format!(
        "apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata:
  name: train-{i}
  namespace: research
spec:
  pytorchReplicaSpecs:
    Master:
      replicas: 1
      template:
        spec:
"
    );
    pod_spec(&mut out, "          ", i, true);
    out.push_str("    Worker:\n      replicas: 4\n      template:\n        spec:\n");
    pod_spec(&mut out, "          ", i + 1, true);
    out
}

fn ray_cluster(i: usize) -> String {
    let mut out = format!(
        "apiVersion: ray.io/v1
kind: RayCluster
metadata:
  name: ray-{i}
  namespace: ray
spec:
  headGroupSpec:
    rayStartParams: {{dashboard-host: 127.0.0.1}}
    template:
      spec:
"
    );
    pod_spec(&mut out, "        ", i, false);
    out.push_str("  workerGroupSpecs:\n    - groupName: gpu\n      replicas: 2\n      template:\n        spec:\n");
    pod_spec(&mut out, "          ", i + 1, true);
    out
}

fn inference_service(i: usize) -> String {
    let mut out = format!(
        "apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: isvc-{i}
  namespace: kserve
spec:
  predictor:
"
    );
    pod_spec(&mut out, "    ", i, true);
    out.push_str("  transformer:\n");
    pod_spec(&mut out, "    ", i + 1, false);
    out
}
