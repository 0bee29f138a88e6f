//! Registry helpers of palisade-sign's tests (also included by the admission and CLI tests):
//! a real `docker-registry` ([`Registry`], from `docker_registry.rs`) and pushing a tiny image
//! to it with palisade-sign's client.

#![allow(dead_code)]

use std::time::Duration;

use palisade_sign::registry::{Client, Reference};

#[path = "docker_registry.rs"]
mod docker_registry;
pub use docker_registry::Registry;

impl Registry {
    pub fn client(&self) -> Client {
        Client::new(Duration::from_secs(10))
    }

    /// Pushes a tiny OCI image (config + one layer) as `repo:tag`; returns its manifest digest.
    pub fn push_image(&self, client: &Client, repo: &str, tag: &str, content: &[u8]) -> String {
        push_image(client, &self.host, repo, tag, content)
    }
}

/// Pushes a tiny OCI image (config + one layer) as `repo:tag` to `host`; returns its digest.
pub fn push_image(client: &Client, host: &str, repo: &str, tag: &str, content: &[u8]) -> String {
    let r = Reference::parse(&format!("{host}/{repo}:{tag}")).unwrap();
    let layer = client
        .put_blob(&r.registry, &r.repository, content)
        .unwrap();
    let diff_id = layer.clone();
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/model-server"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    });
    let config_bytes = serde_json::to_vec(&config).unwrap();
    let config_digest = client
        .put_blob(&r.registry, &r.repository, &config_bytes)
        .unwrap();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config_bytes.len(), "digest": config_digest},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "size": content.len(), "digest": layer}],
    });
    let bytes = serde_json::to_vec(&manifest).unwrap();
    client
        .put_manifest(
            &r.registry,
            &r.repository,
            tag,
            &bytes,
            "application/vnd.oci.image.manifest.v1+json",
        )
        .unwrap()
}
