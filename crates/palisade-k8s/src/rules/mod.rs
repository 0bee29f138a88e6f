//! Rules beyond the Pod Security Standards: workload hardening, images, resources, GPUs,
//! model servers, model files, secrets, service accounts, namespaces.
//!
//! Two shapes of rule, each a file in a family directory with its `declare_rule!` metadata
//! and docs:
//! - [`PodRule`]: runs once per pod spec (wherever the workload locator found it), with the
//!   owning object and the policy settings.
//! - [`ResourceRule`]: runs once per object of the kinds it names (Services, ConfigMaps,
//!   Namespaces, …).

use palisade_policy::{ImagePolicy, RuleMeta};

use crate::model::Container;
use crate::pss::PodView;
use crate::resource::Resource;
use crate::rules::model_servers::detect::{ContainerFacts, PodFacts};

pub use crate::pss::Violation;

/// Policy settings rules read, resolved once per run.
#[derive(Clone, Debug, Default)]
pub struct RuleConfig {
    pub images: ImagePolicy,
}

/// What a pod rule sees.
#[derive(Clone, Copy, Debug)]
pub struct PodContext<'c, 'v, 'a> {
    pub resource: &'c Resource<'a>,
    pub pod: PodView<'v, 'a>,
    pub config: &'c RuleConfig,
    /// What several rules derive from the same containers, computed once per pod spec.
    pub facts: &'c PodFacts<'v>,
}

impl<'c, 'v> PodContext<'c, 'v, '_> {
    /// The serving containers (not init containers) with their words, env and server.
    pub fn serving(&self) -> impl Iterator<Item = (&'v Container<'v>, &'c ContainerFacts<'v>)> {
        self.facts.serving(self.pod.spec)
    }
}

/// What a resource rule sees.
#[derive(Clone, Copy, Debug)]
pub struct ResourceContext<'c, 'a> {
    pub resource: &'c Resource<'a>,
    pub config: &'c RuleConfig,
}

pub type PodCheckFn = fn(&PodContext<'_, '_, '_>, &mut Vec<Violation>);
pub type ResourceCheckFn = fn(&ResourceContext<'_, '_>, &mut Vec<Violation>);

#[derive(Debug)]
pub struct PodRule {
    pub rule: &'static RuleMeta,
    pub check: PodCheckFn,
}

#[derive(Debug)]
pub struct ResourceRule {
    pub rule: &'static RuleMeta,
    /// `(group, kind)` pairs the rule inspects; group is empty for the core API group.
    pub kinds: &'static [(&'static str, &'static str)],
    pub check: ResourceCheckFn,
}

impl ResourceRule {
    #[must_use]
    pub fn applies_to(&self, res: &Resource<'_>) -> bool {
        self.kinds
            .iter()
            .any(|(g, k)| *k == res.kind && *g == res.group())
    }
}

pub(crate) mod filesystem;
pub(crate) mod gpus;
pub(crate) mod images;
pub mod model_files;
pub mod model_servers;
pub mod namespaces;
mod pod_fields;
mod resources;
mod secrets;
pub(crate) mod service_accounts;
pub mod stream;
pub(crate) mod text;

pub(crate) use text::ascii_lowercase;

/// Every pod rule.
pub static POD_RULES: &[&PodRule] = &[
    &images::mutable_tag::RULE_IMPL,
    &images::not_pinned_by_digest::RULE_IMPL,
    &images::registry_not_allowed::RULE_IMPL,
    &images::pull_policy::RULE_IMPL,
    &resources::memory_limit::RULE_IMPL,
    &resources::cpu_limit::RULE_IMPL,
    &resources::requests::RULE_IMPL,
    &resources::emptydir_size_limit::RULE_IMPL,
    &resources::emptydir_memory_size_limit::RULE_IMPL,
    &gpus::limit_missing::RULE_IMPL,
    &gpus::visible_devices_env::RULE_IMPL,
    &gpus::driver_capabilities_env::RULE_IMPL,
    &gpus::device_host_access::RULE_IMPL,
    &gpus::request_limit_mismatch::RULE_IMPL,
    &secrets::env_credential::RULE_IMPL,
    &secrets::env_secret_name::RULE_IMPL,
    &service_accounts::token_automount::RULE_IMPL,
    &service_accounts::default_service_account::RULE_IMPL,
    &filesystem::read_only_root_filesystem::RULE_IMPL,
    &filesystem::probes_missing::RULE_IMPL,
    &model_servers::triton_model_control::RULE_IMPL,
    &model_servers::torchserve_token_auth::RULE_IMPL,
    &model_servers::ray_dashboard_exposed::RULE_IMPL,
    &model_servers::jupyter_no_token::RULE_IMPL,
    &model_servers::mlflow_no_auth::RULE_IMPL,
    &model_servers::llm_server_no_auth::RULE_IMPL,
    &model_files::writable_model_volume::RULE_IMPL,
    &model_files::unpinned_revision::RULE_IMPL,
    &model_files::trust_remote_code::RULE_IMPL,
];

/// Every resource rule.
pub static RESOURCE_RULES: &[&ResourceRule] = &[
    &secrets::configmap_credential::RULE_IMPL,
    &secrets::configmap_secret_name::RULE_IMPL,
    &model_servers::torchserve_config_token_auth::RULE_IMPL,
    &namespaces::psa_enforce_missing::RULE_IMPL,
];

/// Metadata of every non-PSS rule.
#[must_use]
pub fn rules() -> Vec<&'static RuleMeta> {
    POD_RULES
        .iter()
        .map(|r| r.rule)
        .chain(RESOURCE_RULES.iter().map(|r| r.rule))
        .chain(stream::rules())
        .collect()
}

pub use crate::model::{ImageRef, parse_image};
