//! `palisade scan`: resolve the policy, find inputs, scan them in parallel, report.

use std::io::Read;
use std::sync::Arc;

use palisade_k8s::{FileScan, ScanOptions, scan_source};
use palisade_policy::{Date, InputError, Policy, Selection, Severity, Standard, apply_policy};
use palisade_report::{Format, RenderOptions, ScanReport, render};
use rayon::prelude::*;

use crate::cli::{PolicyArgs, ScanArgs, use_color};
use crate::inputs::{Input, Kind, check_stdin_once, collect_inputs};
use crate::registry::all_rules;

pub fn run(args: &ScanArgs) -> i32 {
    let mut report = match execute(args) {
        Ok(report) => report,
        Err(message) => return super::fail(message),
    };
    if let Err(message) = args.severity.apply(&mut report) {
        return super::fail(message);
    }
    let format: Format = args.format.parse().unwrap_or(Format::Table);
    let opts = RenderOptions {
        color: format == Format::Table && use_color(args.color, args.output.is_some()),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let text = render(&report, format, &opts);
    match &args.output {
        Some(path) => {
            if let Err(e) = write_atomically(path, text.as_bytes()) {
                return super::fail(format!("{}: cannot write report: {e}", path.display()));
            }
        }
        None => return super::print_or_fail(&text, report.exit_code()),
    }
    report.exit_code()
}

/// Writes through a temporary file in the same directory and renames it into place, so a
/// reader never sees half a report. The temporary file is removed when that fails.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let tmp = dir.join(format!(
        ".{}.palisade-tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("report")
    ));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Loads the policy file (if any) and lets command-line flags override it.
pub fn resolve_policy(args: &PolicyArgs) -> Result<Policy, String> {
    let mut policy = match &args.config {
        Some(path) => {
            let src = std::fs::read_to_string(path)
                .map_err(|e| format!("{}: cannot read policy: {e}", path.display()))?;
            Policy::from_yaml(&src).map_err(|errors| {
                errors
                    .iter()
                    .map(|e| format!("{}:{}:{}: {}", path.display(), e.line, e.column, e.message))
                    .collect::<Vec<_>>()
                    .join("\npalisade: ")
            })?
        }
        None => Policy::default(),
    };
    if let Some(s) = &args.standard {
        policy.standard = s
            .parse::<Standard>()
            .map_err(|e| format!("--standard: {e}"))?;
    }
    if let Some(v) = &args.kubernetes_version {
        policy.kubernetes_version = palisade_policy::normalize_kubernetes_version(v)
            .map_err(|e| format!("--kubernetes-version: {e}"))?;
    }
    if let Some(s) = &args.fail_on {
        policy.fail_on = s
            .parse::<Severity>()
            .map_err(|e| format!("--fail-on: {e}"))?;
    }
    if let Some(path) = &args.config {
        let errors = policy.validate_rule_keys(&all_rules());
        if !errors.is_empty() {
            return Err(errors
                .iter()
                .map(|e| format!("{}:{}:{}: {}", path.display(), e.line, e.column, e.message))
                .collect::<Vec<_>>()
                .join("\npalisade: "));
        }
    }
    Ok(policy)
}

/// The policy and the scan options it implies, as `scan` and `harden` both use them.
pub fn resolve_options(args: &PolicyArgs) -> Result<(Policy, ScanOptions), String> {
    let policy = resolve_policy(args)?;
    let rules = all_rules();
    let selection =
        Selection::new(&args.select, &args.ignore, &rules).map_err(|e| e.to_string())?;
    let opts = ScanOptions::from_policy(&policy, selection)?;
    Ok((policy, opts))
}

/// Runs the scan and returns the report (before rendering).
pub fn execute(args: &ScanArgs) -> Result<ScanReport, String> {
    if super::image::is_image_scan(args) {
        return super::image::execute_scan(args);
    }
    if args.paths.len() == 1 && args.paths[0].as_os_str() == "image" && !args.paths[0].exists() {
        return Err(
            "`palisade scan image` needs an image reference: palisade scan image REF… \
                    (oci:DIR:TAG, docker-archive:FILE, dir:ROOT, registry/repo:tag)"
                .into(),
        );
    }
    if !args.image.verify_key.is_empty()
        || args.image.namespace.is_some()
        || args.image.platform.is_some()
    {
        return Err(
            "--platform, --verify-key and --namespace apply to `palisade scan image REF…`".into(),
        );
    }
    check_stdin_once(&args.paths)?;
    let (policy, opts) = resolve_options(&args.policy)?;
    let rules = all_rules();
    let (inputs, mut errors) = collect_inputs(&args.paths);
    let model_opts = model_options(&policy);
    let (locks, inputs): (Vec<Input>, Vec<Input>) =
        inputs.into_iter().partition(|i| i.kind == Kind::LockFile);
    let (charts, inputs): (Vec<Input>, Vec<Input>) =
        inputs.into_iter().partition(|i| i.kind == Kind::HelmChart);
    let (patches, inputs): (Vec<Input>, Vec<Input>) = inputs
        .into_iter()
        .partition(|i| i.kind == Kind::KustomizePatch);
    // Each scan with the number of files it read and reports on.
    let (mut scans, mut files): (Vec<FileScan>, Vec<usize>) = inputs
        .par_iter()
        .map(|input| match input.kind {
            Kind::Manifest => {
                let scan = scan_input(input, &opts);
                let files = usize::from(!scan.not_kubernetes);
                (scan, files)
            }
            Kind::Model | Kind::ModelDirectory => scan_model(input, &model_opts, &opts.selection),
            Kind::Dockerfile => (scan_dockerfile(input, &opts.selection), 1),
            Kind::LockFile | Kind::HelmChart | Kind::KustomizePatch => (FileScan::default(), 0),
        })
        .unzip();
    let mut chart_notices = Vec::new();
    if charts.is_empty() && !args.helm_values.is_empty() {
        chart_notices.push("--helm-values given, but the scan met no Helm chart".to_string());
    }
    if !charts.is_empty() {
        let helm = crate::helm::helm_binary();
        for (chart_scans, notice) in charts
            .par_iter()
            .map(|chart| scan_chart(chart, helm.as_deref(), &args.helm_values, &opts))
            .collect::<Vec<_>>()
        {
            files.push(chart_scans.len());
            scans.extend(chart_scans);
            chart_notices.extend(notice);
        }
    }
    let lock_scan = super::vulns::scan_lock_files(&locks, &args.vuln, &opts.selection);

    let mut report = ScanReport::new(policy.fail_on);
    // A model directory counts the configs it read; the walk also hands those to the
    // manifest scanner, which counts them only when they are Kubernetes objects (they are not).
    report.files_scanned = files.iter().sum();
    report.rules = rules
        .into_iter()
        .filter(|r| opts.selection.is_enabled(r))
        .collect();
    let inventories: Vec<_> = scans.iter().map(|s| &s.inventory).collect();
    let mut findings = palisade_k8s::rules::stream::check(&inventories, &opts);
    let mut skipped = 0usize;
    for scan in scans {
        if scan.not_kubernetes && scan.errors.is_empty() {
            skipped += 1;
        }
        findings.extend(scan.findings);
        errors.extend(scan.errors);
        report.resources_scanned += scan.resources;
        report.suppressed += scan.suppressed;
    }
    report.files_scanned += lock_scan.files;
    findings.extend(lock_scan.outcome.findings);
    errors.extend(lock_scan.outcome.errors);
    report.suppressed += lock_scan.outcome.suppressed;
    let applied = apply_policy(&policy, findings, Date::today());
    report.findings = applied.findings;
    report
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    report.suppressed += applied.suppressed;
    report.notices = lock_scan.outcome.notices;
    report.notices.extend(chart_notices);
    if !patches.is_empty() {
        report.notices.push(format!(
            "skipped {} kustomize patch file(s) (partial objects; `kustomize build DIR | palisade scan -` scans what they make)",
            patches.len()
        ));
    }
    report.notices.extend(applied.notices);
    if skipped > 0 {
        report.notices.push(format!(
            "skipped {skipped} YAML/JSON file(s) without apiVersion or kind (not Kubernetes manifests)"
        ));
    }
    report.errors = errors;
    Ok(report)
}

/// A Helm chart is rendered by `helm template` and each template's output is scanned as a
/// manifest: findings name the chart as their file and the template as the member, with the
/// rendered line and excerpt. Without `helm`, a notice says the chart was not scanned.
fn scan_chart(
    chart: &Input,
    helm: Option<&std::path::Path>,
    values: &[std::path::PathBuf],
    opts: &ScanOptions,
) -> (Vec<FileScan>, Option<String>) {
    let name = chart.display_name();
    let Some(path) = chart.path.as_deref() else {
        return (Vec::new(), None);
    };
    let Some(helm) = helm else {
        return (
            Vec::new(),
            Some(format!(
                "Helm chart {name} not scanned: helm is not on the PATH (or PALISADE_HELM is empty); scan its output with `helm template {name} | palisade scan -`"
            )),
        );
    };
    let templates = match crate::helm::render(helm, path, values) {
        Ok(t) => t,
        Err(message) => {
            let error = palisade_policy::InputError {
                file: name.into(),
                line: 0,
                column: 0,
                message,
            };
            return (
                vec![FileScan {
                    errors: vec![error],
                    ..FileScan::default()
                }],
                None,
            );
        }
    };
    let file: Arc<str> = name.into();
    let scans = templates
        .into_iter()
        .map(|t| {
            let mut scan = scan_source(&file, &t.text, opts);
            scan.inventory.set_member(&t.template);
            for f in &mut scan.findings {
                f.location.member = Some(t.template.clone());
            }
            for e in &mut scan.errors {
                e.message = format!("{} (rendered): {}", t.template, e.message);
            }
            scan
        })
        .collect();
    (scans, None)
}

/// Dockerfiles go to `palisade-dockerfile`.
fn scan_dockerfile(input: &Input, selection: &Selection) -> FileScan {
    let name: Arc<str> = input.display_name().into();
    match read_input(input) {
        Ok(src) => {
            let (findings, errors) = palisade_dockerfile::scan_dockerfile(&name, &src);
            FileScan {
                findings: findings
                    .into_iter()
                    .filter(|f| selection.is_enabled(f.rule))
                    .collect(),
                errors,
                ..FileScan::default()
            }
        }
        Err(e) => FileScan {
            errors: vec![e],
            ..FileScan::default()
        },
    }
}

/// The model scanner's options under `policy`: its pickle import allow/deny extensions.
pub fn model_options(policy: &Policy) -> palisade_model::ScanOptions {
    palisade_model::ScanOptions {
        import_policy: (&policy.models).into(),
        // Files are already spread over all cores here.
        parallel: false,
        ..palisade_model::ScanOptions::default()
    }
}

/// Model artifacts go to `palisade-model`; its findings join the same report.
/// Also returns the number of files read: one for a model file, a directory's configs for a
/// model directory.
fn scan_model(
    input: &Input,
    opts: &palisade_model::ScanOptions,
    selection: &Selection,
) -> (FileScan, usize) {
    let Some(path) = &input.path else {
        return (FileScan::default(), 0);
    };
    let result = if input.kind == Kind::ModelDirectory {
        palisade_model::scan_model_dir(path, opts)
    } else {
        palisade_model::scan_path_report(path, opts)
    };
    // A model file is a resource of its own (the JSON schema's `summary.resources`); a
    // directory's configs belong to the model whose files are counted.
    let (files, resources) = if input.kind == Kind::ModelDirectory {
        (result.files_scanned, 0)
    } else {
        (1, 1)
    };
    let scan = FileScan {
        resources,
        findings: result
            .findings
            .iter()
            .map(palisade_model::ModelFinding::to_policy)
            .filter(|f| selection.is_enabled(f.rule))
            .collect(),
        errors: result
            .errors
            .into_iter()
            .map(|e| InputError {
                file: e.path.display().to_string().into(),
                line: 0,
                column: 0,
                message: e.message,
            })
            .collect(),
        ..FileScan::default()
    };
    (scan, files)
}

/// Reads an input as text (a BOM is dropped), or says why it cannot be read.
pub fn read_input(input: &Input) -> Result<String, InputError> {
    let name: Arc<str> = input.display_name().into();
    let error = |message: String| InputError {
        file: name.clone(),
        line: 0,
        column: 0,
        message,
    };
    let bytes = match &input.path {
        None => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).map(|_| buf)
        }
        Some(path) => std::fs::read(path),
    }
    .map_err(|e| error(format!("cannot read: {e}")))?;
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..3);
            }
            Ok(text)
        }
        Err(e) => Err(error(format!(
            "not UTF-8 text (invalid byte at offset {}); expected a YAML or JSON manifest",
            e.utf8_error().valid_up_to()
        ))),
    }
}

fn scan_input(input: &Input, opts: &ScanOptions) -> FileScan {
    let name: Arc<str> = input.display_name().into();
    match read_input(input) {
        Ok(src) => {
            let mut scan = scan_source(&name, &src, opts);
            if scan.not_kubernetes && !input.explicit {
                // A values.yaml or package.json met while walking a directory.
                scan.errors.clear();
            }
            scan
        }
        Err(e) => FileScan {
            errors: vec![e],
            ..FileScan::default()
        },
    }
}
