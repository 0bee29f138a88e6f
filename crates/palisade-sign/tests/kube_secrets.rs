//! Keys in Kubernetes Secrets (`k8s://namespace/name[/key]`), read from a stand-in API server
//! over TLS in the documented wire format (see `support/fake_apiserver.rs`).

#[path = "support/fake_apiserver.rs"]
mod fake_apiserver;

use std::time::Duration;

use fake_apiserver::FakeApiServer;
use palisade_sign::SigningKey;
use palisade_sign::kube::{KubeClient, SecretRef};

const T: Duration = Duration::from_secs(10);

fn client(api: &FakeApiServer) -> KubeClient {
    KubeClient::new(&api.url, &api.token, api.ca_pem.as_bytes(), T).unwrap()
}

#[test]
fn public_and_private_keys_from_a_cosign_secret() {
    let api = FakeApiServer::start();
    let key = SigningKey::generate().unwrap();
    let pub_pem = key.public_key().to_pem().unwrap();
    // What `cosign generate-key-pair k8s://palisade-system/cosign-keys` writes.
    let encrypted = key.to_encrypted_pem(b"s3cret", 10).unwrap();
    api.put_secret(
        "palisade-system",
        "cosign-keys",
        &[
            ("cosign.pub", pub_pem.as_bytes()),
            ("cosign.key", encrypted.as_bytes()),
            ("cosign.password", b"s3cret"),
        ],
    );
    api.put_secret("ml", "release", &[("release.pub", pub_pem.as_bytes())]);
    let c = client(&api);

    let msg = b"model weights";
    let sig = key.sign(msg).unwrap();
    // Default data key `cosign.pub`.
    let k = c
        .public_key(&SecretRef::parse("k8s://palisade-system/cosign-keys").unwrap())
        .unwrap();
    k.verify(msg, &sig).unwrap();
    // A named data key.
    let k = c
        .public_key(&SecretRef::parse("k8s://ml/release/release.pub").unwrap())
        .unwrap();
    k.verify(msg, &sig).unwrap();
    // The private key, decrypted with the password stored beside it; the fallback is not asked.
    let sk = c
        .signing_key(
            &SecretRef::parse("k8s://palisade-system/cosign-keys").unwrap(),
            || panic!("the stored cosign.password must be used"),
        )
        .unwrap();
    key.public_key()
        .verify(msg, &sk.sign(msg).unwrap())
        .unwrap();
    assert_eq!(api.requests(), 3);
}

#[test]
fn errors_say_what_to_fix() {
    let api = FakeApiServer::start();
    api.put_secret("ns", "other", &[("tls.crt", b"x")]);
    api.put_secret("ns", "locked", &[("cosign.pub", b"x")]);
    api.forbid("ns", "locked");
    let c = client(&api);
    let err = |url: &str| {
        c.public_key(&SecretRef::parse(url).unwrap())
            .unwrap_err()
            .to_string()
    };
    let e = err("k8s://ns/missing");
    assert!(
        e.contains("HTTP 404 (no such secret)") && e.contains("secrets \"missing\" not found"),
        "{e}"
    );
    let e = err("k8s://ns/locked");
    assert!(
        e.contains("HTTP 403 (RBAC: the service account needs `get` on this secret)"),
        "{e}"
    );
    assert!(e.contains("cannot get resource \"secrets\""), "{e}");
    let e = err("k8s://ns/other");
    assert!(
        e.contains("expected a data key `cosign.pub`, found tls.crt"),
        "{e}"
    );

    // A token the API server does not accept.
    let bad = KubeClient::new(&api.url, "wrong", api.ca_pem.as_bytes(), T).unwrap();
    let e = bad
        .public_key(&SecretRef::parse("k8s://ns/other").unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("HTTP 401"), "{e}");

    // A server whose certificate the configured CA did not sign is refused.
    let other = FakeApiServer::start();
    let wrong_ca = KubeClient::new(&api.url, &api.token, other.ca_pem.as_bytes(), T).unwrap();
    let before = api.requests();
    assert!(wrong_ca.secret("ns", "other").is_err());
    assert_eq!(
        api.requests(),
        before,
        "no request may reach an unverified server"
    );
}

#[test]
fn in_cluster_configuration_rereads_the_rotated_token() {
    let api = FakeApiServer::start();
    let key = SigningKey::generate().unwrap();
    api.put_secret(
        "palisade-system",
        "cosign-keys",
        &[("cosign.pub", key.public_key().to_pem().unwrap().as_bytes())],
    );
    let dir = api.service_account_dir();
    let c =
        KubeClient::from_service_account(&api.host, &api.port.to_string(), dir.path(), T).unwrap();
    let r = SecretRef::parse("k8s://palisade-system/cosign-keys").unwrap();
    assert_eq!(
        c.public_key(&r).unwrap().to_pem().unwrap(),
        key.public_key().to_pem().unwrap()
    );
    // The kubelet rewrites the token file in place; the next request must send the new token
    // (here one the server rejects, which proves the file was read again).
    std::fs::write(dir.path().join("token"), "rotated-token").unwrap();
    assert!(
        c.public_key(&r)
            .unwrap_err()
            .to_string()
            .contains("HTTP 401")
    );

    // A missing CA is reported with its path.
    let empty = tempfile::tempdir().unwrap();
    let e = KubeClient::from_service_account("127.0.0.1", "443", empty.path(), T).unwrap_err();
    assert!(e.to_string().contains("ca.crt"), "{e}");
}
