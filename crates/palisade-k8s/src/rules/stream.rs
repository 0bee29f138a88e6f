//! Rules that need the whole scan at once (every file of a `palisade scan` run, or every
//! object of an admission batch): a Service exposing a model server defined in another
//! file, namespaces without a default-deny NetworkPolicy, workloads no policy selects.
//!
//! Each file contributes an [`Inventory`] while it is scanned (in parallel); the inventories
//! are merged and [`check`] runs once at the end. The inventory owns everything it keeps
//! (the parsed trees are gone by then): labels, selectors, and where each finding would go.

use std::sync::{Arc, OnceLock};

use palisade_policy::{
    Finding, InlineSuppression, Location, ObjectRef, RuleMeta, SUPPRESS_ANNOTATION,
    parse_suppression,
};
use palisade_yaml::{Node, Pos, push_key};

use crate::resource::Resource;
use crate::rules::model_servers::detect::Server;
use crate::rules::model_servers::exposed_service;
use crate::rules::namespaces::{no_default_deny, unselected_workload};
use crate::scan::ScanOptions;
use crate::workload::PodSite;

/// Metadata of the whole-scan rules.
#[must_use]
pub fn rules() -> Vec<&'static RuleMeta> {
    vec![
        &exposed_service::RULE,
        &no_default_deny::RULE,
        &unselected_workload::RULE,
    ]
}

/// What one file contributes to whole-scan rules.
#[derive(Debug, Default)]
pub struct Inventory {
    pub workloads: Vec<Workload>,
    pub services: Vec<Service>,
    pub policies: Vec<NetworkPolicy>,
    pub namespaces: Vec<Namespace>,
}

impl Inventory {
    /// Records that every object of this inventory comes from `member` of its file (a Helm
    /// template of a rendered chart), so whole-scan findings point there too.
    pub fn set_member(&self, member: &str) {
        let origins = self
            .workloads
            .iter()
            .map(|w| &w.origin)
            .chain(self.services.iter().map(|s| &s.origin))
            .chain(self.namespaces.iter().map(|n| &n.origin));
        for origin in origins {
            // Shared by an object's records: the first call sets it for all of them.
            let _ = origin.member.set(member.to_string());
        }
    }
}

/// Which object a finding is about and where it is, kept from the scan of its file.
#[derive(Debug)]
pub struct Origin {
    pub file: Arc<str>,
    pub document: usize,
    pub object: Arc<ObjectRef>,
    /// JSON pointer of the object in its document (`""`, or `/items/3` in a List).
    pub ptr: String,
    pub pos: Pos,
    pub suppression: Option<InlineSuppression>,
    /// Where in `file` the object was written when `file` is not a manifest itself: the
    /// template of a rendered Helm chart ([`Inventory::set_member`]). Set once, after the
    /// scan, through the `Arc` the object's records share.
    pub member: OnceLock<String>,
}

impl Origin {
    fn new(res: &Resource<'_>, file: &Arc<str>, document: usize) -> Arc<Origin> {
        Arc::new(Origin {
            member: OnceLock::new(),
            file: file.clone(),
            document,
            object: Arc::new(res.object_ref()),
            ptr: res.ptr.clone(),
            pos: res.node.pos,
            suppression: res
                .meta
                .annotation(SUPPRESS_ANNOTATION)
                .map(|a| parse_suppression(a.value)),
        })
    }

    /// `file:line` (`file!/member:line`), for messages that name another object.
    #[must_use]
    pub fn place(&self) -> String {
        match self.member.get() {
            Some(member) => format!("{}!/{member}:{}", self.file, self.pos.line),
            None => format!("{}:{}", self.file, self.pos.line),
        }
    }
}

/// An object that runs pods.
#[derive(Debug)]
pub struct Workload {
    pub origin: Arc<Origin>,
    pub namespace: Option<String>,
    /// Where `metadata.namespace` is (or `metadata`), for findings about the namespace.
    pub namespace_pos: Pos,
    pub pods: Vec<PodTemplate>,
}

/// One pod template of a workload (a RayCluster has a head and worker groups).
#[derive(Debug)]
pub struct PodTemplate {
    /// Template labels plus the labels the operator adds (KubeRay, KServe, Kubeflow).
    pub labels: Vec<(String, String)>,
    /// Pointer of the template's `metadata/labels`.
    pub labels_ptr: String,
    pub pos: Pos,
    pub suppression: Option<InlineSuppression>,
    /// Containers running a recognised model server or ML control plane.
    pub servers: Vec<(String, Server)>,
}

/// A Service, or an operator field that makes one (KubeRay `headGroupSpec.serviceType`).
#[derive(Debug)]
pub struct Service {
    pub origin: Arc<Origin>,
    pub namespace: Option<String>,
    pub type_: String,
    /// Pointer and position of the field that sets the type.
    pub type_ptr: String,
    pub type_pos: Pos,
    /// Equality selector; empty selects nothing (endpoints are managed by hand).
    pub selector: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct NetworkPolicy {
    pub namespace: Option<String>,
    pub name: String,
    pub pod_selector: LabelSelector,
    /// `podSelector: {}`, ingress among its policy types, and no rule that admits every
    /// source: every pod of the namespace is isolated for ingress.
    pub default_deny_ingress: bool,
}

#[derive(Debug)]
pub struct Namespace {
    pub origin: Arc<Origin>,
    pub name: String,
    pub name_pos: Pos,
}

/// A `metav1.LabelSelector`: `matchLabels` and `matchExpressions` ANDed.
#[derive(Clone, Debug, Default)]
pub struct LabelSelector {
    pub match_labels: Vec<(String, String)>,
    pub expressions: Vec<Requirement>,
    /// An operator or shape the API server would reject: the selector selects nothing.
    pub invalid: bool,
}

#[derive(Clone, Debug)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    /// Parses a selector; a missing or null selector is the empty selector.
    #[must_use]
    pub fn parse(node: Option<&Node<'_>>) -> LabelSelector {
        let mut sel = LabelSelector::default();
        let Some(node) = node.filter(|n| !n.is_null()) else {
            return sel;
        };
        if node.as_map().is_none() {
            sel.invalid = true;
            return sel;
        }
        sel.match_labels = string_pairs(node.get("matchLabels"));
        if let Some(exprs) = node.get("matchExpressions").filter(|n| !n.is_null()) {
            for e in exprs.as_seq().unwrap_or_default() {
                let key = e.get("key").and_then(Node::as_str);
                let operator = match e.get("operator").and_then(Node::as_str) {
                    Some("In") => Some(Operator::In),
                    Some("NotIn") => Some(Operator::NotIn),
                    Some("Exists") => Some(Operator::Exists),
                    Some("DoesNotExist") => Some(Operator::DoesNotExist),
                    _ => None,
                };
                let values: Vec<String> = e
                    .get("values")
                    .and_then(Node::as_seq)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                match (key, operator) {
                    (Some(key), Some(operator)) => {
                        // In/NotIn need values, Exists/DoesNotExist must have none.
                        let needs_values = matches!(operator, Operator::In | Operator::NotIn);
                        if needs_values == values.is_empty() {
                            sel.invalid = true;
                        }
                        sel.expressions.push(Requirement {
                            key: key.to_string(),
                            operator,
                            values,
                        });
                    }
                    _ => sel.invalid = true,
                }
            }
            if exprs.as_seq().is_none() {
                sel.invalid = true;
            }
        }
        sel
    }

    /// Selects everything (`{}`).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        !self.invalid && self.match_labels.is_empty() && self.expressions.is_empty()
    }

    /// Label selector semantics of `k8s.io/apimachinery/pkg/labels`: every `matchLabels`
    /// pair present and equal, every requirement true (`NotIn` holds when the key is absent).
    #[must_use]
    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        if self.invalid {
            return false;
        }
        let get = |k: &str| labels.iter().rev().find(|(lk, _)| lk == k).map(|(_, v)| v);
        self.match_labels
            .iter()
            .all(|(k, v)| get(k).is_some_and(|lv| lv == v))
            && self.expressions.iter().all(|r| {
                let value = get(&r.key);
                match r.operator {
                    Operator::In => value.is_some_and(|v| r.values.contains(v)),
                    Operator::NotIn => value.is_none_or(|v| !r.values.contains(v)),
                    Operator::Exists => value.is_some(),
                    Operator::DoesNotExist => value.is_none(),
                }
            })
    }
}

fn string_pairs(node: Option<&Node<'_>>) -> Vec<(String, String)> {
    node.and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e.key.to_string(),
                e.value.as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Labels the operators of ML custom resources put on the pods they create, so Services and
/// NetworkPolicies written against them are understood.
fn operator_labels(res: &Resource<'_>, site_ptr: &str) -> Vec<(String, String)> {
    let rel = site_ptr.strip_prefix(res.ptr.as_str()).unwrap_or(site_ptr);
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    match (res.group(), res.kind) {
        ("ray.io", kind) => {
            let mut out = Vec::new();
            if kind == "RayCluster" {
                out.push(pair("ray.io/cluster", res.name));
            }
            if rel.contains("/headGroupSpec/") {
                out.push(pair("ray.io/node-type", "head"));
                out.push(pair("ray.io/group", "headgroup"));
            } else if rel.contains("/workerGroupSpecs/") {
                out.push(pair("ray.io/node-type", "worker"));
                // `/spec/workerGroupSpecs/<i>/template`: the group name is in that item.
                let group = rel
                    .strip_suffix("/template")
                    .and_then(|p| res.node.pointer(p))
                    .and_then(|g| g.get("groupName"))
                    .and_then(Node::as_str);
                if let Some(g) = group {
                    out.push(pair("ray.io/group", g));
                }
            }
            out
        }
        ("kubeflow.org", "Notebook") => vec![
            pair("notebook-name", res.name),
            pair("statefulset", res.name),
        ],
        (group @ ("serving.kserve.io" | "serving.kubeflow.org"), "InferenceService") => {
            let component = ["predictor", "transformer", "explainer"]
                .into_iter()
                .find(|c| rel.starts_with(&format!("/spec/{c}")))
                .unwrap_or("predictor");
            vec![
                pair(&format!("{group}/inferenceservice"), res.name),
                pair("component", component),
            ]
        }
        _ => Vec::new(),
    }
}

/// What whole-scan rules need from one pod template: its labels (with the ones operators
/// add) and the model servers its containers run, from the scan's per-pod facts.
pub(crate) fn template(
    res: &Resource<'_>,
    site: &PodSite<'_>,
    servers: Vec<(String, Server)>,
) -> PodTemplate {
    let mut labels = string_pairs(site.meta.and_then(|m| m.get("labels")));
    labels.extend(operator_labels(res, &site.spec_ptr));
    let labels_node = site.meta.and_then(|m| m.get_entry("labels"));
    PodTemplate {
        labels,
        labels_ptr: push_key(&site.meta_ptr, "labels"),
        pos: labels_node.map_or(site.spec.pos, |e| e.key_pos),
        suppression: site
            .meta
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(SUPPRESS_ANNOTATION))
            .and_then(Node::as_str)
            .map(parse_suppression),
        servers,
    }
}

/// Records an object that runs pods, with its [`template`]s (the KubeRay head Service too).
pub(crate) fn record_workload(
    res: &Resource<'_>,
    file: &Arc<str>,
    doc_index: usize,
    pods: Vec<PodTemplate>,
    inventory: &mut Inventory,
) {
    let origin = Origin::new(res, file, doc_index);
    let origin = &origin;
    let meta = res.node.get("metadata");
    let namespace_pos = meta
        .and_then(|m| m.get("namespace"))
        .map(|n| n.pos)
        .or_else(|| res.node.get_entry("metadata").map(|e| e.key_pos))
        .unwrap_or(res.node.pos);
    inventory.workloads.push(Workload {
        origin: origin.clone(),
        namespace: res.namespace.map(str::to_string),
        namespace_pos,
        pods,
    });
    // KubeRay creates the head Service itself, of the type `headGroupSpec.serviceType` says.
    if res.group() == "ray.io" {
        for head_ptr in [
            "/spec/headGroupSpec",
            "/spec/rayClusterSpec/headGroupSpec",
            "/spec/rayClusterConfig/headGroupSpec",
        ] {
            let Some(entry) = res
                .node
                .pointer(head_ptr)
                .and_then(|h| h.get_entry("serviceType"))
            else {
                continue;
            };
            // KubeRay's default, ClusterIP, is often written out (its own samples do).
            let Some(type_) = entry.value.as_str().filter(|t| reachable_from_outside(t)) else {
                continue;
            };
            let mut selector = vec![("ray.io/node-type".to_string(), "head".to_string())];
            if res.kind == "RayCluster" {
                selector.push(("ray.io/cluster".to_string(), res.name.to_string()));
            }
            inventory.services.push(Service {
                origin: origin.clone(),
                namespace: res.namespace.map(str::to_string),
                type_: type_.to_string(),
                type_ptr: format!("{}{head_ptr}/serviceType", res.ptr),
                type_pos: entry.value.pos,
                selector,
            });
        }
    }
}

/// Service types that open a port outside the cluster network (`ClusterIP` and
/// `ExternalName` do not).
fn reachable_from_outside(service_type: &str) -> bool {
    matches!(service_type, "LoadBalancer" | "NodePort")
}

fn record_network_policy(res: &Resource<'_>, inventory: &mut Inventory) {
    let spec = res.node.get("spec");
    let pod_selector = LabelSelector::parse(spec.and_then(|s| s.get("podSelector")));
    let types: Option<Vec<&str>> = spec
        .and_then(|s| s.get("policyTypes"))
        .and_then(Node::as_seq)
        .map(|t| t.iter().filter_map(Node::as_str).collect());
    // policyTypes defaults to Ingress (plus Egress when an egress section exists).
    let affects_ingress = types.is_none_or(|t| t.contains(&"Ingress"));
    let ingress = spec.and_then(|s| s.get("ingress")).and_then(Node::as_seq);
    // A rule without `from` (or with an empty one) admits every source.
    let admits_all = ingress.unwrap_or_default().iter().any(|rule| {
        rule.get("from")
            .and_then(Node::as_seq)
            .is_none_or(<[Node<'_>]>::is_empty)
            && rule
                .get("ports")
                .and_then(Node::as_seq)
                .is_none_or(<[Node<'_>]>::is_empty)
    });
    inventory.policies.push(NetworkPolicy {
        namespace: res.namespace.map(str::to_string),
        name: res.name.to_string(),
        default_deny_ingress: pod_selector.is_empty() && affects_ingress && !admits_all,
        pod_selector,
    });
}

/// Records what whole-scan rules need from one object.
pub fn record(res: &Resource<'_>, file: &Arc<str>, doc_index: usize, inventory: &mut Inventory) {
    match (res.group(), res.kind) {
        ("", "Service") => {
            let spec = res.node.get("spec");
            let type_entry = spec.and_then(|s| s.get_entry("type"));
            let type_ = type_entry
                .and_then(|e| e.value.as_str())
                .unwrap_or("ClusterIP");
            if !reachable_from_outside(type_) {
                return;
            }
            let selector = string_pairs(spec.and_then(|s| s.get("selector")));
            if selector.is_empty() {
                return;
            }
            inventory.services.push(Service {
                origin: Origin::new(res, file, doc_index),
                namespace: res.namespace.map(str::to_string),
                type_: type_.to_string(),
                type_ptr: format!("{}/spec/type", res.ptr),
                type_pos: type_entry.map_or(res.node.pos, |e| e.value.pos),
                selector,
            });
        }
        ("networking.k8s.io", "NetworkPolicy") => record_network_policy(res, inventory),
        ("", "Namespace") => {
            let name_pos = res
                .node
                .get("metadata")
                .and_then(|m| m.get("name"))
                .map_or(res.node.pos, |n| n.pos);
            inventory.namespaces.push(Namespace {
                origin: Origin::new(res, file, doc_index),
                name: res.name.to_string(),
                name_pos,
            });
        }
        // Workloads are recorded by the scan of their pod specs ([`template`],
        // [`record_workload`]), which has the pod sites and model-server facts at hand.
        _ => {}
    }
}

/// The whole scan's inventories, read together.
#[derive(Clone, Copy, Debug)]
pub struct Scan<'i> {
    inventories: &'i [&'i Inventory],
}

impl<'i> Scan<'i> {
    pub fn workloads(&self) -> impl Iterator<Item = &'i Workload> + '_ {
        self.inventories.iter().flat_map(|i| &i.workloads)
    }
    pub fn services(&self) -> impl Iterator<Item = &'i Service> + '_ {
        self.inventories.iter().flat_map(|i| &i.services)
    }
    pub fn policies(&self) -> impl Iterator<Item = &'i NetworkPolicy> + '_ {
        self.inventories.iter().flat_map(|i| &i.policies)
    }
    pub fn namespaces(&self) -> impl Iterator<Item = &'i Namespace> + '_ {
        self.inventories.iter().flat_map(|i| &i.namespaces)
    }
}

/// A finding of a whole-scan rule, before suppression.
#[derive(Debug)]
pub struct StreamViolation<'i> {
    pub origin: &'i Origin,
    /// Pointer inside the document (already prefixed with the object's pointer).
    pub pointer: String,
    pub pos: Pos,
    pub message: String,
    pub container: Option<String>,
    /// Pod-template suppression, when the finding is about a template.
    pub template_suppression: Option<&'i InlineSuppression>,
}

fn emit(rule: &'static RuleMeta, v: StreamViolation<'_>, out: &mut Vec<Finding>) {
    let suppressed = v
        .origin
        .suppression
        .iter()
        .chain(v.template_suppression)
        .any(|s| s.covers(rule));
    if suppressed {
        return;
    }
    let mut finding = Finding::new(
        rule,
        v.message,
        Location {
            file: v.origin.file.clone(),
            line: v.pos.line,
            column: v.pos.column,
            document: Some(v.origin.document),
            pointer: v.pointer,
            member: v.origin.member.get().cloned(),
            offset: None,
        },
    );
    finding.object = Some(v.origin.object.clone());
    finding.container = v.container;
    out.push(finding);
}

/// A whole-scan rule's check.
type StreamCheck = for<'i> fn(Scan<'i>, &mut Vec<StreamViolation<'i>>);

/// Runs the whole-scan rules over every file's inventory.
#[must_use]
pub fn check(inventories: &[&Inventory], opts: &ScanOptions) -> Vec<Finding> {
    let scan = Scan { inventories };
    let mut out = Vec::new();
    let rules: [(&'static RuleMeta, StreamCheck); 3] = [
        (&exposed_service::RULE, exposed_service::check),
        (&no_default_deny::RULE, no_default_deny::check),
        (&unselected_workload::RULE, unselected_workload::check),
    ];
    for (rule, run) in rules {
        if !opts.selection.is_enabled(rule) {
            continue;
        }
        let mut violations = Vec::new();
        run(scan, &mut violations);
        for v in violations {
            emit(rule, v, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(src: &str) -> LabelSelector {
        let docs = palisade_yaml::parse_stream(src);
        let root = &docs[0].as_ref().unwrap().root;
        LabelSelector::parse(Some(root))
    }

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn selector_semantics() {
        let pod = labels(&[("app", "vllm"), ("tier", "gpu")]);
        assert!(sel("{}").matches(&pod));
        assert!(sel("{}").is_empty());
        assert!(sel("matchLabels: {app: vllm}").matches(&pod));
        assert!(!sel("matchLabels: {app: tgi}").matches(&pod));
        assert!(
            sel("matchExpressions: [{key: team, operator: NotIn, values: [a]}]").matches(&pod),
            "NotIn holds when the key is absent"
        );
        assert!(!sel("matchExpressions: [{key: tier, operator: DoesNotExist}]").matches(&pod));
        assert!(
            sel("matchExpressions: [{key: tier, operator: In, values: [cpu, gpu]}]").matches(&pod)
        );
        assert!(
            !sel("matchExpressions: [{key: tier, operator: Like, values: [gpu]}]").matches(&pod),
            "an unknown operator selects nothing"
        );
        assert!(
            !sel("matchExpressions: [{key: tier, operator: In, values: []}]").matches(&pod),
            "In without values is invalid"
        );
        assert!(
            !sel("{matchLabels: {app: vllm}, matchExpressions: [{key: tier, operator: Exists}, {key: app, operator: NotIn, values: [vllm]}]}")
                .matches(&pod),
            "matchLabels and every expression are ANDed"
        );
    }
}
