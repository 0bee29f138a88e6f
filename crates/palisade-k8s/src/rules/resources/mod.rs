//! Compute resources: requests, limits, ephemeral and memory-backed volumes.

pub mod cpu_limit;
pub mod emptydir_memory_size_limit;
pub mod emptydir_size_limit;
pub mod memory_limit;
pub mod requests;

use palisade_yaml::push_key;

use crate::model::Container;
use crate::rules::Violation;
use crate::rules::pod_fields::resources_pos;

/// A violation for a missing `resources.<which>.<resource>` of a container.
fn missing(c: &Container<'_>, which: &str, resource: &str, detail: String) -> Violation {
    Violation {
        detail,
        pointer: push_key(&push_key(&push_key(&c.ptr, "resources"), which), resource),
        pos: resources_pos(c, which),
        container: Some(c.name.to_string()),
    }
}

/// An `emptyDir` volume: its index, name, source node and where `emptyDir:` is written.
struct EmptyDir<'n, 'a> {
    index: usize,
    name: &'n str,
    source: &'n palisade_yaml::Node<'a>,
    key_pos: palisade_yaml::Pos,
}

/// The pod's `emptyDir` volumes without a `sizeLimit`.
fn unbounded_empty_dirs<'n, 'a>(spec: &'n crate::model::PodSpec<'a>) -> Vec<EmptyDir<'n, 'a>> {
    spec.volumes
        .iter()
        .filter_map(|v| {
            let entry = v.raw.get_entry("emptyDir")?;
            // `emptyDir: {}` and `emptyDir:` with only a medium are both unbounded.
            if entry.value.as_map().is_none() && !entry.value.is_null() {
                return None;
            }
            let size = entry
                .value
                .get("sizeLimit")
                .and_then(palisade_yaml::Node::as_str);
            if size.is_some_and(|s| !s.trim().is_empty()) {
                return None;
            }
            Some(EmptyDir {
                index: v.index,
                name: v.name,
                source: &entry.value,
                key_pos: entry.key_pos,
            })
        })
        .collect()
}

fn is_memory_medium(e: &EmptyDir<'_, '_>) -> bool {
    e.source.get("medium").and_then(palisade_yaml::Node::as_str) == Some("Memory")
}

fn size_limit_ptr(spec: &crate::model::PodSpec<'_>, index: usize) -> String {
    push_key(
        &push_key(
            &palisade_yaml::push_index(&push_key(&spec.ptr, "volumes"), index),
            "emptyDir",
        ),
        "sizeLimit",
    )
}
