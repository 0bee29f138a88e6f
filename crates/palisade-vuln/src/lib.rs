//! Known vulnerabilities from OSV data: version schemes, the on-disk database and matching.

pub mod version;
