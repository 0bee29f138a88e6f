//! Rules that need the whole scan at once (every file of a `palisade scan` run, or every
//! object of an admission batch): a Service exposing a model server defined in another
//! file, namespaces without a default-deny NetworkPolicy, workloads no policy selects.
//!
//! Each file contributes an [`Inventory`] while it is scanned (in parallel); the inventories
//! are merged and [`check`] runs once at the end.

use palisade_policy::Finding;

use crate::resource::Resource;
use crate::scan::ScanOptions;

/// What one file contributes to whole-scan rules.
#[derive(Debug, Default)]
pub struct Inventory {}

/// Records what whole-scan rules need from one object.
pub fn record(
    _res: &Resource<'_>,
    _file: &std::sync::Arc<str>,
    _doc_index: usize,
    _inventory: &mut Inventory,
) {
}

/// Runs the whole-scan rules over every file's inventory.
#[must_use]
pub fn check(_inventories: &[&Inventory], _opts: &ScanOptions) -> Vec<Finding> {
    Vec::new()
}
