//! Service accounts and Kubernetes API access from workloads.

pub mod default_service_account;
pub mod token_automount;

use palisade_yaml::Node;

use crate::model::{PodSpec, Sp};

/// The service account the pod runs as, when it names one other than `default`
/// (`serviceAccountName`, or the deprecated `serviceAccount` alias the API server copies
/// into it).
fn dedicated_account<'n>(spec: &'n PodSpec<'_>) -> Option<&'n str> {
    ["serviceAccountName", "serviceAccount"]
        .iter()
        .find_map(|k| spec.raw.get(k).and_then(Node::as_str))
        .map(str::trim)
        .filter(|n| !n.is_empty() && *n != "default")
}

/// `automountServiceAccountToken` of the pod spec, with its position.
fn automount(spec: &PodSpec<'_>) -> Option<Sp<bool>> {
    let n = spec.raw.get("automountServiceAccountToken")?;
    Some(Sp {
        value: n.as_bool()?,
        pos: n.pos,
    })
}
