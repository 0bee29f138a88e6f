//! Pod specs are found in every workload kind and ML custom resource: each fixture puts a
//! privileged container at every pod-spec site, and the `privileged` check must report each
//! one, by object, container and JSON pointer.

use std::sync::Arc;

use palisade_k8s::pss::Version;
use palisade_k8s::{ScanOptions, scan_source};
use palisade_policy::{CustomResource, Selection, Standard};

fn privileged_sites(file: &str, custom: Vec<CustomResource>) -> Vec<String> {
    let path = format!(
        "{}/resources/test/fixtures/workloads/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let src = std::fs::read_to_string(&path).unwrap();
    let opts = ScanOptions::new(
        Standard::Baseline,
        Version::LATEST,
        Selection::default(),
        custom,
    );
    let scan = scan_source(&Arc::from(file), &src, &opts);
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    let mut sites: Vec<String> = scan
        .findings
        .iter()
        .filter(|f| f.rule.code == "PAL007")
        .map(|f| {
            let o = f.object.as_ref().unwrap();
            format!(
                "{}/{} {} {}",
                o.kind,
                o.name,
                f.container.as_deref().unwrap_or("-"),
                f.location.pointer
            )
        })
        .collect();
    sites.sort();
    sites
}

fn expect(file: &str, custom: Vec<CustomResource>, expected: &[&str]) {
    let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_string()).collect();
    expected.sort();
    assert_eq!(privileged_sites(file, custom), expected);
}

const P: &str = "securityContext/privileged";

#[test]
fn built_in_workloads_and_lists() {
    expect(
        "builtins.yaml",
        vec![],
        &[
            &format!("Pod/pod init /spec/initContainers/0/{P}"),
            &format!("Pod/pod main /spec/containers/0/{P}"),
            &format!("Pod/pod debug /spec/ephemeralContainers/0/{P}"),
            &format!("PodTemplate/tpl tpl /template/spec/containers/0/{P}"),
            &format!("ReplicationController/rc rc /spec/template/spec/containers/0/{P}"),
            &format!("Deployment/deploy deploy /spec/template/spec/containers/0/{P}"),
            &format!("StatefulSet/sts sts /spec/template/spec/containers/0/{P}"),
            &format!("DaemonSet/ds ds /spec/template/spec/containers/0/{P}"),
            &format!("ReplicaSet/rs rs /spec/template/spec/containers/0/{P}"),
            &format!("Job/job job /spec/template/spec/containers/0/{P}"),
            &format!("CronJob/cron cron /spec/jobTemplate/spec/template/spec/containers/0/{P}"),
            &format!("Pod/listed listed /items/0/spec/containers/0/{P}"),
        ],
    );
}

#[test]
fn kserve_inference_service_and_serving_runtime() {
    expect(
        "kserve.yaml",
        vec![],
        &[
            &format!("InferenceService/isvc kserve-container /spec/predictor/model/{P}"),
            &format!("InferenceService/isvc predictor-sidecar /spec/predictor/containers/0/{P}"),
            &format!("InferenceService/isvc worker /spec/predictor/workerSpec/containers/0/{P}"),
            &format!("InferenceService/isvc transformer /spec/transformer/containers/0/{P}"),
            &format!("InferenceService/isvc explainer /spec/explainer/containers/0/{P}"),
            &format!("ServingRuntime/runtime runtime /spec/containers/0/{P}"),
            &format!(
                "InferenceService/legacy-framework kserve-container /spec/predictor/tensorflow/{P}"
            ),
            &format!("InferenceService/kfserving torchserve /spec/predictor/containers/0/{P}"),
            &format!("InferenceService/kfserving transformer /spec/transformer/containers/0/{P}"),
        ],
    );
}

#[test]
fn kubeflow_notebook_and_training_jobs() {
    expect(
        "kubeflow.yaml",
        vec![],
        &[
            &format!("Notebook/nb notebook /spec/template/spec/containers/0/{P}"),
            &format!(
                "PyTorchJob/pt pt-master /spec/pytorchReplicaSpecs/Master/template/spec/containers/0/{P}"
            ),
            &format!(
                "PyTorchJob/pt pt-worker /spec/pytorchReplicaSpecs/Worker/template/spec/containers/0/{P}"
            ),
            &format!("TFJob/tf tf-chief /spec/tfReplicaSpecs/Chief/template/spec/containers/0/{P}"),
            &format!("TFJob/tf tf-ps /spec/tfReplicaSpecs/PS/template/spec/containers/0/{P}"),
            &format!(
                "MPIJob/mpi mpi-launcher /spec/mpiReplicaSpecs/Launcher/template/spec/containers/0/{P}"
            ),
            &format!(
                "MPIJob/mpi mpi-worker /spec/mpiReplicaSpecs/Worker/template/spec/containers/0/{P}"
            ),
            &format!(
                "XGBoostJob/xgb xgb-master /spec/xgbReplicaSpecs/Master/template/spec/containers/0/{P}"
            ),
            &format!(
                "PaddleJob/paddle paddle-worker /spec/paddleReplicaSpecs/Worker/template/spec/containers/0/{P}"
            ),
        ],
    );
}

#[test]
fn ray_cluster_job_and_service() {
    expect(
        "ray.yaml",
        vec![],
        &[
            &format!("RayCluster/rc head /spec/headGroupSpec/template/spec/containers/0/{P}"),
            &format!(
                "RayCluster/rc cpu-worker /spec/workerGroupSpecs/0/template/spec/containers/0/{P}"
            ),
            &format!(
                "RayCluster/rc gpu-worker /spec/workerGroupSpecs/1/template/spec/containers/0/{P}"
            ),
            &format!(
                "RayJob/rj job-head /spec/rayClusterSpec/headGroupSpec/template/spec/containers/0/{P}"
            ),
            &format!(
                "RayJob/rj job-worker /spec/rayClusterSpec/workerGroupSpecs/0/template/spec/containers/0/{P}"
            ),
            &format!("RayJob/rj submitter /spec/submitterPodTemplate/spec/containers/0/{P}"),
            &format!(
                "RayService/rs svc-head /spec/rayClusterConfig/headGroupSpec/template/spec/containers/0/{P}"
            ),
            &format!(
                "RayService/rs svc-worker /spec/rayClusterConfig/workerGroupSpecs/0/template/spec/containers/0/{P}"
            ),
        ],
    );
}

#[test]
fn seldon_argo_knative_volcano_jobset_lws() {
    expect(
        "others.yaml",
        vec![],
        &[
            &format!(
                "SeldonDeployment/seldon classifier /spec/predictors/0/componentSpecs/0/spec/containers/0/{P}"
            ),
            &format!(
                "SeldonDeployment/seldon transformer /spec/predictors/0/componentSpecs/1/spec/containers/0/{P}"
            ),
            &format!("Rollout/rollout rollout /spec/template/spec/containers/0/{P}"),
            &format!("Service/ksvc knative /spec/template/spec/containers/0/{P}"),
            &format!("Job/vcjob volcano /spec/tasks/0/template/spec/containers/0/{P}"),
            &format!(
                "JobSet/jobset jobset /spec/replicatedJobs/0/template/spec/template/spec/containers/0/{P}"
            ),
            &format!(
                "LeaderWorkerSet/lws leader /spec/leaderWorkerTemplate/leaderTemplate/spec/containers/0/{P}"
            ),
            &format!(
                "LeaderWorkerSet/lws lws-worker /spec/leaderWorkerTemplate/workerTemplate/spec/containers/0/{P}"
            ),
        ],
    );
}

#[test]
fn unknown_crds_are_skipped_until_the_policy_declares_their_paths() {
    expect("custom.yaml", vec![], &[]);
    let custom = vec![CustomResource {
        api_version: "example.com".into(),
        kind: "TrainingRun".into(),
        paths: vec![
            "/spec/launcher/podSpec".into(),
            "/spec/workers/*/template".into(),
        ],
    }];
    expect(
        "custom.yaml",
        custom,
        &[
            &format!("TrainingRun/custom launcher /spec/launcher/podSpec/containers/0/{P}"),
            &format!(
                "TrainingRun/custom custom-worker-0 /spec/workers/0/template/spec/containers/0/{P}"
            ),
            &format!(
                "TrainingRun/custom custom-worker-1 /spec/workers/1/template/spec/containers/0/{P}"
            ),
        ],
    );
}
