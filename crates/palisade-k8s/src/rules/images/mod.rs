//! Image references: tags, digests, registries, pull policies.

pub mod mutable_tag;
