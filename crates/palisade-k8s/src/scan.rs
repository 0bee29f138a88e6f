//! Scanning a YAML/JSON stream: documents → objects → pod specs → rules → findings.

use std::sync::Arc;

use palisade_policy::{
    CustomResource, Finding, InputError, Location, Policy, SUPPRESS_ANNOTATION, Selection,
    Standard, parse_suppression,
};
use palisade_yaml::{Pos, parse_stream_with_lines};

use crate::model::{ContainerKind, DecodeError, Decoder, PodMeta, PodSpec};
use crate::pss::{ActiveCheck, PodView, Version, active_checks};
use crate::resource::{Resource, resources_in_document};
use crate::rules::{
    POD_RULES, PodContext, PodRule, RESOURCE_RULES, ResourceContext, ResourceRule, RuleConfig,
    Violation,
};
use crate::workload::pod_sites;

/// What to check, resolved once per run and shared by every file.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    pub standard: Standard,
    pub version: Version,
    pub selection: Selection,
    pub custom_resources: Vec<CustomResource>,
    pub config: RuleConfig,
    /// When set, findings carry their fixes (`palisade harden`, the mutating webhook).
    pub fixes: Option<crate::fix::HardenOptions>,
    /// Resolved from `standard`, `version` and `selection`.
    checks: Vec<ActiveCheck>,
    pod_rules: Vec<&'static PodRule>,
    resource_rules: Vec<&'static ResourceRule>,
}

impl ScanOptions {
    #[must_use]
    pub fn new(
        standard: Standard,
        version: Version,
        selection: Selection,
        custom_resources: Vec<CustomResource>,
    ) -> Self {
        let checks = active_checks(standard, version)
            .into_iter()
            .filter(|a| selection.is_enabled(a.check.rule))
            .collect();
        let pod_rules = POD_RULES
            .iter()
            .copied()
            .filter(|r| selection.is_enabled(r.rule))
            .collect();
        let resource_rules = RESOURCE_RULES
            .iter()
            .copied()
            .filter(|r| selection.is_enabled(r.rule))
            .collect();
        ScanOptions {
            standard,
            version,
            selection,
            custom_resources,
            config: RuleConfig::default(),
            fixes: None,
            checks,
            pod_rules,
            resource_rules,
        }
    }

    /// The options a policy implies, as `scan`, `harden` and the webhook all build them (so
    /// they cannot drift apart).
    pub fn from_policy(policy: &Policy, selection: Selection) -> Result<Self, String> {
        let version = Version::parse(&policy.kubernetes_version)?;
        Ok(Self::at_level(policy, policy.standard, version, selection))
    }

    /// The policy's options at another Pod Security Standards level and version: the webhook
    /// honours per-namespace levels (`palisade.dev/enforce: baseline`).
    #[must_use]
    pub fn at_level(
        policy: &Policy,
        standard: Standard,
        version: Version,
        selection: Selection,
    ) -> Self {
        ScanOptions::new(
            standard,
            version,
            selection,
            policy.custom_resources.clone(),
        )
        .with_config(RuleConfig {
            images: policy.images.clone(),
        })
    }

    /// Makes findings carry their fixes (`harden`, the mutating webhook).
    #[must_use]
    pub fn with_fixes(mut self, options: crate::fix::HardenOptions) -> Self {
        self.fixes = Some(options);
        self
    }

    /// Sets the policy settings rules read (allowed registries, …).
    #[must_use]
    pub fn with_config(mut self, config: RuleConfig) -> Self {
        self.config = config;
        self
    }
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions::new(
            Standard::Restricted,
            Version::LATEST,
            Selection::default(),
            Vec::new(),
        )
    }
}

/// The outcome of scanning one stream.
#[derive(Debug, Default)]
pub struct FileScan {
    pub findings: Vec<Finding>,
    pub errors: Vec<InputError>,
    /// Objects seen (all kinds).
    pub resources: usize,
    /// Pod specs evaluated.
    pub pod_specs: usize,
    /// Findings dropped by inline `palisade.dev/ignore` annotations.
    pub suppressed: usize,
    /// What this file contributes to whole-scan rules (`rules::stream`).
    pub inventory: crate::rules::stream::Inventory,
    /// Whether any document parsed, and none had `apiVersion` or `kind`: a YAML/JSON file
    /// that is not a Kubernetes manifest (a Helm `values.yaml`, a `package.json`). Directory
    /// walks skip such files instead of reporting every document as an error.
    pub not_kubernetes: bool,
}

/// Scans one YAML/JSON stream. Errors in one document never stop the others.
#[must_use]
pub fn scan_source(file: &Arc<str>, src: &str, opts: &ScanOptions) -> FileScan {
    let mut out = FileScan::default();
    let (docs, starts) = parse_stream_with_lines(src);
    let lines = LineIndex { src, starts };
    let mut parsed = 0usize;
    let mut kubernetes_like = 0usize;
    let total = docs.len();
    let mut sized = false;
    for (i, doc) in docs.into_iter().enumerate() {
        let doc = match doc {
            Ok(doc) => doc,
            Err(e) => {
                out.errors.push(InputError {
                    file: file.clone(),
                    line: e.line,
                    column: e.column,
                    message: format!("document {}: {}", e.index + 1, e.message),
                });
                continue;
            }
        };
        parsed += 1;
        if doc.root.get("apiVersion").is_some() || doc.root.get("kind").is_some() {
            kubernetes_like += 1;
        }
        let (resources, errors) = resources_in_document(&doc.root);
        push_decode_errors(&mut out.errors, file, doc.index, errors);
        for res in &resources {
            out.resources += 1;
            crate::rules::stream::record(res, file, doc.index, &mut out.inventory);
            scan_resource(file, doc.index, res, opts, &lines, &mut out);
        }
        // Findings are large: size the list once, from the rate of the documents read so far
        // when the first findings appear, instead of doubling (and moving) it through the
        // file. Bounded: a first document with many findings must not reserve for a file of
        // clean ones.
        if !sized && !out.findings.is_empty() {
            sized = true;
            let rest = total - i - 1;
            let expected = (out.findings.len() * rest).div_ceil(i + 1).min(4096);
            out.findings.reserve(expected);
        }
    }
    out.not_kubernetes = parsed > 0 && kubernetes_like == 0 && out.errors.len() == parsed;
    out
}

fn push_decode_errors(
    out: &mut Vec<InputError>,
    file: &Arc<str>,
    doc: usize,
    errors: Vec<DecodeError>,
) {
    out.extend(errors.into_iter().map(|e| InputError {
        file: file.clone(),
        line: e.pos.line,
        column: e.pos.column,
        message: format!("document {}: {}", doc + 1, e.message),
    }));
}

fn scan_resource(
    file: &Arc<str>,
    doc_index: usize,
    res: &Resource<'_>,
    opts: &ScanOptions,
    lines: &LineIndex<'_>,
    out: &mut FileScan,
) {
    let sites = match pod_sites(res, &opts.custom_resources) {
        Ok(sites) => sites,
        Err(e) => {
            push_decode_errors(&mut out.errors, file, doc_index, vec![e]);
            return;
        }
    };
    let object_suppression = res
        .meta
        .annotation(SUPPRESS_ANNOTATION)
        .map(|a| parse_suppression(a.value));
    let mut emitter = Emitter {
        file,
        doc_index,
        res,
        object: std::cell::OnceCell::new(),
        lines,
        out,
        fixes: opts.fixes.as_ref(),
    };
    let mut violations = Vec::new();
    for rule in opts.resource_rules.iter().filter(|r| r.applies_to(res)) {
        violations.clear();
        (rule.check)(
            &ResourceContext {
                resource: res,
                config: &opts.config,
            },
            &mut violations,
        );
        let suppressed = object_suppression.iter().any(|s| s.covers(rule.rule));
        emitter.emit(rule.rule, None, suppressed, &mut violations, None);
    }
    let mut templates = Vec::with_capacity(sites.len());
    for site in &sites {
        let mut decoder = Decoder::default();
        let meta = match site.meta {
            Some(m) => PodMeta::decode(Some(m), site.meta_ptr.clone(), &mut decoder),
            None => PodMeta {
                ptr: site.meta_ptr.clone(),
                ..PodMeta::default()
            },
        };
        let spec = PodSpec::decode(
            site.spec,
            site.spec_ptr.clone(),
            &site.extra_containers,
            &mut decoder,
        );
        if !decoder.errors.is_empty() {
            // The API server would reject this object; its verdict would be meaningless.
            push_decode_errors(&mut emitter.out.errors, file, doc_index, decoder.errors);
            templates.push(crate::rules::stream::template(res, site, Vec::new()));
            continue;
        }
        emitter.out.pod_specs += 1;
        let template_suppression = meta
            .annotation(SUPPRESS_ANNOTATION)
            .map(|a| parse_suppression(a.value));
        let suppresses = |rule: &palisade_policy::RuleMeta| {
            object_suppression
                .iter()
                .chain(&template_suppression)
                .any(|s| s.covers(rule))
        };
        let view = PodView {
            meta: &meta,
            spec: &spec,
        };
        for active in &opts.checks {
            violations.clear();
            (active.implementation.check)(&view, &mut violations);
            let rule = active.check.rule;
            emitter.emit(
                rule,
                Some(active.check.reason),
                suppresses(rule),
                &mut violations,
                Some(view),
            );
        }
        let facts = crate::rules::model_servers::detect::PodFacts::default();
        let cx = PodContext {
            resource: res,
            pod: view,
            config: &opts.config,
            facts: &facts,
        };
        for rule in &opts.pod_rules {
            violations.clear();
            (rule.check)(&cx, &mut violations);
            emitter.emit(
                rule.rule,
                None,
                suppresses(rule.rule),
                &mut violations,
                Some(view),
            );
        }
        // Whole-scan rules match Services to the model servers found here.
        let servers = cx
            .serving()
            .filter(|(c, _)| c.kind == ContainerKind::Regular)
            .filter_map(|(c, f)| f.server.map(|s| (c.name.to_string(), s)))
            .collect();
        templates.push(crate::rules::stream::template(res, site, servers));
    }
    if !sites.is_empty() {
        crate::rules::stream::record_workload(
            res,
            file,
            doc_index,
            templates,
            &mut emitter.out.inventory,
        );
    }
}

/// Turns violations into findings for one object.
struct Emitter<'e, 'a> {
    file: &'e Arc<str>,
    doc_index: usize,
    res: &'e Resource<'a>,
    /// Built on the first finding: most objects of a hardened cluster have none.
    object: std::cell::OnceCell<Arc<palisade_policy::ObjectRef>>,
    lines: &'e LineIndex<'e>,
    out: &'e mut FileScan,
    fixes: Option<&'e crate::fix::HardenOptions>,
}

impl Emitter<'_, '_> {
    /// PSS findings read `reason (detail)` as upstream prints them; other rules' details
    /// are whole sentences.
    fn emit(
        &mut self,
        rule: &'static palisade_policy::RuleMeta,
        reason: Option<&str>,
        suppressed: bool,
        violations: &mut Vec<Violation>,
        pod: Option<PodView<'_, '_>>,
    ) {
        // Called for every rule on every pod, and most rules find nothing.
        if violations.is_empty() {
            return;
        }
        if suppressed {
            self.out.suppressed += violations.len();
            violations.clear();
            return;
        }
        let fix = self
            .fixes
            .and_then(|options| crate::fix::fix_for(rule.code).map(|f| (f, options)));
        for v in violations.drain(..) {
            let fix_ops = fix.map(|(f, options)| f(&v, &crate::fix::FixContext { options, pod }));
            let message = match reason {
                Some(reason) => {
                    // Concatenation, not `format!`: a PSS finding is built for nearly every
                    // unhardened pod.
                    let mut m = String::with_capacity(reason.len() + v.detail.len() + 3);
                    m.push_str(reason);
                    m.push_str(" (");
                    m.push_str(&v.detail);
                    m.push(')');
                    m
                }
                None => v.detail,
            };
            let mut finding = Finding::new(
                rule,
                message,
                Location {
                    file: self.file.clone(),
                    line: v.pos.line,
                    column: v.pos.column,
                    document: Some(self.doc_index),
                    pointer: v.pointer,
                    member: None,
                    offset: None,
                },
            );
            finding.object = Some(
                self.object
                    .get_or_init(|| Arc::new(self.res.object_ref()))
                    .clone(),
            );
            finding.container = v.container;
            finding.snippet = self.lines.line(v.pos).map(str::to_string);
            finding.fix = fix_ops.unwrap_or_default();
            self.out.findings.push(finding);
        }
    }
}

/// Byte offsets of line starts, for source excerpts.
struct LineIndex<'s> {
    src: &'s str,
    /// From the parser, which finds them anyway while splitting documents.
    starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    fn line(&self, pos: Pos) -> Option<&'s str> {
        let i = usize::try_from(pos.line).ok()?.checked_sub(1)?;
        let start = *self.starts.get(i)?;
        let end = self.starts.get(i + 1).map_or(self.src.len(), |e| e - 1);
        Some(self.src[start..end].trim_end_matches('\r'))
    }
}
