//! `palisade serve`: the admission webhook. Arguments are read here; everything else lives in
//! `palisade-admission`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use palisade_admission::{Limits, ServeConfig, Server, shutdown_signal};

use crate::registry::all_rules;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Policy file (`kind: Policy`); reloaded when it changes, a bad new one is rejected
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
    /// PEM certificate chain; reloaded when it changes
    #[arg(long, value_name = "FILE")]
    pub tls_cert: PathBuf,
    /// PEM private key
    #[arg(long, value_name = "FILE")]
    pub tls_key: PathBuf,
    /// HTTPS address for /validate, /mutate, /healthz, /readyz, /metrics
    #[arg(long, default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,
    /// Plain HTTP address for /metrics, /healthz and /readyz only
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// Namespace objects (`kubectl get namespaces -o yaml`) whose palisade.dev/* labels set levels
    #[arg(long, value_name = "FILE", conflicts_with = "namespaces_from_api")]
    pub namespaces: Option<PathBuf>,
    /// Read namespace labels from the API server (LIST + WATCH with the pod's service account;
    /// needs `list` and `watch` on namespaces)
    #[arg(long)]
    pub namespaces_from_api: bool,
    /// Answer within this many milliseconds (keep it below the webhook's timeoutSeconds)
    #[arg(long, value_name = "MS", default_value_t = 4000)]
    pub deadline_ms: u64,
    /// Evaluations at once; more wait up to --queue-wait-ms, then get HTTP 429
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_concurrent: usize,
    /// How long a request may wait for a slot before it is shed
    #[arg(long, value_name = "MS", default_value_t = 50)]
    pub queue_wait_ms: u64,
    /// HTTPS connections open at once; more are closed before the TLS handshake
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_connections: usize,
    /// Largest request body in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 20)]
    pub max_body_bytes: usize,
    /// How often the policy, certificate and namespace files are checked
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub reload_interval: u64,
    /// After SIGTERM: seconds to keep serving with /readyz failing, before draining
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub shutdown_delay: u64,
    /// Worker threads (default: one per core)
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

pub fn run(args: &ServeArgs) -> i32 {
    let mut config = ServeConfig::new(
        args.config.clone(),
        args.tls_cert.clone(),
        args.tls_key.clone(),
    );
    config.listen = args.listen;
    config.metrics_listen = args.metrics_listen;
    config.namespaces.clone_from(&args.namespaces);
    config.namespace_watch = args
        .namespaces_from_api
        .then(palisade_admission::server::NamespaceWatch::default);
    config.limits = Limits {
        max_body_bytes: args.max_body_bytes,
        deadline: Duration::from_millis(args.deadline_ms),
        max_concurrent: args.max_concurrent,
        queue_wait: Duration::from_millis(args.queue_wait_ms),
        ..Limits::default()
    };
    config.reload_interval = Duration::from_secs(args.reload_interval.max(1));
    config.shutdown_delay = Duration::from_secs(args.shutdown_delay);
    config.max_connections = args.max_connections;
    let runtime = match palisade_admission::server::runtime(args.threads) {
        Ok(rt) => rt,
        Err(e) => return super::fail(format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async {
        let log = Arc::new(palisade_admission::log::Stdout);
        match Server::bind(config, all_rules(), log).await {
            Ok(server) => {
                server.run(shutdown_signal()).await;
                0
            }
            Err(e) => super::fail(e),
        }
    })
}
