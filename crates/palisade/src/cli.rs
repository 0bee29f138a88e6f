//! Command-line interface.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;

#[derive(Debug, Parser)]
#[command(
    name = "palisade",
    version,
    about = "Security for AI/ML workloads on Kubernetes",
    long_about = "Palisade scans Kubernetes manifests (exact Pod Security Standards for every \
                  Kubernetes version, pod templates in every workload kind and ML custom resource) \
                  with one policy shared by every gate."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan manifests, Dockerfiles, model files and lock files (files, directories, or `-` for
    /// stdin), or container images (`scan image REF…`)
    Scan(ScanArgs),
    /// Apply the fixes of a scan: hardened YAML, a diff, in-place rewrite or patches
    Harden(HardenArgs),
    /// List every rule
    Rules(RulesArgs),
    /// Run the admission webhook (AdmissionReview over HTTPS)
    Serve(crate::commands::serve::ServeArgs),
    /// Certificates for the webhook without cert-manager
    #[command(subcommand)]
    Certs(commands::certs::CertsCommand),
    /// Manage cosign-compatible signing keys
    #[command(subcommand)]
    Keys(commands::sign::KeysCommand),
    /// Sign blobs, model directories (OpenSSF model signing) and images (cosign format)
    #[command(subcommand)]
    Sign(commands::sign::SignCommand),
    /// Verify signatures of blobs, model directories and images
    #[command(subcommand)]
    Verify(commands::sign::VerifyCommand),
    /// Local vulnerability database: import, update, info, and check lock files against it
    Db(commands::db::DbArgs),
    /// Write an SBOM of an image: CycloneDX 1.6 or SPDX 2.3 JSON
    Sbom(commands::image::SbomArgs),
    /// Print a rule's documentation
    Explain {
        /// Rule code (PAL017) or name (run-as-non-root)
        rule: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads a stream from stdin (`helm template … | palisade
    /// scan -`); `image REF…` scans container images (`oci:DIR:TAG`, `docker-archive:FILE`,
    /// `dir:ROOT`, `registry/repo:tag`)
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, short = 'f', default_value = "table", value_parser = clap::builder::PossibleValuesParser::new(palisade_report::Format::NAMES))]
    pub format: String,
    /// Write the report to FILE instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// When to colour the table output
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub image: ImageScanArgs,
    #[command(flatten)]
    pub vuln: VulnArgs,
    #[command(flatten)]
    pub severity: SeverityFilter,
    /// Values file for the Helm charts met in the scan (`helm template -f FILE`; repeatable,
    /// later files win), instead of their default values
    #[arg(long, value_name = "FILE")]
    pub helm_values: Vec<PathBuf>,
}

/// `--severity`, Trivy's flag: which severities the report shows.
#[derive(Debug, Args, Clone, Default)]
pub struct SeverityFilter {
    /// Report only findings of these severities (comma-separated: info, low, medium, high,
    /// critical); the others count as suppressed and do not fail the scan
    #[arg(long, value_name = "SEVERITIES", value_delimiter = ',')]
    pub severity: Vec<String>,
}

impl SeverityFilter {
    /// Applies the filter to a finished report; an unknown name is a usage error.
    pub fn apply(&self, report: &mut palisade_report::ScanReport) -> Result<(), String> {
        let keep = self
            .severity
            .iter()
            .map(|s| s.trim().parse::<palisade_policy::Severity>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("--severity: {e}"))?;
        report.keep_severities(&keep);
        Ok(())
    }
}

/// Options of `palisade scan image REF…` (refused by manifest scans where they would be ignored).
#[derive(Debug, Args, Clone, Default)]
pub struct ImageScanArgs {
    /// Platform of a multi-platform image, OS/ARCH[/VARIANT] (default: the host's)
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// No progress bar on stderr (it is only drawn on a terminal anyway)
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Require a signature by one of these keys on every registry image (cosign
    /// classic or Sigstore-bundle format, over the scanned digest); a PEM file or
    /// `k8s://namespace/secret[/key]`. The policy's `verifyImages` rules apply as well.
    #[arg(long, value_name = "KEY")]
    pub verify_key: Vec<String>,
    /// Apply `verifyImages` rules restricted to namespaces as for a pod in NS
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
}

/// Vulnerability options of `scan`.
#[derive(Debug, Args, Clone, Default)]
pub struct VulnArgs {
    /// Vulnerability database for image packages and lock files (default: the user's cache
    /// dir, `~/.cache/palisade/vuln.db`; build it with `palisade db update` or `db import`)
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Drop vulnerabilities that have no fixed version yet
    #[arg(long)]
    pub ignore_unfixed: bool,
    /// Vulnerability ignore file: statements with an id, a justification and an optional expiry
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
}

/// How findings are decided: shared by `scan` and `harden` so both read the same policy.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Policy file (`kind: Policy`)
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Pod Security Standards level: privileged, baseline or restricted
    #[arg(long, value_name = "LEVEL")]
    pub standard: Option<String>,
    /// Kubernetes version whose Pod Security Standards apply: `latest` or v1.0 … v1.37
    #[arg(long, value_name = "VERSION")]
    pub kubernetes_version: Option<String>,
    /// Lowest severity that fails the scan (exit 1): info, low, medium, high, critical
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
    /// Run only these rules: codes, code prefixes, names or families (`pss`), comma-separated
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rules: codes, code prefixes, names or families, comma-separated
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    pub ignore: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PatchFormat {
    /// RFC 6902 JSON Patch per document, as JSON
    JsonPatch,
    /// A kustomization.yaml with one JSON 6902 patch per object
    Kustomize,
}

#[derive(Debug, Args)]
pub struct HardenArgs {
    /// Files or directories to harden; `-` reads a stream from stdin
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Rewrite the files in place (atomically; documents without fixes stay byte-for-byte)
    #[arg(long, conflicts_with_all = ["diff", "patch_format"])]
    pub write: bool,
    /// Print a unified diff instead of the hardened YAML
    #[arg(long, conflicts_with = "patch_format")]
    pub diff: bool,
    /// Print the fixes as patches instead of the hardened YAML
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub patch_format: Option<PatchFormat>,
    /// UID for pods that would otherwise run as root
    #[arg(long, value_name = "UID", default_value_t = 65532)]
    pub run_as_user: i64,
    /// Seccomp profile to set: `RuntimeDefault` or `Localhost:<path>`
    #[arg(long, value_name = "PROFILE", default_value = "RuntimeDefault")]
    pub seccomp: String,
    /// Size limit of the emptyDir volumes given to the cache directories a container writes
    /// (`HF_HOME`, …) once its root filesystem is read-only
    #[arg(long, value_name = "QUANTITY", default_value = "20Gi")]
    pub cache_size_limit: String,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// `table` or `json`
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
}

/// Whether to colour output written to stdout. `NO_COLOR` turns colour off when it is set
/// to a non-empty value (<https://no-color.org>: an empty one is as if unset).
#[must_use]
pub fn use_color(choice: ColorChoice, to_file: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !to_file
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// Parses arguments, runs the command and maps the outcome to the documented exit codes.
#[must_use]
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let code = match cli.command {
        Command::Scan(args) => commands::scan::run(&args),
        Command::Harden(args) => commands::harden::run(&args),
        Command::Rules(args) => commands::rules::run(&args),
        Command::Serve(args) => commands::serve::run(&args),
        Command::Certs(cmd) => commands::certs::run(&cmd),
        Command::Explain { rule } => commands::explain::run(&rule),
        Command::Sbom(args) => commands::image::run_sbom(&args),
        Command::Db(args) => commands::db::run(&args),
        Command::Keys(cmd) => commands::sign::run_keys(&cmd),
        Command::Sign(cmd) => commands::sign::run_sign(&cmd),
        Command::Verify(cmd) => commands::sign::run_verify(&cmd),
    };
    let _ = std::io::stdout().flush();
    ExitCode::from(u8::try_from(code).unwrap_or(2))
}
