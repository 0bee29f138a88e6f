//! A whole-scan rule: run from [`crate::rules::stream`].

use crate::rules::model_servers::detect::Server;
use crate::rules::stream::{Scan, StreamViolation, Workload};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags Services of type `LoadBalancer` or `NodePort` whose selector matches the pods of
    /// a workload running a recognised model server or ML control plane (Triton, TorchServe,
    /// Ray, Jupyter, MLflow, TensorFlow Serving, vLLM, text-generation-inference, Ollama), in
    /// the same namespace, anywhere in the scan: the Service and the Deployment may be in
    /// different files. KubeRay clusters whose `headGroupSpec.serviceType` is `LoadBalancer`
    /// or `NodePort` are flagged too (KubeRay creates that Service). Pod labels the operators
    /// add (KubeRay `ray.io/*`, KServe, Kubeflow Notebook) are taken into account.
    ///
    /// ## Why is this bad?
    /// These servers have no authentication or have it off by default, and their APIs run
    /// code or models on GPUs: put on a node port or a cloud load balancer, they are found by
    /// internet-wide scans within hours (ShadowRay, MITRE ATLAS AML.CS0023; AML.T0049, exploit
    /// public-facing application; AML.T0034, cost harvesting). Severity high.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Service
    /// spec:
    ///   type: LoadBalancer
    ///   selector: {app: tf-serving}
    /// ```
    ///
    /// ## Fix
    /// Set the field the finding points at, the Service's `spec.type`, to `ClusterIP` (or
    /// KubeRay's `serviceType` to `ClusterIP`) and publish the server through an Ingress or
    /// gateway that authenticates clients.
    pub static RULE = {
        code: "PAL170",
        name: "model-server-exposed-externally",
        family: "model-servers",
        severity: High,
        summary: "Model servers and ML control planes must not sit behind a LoadBalancer or NodePort Service",
        references: [
            Atlas "AML.T0049" "https://atlas.mitre.org/techniques/AML.T0049",
            Atlas "AML.T0034" "https://atlas.mitre.org/techniques/AML.T0034",
            Atlas "AML.CS0023" "https://atlas.mitre.org/studies/AML.CS0023",
            Attack "T1190" "https://attack.mitre.org/techniques/T1190/",
            Nsa "Network separation" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
        ],
    };
}

pub(crate) fn check<'i>(scan: Scan<'i>, out: &mut Vec<StreamViolation<'i>>) {
    for svc in scan.services() {
        // One finding per Service, naming every server it reaches (the same labels may be
        // used by several workloads in the scan, e.g. a base and an overlay).
        let mut reached: Vec<(&Workload, &str, Server)> = Vec::new();
        for w in scan.workloads().filter(|w| w.namespace == svc.namespace) {
            for pod in &w.pods {
                let Some((container, server)) = pod.servers.first() else {
                    continue;
                };
                let selected = svc.selector.iter().all(|(k, v)| {
                    pod.labels
                        .iter()
                        .rev()
                        .find(|(lk, _)| lk == k)
                        .is_some_and(|(_, lv)| lv == v)
                });
                if selected {
                    reached.push((w, container, *server));
                }
            }
        }
        // Deterministic whatever order the files were scanned in.
        reached.sort_by(|a, b| {
            (&a.0.origin.file, a.0.origin.document, &a.0.origin.ptr).cmp(&(
                &b.0.origin.file,
                b.0.origin.document,
                &b.0.origin.ptr,
            ))
        });
        let Some(&(first, container, server)) = reached.first() else {
            continue;
        };
        let message = if std::ptr::eq(svc.origin.as_ref(), first.origin.as_ref()) {
            format!(
                "serviceType {} exposes the {} head of {} outside the cluster",
                svc.type_,
                server.label(),
                first.origin.object
            )
        } else {
            let targets: Vec<String> = reached
                .iter()
                .map(|(w, c, s)| {
                    format!(
                        "{} ({}) running {} in container {c:?}",
                        w.origin.object,
                        w.origin.place(),
                        s.label()
                    )
                })
                .collect();
            format!(
                "Service of type {} selects {}: the server is reachable from outside the cluster",
                svc.type_,
                targets.join("; ")
            )
        };
        out.push(StreamViolation {
            origin: &svc.origin,
            pointer: svc.type_ptr.clone(),
            pos: svc.type_pos,
            message,
            container: Some(container.to_string()),
            template_suppression: None,
        });
    }
}
