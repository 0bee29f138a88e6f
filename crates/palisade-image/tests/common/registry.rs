//! A real registry for tests: Debian's `docker-registry` (distribution 2.8) on a free
//! 127.0.0.1 port with a temporary storage directory, optionally with htpasswd (bcrypt)
//! basic auth. `None` (and one line on stderr) when the binary is not installed.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Registry {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn registry_binary() -> Option<&'static str> {
    match Command::new("docker-registry").arg("--version").output() {
        Ok(o) if o.status.success() => Some("docker-registry"),
        _ => {
            eprintln!(
                "skipping: docker-registry is not installed (apt-get install docker-registry)"
            );
            None
        }
    }
}

/// Starts a registry; `htpasswd` is (user, password) for basic auth.
pub fn start(htpasswd: Option<(&str, &str)>) -> Option<Registry> {
    let bin = registry_binary()?;
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
    if let Some((user, password)) = htpasswd {
        let hash = bcrypt::hash(password, 5).unwrap();
        let file = dir.path().join("htpasswd");
        std::fs::write(&file, format!("{user}:{hash}\n")).unwrap();
        config.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: palisade-test\n    path: {}\n",
            file.display()
        ));
    }
    let cfg = dir.path().join("config.yml");
    std::fs::write(&cfg, config).unwrap();
    let child = Command::new(bin)
        .arg("serve")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let reg = Registry {
        child,
        port,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "registry did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(reg)
}
