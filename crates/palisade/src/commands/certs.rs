//! `palisade certs generate`: arguments and output; the certificates are made by
//! `palisade_admission::certs`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use palisade_admission::certs::{
    CertRequest, ExistingCa, ca_bundle, generate_with, patch_webhooks, write_files,
};

#[derive(Debug, Subcommand)]
pub enum CertsCommand {
    /// Create a CA and a serving certificate for the webhook Service: PEM files, a
    /// kubernetes.io/tls Secret manifest, and the caBundle (printed alone on stdout)
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The webhook's Service
    #[arg(long, default_value = "palisade")]
    pub service: String,
    /// The Service's namespace
    #[arg(long, short = 'n', default_value = "palisade-system")]
    pub namespace: String,
    /// Name of the kubernetes.io/tls Secret in secret.yaml
    #[arg(long, default_value = "palisade-tls")]
    pub secret_name: String,
    /// Validity of the serving certificate, in days
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// Validity of the CA, in days
    #[arg(long, default_value_t = 3650)]
    pub ca_days: u32,
    /// Directory for ca.crt, ca.key, tls.crt, tls.key (keys 0600) and secret.yaml
    #[arg(
        long,
        short = 'o',
        value_name = "DIR",
        default_value = "palisade-certs"
    )]
    pub out_dir: PathBuf,
    /// Replace files that already exist in --out-dir
    #[arg(long)]
    pub force: bool,
    /// Sign with this CA certificate (PEM) instead of a new CA, so caBundle stays as it is
    #[arg(long, value_name = "FILE", requires = "ca_key")]
    pub ca_cert: Option<PathBuf>,
    /// The private key of --ca-cert (PEM); it is not copied to --out-dir
    #[arg(long, value_name = "FILE", requires = "ca_cert")]
    pub ca_key: Option<PathBuf>,
    /// Set caBundle in every webhook of the Validating/MutatingWebhookConfigurations of this
    /// manifest (e.g. deploy/manifests/palisade.yaml), rewriting it in place
    #[arg(long, value_name = "FILE")]
    pub patch_webhooks: Option<PathBuf>,
}

pub fn run(cmd: &CertsCommand) -> i32 {
    let CertsCommand::Generate(args) = cmd;
    let req = CertRequest {
        service: args.service.clone(),
        namespace: args.namespace.clone(),
        secret_name: args.secret_name.clone(),
        days: args.days,
        ca_days: args.ca_days,
    };
    // Read the manifest first: a typo in its path must not leave new keys behind.
    let manifest = match &args.patch_webhooks {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(src) => Some((path, src)),
            Err(e) => return super::fail(format!("{}: {e}", path.display())),
        },
        None => None,
    };
    let existing = match (&args.ca_cert, &args.ca_key) {
        (Some(cert), Some(key)) => {
            let read = |p: &PathBuf| {
                std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
            };
            match (read(cert), read(key)) {
                (Ok(c), Ok(k)) => Some((c, k)),
                (Err(e), _) | (_, Err(e)) => return super::fail(e),
            }
        }
        _ => None,
    };
    let ca = existing
        .as_ref()
        .map(|(cert_pem, key_pem)| ExistingCa { cert_pem, key_pem });
    let generated = match generate_with(&req, ca) {
        Ok(g) => g,
        Err(e) => return super::fail(e),
    };
    let bundle = ca_bundle(&generated);
    let patched = match &manifest {
        Some((path, src)) => match patch_webhooks(src, &bundle) {
            Ok(p) => Some((path, p)),
            Err(e) => return super::fail(format!("{}: {e}", path.display())),
        },
        None => None,
    };
    let written = match write_files(&args.out_dir, &req, &generated, args.force) {
        Ok(w) => w,
        Err(e) => return super::fail(e),
    };
    for path in &written {
        eprintln!("wrote {}", path.display());
    }
    if let Some((path, (text, count))) = patched {
        if let Err(e) = super::scan::write_atomically(path, text.as_bytes()) {
            return super::fail(format!("{}: {e}", path.display()));
        }
        eprintln!("set caBundle in {count} webhook(s) of {}", path.display());
    }
    let secret = args.out_dir.join("secret.yaml");
    eprintln!(
        "certificate for {}.{}.svc, valid {} days ({})\n\
         next: kubectl apply -f {}\n\
         \x20     helm install … --set certManager.enabled=false --set tls.secretName={} --set tls.caBundle=<the line on stdout>",
        req.service,
        req.namespace,
        req.days,
        match &args.ca_cert {
            Some(ca) => format!("signed by {}; caBundle unchanged", ca.display()),
            None => format!("new CA, {} days", req.ca_days),
        },
        secret.display(),
        req.secret_name,
    );
    super::print_or_fail(&format!("{bundle}\n"), 0)
}
