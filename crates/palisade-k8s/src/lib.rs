//! Kubernetes manifests: positioned resource model, pod templates of every workload kind
//! (built-ins and ML CRDs), and the rules that inspect them, starting with the exact Pod
//! Security Standards.

pub mod fix;
pub mod harden;
pub mod model;
pub mod pss;
pub mod resource;
pub mod rules;
pub mod scan;
pub mod workload;

pub use scan::{FileScan, ScanOptions, scan_source};

use palisade_policy::RuleMeta;

/// Every rule this crate implements.
#[must_use]
pub fn rules() -> Vec<&'static RuleMeta> {
    let mut all = pss::rules();
    all.extend(rules::rules());
    all
}
