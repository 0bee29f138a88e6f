//! `palisade scan image REF…` and `palisade sbom REF|PATH`: container images through
//! `palisade-image`, reported like every other scan.

use std::path::PathBuf;

use clap::Args;
use palisade_admission::scanned_images::{ScannedImage, check_scanned_images};
use palisade_admission::verify_images::ImageGate;
use palisade_policy::{
    Date, FailurePolicy, InputError, KeySource, KeySpec, Policy, VerifyImagesRule, apply_policy,
};
use palisade_report::ScanReport;
use palisade_sign::kube::SecretRef;

use crate::cli::ScanArgs;
use crate::registry::all_rules;

use super::scan::{resolve_options, write_atomically};

/// Whether `palisade scan` was asked to scan images: `palisade scan image REF…`.
#[must_use]
pub fn is_image_scan(args: &ScanArgs) -> bool {
    args.paths.len() >= 2 && args.paths[0].as_os_str() == "image"
}

/// A reference as typed, with two conveniences: an existing directory without a transport
/// is `dir:PATH` (or `oci:PATH` when it holds an `oci-layout`), an existing `.tar` file is
/// `docker-archive:PATH`.
#[must_use]
pub fn normalize_reference(r: &str) -> String {
    let has_transport = ["oci:", "docker-archive:", "dir:", "docker://"]
        .iter()
        .any(|t| r.starts_with(t));
    if has_transport {
        return r.to_string();
    }
    let p = std::path::Path::new(r);
    if p.is_dir() {
        if p.join("oci-layout").is_file() {
            return format!("oci:{r}");
        }
        return format!("dir:{r}");
    }
    if p.is_file() && r.ends_with(".tar") {
        return format!("docker-archive:{r}");
    }
    r.to_string()
}

fn image_options(platform: Option<&str>) -> Result<palisade_image::ScanOptions, String> {
    let mut opts = palisade_image::ScanOptions::default();
    if let Some(p) = platform {
        opts.open.platform =
            Some(palisade_image::Platform::parse(p).map_err(|e| format!("--platform: {e}"))?);
    }
    Ok(opts)
}

/// A progress bar on stderr for reading layers, drawn only when stderr is a terminal and
/// `--quiet` was not given.
struct LayerBar(indicatif::ProgressBar);

impl palisade_image::Progress for LayerBar {
    fn start(&self, reference: &str, total: u64, layers: usize) {
        // Drawn from here on: nothing to show before the size is known.
        self.0
            .set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(10));
        self.0.set_length(total);
        self.0.set_position(0);
        self.0.set_message(format!("{reference} ({layers} layers)"));
        self.0.reset_eta();
    }

    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

fn with_progress(
    mut opts: palisade_image::ScanOptions,
    quiet: bool,
) -> palisade_image::ScanOptions {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return opts;
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::hidden());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "[{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {wide_msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    opts.progress = palisade_image::ProgressHook(Some(std::sync::Arc::new(LayerBar(bar))));
    opts
}

fn summary(s: &palisade_image::ImageScan) -> String {
    let os = s
        .inventory
        .os
        .as_ref()
        .map(|o| format!("{} {}", o.id, o.version_id))
        .unwrap_or_else(|| "unknown OS".into());
    format!(
        "{}: {} layer(s), {:.1} MiB, {} files, {} packages, {os}",
        s.reference,
        s.layers.len(),
        s.bytes_read() as f64 / (1024.0 * 1024.0),
        s.view.len(),
        s.inventory.packages.len()
    )
}

/// The signature requirements of a scan: the policy's `verifyImages` rules, and the
/// `--verify-key` keys as one more rule covering every image (`true`: it covers all). Keys are
/// read now, so a wrong path fails the scan before any image is pulled.
fn signature_gates(policy: &Policy, keys: &[String]) -> Result<Vec<(ImageGate, bool)>, String> {
    let mut gates = Vec::new();
    if !policy.verify_images.is_empty() {
        let gate = ImageGate::from_policy(policy)
            .map_err(|e| format!("policy {:?}: {}", policy.name, e.join("; ")))?;
        gates.extend(gate.map(|g| (g, false)));
    }
    if keys.is_empty() {
        return Ok(gates);
    }
    let mut specs = Vec::new();
    for k in keys {
        let source = if SecretRef::is_secret_url(k) {
            KeySource::Secret(k.clone())
        } else {
            palisade_sign::PublicKey::from_file(std::path::Path::new(k))
                .map_err(|e| format!("--verify-key {k}: {e}"))?;
            KeySource::Path(k.clone())
        };
        specs.push(KeySpec {
            source,
            name: Some(k.clone()),
            pos: palisade_yaml::Pos::default(),
        });
    }
    let cli = Policy {
        verify_images: vec![VerifyImagesRule {
            images: vec!["*".into()],
            namespaces: Vec::new(),
            keys: specs,
            required: true,
            mutate_digest: false,
            failure_policy: Some(FailurePolicy::Fail),
            pos: palisade_yaml::Pos::default(),
        }],
        image_verification: policy.image_verification.clone(),
        ..Policy::default()
    };
    let gate =
        ImageGate::from_policy(&cli).map_err(|e| format!("--verify-key: {}", e.join("; ")))?;
    gates.extend(gate.map(|g| (g, true)));
    Ok(gates)
}

/// Scans every reference after the word `image`.
pub fn execute_scan(args: &ScanArgs) -> Result<ScanReport, String> {
    let (policy, opts) = resolve_options(&args.policy)?;
    let mut image_opts = with_progress(
        image_options(args.image.platform.as_deref())?,
        args.image.quiet,
    );
    image_opts.model = super::scan::model_options(&policy);
    let mut report = ScanReport::new(policy.fail_on);
    report.rules = all_rules()
        .into_iter()
        .filter(|r| opts.selection.is_enabled(r))
        .collect();
    let mut findings = Vec::new();
    let mut packages = Vec::new();
    let mut scanned: Vec<(String, Option<String>)> = Vec::new();
    for raw in &args.paths[1..] {
        let r = normalize_reference(&raw.to_string_lossy());
        match palisade_image::scan_reference(&r, &image_opts) {
            Ok(s) => {
                report.files_scanned += 1;
                report.resources_scanned += 1;
                scanned.push((s.reference.clone(), s.reference_digest.clone()));
                report.notices.push(summary(&s));
                report.notices.extend(s.surface.summary_lines(&s.reference));
                // The same facts as data, for JSON and SARIF consumers.
                report.images.push(
                    serde_json::to_value(palisade_image::facts::facts(&s))
                        .map_err(|e| format!("{}: image facts: {e}", s.reference))?,
                );
                report.errors.extend(s.input_errors());
                packages.extend(palisade_image::vulns::vuln_packages(&s));
                findings.extend(
                    s.findings
                        .into_iter()
                        .filter(|f| opts.selection.is_enabled(f.rule)),
                );
            }
            Err(e) => report.errors.push(InputError {
                file: r.as_str().into(),
                line: 0,
                column: 0,
                message: e.to_string(),
            }),
        }
    }
    if opts
        .selection
        .is_enabled(&palisade_admission::verify_images::RULE)
    {
        let images: Vec<ScannedImage<'_>> = scanned
            .iter()
            .map(|(reference, digest)| ScannedImage {
                reference,
                digest: digest.as_deref(),
            })
            .collect();
        for (gate, covers_all) in signature_gates(&policy, &args.image.verify_key)? {
            let checks =
                check_scanned_images(&gate, &images, args.image.namespace.as_deref(), covers_all);
            findings.extend(checks.findings);
            report.notices.extend(checks.notices);
            report.errors.extend(checks.errors);
        }
    }
    if super::vulns::enabled(&opts.selection) && !packages.is_empty() {
        let v = super::vulns::check(&args.vuln, &packages, &|_, _| None);
        findings.extend(v.findings);
        report.errors.extend(v.errors);
        report.notices.extend(v.notices);
        report.suppressed += v.suppressed;
    }
    let applied = apply_policy(&policy, findings, Date::today());
    report.findings = applied.findings;
    report
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    report.suppressed += applied.suppressed;
    report.notices.extend(applied.notices);
    Ok(report)
}

#[derive(Debug, Args)]
pub struct SbomArgs {
    /// Image reference (`oci:DIR[:TAG]`, `docker-archive:FILE`, `dir:ROOTFS`,
    /// `registry/repo:tag`, `…@sha256:…`) or a path (directory or `docker save` tarball)
    pub reference: String,
    /// `cyclonedx` (CycloneDX 1.6 JSON) or `spdx` (SPDX 2.3 JSON)
    #[arg(long, short = 'f', default_value = "cyclonedx", value_parser = ["cyclonedx", "spdx"])]
    pub format: String,
    /// Write the SBOM to FILE instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Platform of a multi-platform image: OS/ARCH[/VARIANT] (default: the host's)
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// No progress bar on stderr (it is only drawn on a terminal anyway)
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Vulnerability database: list the packages' known vulnerabilities in the CycloneDX
    /// `vulnerabilities` array (without it the SBOM lists components only)
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

/// `palisade sbom`: exit 0, or 2 when the image could not be read (completely or in part;
/// a partial SBOM is still written, with the problems on stderr).
pub fn run_sbom(args: &SbomArgs) -> i32 {
    let format: palisade_image::sbom::Format = match args.format.parse() {
        Ok(f) => f,
        Err(e) => return super::fail(e),
    };
    let opts = match image_options(args.platform.as_deref()) {
        Ok(o) => with_progress(o, args.quiet),
        Err(e) => return super::fail(e),
    };
    let r = normalize_reference(&args.reference);
    let scan = match palisade_image::scan_reference(&r, &opts) {
        Ok(s) => s,
        Err(e) => return super::fail(e),
    };
    let stamp = palisade_image::sbom::Stamp::default();
    let text = match (&args.db, format) {
        (None, _) => palisade_image::sbom::render(&scan, format, &stamp),
        (Some(_), palisade_image::sbom::Format::Spdx) => {
            return super::fail(
                "--db: SPDX 2.3 has no place for vulnerabilities; use --format cyclonedx",
            );
        }
        (Some(db), palisade_image::sbom::Format::CycloneDx) => {
            match cyclonedx_with_vulnerabilities(&scan, db, &stamp) {
                Ok(t) => t,
                Err(e) => return super::fail(e),
            }
        }
    };
    match &args.output {
        Some(path) => {
            if let Err(e) = write_atomically(path, text.as_bytes()) {
                return super::fail(format!("{}: cannot write SBOM: {e}", path.display()));
            }
        }
        None => {
            if let Err(e) = super::print_stdout(&text) {
                return super::fail(format!("cannot write to standard output: {e}"));
            }
        }
    }
    for e in &scan.errors {
        eprintln!("palisade: {}: {e}", scan.reference);
    }
    if scan.errors.is_empty() { 0 } else { 2 }
}

/// The CycloneDX SBOM with a `vulnerabilities` array from the database at `db`; each entry
/// names the components (by `bom-ref`, found by purl) it affects.
fn cyclonedx_with_vulnerabilities(
    scan: &palisade_image::ImageScan,
    db: &std::path::Path,
    stamp: &palisade_image::sbom::Stamp,
) -> Result<String, String> {
    let db = palisade_vuln::Database::open(db).map_err(|e| {
        format!(
            "{e}\npalisade: build the database with `palisade db update` or `palisade db import`"
        )
    })?;
    let packages = palisade_image::vulns::vuln_packages(scan);
    let matched = palisade_vuln::match_packages(&db, &packages).map_err(|e| e.to_string())?;
    let mut bom = palisade_image::sbom::cyclonedx(scan, stamp);
    let mut refs: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for c in bom["components"].as_array().into_iter().flatten() {
        if let (Some(purl), Some(r)) = (c["purl"].as_str(), c["bom-ref"].as_str()) {
            refs.entry(purl.to_string())
                .or_default()
                .push(r.to_string());
        }
    }
    let refs_of = |p: &palisade_vuln::Package| {
        p.purl
            .as_ref()
            .and_then(|u| refs.get(u))
            .cloned()
            .unwrap_or_default()
    };
    bom["vulnerabilities"] = serde_json::Value::Array(palisade_vuln::cyclonedx::vulnerabilities(
        &packages,
        &matched.matches,
        &refs_of,
    ));
    let mut s = serde_json::to_string_pretty(&bom).unwrap_or_default();
    s.push('\n');
    Ok(s)
}
