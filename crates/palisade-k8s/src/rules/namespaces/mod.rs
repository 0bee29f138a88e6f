//! Namespaces (PAL240–PAL259): Pod Security Admission labels, default-deny network
//! isolation, and workloads no NetworkPolicy selects. The last two need every object of the
//! scan and run from `rules::stream`.

pub mod no_default_deny;
pub mod psa_enforce_missing;
pub mod unselected_workload;
