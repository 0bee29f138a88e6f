//! A real `docker-registry` (Debian's package, CNCF distribution) on a free 127.0.0.1 port with a
//! temporary storage directory; stopped when dropped.

#![allow(dead_code)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use palisade_sign::registry::{Client, Reference};

pub struct Registry {
    child: Child,
    _dir: tempfile::TempDir,
    pub host: String,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    /// Starts a registry, or returns `None` (after a one-line notice) when `docker-registry` is absent.
    pub fn start() -> Option<Registry> {
        let bin = std::env::var("DOCKER_REGISTRY_BIN").unwrap_or_else(|_| "docker-registry".into());
        if Command::new(&bin)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_err()
        {
            eprintln!(
                "skipping: `docker-registry` not installed (apt-get install docker-registry)"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, config).unwrap();
        let child = Command::new(&bin)
            .arg("serve")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let reg = Registry {
            child,
            _dir: dir,
            host: format!("127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(reg);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("docker-registry did not start on {}", reg.host);
    }

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
