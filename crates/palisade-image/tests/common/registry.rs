//! A real registry for tests: palisade-sign's `docker_registry` support module (Debian's
//! `docker-registry` on a free 127.0.0.1 port), with the htpasswd line hashed here. `None`
//! (and one line on stderr) when the binary is not installed.

#[path = "../../../palisade-sign/tests/support/docker_registry.rs"]
mod docker_registry;
pub use docker_registry::Registry;

/// Starts a registry; `htpasswd` is (user, password) for basic auth.
pub fn start(htpasswd: Option<(&str, &str)>) -> Option<Registry> {
    let line = htpasswd.map(|(user, password)| {
        // Cost 5, the lowest bcrypt allows: the hash is checked on every request.
        format!("{user}:{}", bcrypt::hash(password, 5).unwrap())
    });
    Registry::start_with_htpasswd(line.as_deref())
}
