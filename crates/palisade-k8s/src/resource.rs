//! A Kubernetes object inside a parsed document: its identity and where it sits.

use palisade_policy::ObjectRef;
use palisade_yaml::{Node, push_index};

use crate::model::{DecodeError, Decoder, Key, PodMeta};

/// One object of a document (`kind: List` documents hold several).
#[derive(Debug)]
pub struct Resource<'a> {
    pub node: &'a Node<'a>,
    /// JSON pointer of the object inside its document (`""`, or `/items/3` in a List).
    pub ptr: String,
    pub api_version: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub namespace: Option<&'a str>,
    pub meta: PodMeta<'a>,
}

impl Resource<'_> {
    /// API group: `apps` for `apps/v1`, empty for the core group (`v1`).
    #[must_use]
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    #[must_use]
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version.to_string(),
            kind: self.kind.to_string(),
            namespace: self.namespace.map(str::to_string),
            name: self.name.to_string(),
        }
    }
}

fn shape_error(node: &Node<'_>, ptr: &str, message: String) -> DecodeError {
    DecodeError {
        pos: node.pos,
        pointer: ptr.to_string(),
        message,
    }
}

/// Finds the objects in a document, flattening `kind: List` (and `*List`) items.
pub fn resources_in_document<'a>(root: &'a Node<'a>) -> (Vec<Resource<'a>>, Vec<DecodeError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    collect(root, String::new(), &mut out, &mut errors, 0);
    (out, errors)
}

fn collect<'a>(
    node: &'a Node<'a>,
    ptr: String,
    out: &mut Vec<Resource<'a>>,
    errors: &mut Vec<DecodeError>,
    depth: usize,
) {
    if node.as_map().is_none() {
        errors.push(shape_error(
            node,
            &ptr,
            format!(
                "expected a Kubernetes object (a mapping with apiVersion and kind), found {}",
                node.type_name()
            ),
        ));
        return;
    }
    let mut decoder = Decoder::default();
    let api_version = decoder.str(node.get("apiVersion"), &Key(&ptr, "apiVersion"));
    let kind = decoder.str(node.get("kind"), &Key(&ptr, "kind"));
    errors.append(&mut decoder.errors);
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        let missing = match (node.get("apiVersion"), node.get("kind")) {
            (None, None) => "apiVersion and kind",
            (None, _) => "apiVersion",
            _ => "kind",
        };
        if !errors
            .iter()
            .any(|e| e.pointer.starts_with(&ptr) && !ptr.is_empty())
        {
            errors.push(shape_error(
                node,
                &ptr,
                format!("expected a Kubernetes object: missing {missing}"),
            ));
        }
        return;
    };
    if !valid_api_version(api_version.value) {
        errors.push(DecodeError {
            pos: api_version.pos,
            pointer: format!("{ptr}/apiVersion"),
            message: format!(
                "apiVersion: expected `version` or `group/version` (such as `apps/v1`), found {:?}",
                api_version.value
            ),
        });
        return;
    }
    if kind.value.ends_with("List") && node.get("items").is_some() && depth == 0 {
        let items_ptr = format!("{ptr}/items");
        let items = decoder.seq(node.get("items"), &items_ptr);
        errors.append(&mut decoder.errors);
        for (i, item) in items.iter().enumerate() {
            collect(item, push_index(&items_ptr, i), out, errors, depth + 1);
        }
        return;
    }
    let meta_ptr = format!("{ptr}/metadata");
    let meta_node = node.get("metadata");
    let meta = PodMeta::decode(meta_node, meta_ptr.clone(), &mut decoder);
    let meta_map = meta_node.filter(|m| m.as_map().is_some());
    let name = meta_map
        .and_then(|m| decoder.str(m.get("name"), &Key(&meta_ptr, "name")))
        .or_else(|| {
            meta_map
                .and_then(|m| decoder.str(m.get("generateName"), &Key(&meta_ptr, "generateName")))
        })
        .map_or("", |s| s.value);
    let namespace = meta_map
        .and_then(|m| decoder.str(m.get("namespace"), &Key(&meta_ptr, "namespace")))
        .map(|s| s.value);
    errors.append(&mut decoder.errors);
    out.push(Resource {
        node,
        ptr,
        api_version: api_version.value,
        kind: kind.value,
        name,
        namespace,
        meta,
    });
}

/// `v1`, `apps/v1`, `serving.kserve.io/v1beta1`: a DNS-ish group and a version.
fn valid_api_version(s: &str) -> bool {
    let (group, version) = s.rsplit_once('/').unwrap_or(("", s));
    let version_ok = version.starts_with('v')
        && version.len() > 1
        && version
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let group_ok = group
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    version_ok && group_ok && !s.starts_with('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions() {
        for ok in [
            "v1",
            "apps/v1",
            "serving.kserve.io/v1beta1",
            "ray.io/v1alpha1",
        ] {
            assert!(valid_api_version(ok), "{ok}");
        }
        for bad in ["", "1", "apps/", "/v1", "Apps/v1", "apps/v1/x"] {
            assert!(!valid_api_version(bad), "{bad}");
        }
    }
}
