//! Matches as `palisade_policy::Finding`s (rule `PAL700`), so every output format, the policy
//! and `--fail-on` apply to vulnerabilities as to every other finding; `--ignore-unfixed`;
//! and the ignore file (VEX-style statements with a justification and an optional expiry).

use std::sync::Arc;

use palisade_policy::{Date, Finding, Location, Severity, Vulnerability, VulnerablePackage};

use crate::matcher::{Match, Package};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Reports an installed package version that an OSV advisory lists as affected: the
    /// package, the installed version, the vulnerability id (the CVE when there is one) with
    /// every alias (PYSEC, GHSA, DSA, …), its severity, the lowest version that fixes it and
    /// where the package was found (lock file line, or image layer and path).
    ///
    /// ## Why is this bad?
    /// A known vulnerability has a public description and often a public exploit. ML images
    /// carry hundreds of Python packages; model servers such as MLflow, Ray and TorchServe
    /// have had remote code execution advisories.
    ///
    /// ## Example
    /// `requirements.txt` pinning `mlflow==2.9.1` (CVE-2023-6909, fixed in 2.9.2).
    ///
    /// ## Fix
    /// Upgrade to the fixed version shown. If the vulnerable code cannot be reached, record
    /// that in the ignore file with a justification and an expiry date.
    pub static KNOWN_VULNERABILITY = {
        code: "PAL700",
        name: "known-vulnerability",
        family: "vuln",
        severity: High,
        summary: "Installed package version is affected by a known vulnerability",
        references: [
            Nist "SP 800-190 3.1.1" "https://nvlpubs.nist.gov/nistpubs/SpecialPublications/NIST.SP.800-190.pdf",
            Doc "OSV schema" "https://ossf.github.io/osv-schema/",
        ],
    };
}

/// Every rule of this crate.
#[must_use]
pub fn rules() -> Vec<&'static palisade_policy::RuleMeta> {
    vec![&KNOWN_VULNERABILITY]
}

/// One statement of the ignore file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoreEntry {
    /// Advisory id or any alias (`CVE-2023-6909`, `PYSEC-2023-252`).
    pub id: String,
    /// Package names (or `name@version`) it is limited to; empty means every package.
    pub packages: Vec<String>,
    /// VEX status: `not_affected` (default), `fixed`, `will_not_fix`, `false_positive`.
    pub status: String,
    pub justification: String,
    pub expires: Option<Date>,
    pub line: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IgnoreFile {
    pub path: String,
    pub entries: Vec<IgnoreEntry>,
}

const STATUSES: &[&str] = &[
    "not_affected",
    "fixed",
    "will_not_fix",
    "false_positive",
    "mitigated",
];

impl IgnoreFile {
    /// Parses an ignore file:
    ///
    /// ```yaml
    /// ignore:
    ///   - id: CVE-2023-6909
    ///     packages: [mlflow]
    ///     status: not_affected
    ///     justification: the artifact proxy is disabled in our deployment
    ///     expires: 2027-01-01
    /// ```
    ///
    /// Every problem names the file, the line and what was expected.
    pub fn parse(path: &str, text: &str) -> Result<IgnoreFile, Vec<String>> {
        let mut errors = Vec::new();
        let mut entries = Vec::new();
        let docs = palisade_yaml::parse_stream(text);
        let root = match docs.into_iter().next() {
            Some(Ok(d)) => d.root,
            Some(Err(e)) => {
                return Err(vec![format!(
                    "{path}:{}:{}: {}",
                    e.line, e.column, e.message
                )]);
            }
            None => {
                return Ok(IgnoreFile {
                    path: path.into(),
                    entries,
                });
            }
        };
        let Some(list) = root.get("ignore").and_then(|n| n.as_seq()) else {
            return Err(vec![format!(
                "{path}:{}: expected a mapping with an `ignore:` list of {{id, justification, [packages], [status], [expires]}}",
                root.pos.line
            )]);
        };
        for item in list {
            let line = item.pos.line;
            let s = |k: &str| {
                item.get(k)
                    .and_then(|n| n.as_str())
                    .map(|s| s.trim().to_string())
            };
            let Some(id) = s("id").filter(|s| !s.is_empty()) else {
                errors.push(format!(
                    "{path}:{line}: ignore entry has no `id` (expected an advisory id or alias)"
                ));
                continue;
            };
            let Some(justification) = s("justification")
                .or_else(|| s("reason"))
                .filter(|s| !s.is_empty())
            else {
                errors.push(format!("{path}:{line}: ignore entry for {id} has no `justification` (say why it does not apply)"));
                continue;
            };
            let status = s("status").unwrap_or_else(|| "not_affected".into());
            if !STATUSES.contains(&status.as_str()) {
                errors.push(format!(
                    "{path}:{line}: unknown status `{status}` (expected one of {})",
                    STATUSES.join(", ")
                ));
                continue;
            }
            let expires = match s("expires") {
                Some(d) => match Date::parse(&d) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        errors.push(format!("{path}:{line}: {e}"));
                        continue;
                    }
                },
                None => None,
            };
            let packages = match item.get("packages") {
                None => Vec::new(),
                Some(n) => match n.as_seq() {
                    Some(seq) => seq
                        .iter()
                        .filter_map(|p| p.as_str().map(str::to_string))
                        .collect(),
                    None => match n.as_str() {
                        Some(one) => vec![one.to_string()],
                        None => {
                            errors
                                .push(format!("{path}:{line}: `packages` must be a list of names"));
                            continue;
                        }
                    },
                },
            };
            entries.push(IgnoreEntry {
                id,
                packages,
                status,
                justification,
                expires,
                line,
            });
        }
        if errors.is_empty() {
            Ok(IgnoreFile {
                path: path.into(),
                entries,
            })
        } else {
            Err(errors)
        }
    }

    fn find(&self, m: &Match, pkg: &Package) -> Option<&IgnoreEntry> {
        self.entries.iter().find(|e| {
            (e.id.eq_ignore_ascii_case(&m.id)
                || m.aliases.iter().any(|a| a.eq_ignore_ascii_case(&e.id)))
                && (e.packages.is_empty()
                    || e.packages.iter().any(|p| match p.split_once('@') {
                        Some((n, v)) => same_pkg(&pkg.ecosystem, n, &pkg.name) && v == pkg.version,
                        None => same_pkg(&pkg.ecosystem, p, &pkg.name),
                    }))
        })
    }
}

fn same_pkg(eco: &str, a: &str, b: &str) -> bool {
    crate::ecosystem::normalize_name(eco, a) == crate::ecosystem::normalize_name(eco, b)
}

#[derive(Clone, Debug, Default)]
pub struct ReportOptions<'a> {
    pub ignore_unfixed: bool,
    pub ignore: Option<&'a IgnoreFile>,
    pub today: Option<Date>,
    /// Severity for advisories whose severity is unknown (no scorable vector, no rating).
    pub unknown_severity: Option<Severity>,
}

/// What [`to_findings`] produced.
#[derive(Debug, Default)]
pub struct Converted {
    pub findings: Vec<Finding>,
    pub notices: Vec<String>,
    /// Dropped by the ignore file or `--ignore-unfixed`.
    pub suppressed: usize,
}

/// Turns matches into findings.
#[must_use]
pub fn to_findings(packages: &[Package], matches: &[Match], opts: &ReportOptions<'_>) -> Converted {
    let today = opts.today.unwrap_or_else(Date::today);
    let mut out = Converted::default();
    let mut expired_seen = std::collections::BTreeSet::new();
    for m in matches {
        let Some(pkg) = packages.get(m.package) else {
            continue;
        };
        if opts.ignore_unfixed && m.fixed.is_none() {
            out.suppressed += 1;
            continue;
        }
        if let Some(entry) = opts.ignore.and_then(|f| f.find(m, pkg)) {
            match entry.expires {
                Some(d) if d < today => {
                    if expired_seen.insert(entry.line) {
                        out.notices.push(format!(
                            "{}:{}: ignore entry for {} expired on {d} and no longer applies",
                            opts.ignore.map_or("", |f| f.path.as_str()),
                            entry.line,
                            entry.id
                        ));
                    }
                }
                _ => {
                    out.suppressed += 1;
                    continue;
                }
            }
        }
        let severity = m
            .severity
            .severity
            .unwrap_or(opts.unknown_severity.unwrap_or(Severity::Medium));
        let ids = if m.aliases.is_empty() {
            m.id.clone()
        } else {
            format!("{} ({})", m.id, m.aliases.join(", "))
        };
        // Say where the severity came from, and when the advisory gave none (or none this
        // reader understands), that the reported one is a default.
        let sev_text = match (m.severity.severity, m.severity.source.as_str()) {
            (Some(_), source) => format!("{severity}, {source}"),
            (None, palisade_policy::Vulnerability::UNRATED) => {
                format!("no severity in the advisory, reported as {severity}")
            }
            (None, source) => format!("severity {source} not understood, reported as {severity}"),
        };
        let fix = match &m.fixed {
            Some(f) => format!("fixed in {f}"),
            None => "no fixed version".into(),
        };
        let mut who = format!("{} {}", pkg.name, pkg.version);
        if pkg.match_name() != pkg.name {
            // A binary package of a source package the advisory names (libssl3 of openssl).
            who.push_str(&format!(
                " (source {} {})",
                pkg.match_name(),
                pkg.match_version()
            ));
        }
        let mut message = format!("{who}: {ids} [{sev_text}]; {fix}");
        if !m.summary.is_empty() {
            message.push_str(": ");
            message.push_str(&m.summary);
        }
        let location = Location {
            file: Arc::from(pkg.file.as_str()),
            line: pkg.line,
            column: u32::from(pkg.line > 0),
            document: None,
            pointer: String::new(),
            member: pkg.layer.clone(),
            offset: None,
        };
        let mut f = Finding::new(&KNOWN_VULNERABILITY, message, location);
        f.severity = severity;
        f.vulnerability = Some(Box::new(details(m, pkg)));
        out.findings.push(f);
    }
    out
}

/// The fields reports give a vulnerability besides its message.
fn details(m: &Match, pkg: &Package) -> Vulnerability {
    Vulnerability {
        id: m.id.clone(),
        aliases: m.aliases.clone(),
        package: VulnerablePackage {
            ecosystem: pkg.ecosystem.clone(),
            name: pkg.name.clone(),
            version: pkg.version.clone(),
            source_name: pkg.source_name.clone(),
            source_version: pkg.source_version.clone(),
            purl: pkg.purl.clone(),
        },
        fixed_version: m.fixed.clone(),
        status: Vulnerability::status_for(m.fixed.as_deref()),
        // `CVSS_V3 9.8` → `CVSS_V3`: the score has a field of its own.
        severity_source: m
            .severity
            .source
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
        cvss_score: m.severity.score,
        cvss_vector: m.severity.vector.clone(),
        summary: m.summary.clone(),
        url: format!("https://osv.dev/vulnerability/{}", m.id),
    }
}
