//! `palisade harden`: scan, then apply the fixes the findings carry.

use std::fmt::Write as _;
use std::sync::Arc;

use palisade_k8s::fix::HardenOptions;
use palisade_k8s::harden::{Hardened, harden_source};
use palisade_policy::{Finding, ObjectRef};
use rayon::prelude::*;

use crate::cli::{HardenArgs, PatchFormat};
use crate::commands::scan::{read_input, resolve_options, write_atomically};
use crate::inputs::{Input, Kind, check_stdin_once, collect_inputs};

struct FileResult {
    input: Input,
    original: String,
    hardened: Hardened,
}

pub fn run(args: &HardenArgs) -> i32 {
    if let Err(e) = check_stdin_once(&args.paths) {
        return super::fail(e);
    }
    let options = match harden_options(args) {
        Ok(o) => o,
        Err(e) => return super::fail(e),
    };
    let (policy, opts) = match resolve_options(&args.policy) {
        Ok(x) => x,
        Err(e) => return super::fail(e),
    };
    let options = HardenOptions {
        pss_level: policy.standard,
        ..options
    };
    // The rescan of the result reports what is left; it needs no fixes.
    let plain_opts = opts.clone();
    let opts = opts.with_fixes(options);
    let (inputs, mut errors) = collect_inputs(&args.paths);
    // Templates are not rewritten: what they render is hardened through stdin.
    for chart in inputs.iter().filter(|i| i.kind == Kind::HelmChart) {
        let name = chart.display_name();
        eprintln!(
            "note: Helm chart {name} skipped: harden rewrites manifests, not templates; harden what it renders with `helm template {name} | palisade harden -`"
        );
    }
    // A file named on the command line that harden cannot rewrite is said so; walked ones
    // are simply not its business (`scan` reports on them).
    for other in inputs
        .iter()
        .filter(|i| i.explicit && !matches!(i.kind, Kind::Manifest | Kind::HelmChart))
    {
        let what = match other.kind {
            Kind::Dockerfile => "a Dockerfile",
            Kind::LockFile => "a lock file",
            _ => "a model file",
        };
        eprintln!(
            "note: {} skipped: it is {what}; harden rewrites Kubernetes manifests (`palisade scan` reports on it)",
            other.display_name()
        );
    }
    let inputs: Vec<Input> = inputs
        .into_iter()
        .filter(|i| i.kind == Kind::Manifest)
        .collect();
    if args.write && inputs.iter().any(|i| i.path.is_none()) {
        return super::fail("--write cannot rewrite stdin; drop --write to print the result");
    }
    let outcomes: Vec<Result<FileResult, palisade_policy::InputError>> = inputs
        .into_par_iter()
        .map(|input| {
            let original = read_input(&input)?;
            let name: Arc<str> = input.display_name().into();
            let hardened = harden_source(&name, &original, &opts);
            Ok(FileResult {
                input,
                original,
                hardened,
            })
        })
        .collect();
    // An unreadable file is an input error (exit 2); the others are still hardened.
    let mut results = Vec::with_capacity(outcomes.len());
    let mut skipped = 0usize;
    for outcome in outcomes {
        match outcome {
            // A values.yaml or package.json met while walking a directory: skipped, as
            // `scan` skips it (a named one is an error).
            Ok(r) if r.hardened.not_kubernetes && !r.input.explicit => skipped += 1,
            Ok(r) => results.push(r),
            Err(e) => errors.push(e),
        }
    }

    let mut stdout = String::new();
    match args.patch_format {
        Some(PatchFormat::JsonPatch) => stdout = json_patches(&results),
        Some(PatchFormat::Kustomize) => stdout = kustomization(&results),
        None if args.diff => {
            for r in &results {
                stdout.push_str(&unified_diff(
                    &r.input.display_name(),
                    &r.original,
                    &r.hardened.text,
                ));
            }
        }
        None if args.write => {
            for r in results.iter().filter(|r| r.hardened.text != r.original) {
                if let Some(path) = &r.input.path {
                    // Through a symlink to the file it names, so a linked manifest stays
                    // linked (the rename would replace the link with a copy).
                    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
                    if let Err(e) = write_atomically(&target, r.hardened.text.as_bytes()) {
                        errors.push(palisade_policy::InputError {
                            file: r.input.display_name().into(),
                            line: 0,
                            column: 0,
                            message: format!("cannot write: {e}"),
                        });
                    } else {
                        eprintln!("palisade: hardened {}", path.display());
                    }
                }
            }
        }
        None => {
            let several = results.len() > 1;
            for r in &results {
                if several {
                    let _ = writeln!(stdout, "---\n# Source: {}", r.input.display_name());
                }
                stdout.push_str(&r.hardened.text);
                if !r.hardened.text.ends_with('\n') {
                    stdout.push('\n');
                }
            }
        }
    }
    if let Err(e) = super::print_stdout(&stdout) {
        errors.push(palisade_policy::InputError {
            file: "<stdout>".into(),
            line: 0,
            column: 0,
            message: format!("cannot write: {e}"),
        });
    }

    // The summary goes to stderr so stdout stays valid YAML / JSON.
    let fixed: usize = results.iter().map(|r| r.hardened.fixed.len()).sum();
    // What is left is what a scan of the hardened text finds: a fix can also clear findings
    // of other rules (no longer privileged → no GPU-through-privileged finding).
    let remaining: Vec<Finding> = results
        .par_iter()
        .flat_map(|r| {
            let name: Arc<str> = r.input.display_name().into();
            palisade_k8s::scan_source(&name, &r.hardened.text, &plain_opts).findings
        })
        .collect();
    let unfixable: Vec<&Finding> = remaining.iter().collect();
    for r in &results {
        errors.extend(r.hardened.errors.iter().cloned());
        for note in &r.hardened.notes {
            eprintln!("note: {}: {note}", r.input.display_name());
        }
    }
    for f in &unfixable {
        eprintln!(
            "needs a person: {}:{}:{} {} {}: {}",
            f.location.file,
            f.location.line,
            f.location.column,
            f.rule.code,
            f.rule.name,
            f.message
        );
    }
    for e in &errors {
        eprintln!("palisade: {e}");
    }
    if skipped > 0 {
        eprintln!(
            "palisade: skipped {skipped} YAML/JSON file(s) without apiVersion or kind (not Kubernetes manifests)"
        );
    }
    eprintln!(
        "palisade: fixed {fixed} finding(s) in {} file(s); {} finding(s) have no automatic fix",
        results
            .iter()
            .filter(|r| !r.hardened.patches.is_empty())
            .count(),
        unfixable.len()
    );
    if !errors.is_empty() {
        2
    } else if unfixable.iter().any(|f| f.severity >= policy.fail_on) {
        1
    } else {
        0
    }
}

fn harden_options(args: &HardenArgs) -> Result<HardenOptions, String> {
    let mut options = HardenOptions {
        run_as_user: args.run_as_user,
        cache_size_limit: args.cache_size_limit.clone(),
        ..HardenOptions::default()
    };
    if args.run_as_user <= 0 {
        return Err("--run-as-user must be a non-root UID (1 or more)".into());
    }
    if !palisade_policy::is_storage_quantity(&args.cache_size_limit) {
        return Err(format!(
            "--cache-size-limit: expected a Kubernetes quantity such as `20Gi` or `500M`, found `{}`",
            args.cache_size_limit
        ));
    }
    match args.seccomp.split_once(':') {
        None if args.seccomp == "RuntimeDefault" => {}
        Some(("Localhost", path)) if !path.is_empty() => {
            options.seccomp = "Localhost".into();
            options.seccomp_localhost_profile = Some(path.to_string());
        }
        _ => {
            return Err(format!(
                "--seccomp: expected `RuntimeDefault` or `Localhost:<profile path>`, found `{}`",
                args.seccomp
            ));
        }
    }
    Ok(options)
}

/// The object a document's findings are about (the first finding names it).
fn object_of(r: &FileResult, doc: usize) -> Option<&ObjectRef> {
    r.hardened
        .fixed
        .iter()
        .find(|f| f.location.document == Some(doc))
        .and_then(|f| f.object.as_deref())
}

fn json_patches(results: &[FileResult]) -> String {
    let mut out = Vec::new();
    for r in results {
        for (doc, ops) in &r.hardened.patches {
            out.push(serde_json::json!({
                "file": r.input.display_name(),
                "document": doc,
                "object": object_of(r, *doc),
                "patch": ops,
            }));
        }
    }
    serde_json::to_string_pretty(&out).unwrap_or_default() + "\n"
}

/// A kustomization with one JSON 6902 patch per object, for GitOps repositories.
fn kustomization(results: &[FileResult]) -> String {
    let mut out = String::from(
        "# Generated by `palisade harden --patch-format kustomize`.\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\npatches:\n",
    );
    let mut any = false;
    for r in results {
        for (doc, ops) in &r.hardened.patches {
            let Some(object) = object_of(r, *doc) else {
                continue;
            };
            if ops.iter().any(|op| op.path().starts_with("/items/")) {
                // Kustomize targets objects, not List items.
                continue;
            }
            any = true;
            let (group, version) = object
                .api_version
                .rsplit_once('/')
                .map_or(("", object.api_version.as_str()), |(g, v)| (g, v));
            let _ = writeln!(out, "  - target:");
            if !group.is_empty() {
                let _ = writeln!(out, "      group: {group}");
            }
            let _ = writeln!(
                out,
                "      version: {version}\n      kind: {}\n      name: {}",
                object.kind, object.name
            );
            if let Some(ns) = &object.namespace {
                let _ = writeln!(out, "      namespace: {ns}");
            }
            let patch = serde_json::to_string(ops).unwrap_or_default();
            let _ = writeln!(out, "    patch: |-\n      {patch}");
        }
    }
    if !any {
        out.push_str("  []\n");
    }
    out
}

fn unified_diff(name: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}
