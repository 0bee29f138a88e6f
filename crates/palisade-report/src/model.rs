//! What every format shares: ordering, counts, rule lists, fingerprints.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use palisade_policy::{Finding, InputError, RuleMeta, Severity};

use crate::ScanReport;

/// Number of findings per severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeverityCounts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
}

impl SeverityCounts {
    #[must_use]
    pub fn of(findings: &[Finding]) -> Self {
        let mut counts = SeverityCounts::default();
        for f in findings {
            *counts.slot(f.severity) += 1;
        }
        counts
    }

    fn slot(&mut self, severity: Severity) -> &mut usize {
        match severity {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Info => &mut self.info,
        }
    }

    #[must_use]
    pub fn get(&self, severity: Severity) -> usize {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    #[must_use]
    pub fn total(&self) -> usize {
        self.critical + self.high + self.medium + self.low + self.info
    }
}

/// Severities from the worst down, the order summaries list them in.
pub(crate) const WORST_FIRST: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
];

fn object_key(f: &Finding) -> (&str, &str, &str, &str) {
    f.object.as_ref().map_or(("", "", "", ""), |o| {
        (
            o.kind.as_str(),
            o.namespace.as_deref().unwrap_or(""),
            o.name.as_str(),
            o.api_version.as_str(),
        )
    })
}

/// Total order on findings: file, archive member, line, column, code, pointer, object,
/// container, message, severity. Independent of the order the scanner produced them in.
pub(crate) fn compare_findings(a: &Finding, b: &Finding) -> Ordering {
    let la = &a.location;
    let lb = &b.location;
    la.file
        .cmp(&lb.file)
        .then_with(|| la.member.cmp(&lb.member))
        .then_with(|| la.line.cmp(&lb.line))
        .then_with(|| la.column.cmp(&lb.column))
        .then_with(|| la.offset.cmp(&lb.offset))
        .then_with(|| a.rule.code.cmp(b.rule.code))
        .then_with(|| la.document.cmp(&lb.document))
        .then_with(|| la.pointer.cmp(&lb.pointer))
        .then_with(|| object_key(a).cmp(&object_key(b)))
        .then_with(|| a.container.cmp(&b.container))
        .then_with(|| a.message.cmp(&b.message))
        .then_with(|| b.severity.cmp(&a.severity))
}

pub(crate) fn compare_errors(a: &InputError, b: &InputError) -> Ordering {
    (&a.file, a.line, a.column, &a.message).cmp(&(&b.file, b.line, b.column, &b.message))
}

pub(crate) fn sorted_findings(report: &ScanReport) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = report.findings.iter().collect();
    v.sort_by(|a, b| compare_findings(a, b));
    v
}

pub(crate) fn sorted_errors(report: &ScanReport) -> Vec<&InputError> {
    let mut v: Vec<&InputError> = report.errors.iter().collect();
    v.sort_by(|a, b| compare_errors(a, b));
    v
}

/// Every rule that ran plus every rule that has a finding, once each, sorted by code.
pub(crate) fn all_rules(report: &ScanReport) -> Vec<&'static RuleMeta> {
    let mut by_code: BTreeMap<&'static str, &'static RuleMeta> = BTreeMap::new();
    for rule in report
        .rules
        .iter()
        .copied()
        .chain(report.findings.iter().map(|f| f.rule))
    {
        by_code.entry(rule.code).or_insert(rule);
    }
    by_code.into_values().collect()
}

/// The severity each rule with findings has in this report: the highest severity of its
/// findings, which carry the policy's per-rule overrides. Rules without findings keep their
/// default.
pub(crate) fn effective_severities(report: &ScanReport) -> BTreeMap<&'static str, Severity> {
    let mut out: BTreeMap<&'static str, Severity> = BTreeMap::new();
    for f in &report.findings {
        let entry = out.entry(f.rule.code).or_insert(f.severity);
        *entry = (*entry).max(f.severity);
    }
    out
}

/// A file path as users wrote it, without a leading `./` and with `/` separators.
pub(crate) fn normalize_path(path: &str) -> String {
    let mut p = path.replace('\\', "/");
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.to_owned();
    }
    p
}

/// The MITRE ATLAS technique ids a rule maps to, comma-separated (`AML.T0011.000, AML.T0010`),
/// for the formats that show no full reference list (table, JUnit).
pub(crate) fn atlas_ids(rule: &RuleMeta) -> Option<String> {
    let ids: Vec<&str> = rule
        .references
        .iter()
        .filter(|r| r.kind == palisade_policy::RefKind::Atlas)
        .map(|r| r.id)
        .collect();
    (!ids.is_empty()).then(|| ids.join(", "))
}

/// `file`, `file!/member`, then `:line:column` when the input has positions.
pub(crate) fn display_location(f: &Finding) -> String {
    let loc = &f.location;
    let mut s = loc.file.to_string();
    if let Some(member) = &loc.member {
        s.push_str("!/");
        s.push_str(member.trim_start_matches('/'));
    }
    push_position(&mut s, loc.line, loc.column);
    s
}

pub(crate) fn push_position(s: &mut String, line: u32, column: u32) {
    use std::fmt::Write as _;
    if line > 0 {
        let _ = write!(s, ":{line}");
        if column > 0 {
            let _ = write!(s, ":{column}");
        }
    }
}

/// Stable identity of a finding across runs, for de-duplication and baselines (SARIF
/// `partialFingerprints`, JSON `fingerprint`): 16 hex digits of FNV-1a/64 over the rule code,
/// the file, the archive member, the JSON pointer and the object's kind, namespace and name.
/// Line numbers, messages and the apiVersion are left out so that edits elsewhere in a file
/// and API-version upgrades keep the fingerprint. A vulnerability finding adds its
/// vulnerability id and package name (several vulnerabilities of one package share a
/// location), but not the installed version: an upgrade that is still vulnerable keeps the
/// alert.
#[must_use]
pub fn fingerprint(f: &Finding) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let file = normalize_path(&f.location.file);
    let (kind, namespace, name, _) = object_key(f);
    let parts: [&str; 7] = [
        f.rule.code,
        &file,
        f.location.member.as_deref().unwrap_or(""),
        &f.location.pointer,
        kind,
        namespace,
        name,
    ];
    let vulnerability = f
        .vulnerability
        .as_deref()
        .map(|v| [v.id.as_str(), v.package.name.as_str()]);
    let mut hash = OFFSET;
    for part in parts.into_iter().chain(vulnerability.into_iter().flatten()) {
        for byte in part.bytes().chain(std::iter::once(0xff)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    format!("{hash:016x}")
}

/// A rule's markdown documentation as written in its doc comment, without the one space
/// that `/// text` leaves at the start of every line, and without surrounding blank lines.
pub(crate) fn rule_docs(rule: &RuleMeta) -> String {
    let lines: Vec<&str> = rule.docs.lines().collect();
    let indented = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .all(|l| l.starts_with(' '));
    let dedented: Vec<&str> = lines
        .iter()
        .map(|l| {
            if indented {
                l.strip_prefix(' ').unwrap_or(l)
            } else {
                l
            }
        })
        .map(|l| l.trim_end())
        .collect();
    dedented.join("\n").trim_matches('\n').to_owned()
}

pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}
