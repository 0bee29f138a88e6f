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
    /// Scan manifests (files, directories, or `-` for stdin)
    Scan(ScanArgs),
    /// List every rule
    Rules(RulesArgs),
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
    /// Files or directories to scan; `-` reads a stream from stdin (`helm template … | palisade scan -`)
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, short = 'f', default_value = "table", value_parser = clap::builder::PossibleValuesParser::new(palisade_report::Format::NAMES))]
    pub format: String,
    /// Write the report to FILE instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
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
    /// When to colour the table output
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// `table` or `json`
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
}

/// Whether to colour output written to stdout.
#[must_use]
pub fn use_color(choice: ColorChoice, to_file: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !to_file && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
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
        Command::Rules(args) => commands::rules::run(&args),
        Command::Explain { rule } => commands::explain::run(&rule),
    };
    let _ = std::io::stdout().flush();
    ExitCode::from(u8::try_from(code).unwrap_or(2))
}
