//! Container fields the typed model does not carry (env, resources, volume mounts), read from
//! the raw tree with their pointers and positions. Shared by the workload rule families.

use palisade_yaml::{Node, Pos, push_index, push_key};

use crate::model::{Container, ContainerKind};

/// One `env` entry of a container.
#[derive(Clone, Copy, Debug)]
pub struct EnvVar<'n, 'a> {
    pub index: usize,
    pub name: &'n str,
    /// Where the entry starts (its `- name:` line).
    pub pos: Pos,
    /// The literal `value`, when the entry has one.
    pub value: Option<&'n Node<'a>>,
    /// Whether the entry reads its value from elsewhere (`valueFrom`).
    pub value_from: bool,
}

/// The container's `env` entries that are mappings with a string `name` (decoded once per
/// container by the model).
pub fn env<'n, 'a>(c: &'n Container<'a>) -> impl Iterator<Item = EnvVar<'n, 'a>> + 'n {
    c.env.iter().map(|e| EnvVar {
        index: e.index,
        name: e.name,
        pos: e.pos,
        value: e.value,
        value_from: e.value_from,
    })
}

/// Pointer of an env entry's field (`/…/env/3/value`).
#[must_use]
pub fn env_ptr(c: &Container<'_>, var: &EnvVar<'_, '_>, field: &str) -> String {
    push_key(&push_index(&push_key(&c.ptr, "env"), var.index), field)
}

/// `resources.limits` or `resources.requests` of a container, when it is a mapping.
#[must_use]
pub fn resource_map<'n, 'a>(c: &'n Container<'a>, which: &str) -> Option<&'n Node<'a>> {
    c.raw
        .get("resources")
        .and_then(|r| r.get(which))
        .filter(|m| m.as_map().is_some())
}

/// A resource quantity as written (`2`, `"2Gi"`), when present and not null.
#[must_use]
pub fn quantity<'n>(c: &'n Container<'_>, which: &str, resource: &str) -> Option<&'n str> {
    resource_map(c, which)?
        .get(resource)?
        .as_str()
        .filter(|q| !q.trim().is_empty())
}

/// Where a finding about a missing `resources.<which>.<resource>` points: the deepest key
/// that is written (`limits:`, else `resources:`, else the container).
#[must_use]
pub fn resources_pos(c: &Container<'_>, which: &str) -> Pos {
    let Some(res) = c.raw.get_entry("resources") else {
        return c.pos;
    };
    res.value
        .get_entry(which)
        .map_or(res.key_pos, |e| e.key_pos)
}

/// `mountPath` of each `volumeMounts` entry naming `volume`, with the entry's position.
#[must_use]
pub fn mounts_of<'n>(c: &'n Container<'_>, volume: &str) -> Vec<(&'n str, Pos)> {
    c.raw
        .get("volumeMounts")
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter(|m| m.get("name").and_then(Node::as_str) == Some(volume))
        .filter_map(|m| Some((m.get("mountPath").and_then(Node::as_str)?, m.pos)))
        .collect()
}

/// Init and regular containers: the ones that run with the pod's resources and whose fields
/// the workload owner controls (ephemeral debug containers cannot set resources or probes).
pub fn runnable<'s, 'a>(
    containers: &'s [Container<'a>],
) -> impl Iterator<Item = &'s Container<'a>> + 's {
    containers
        .iter()
        .filter(|c| c.kind != ContainerKind::Ephemeral)
}
