//! The Palisade admission webhook (`palisade serve`): AdmissionReview `admission.k8s.io/v1`
//! over HTTPS, deciding with the same scanner, policy (`apply_policy`) and fixes as
//! `palisade scan` and `palisade harden`, so a manifest gets one verdict at every gate.
//!
//! Layout by concern, after kubewarden's policy-server: [`review`] is the wire format,
//! [`engine`] the decision (no IO), [`verify_images`] image signatures and digest pins (the
//! one part that asks the network: registries, and the API server for keys in Secrets),
//! [`api`] the handlers and [`router`], [`server`] TLS, reload and shutdown, [`metrics`] and
//! [`log`] what operators see. [`scanned_images`] gives `palisade scan image` the same
//! signature verdicts.

pub mod api;
pub mod certs;
pub mod engine;
pub mod log;
pub mod metrics;
pub mod namespace_watch;
pub mod namespaces;
pub mod review;
pub mod scanned_images;
pub mod server;
pub mod tls;
pub mod verify_images;

pub use api::{AppState, Limits, router};
pub use engine::{Decision, Engine, Webhook};
pub use namespaces::{NamespaceSource, StaticNamespaces};
pub use server::{ServeConfig, ServeError, Server, shutdown_signal};

/// The rules this crate can evaluate (`palisade-k8s`'s, and PAL104). The binary passes its
/// full registry instead, so a policy naming any known rule loads here as it does in `scan`.
#[must_use]
pub fn k8s_rules() -> Vec<&'static palisade_policy::RuleMeta> {
    let mut rules = palisade_k8s::rules();
    rules.extend(self::rules());
    rules
}

/// The rules that ask a registry (the webhook, and `scan image`): PAL104 `image-signature`.
#[must_use]
pub fn rules() -> Vec<&'static palisade_policy::RuleMeta> {
    vec![&verify_images::RULE]
}
