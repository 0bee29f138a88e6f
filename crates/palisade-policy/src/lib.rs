//! What every Palisade gate shares: rule metadata, severities, findings, the `Policy`
//! configuration (with exceptions and rule selection) and inline suppressions.
//!
//! Feature crates (`palisade-k8s`, `palisade-model`, …) declare their rules with
//! [`declare_rule!`] and produce [`Finding`]s; the CLI and the webhook apply the same
//! [`Policy`] to them, which is how one policy gives one verdict at every gate.

mod admission;
mod apply;
mod config;
mod date;
mod finding;
mod quantity;
mod rule;
mod selection;
mod severity;
mod suppress;
mod verify_images;
mod vulnerability;

pub use admission::{AdmissionExemptions, AdmissionMode, AdmissionSettings, MutationSettings};
pub use apply::{Applied, apply_policy};
pub use config::{
    ConfigError, CustomResource, Exception, ImagePolicy, ModelPolicy, POLICY_API_VERSION, Policy,
    RuleSetting, Standard, normalize_kubernetes_version,
};
pub use date::Date;
pub use finding::{CallSite, Finding, InputError, Location, ObjectRef};
pub use quantity::is_storage_quantity;
pub use rule::{RefKind, Reference, RuleMeta};
pub use selection::{Selection, SelectorError};
pub use severity::Severity;
pub use suppress::{InlineSuppression, SUPPRESS_ANNOTATION, parse_suppression};
pub use verify_images::{
    FailurePolicy, ImageVerificationSettings, KeySource, KeySpec, VerifyImagesRule,
};
pub use vulnerability::{Vulnerability, VulnerablePackage};
