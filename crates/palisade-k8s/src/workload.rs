//! Where pod specs live: every built-in workload kind, the ML custom resources that carry
//! pod specs, and the paths users declare for their own CRDs.

use palisade_policy::CustomResource;
use palisade_yaml::{Node, append_index, append_key, push_key};

use crate::model::DecodeError;
use crate::resource::Resource;

/// A kind that carries pod specs.
#[derive(Debug)]
pub struct WorkloadKind {
    /// API group (empty for the core group).
    pub group: &'static str,
    pub kind: &'static str,
    /// JSON pointers (with `*` wildcards) to pod templates or pod specs. `""` is the object itself.
    pub paths: &'static [&'static str],
    /// Keys of a found pod spec that hold one extra container each (KServe's model forms).
    pub container_keys: &'static [&'static str],
    /// Built-in kinds must have their template; CRD paths are optional.
    pub required: bool,
}

const KSERVE_PREDICTOR_KEYS: &[&str] = &[
    "model",
    "sklearn",
    "xgboost",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "pmml",
    "lightgbm",
    "paddle",
    "huggingface",
    "art",
    "alibi",
];

macro_rules! kinds {
    ($($group:literal $kind:literal [$($path:literal),*] $(keys $keys:expr)? $(, $req:ident)?;)*) => {
        &[$(WorkloadKind {
            group: $group,
            kind: $kind,
            paths: &[$($path),*],
            container_keys: kinds!(@keys $($keys)?),
            required: kinds!(@req $($req)?),
        }),*]
    };
    (@keys) => { &[] };
    (@keys $k:expr) => { $k };
    (@req) => { false };
    (@req $r:ident) => { true };
}

/// Every kind Palisade knows to carry pod specs.
pub static WORKLOAD_KINDS: &[WorkloadKind] = kinds![
    "" "Pod" [""], required;
    "" "PodTemplate" ["/template"], required;
    "" "ReplicationController" ["/spec/template"], required;
    "apps" "Deployment" ["/spec/template"], required;
    "apps" "StatefulSet" ["/spec/template"], required;
    "apps" "DaemonSet" ["/spec/template"], required;
    "apps" "ReplicaSet" ["/spec/template"], required;
    "batch" "Job" ["/spec/template"], required;
    "batch" "CronJob" ["/spec/jobTemplate/spec/template"], required;
    "argoproj.io" "Rollout" ["/spec/template"];
    "serving.knative.dev" "Service" ["/spec/template"];
    "serving.knative.dev" "Configuration" ["/spec/template"];
    "serving.knative.dev" "Revision" ["/spec"];
    "serving.kserve.io" "InferenceService" ["/spec/predictor", "/spec/predictor/workerSpec", "/spec/transformer", "/spec/explainer"] keys KSERVE_PREDICTOR_KEYS;
    // KFServing, KServe's name before 0.7: the same v1beta1 shape under its old group.
    "serving.kubeflow.org" "InferenceService" ["/spec/predictor", "/spec/transformer", "/spec/explainer"] keys KSERVE_PREDICTOR_KEYS;
    "serving.kserve.io" "ServingRuntime" ["/spec"];
    "serving.kserve.io" "ClusterServingRuntime" ["/spec"];
    "kubeflow.org" "Notebook" ["/spec/template"];
    "kubeflow.org" "PyTorchJob" ["/spec/pytorchReplicaSpecs/*/template"];
    "kubeflow.org" "TFJob" ["/spec/tfReplicaSpecs/*/template"];
    "kubeflow.org" "MPIJob" ["/spec/mpiReplicaSpecs/*/template"];
    "kubeflow.org" "XGBoostJob" ["/spec/xgbReplicaSpecs/*/template"];
    "kubeflow.org" "PaddleJob" ["/spec/paddleReplicaSpecs/*/template"];
    "kubeflow.org" "MXJob" ["/spec/mxReplicaSpecs/*/template"];
    "kubeflow.org" "JAXJob" ["/spec/jaxReplicaSpecs/*/template"];
    "ray.io" "RayCluster" ["/spec/headGroupSpec/template", "/spec/workerGroupSpecs/*/template"];
    "ray.io" "RayJob" ["/spec/rayClusterSpec/headGroupSpec/template", "/spec/rayClusterSpec/workerGroupSpecs/*/template", "/spec/submitterPodTemplate"];
    "ray.io" "RayService" ["/spec/rayClusterConfig/headGroupSpec/template", "/spec/rayClusterConfig/workerGroupSpecs/*/template"];
    "machinelearning.seldon.io" "SeldonDeployment" ["/spec/predictors/*/componentSpecs/*"];
    "batch.volcano.sh" "Job" ["/spec/tasks/*/template"];
    "jobset.x-k8s.io" "JobSet" ["/spec/replicatedJobs/*/template/spec/template"];
    "leaderworkerset.x-k8s.io" "LeaderWorkerSet" ["/spec/leaderWorkerTemplate/leaderTemplate", "/spec/leaderWorkerTemplate/workerTemplate"];
];

/// A pod spec found in an object, with its template metadata when it has one.
#[derive(Debug)]
pub struct PodSite<'a> {
    pub meta: Option<&'a Node<'a>>,
    pub meta_ptr: String,
    pub spec: &'a Node<'a>,
    pub spec_ptr: String,
    pub extra_containers: Vec<(String, &'a Node<'a>)>,
}

/// The built-in entry for an object's group and kind.
#[must_use]
pub fn workload_kind(group: &str, kind: &str) -> Option<&'static WorkloadKind> {
    WORKLOAD_KINDS
        .iter()
        .find(|w| w.group == group && w.kind == kind)
}

fn custom_matches(custom: &CustomResource, res: &Resource<'_>) -> bool {
    let api = custom.api_version.as_str();
    custom.kind == res.kind && (api == res.api_version || api == res.group())
}

/// Every pod spec in `res`. Built-in kinds without their template are an error; a policy's
/// custom resource paths take precedence over the built-in table.
pub fn pod_sites<'a>(
    res: &Resource<'a>,
    custom: &[CustomResource],
) -> Result<Vec<PodSite<'a>>, DecodeError> {
    let mut sites = Vec::new();
    if let Some(c) = custom.iter().find(|c| custom_matches(c, res)) {
        for path in &c.paths {
            expand(res.node, path, &mut res.ptr.clone(), &[], &mut sites);
        }
        return Ok(sites);
    }
    let Some(wk) = workload_kind(res.group(), res.kind) else {
        return Ok(sites);
    };
    for path in wk.paths {
        expand(
            res.node,
            path,
            &mut res.ptr.clone(),
            wk.container_keys,
            &mut sites,
        );
    }
    if wk.required && sites.is_empty() {
        let path = wk.paths[0];
        return Err(DecodeError {
            pos: res.node.pos,
            pointer: format!("{}{}", res.ptr, path),
            message: format!(
                "{}: expected a pod {} at {}",
                res.kind,
                if path.is_empty() { "spec" } else { "template" },
                if path.is_empty() { "/spec" } else { path }
            ),
        });
    }
    Ok(sites)
}

/// Follows `path` (a JSON pointer with `*` wildcards) from `node`, whose pointer is `ptr`,
/// and records a site wherever it ends on a pod template or spec. `ptr` is extended in
/// place and restored, so only the sites found allocate their pointers.
fn expand<'a>(
    node: &'a Node<'a>,
    path: &str,
    ptr: &mut String,
    container_keys: &[&str],
    out: &mut Vec<PodSite<'a>>,
) {
    let Some(rest) = path.strip_prefix('/').filter(|r| !r.is_empty()) else {
        if let Some(site) = site_at(node, ptr.clone(), container_keys) {
            out.push(site);
        }
        return;
    };
    let (token, tail) = rest
        .bytes()
        .position(|b| b == b'/')
        .map_or((rest, ""), |i| (&rest[..i], &rest[i..]));
    let len = ptr.len();
    let mut descend = |child: &'a Node<'a>, step: &dyn Fn(&mut String)| {
        step(ptr);
        expand(child, tail, ptr, container_keys, out);
        ptr.truncate(len);
    };
    if token == "*" {
        if let Some(items) = node.as_seq() {
            for (i, item) in items.iter().enumerate() {
                descend(item, &|p| append_index(p, i));
            }
        } else if let Some(entries) = node.as_map() {
            for e in entries {
                descend(&e.value, &|p| append_key(p, &e.key));
            }
        }
        return;
    }
    let token: std::borrow::Cow<'_, str> = if token.contains('~') {
        token.replace("~1", "/").replace("~0", "~").into()
    } else {
        token.into()
    };
    if let Some(child) = node.get(&token) {
        descend(child, &|p| append_key(p, &token));
    } else if let (Some(items), Ok(i)) = (node.as_seq(), token.parse::<usize>())
        && let Some(child) = items.get(i)
    {
        descend(child, &|p| append_index(p, i));
    }
}

/// Interprets a node as a pod template (`{metadata, spec}`) or a pod spec (`{containers}`).
fn site_at<'a>(node: &'a Node<'a>, ptr: String, container_keys: &[&str]) -> Option<PodSite<'a>> {
    node.as_map()?;
    let has_containers =
        node.get("containers").is_some() || container_keys.iter().any(|k| node.get(k).is_some());
    if !has_containers && node.get("spec").is_none() {
        return None;
    }
    let is_template = node.get("containers").is_none()
        && container_keys.iter().all(|k| node.get(k).is_none())
        && node.get("spec").is_some();
    let (meta, meta_ptr, spec, spec_ptr) = if is_template {
        let spec = node.get("spec")?;
        (
            node.get("metadata"),
            push_key(&ptr, "metadata"),
            spec,
            push_key(&ptr, "spec"),
        )
    } else {
        // KServe components carry their annotations inline; there is no separate metadata.
        (None, push_key(&ptr, "metadata"), node, ptr)
    };
    let extra_containers = container_keys
        .iter()
        .filter_map(|k| spec.get(k).map(|c| (push_key(&spec_ptr, k), c)))
        .filter(|(_, c)| c.as_map().is_some())
        .collect();
    Some(PodSite {
        meta,
        meta_ptr,
        spec,
        spec_ptr,
        extra_containers,
    })
}
