//! Image references: tags, digests, registries, pull policies.

pub mod mutable_tag;
pub mod not_pinned_by_digest;
pub mod pull_policy;
pub mod registry_not_allowed;
