//! A real registry for tests and benches: Debian's `docker-registry` (CNCF distribution 2.8)
//! on a free 127.0.0.1 port with a temporary storage directory (deletes allowed), optionally
//! behind htpasswd basic auth; stopped when dropped. `None`, after one line on stderr, when the
//! binary is not installed (`DOCKER_REGISTRY_BIN` names another one).
//!
//! The one copy of this code: palisade-sign's tests reach it through `support`, and the other
//! crates' tests and benches include this file with `#[path]`, so it needs nothing but
//! `tempfile`.

#![allow(dead_code)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Registry {
    child: Child,
    _dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`
    pub host: String,
    pub port: u16,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    /// Starts a registry without authentication.
    pub fn start() -> Option<Registry> {
        Self::start_with_htpasswd(None)
    }

    /// Starts a registry; `htpasswd` is a line of an htpasswd file (`user:$2y$…`, bcrypt, the
    /// only hash distribution accepts) that basic auth checks against.
    pub fn start_with_htpasswd(htpasswd: Option<&str>) -> Option<Registry> {
        let bin = std::env::var("DOCKER_REGISTRY_BIN").unwrap_or_else(|_| "docker-registry".into());
        if !Command::new(&bin)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            eprintln!("skipping: `{bin}` not installed (apt-get install docker-registry)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        if let Some(line) = htpasswd {
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, format!("{line}\n")).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: palisade-test\n    path: {}\n",
                file.display()
            ));
        }
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
            port,
        };
        // A loaded CI machine can take seconds to start it.
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not start on {}",
                reg.host
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(reg)
    }
}
