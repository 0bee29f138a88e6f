//! Known vulnerabilities from OSV data: version schemes, the on-disk database and matching.

pub mod cvss;
pub mod cvss4;
pub mod cyclonedx;
pub mod ecosystem;
pub mod findings;
pub mod import;
pub mod lockfile;
pub mod matcher;
pub mod osv;
mod record;
pub mod store;
pub mod update;
pub mod version;

pub use matcher::{Match, MatchReport, Package, match_packages};
pub use store::{Database, Meta, StoreError};
