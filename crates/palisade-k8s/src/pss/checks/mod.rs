//! One file per upstream check ID.

mod privileged;
mod run_as_non_root;

use super::PssCheck;

/// Every check, in upstream's ID order within each level.
pub static ALL: &[&PssCheck] = &[&privileged::CHECK, &run_as_non_root::CHECK];
