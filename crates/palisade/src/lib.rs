//! The `palisade` command: argument parsing and wiring. Rule logic lives in the feature
//! crates (`palisade-k8s`, …); this crate finds inputs, runs them in parallel, applies the
//! policy and hands the result to `palisade-report`.

pub mod cli;
mod commands;
pub mod corpus;
pub mod helm;
pub mod inputs;
pub mod registry;

pub use commands::scan::execute as execute_scan;
