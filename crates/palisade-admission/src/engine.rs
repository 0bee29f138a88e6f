//! The decision: one AdmissionRequest in, one AdmissionResponse out, with the same scanner,
//! the same `apply_policy` and the same fixes as `palisade scan` and `palisade harden`.
//!
//! Everything here is synchronous and free of IO, so the HTTP layer can run it inline or on a
//! blocking thread and tests can call it directly.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use palisade_k8s::fix::HardenOptions;
use palisade_k8s::harden::strict_patch;
use palisade_k8s::pss::Version;
use palisade_k8s::{ScanOptions, scan_source};
use palisade_policy::{
    AdmissionMode, CustomResource, Date, Finding, ObjectRef, Policy, RuleMeta, Selection, Severity,
    apply_policy,
};
use palisade_yaml::edit::PatchOp;
use serde_json::Value;

use crate::namespaces::{Labels, Level, Levels, levels};
use crate::review::{AdmissionRequest, AdmissionResponse, Operation, Status};

/// Which webhook a request came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Webhook {
    Validate,
    Mutate,
}

impl Webhook {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Webhook::Validate => "validate",
            Webhook::Mutate => "mutate",
        }
    }
}

/// What the webhook decided, for logs and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Allowed, with warnings.
    Warn,
    Deny,
    /// Allowed with a patch.
    Patch,
    /// Not evaluated: an exempt namespace, user or group.
    Exempt,
    /// Not evaluated: an operation or subresource no rule targets.
    Skip,
}

impl Decision {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Warn => "warn",
            Decision::Deny => "deny",
            Decision::Patch => "patch",
            Decision::Exempt => "exempt",
            Decision::Skip => "skip",
        }
    }
}

/// A decision with what the log and metrics need.
#[derive(Debug)]
pub struct Outcome {
    pub response: AdmissionResponse,
    pub decision: Decision,
    /// Rules that denied the request.
    pub denied: Vec<&'static str>,
    pub warned: Vec<&'static str>,
    pub audited: Vec<&'static str>,
    /// Rules whose fixes are in the patch.
    pub patched: Vec<&'static str>,
    /// The patched object still violates a rule whose fix was applied (a fix bug).
    pub mutation_incomplete: bool,
}

/// A request the webhook cannot evaluate (answered with HTTP 400).
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("request.object is missing for a {0} request")]
    NoObject(&'static str),
    #[error("request.object is not a JSON object: {0}")]
    BadObject(String),
}

/// Subresources whose object is a full pod spec that rules must see: adding an ephemeral
/// container is how `kubectl debug` would otherwise slip a privileged container past the
/// policy (Pod Security Admission checks it too).
const EVALUATED_SUBRESOURCES: &[&str] = &["ephemeralcontainers"];

/// Rules that need the whole cluster (NetworkPolicies, every workload of a namespace): one
/// object at admission cannot answer them, so they run in `scan` and `audit` only.
fn whole_scan_codes() -> Vec<&'static str> {
    palisade_k8s::rules::stream::rules()
        .iter()
        .map(|r| r.code)
        .collect()
}

/// Warnings the API server shows in full are at most 120 characters.
pub const MAX_WARNING_CHARS: usize = 120;
/// Past this many warnings, one more says how many were left out.
pub const MAX_WARNINGS: usize = 20;

/// A loaded policy with its scan options, built once per level and reused.
pub struct Engine {
    pub policy: Policy,
    /// Counts successful loads: the log and `/metrics` say which policy decided.
    pub generation: u64,
    version: Version,
    harden: HardenOptions,
    whole_scan: Vec<&'static str>,
    options: Mutex<HashMap<(Level, bool), Arc<ScanOptions>>>,
    /// Registry lookups (`verifyImages`, `images.resolveDigest`); run outside `review`.
    images: Option<Arc<crate::verify_images::ImageGate>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("policy", &self.policy.name)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Parses and checks a policy file exactly as `scan --config` does: every error with its
    /// line, and rule keys that name no rule in `known_rules` are errors.
    pub fn from_yaml(
        src: &str,
        known_rules: &[&'static RuleMeta],
        generation: u64,
    ) -> Result<Engine, Vec<String>> {
        let policy = Policy::from_yaml(src).map_err(|errors| {
            errors
                .iter()
                .map(|e| format!("{}:{}: {}", e.line, e.column, e.message))
                .collect::<Vec<_>>()
        })?;
        let errors = policy.validate_rule_keys(known_rules);
        if !errors.is_empty() {
            return Err(errors
                .iter()
                .map(|e| format!("{}:{}: {}", e.line, e.column, e.message))
                .collect());
        }
        Engine::new(policy, generation).map_err(|e| vec![e])
    }

    pub fn new(policy: Policy, generation: u64) -> Result<Engine, String> {
        let version = Version::parse(&policy.kubernetes_version)?;
        let mut harden = HardenOptions::default();
        if let Some(uid) = policy.admission.mutate.run_as_user {
            harden.run_as_user = uid;
        }
        if let Some(limit) = &policy.admission.mutate.cache_size_limit {
            harden.cache_size_limit.clone_from(limit);
        }
        if let Some(s) = &policy.admission.mutate.seccomp {
            match s.strip_prefix("Localhost:") {
                Some(profile) => {
                    harden.seccomp = "Localhost".into();
                    harden.seccomp_localhost_profile = Some(profile.to_string());
                }
                None => harden.seccomp.clone_from(s),
            }
        }
        let images = crate::verify_images::ImageGate::from_policy(&policy)
            .map_err(|errors| errors.join("; "))?
            .map(Arc::new);
        let engine = Engine {
            policy,
            generation,
            version,
            harden,
            whole_scan: whole_scan_codes(),
            options: Mutex::new(HashMap::new()),
            images,
        };
        // The policy's own level is what almost every request uses: build it now.
        let level = engine.default_level();
        engine.options(level, false);
        engine.options(level, true);
        Ok(engine)
    }

    /// The registry side of the policy, when it verifies signatures or pins digests.
    #[must_use]
    pub fn images(&self) -> Option<&Arc<crate::verify_images::ImageGate>> {
        self.images.as_ref()
    }

    /// Whether an UPDATE leaves every pod template as it was (such updates are not enforced).
    #[must_use]
    pub fn pod_templates_unchanged(&self, req: &AdmissionRequest) -> bool {
        req.operation == Operation::Update
            && pod_templates_unchanged(req, &self.policy.custom_resources)
    }

    #[must_use]
    pub fn default_level(&self) -> Level {
        Level {
            standard: self.policy.standard,
            version: self.version,
        }
    }

    #[must_use]
    pub fn levels(&self, labels: Option<&Labels>) -> Levels {
        let labels = labels.filter(|_| self.policy.admission.namespace_labels);
        levels(&self.policy, self.version, labels)
    }

    fn options(&self, level: Level, fixes: bool) -> Arc<ScanOptions> {
        let mut cache = self
            .options
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .entry((level, fixes))
            .or_insert_with(|| {
                // No `--select`/`--ignore` at admission: the policy's `rules` turns rules off.
                let opts = ScanOptions::at_level(
                    &self.policy,
                    level.standard,
                    level.version,
                    Selection::default(),
                );
                Arc::new(if fixes {
                    opts.with_fixes(self.harden.clone())
                } else {
                    opts
                })
            })
            .clone()
    }

    /// Scans the object at one level and applies the policy, as `scan` does.
    fn findings(
        &self,
        src: &str,
        req: &AdmissionRequest,
        level: Level,
        fixes: bool,
        today: Date,
    ) -> Scanned {
        let opts = self.options(level, fixes);
        let file: Arc<str> = Arc::from("admission");
        let scan = scan_source(&file, src, &opts);
        let mut findings = scan.findings;
        findings.retain(|f| !self.whole_scan.contains(&f.rule.code));
        // The object in a CREATE often has no namespace (the request has it) and, with
        // `generateName`, no name: fill both in so exceptions match as in `scan`.
        let fallback_name = fallback_name(src, req);
        // Findings of one object share its `Arc`: fill it once and hand the copy to the rest.
        let mut filled: Option<(Arc<ObjectRef>, Arc<ObjectRef>)> = None;
        for f in &mut findings {
            let Some(o) = &mut f.object else { continue };
            if o.namespace.is_some() && !o.name.is_empty() {
                continue;
            }
            if let Some((from, to)) = &filled
                && Arc::ptr_eq(o, from)
            {
                *o = to.clone();
                continue;
            }
            let original = o.clone();
            let object = Arc::make_mut(o);
            if object.namespace.is_none() {
                object.namespace.clone_from(&req.namespace);
            }
            if object.name.is_empty()
                && let Some(name) = &fallback_name
            {
                object.name.clone_from(name);
            }
            filled = Some((original, o.clone()));
        }
        let applied = apply_policy(&self.policy, findings, today);
        Scanned {
            findings: applied.findings,
            errors: scan.errors.iter().map(|e| e.message.clone()).collect(),
        }
    }

    /// Decides one request.
    pub fn review(
        &self,
        req: &AdmissionRequest,
        webhook: Webhook,
        labels: Option<&Labels>,
        today: Date,
    ) -> Result<Outcome, EvalError> {
        let mut out = Outcome {
            response: AdmissionResponse {
                uid: req.uid.clone(),
                allowed: true,
                ..AdmissionResponse::default()
            },
            decision: Decision::Allow,
            denied: Vec::new(),
            warned: Vec::new(),
            audited: Vec::new(),
            patched: Vec::new(),
            mutation_incomplete: false,
        };
        let annotations = &mut out.response.audit_annotations;
        // Keys are short: the API server prefixes them with the webhook's name.
        annotations.insert(
            "policy".into(),
            format!("{}@{}", self.policy.name, self.generation),
        );

        let subresource = req.sub_resource.as_deref().unwrap_or("");
        if matches!(req.operation, Operation::Delete | Operation::Connect)
            || (!subresource.is_empty() && !EVALUATED_SUBRESOURCES.contains(&subresource))
        {
            out.decision = Decision::Skip;
            annotations.insert("decision".into(), "skip".into());
            return Ok(out);
        }
        if let Some(why) = self.exemption(req) {
            out.decision = Decision::Exempt;
            annotations.insert("decision".into(), "exempt".into());
            annotations.insert("exempt".into(), why.into());
            return Ok(out);
        }
        let raw = req
            .object
            .as_deref()
            .ok_or(EvalError::NoObject(req.operation.as_str()))?
            .get();
        if !raw.trim_start().starts_with('{') {
            return Err(EvalError::BadObject(raw.chars().take(40).collect()));
        }
        let levels = self.levels(labels);
        // An UPDATE that leaves every pod template as it was cannot make a workload less safe:
        // scaling, relabelling or removing a finalizer from a workload admitted before the
        // policy (or under an exception that has since expired) stays possible. Its findings
        // become warnings; Pod Security Admission makes the same choice for pod updates.
        let unchanged = req.operation == Operation::Update
            && pod_templates_unchanged(req, &self.policy.custom_resources);
        match webhook {
            Webhook::Validate => self.validate(raw, req, levels, unchanged, today, &mut out),
            Webhook::Mutate => self.mutate(raw, req, levels, unchanged, today, &mut out),
        }
        Ok(out)
    }

    fn exemption(&self, req: &AdmissionRequest) -> Option<&'static str> {
        let ex = &self.policy.admission.exemptions;
        if let Some(ns) = &req.namespace
            && ex.namespaces.iter().any(|n| n == ns)
        {
            return Some("namespace");
        }
        if ex.usernames.contains(&req.user_info.username) {
            return Some("username");
        }
        if req.user_info.groups.iter().any(|g| ex.groups.contains(g)) {
            return Some("group");
        }
        None
    }

    fn validate(
        &self,
        raw: &str,
        req: &AdmissionRequest,
        levels: Levels,
        unchanged: bool,
        today: Date,
        out: &mut Outcome,
    ) {
        let admission = &self.policy.admission;
        let enforce = self.findings(raw, req, levels.enforce, false, today);
        let warn = if levels.warn == levels.enforce {
            None
        } else {
            Some(self.findings(raw, req, levels.warn, false, today))
        };
        let audit_scan = if levels.audit == levels.enforce || levels.audit == levels.warn {
            None
        } else {
            Some(self.findings(raw, req, levels.audit, false, today).findings)
        };
        // Borrowed, not cloned: the three modes usually share one level, and copying the
        // findings twice was a tenth of a request's instructions.
        let warn: &[Finding] = warn.as_ref().map_or(&enforce.findings, |w| &w.findings);
        let audit: &[Finding] = match &audit_scan {
            Some(findings) => findings,
            None if levels.audit == levels.enforce => &enforce.findings,
            None => warn,
        };

        let mut deny: Vec<&Finding> = Vec::new();
        if !enforce.errors.is_empty() && !unchanged {
            // A pod spec the scanner cannot read is one it cannot vouch for; for built-in
            // kinds the API server has already rejected it, so this is a CRD without a
            // schema. Admitting it would let a type confusion bypass every rule.
            out.response.allowed = false;
            out.response.status = Some(Status {
                code: 400,
                message: format!(
                    "palisade: cannot evaluate {}: {}",
                    describe(req),
                    enforce.errors.join("; ")
                ),
                reason: "BadRequest".into(),
            });
            out.decision = Decision::Deny;
            out.response
                .audit_annotations
                .insert("decision".into(), "deny".into());
            return;
        }
        for f in &enforce.findings {
            if admission.mode_of(f.rule) == AdmissionMode::Enforce
                && f.severity >= self.policy.fail_on
            {
                deny.push(f);
            }
        }
        let is_denied = |f: &Finding| {
            deny.iter()
                .any(|d| d.rule.code == f.rule.code && d.location.pointer == f.location.pointer)
        };
        let mut warnings: Vec<&Finding> = warn
            .iter()
            .filter(|f| admission.mode_of(f.rule) != AdmissionMode::Audit)
            .filter(|f| unchanged || !is_denied(f))
            .collect();
        if unchanged {
            // Nothing in a pod template changed: report, do not block.
            deny.clear();
            warnings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        }
        out.denied = codes(deny.iter().copied());
        out.warned = codes(warnings.iter().copied());
        out.audited = codes(audit.iter());
        let annotations = &mut out.response.audit_annotations;
        if !audit.is_empty() {
            annotations.insert(
                "violations".into(),
                audit
                    .iter()
                    .map(|f| format!("{} {}", f.rule.code, f.location.pointer))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        if unchanged {
            annotations.insert("podTemplates".into(), "unchanged".into());
        }
        out.response.warnings = warning_lines(&warnings, unchanged);
        if deny.is_empty() {
            out.decision = if out.response.warnings.is_empty() {
                Decision::Allow
            } else {
                Decision::Warn
            };
            annotations.insert("decision".into(), "allow".into());
        } else {
            out.decision = Decision::Deny;
            annotations.insert("decision".into(), "deny".into());
            annotations.insert("rules".into(), out.denied.join(","));
            out.response.allowed = false;
            out.response.status = Some(Status {
                code: 403,
                message: deny_message(&self.policy, req, levels.enforce, &deny),
                reason: "Forbidden".into(),
            });
        }
    }

    fn mutate(
        &self,
        raw: &str,
        req: &AdmissionRequest,
        levels: Levels,
        unchanged: bool,
        today: Date,
        out: &mut Outcome,
    ) {
        let settings = &self.policy.admission.mutate;
        // A pod's spec is immutable after creation (but for images and a few fields), so a
        // patch on a pod UPDATE would only make the API server reject the update.
        let pod_update = req.operation == Operation::Update && req.kind.kind == "Pod";
        if settings.rules.is_empty() || unchanged || pod_update {
            out.response
                .audit_annotations
                .insert("decision".into(), "allow".into());
            return;
        }
        let scanned = self.findings(raw, req, levels.enforce, true, today);
        let mut ops: Vec<PatchOp> = Vec::new();
        let mut rules: Vec<&'static str> = Vec::new();
        for f in &scanned.findings {
            if !f.fix.is_empty() && settings.covers(f.rule) {
                ops.extend(f.fix.iter().cloned());
                if !rules.contains(&f.rule.code) {
                    rules.push(f.rule.code);
                }
            }
        }
        let annotations = &mut out.response.audit_annotations;
        annotations.insert("decision".into(), "allow".into());
        if ops.is_empty() {
            return;
        }
        let Ok(object) = serde_json::from_str::<Value>(raw) else {
            return;
        };
        // The same resolution as `harden`: ordered for application, then "set, creating
        // parents" becomes strict RFC 6902 against the object as each operation lands.
        let strict = match strict_patch(object.clone(), ops) {
            Ok(strict) if !strict.is_empty() => strict,
            Ok(_) => return,
            Err(e) => {
                annotations.insert("mutationError".into(), e);
                return;
            }
        };
        // Validate what the API server will store: a fix that does not satisfy its own rule
        // is a bug the metrics must show, not a silent disagreement with /validate.
        let mut mutated = object;
        let patch: Result<json_patch::Patch, _> =
            serde_json::to_value(&strict).and_then(serde_json::from_value);
        let applied = patch
            .ok()
            .is_some_and(|p| json_patch::patch(&mut mutated, &p).is_ok());
        if !applied {
            annotations.insert("mutationError".into(), "patch does not apply".into());
            return;
        }
        let after = self.findings(&mutated.to_string(), req, levels.enforce, false, today);
        out.mutation_incomplete = after.findings.iter().any(|f| rules.contains(&f.rule.code));
        annotations.insert("mutated".into(), rules.join(","));
        let Ok(json) = serde_json::to_vec(&strict) else {
            return;
        };
        out.response.patch = Some(base64::engine::general_purpose::STANDARD.encode(json));
        out.response.patch_type = Some("JSONPatch");
        out.patched = rules;
        out.decision = Decision::Patch;
    }
}

struct Scanned {
    findings: Vec<Finding>,
    errors: Vec<String>,
}

fn codes<'f>(findings: impl Iterator<Item = &'f Finding>) -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = findings.map(|f| f.rule.code).collect();
    set.into_iter().collect()
}

/// `Kind namespace/name`, for messages.
fn describe(req: &AdmissionRequest) -> String {
    let name = req
        .name
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or("(generated name)");
    match req.namespace.as_deref().filter(|n| !n.is_empty()) {
        Some(ns) => format!("{} {ns}/{name}", req.kind.kind),
        None => format!("{} {name}", req.kind.kind),
    }
}

/// `metadata.name`, else `metadata.generateName` (pods of a DaemonSet are created with a
/// generated name, and exceptions by name prefix must still match them).
fn fallback_name(src: &str, req: &AdmissionRequest) -> Option<String> {
    if let Some(n) = req.name.as_deref().filter(|n| !n.is_empty()) {
        return Some(n.to_string());
    }
    #[derive(serde::Deserialize)]
    struct Object {
        #[serde(default)]
        metadata: Meta,
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Meta {
        generate_name: Option<String>,
    }
    serde_json::from_str::<Object>(src)
        .ok()
        .and_then(|o| o.metadata.generate_name)
}

/// The denial: every violated rule and field, so one `kubectl apply` shows everything to fix.
fn deny_message(
    policy: &Policy,
    req: &AdmissionRequest,
    level: Level,
    deny: &[&Finding],
) -> String {
    use std::fmt::Write as _;
    let mut msg = format!(
        "palisade: {} violates policy \"{}\" ({} at {}, failOn {}):",
        describe(req),
        policy.name,
        level.standard,
        level.version,
        policy.fail_on
    );
    // Kubernetes has no hard limit on status messages, but etcd events and terminals do.
    const MAX_MESSAGE: usize = 16 * 1024;
    for (i, f) in deny.iter().enumerate() {
        if msg.len() > MAX_MESSAGE {
            let _ = write!(msg, " … and {} more", deny.len() - i);
            break;
        }
        let _ = write!(
            msg,
            "{} {} {} [{}] at {}: {}",
            if i == 0 { "" } else { ";" },
            f.rule.code,
            f.rule.name,
            f.severity,
            f.location.pointer,
            f.message
        );
    }
    msg
}

/// One warning per finding, each cut to 120 characters.
fn warning_lines(findings: &[&Finding], unchanged: bool) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut seen: BTreeMap<(&str, &str), ()> = BTreeMap::new();
    for f in findings {
        if seen
            .insert((f.rule.code, f.location.pointer.as_str()), ())
            .is_some()
        {
            continue;
        }
        if lines.len() == MAX_WARNINGS {
            lines.push(format!(
                "palisade: {} more findings not shown",
                findings.len() - MAX_WARNINGS
            ));
            break;
        }
        let severity = if f.severity >= Severity::High && unchanged {
            " (pod template unchanged, not enforced)"
        } else {
            ""
        };
        let line = format!(
            "{} {}{severity}: {}: {}",
            f.rule.code, f.rule.name, f.location.pointer, f.message
        );
        lines.push(truncate(line, MAX_WARNING_CHARS));
    }
    lines
}

fn truncate(mut s: String, max: usize) -> String {
    if s.chars().count() <= max {
        return s;
    }
    let cut = s.char_indices().nth(max - 1).map_or(s.len(), |(i, _)| i);
    s.truncate(cut);
    s.push('…');
    s
}

/// Whether an UPDATE leaves every pod template (spec and template metadata) as it was.
/// Objects without pod templates are always evaluated: their rules read the whole object.
fn pod_templates_unchanged(req: &AdmissionRequest, custom: &[CustomResource]) -> bool {
    let (Some(new), Some(old)) = (req.object.as_deref(), req.old_object.as_deref()) else {
        return false;
    };
    let docs = palisade_yaml::parse_stream(new.get());
    let Some(Ok(doc)) = docs.first() else {
        return false;
    };
    let (resources, _) = palisade_k8s::resource::resources_in_document(&doc.root);
    let mut pointers = Vec::new();
    for res in &resources {
        let Ok(sites) = palisade_k8s::workload::pod_sites(res, custom) else {
            return false;
        };
        for site in sites {
            pointers.push(site.spec_ptr);
            pointers.push(site.meta_ptr);
        }
    }
    if pointers.is_empty() {
        return false;
    }
    let (Ok(new), Ok(old)) = (
        serde_json::from_str::<Value>(new.get()),
        serde_json::from_str::<Value>(old.get()),
    ) else {
        return false;
    };
    pointers.iter().all(|p| new.pointer(p) == old.pointer(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_cut_on_a_character_boundary() {
        let s = truncate("é".repeat(200), MAX_WARNING_CHARS);
        assert_eq!(s.chars().count(), MAX_WARNING_CHARS);
        assert_eq!(truncate("short".into(), 120), "short");
    }
}
