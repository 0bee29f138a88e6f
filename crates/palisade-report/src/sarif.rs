//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning accepts it.
//!
//! - One run; `tool.driver.rules` lists every rule that ran (sorted by code) with its
//!   documentation as `help.markdown`, and `properties.security-severity` in GitHub's scale
//!   (critical 9.5, high 8.0, medium 5.5, low 2.0; informational rules have none). A rule's
//!   severity there is the effective one: the highest of its findings, which carry the
//!   policy's overrides, else its default.
//! - `level`: critical and high are `error`, medium `warning`, low and info `note`.
//! - Locations are relative to `%SRCROOT%` (absolute paths become `file://` URIs); the region
//!   is omitted when the input has no positions (GitHub then shows a file-level alert);
//!   columns count Unicode code points. A finding inside an archive member points at the
//!   archive; the member, its line and the byte offset go in `properties`.
//! - `logicalLocations` name the Kubernetes object and the JSON pointer of the field;
//!   `partialFingerprints["palisade/v1"]` is [`crate::fingerprint`].
//! - Input errors are `toolExecutionNotifications` (and make `executionSuccessful` false);
//!   notices are `toolConfigurationNotifications`.
//! - Known vulnerabilities (PAL700) get a rule each, with the hierarchical id SARIF
//!   provides for sub-rules (§3.27.5): `PAL700/CVE-2023-6909`. GitHub then shows one alert
//!   type per vulnerability, with its own help (packages, installed and fixed versions,
//!   link) and `security-severity` from its CVSS base score, as Trivy's SARIF does; the
//!   result's `properties.vulnerability` holds the fields of the JSON report.
//! - Facts about scanned images (digests, platform, layers, package counts, attack
//!   surface; the JSON report's `images`) go in the run's property bag as
//!   `properties.images`.

use std::collections::{BTreeMap, HashMap};

use palisade_policy::{
    Finding, InputError, ObjectRef, Reference, RuleMeta, Severity, Vulnerability,
};
use serde::Serialize;

use crate::model::{self, normalize_path};
use crate::{RenderOptions, ScanReport, TOOL_NAME, TOOL_URI};

pub(crate) const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";
const FINGERPRINT_KEY: &str = "palisade/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: [Invocation<'a>; 1],
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<RunProperties<'a>>,
}

/// The run's property bag (SARIF §3.8): facts about scanned images, which are not
/// results; absent when the scan read no image.
#[derive(Serialize)]
struct RunProperties<'a> {
    images: &'a [serde_json::Value],
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    semantic_version: Option<&'a str>,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct Text<T> {
    text: T,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: &'static str,
    short_description: Text<String>,
    full_description: Text<String>,
    help: Help,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleProperties {
    tags: Vec<String>,
    precision: &'static str,
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<String>,
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pss_check: Option<&'static str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    references: &'static [Reference],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text<String>,
    locations: [Location<'a>; 1],
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    physical_location: PhysicalLocation<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation<'a> {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_region: Option<ContextRegion<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContextRegion<'a> {
    start_line: u32,
    snippet: Text<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'a> {
    name: &'a str,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<&'a ObjectRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pss_check: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<usize>,
    #[serde(skip_serializing_if = "str::is_empty")]
    pointer: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    member_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    member_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    callable: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    call_chain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vulnerability: Option<&'a Vulnerability>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    exit_code: i32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_configuration_notifications: Vec<Notification<'a>>,
    properties: InvocationProperties,
}

#[derive(Serialize)]
struct Notification<'a> {
    level: &'static str,
    message: Text<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InvocationProperties {
    files_scanned: usize,
    resources_scanned: usize,
    findings: usize,
    failing: usize,
    suppressed: usize,
    fail_on: &'static str,
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub maps `security-severity` > 9.0 to critical, 7.0–8.9 high, 4.0–6.9 medium,
/// 0.1–3.9 low.
fn security_severity(severity: Severity) -> Option<String> {
    let score = match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
        Severity::Info => return None,
    };
    Some(score.to_owned())
}

/// Percent-encodes what may not appear in a URI path (RFC 3986 `pchar` plus `/`).
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'/' | b'-'
                    | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
            );
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `artifactLocation` for a scanned path: relative paths are relative to `%SRCROOT%`,
/// absolute ones become `file://` URIs.
fn artifact_location(file: &str) -> ArtifactLocation {
    let path = normalize_path(file);
    let bytes = path.as_bytes();
    let windows_drive = bytes.len() >= 2
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && (bytes.len() == 2 || bytes[2] == b'/');
    if path.starts_with('/') || windows_drive {
        let slash = if windows_drive { "/" } else { "" };
        ArtifactLocation {
            uri: format!("file://{slash}{}", encode_path(&path)),
            uri_base_id: None,
        }
    } else {
        // A relative reference whose first segment contains ':' would read as a scheme.
        let uri = encode_path(&path);
        let uri = match uri.split('/').next() {
            Some(first) if first.contains(':') => format!("./{uri}"),
            _ => uri,
        };
        ArtifactLocation {
            uri,
            uri_base_id: Some(SRCROOT),
        }
    }
}

fn physical_location<'a>(
    file: &str,
    line: u32,
    column: u32,
    snippet: Option<&'a str>,
) -> PhysicalLocation<'a> {
    let positioned = line > 0;
    PhysicalLocation {
        artifact_location: artifact_location(file),
        region: positioned.then(|| Region {
            start_line: line,
            start_column: (column > 0).then_some(column),
        }),
        context_region: snippet.filter(|_| positioned).map(|text| ContextRegion {
            start_line: line,
            snippet: Text {
                text: text.trim_end_matches(['\n', '\r']),
            },
        }),
    }
}

/// First paragraph of the rule's *What it does* section, or its summary.
fn full_description(rule: &RuleMeta, docs: &str) -> String {
    let mut lines = docs.lines().map(str::trim);
    if lines
        .by_ref()
        .any(|l| l.trim_start_matches('#').trim() == "What it does")
    {
        let paragraph: Vec<&str> = lines
            .skip_while(|l| l.is_empty())
            .take_while(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        if !paragraph.is_empty() {
            return paragraph.join(" ");
        }
    }
    rule.summary.to_owned()
}

fn rule_descriptor(rule: &'static RuleMeta, severity: Severity) -> Rule {
    let docs = model::rule_docs(rule);
    let markdown = if docs.is_empty() {
        rule.summary.to_owned()
    } else {
        docs
    };
    let mut tags = vec![
        "security".to_owned(),
        "kubernetes".to_owned(),
        rule.family.to_owned(),
    ];
    if let Some(check) = rule.pss_check {
        tags.push(format!("pss:{check}"));
    }
    Rule {
        id: rule.code.to_owned(),
        name: rule.name,
        short_description: Text {
            text: rule.summary.to_owned(),
        },
        full_description: Text {
            text: full_description(rule, &markdown),
        },
        help: Help {
            text: markdown.clone(),
            markdown,
        },
        help_uri: rule.references.first().map(|r| r.url.to_owned()),
        default_configuration: Configuration {
            level: level(severity),
        },
        properties: RuleProperties {
            tags,
            precision: "high",
            security_severity: security_severity(severity),
            severity: severity.as_str(),
            pss_check: rule.pss_check,
            references: rule.references,
        },
    }
}

/// The finding's rule, or for a vulnerability the sub-rule of that vulnerability.
fn rule_id(f: &Finding) -> String {
    match &f.vulnerability {
        Some(v) => format!("{}/{}", f.rule.code, v.id),
        None => f.rule.code.to_owned(),
    }
}

/// One rule per vulnerability found, in id order: its severity is the highest of its
/// findings; `security-severity` is the CVSS base score when one was computed (GitHub's
/// scale is CVSS's), else the severity's usual value.
fn vulnerability_descriptors(report: &ScanReport) -> Vec<Rule> {
    let mut by_id: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        if f.vulnerability.is_some() {
            by_id.entry(rule_id(f)).or_default().push(f);
        }
    }
    by_id
        .into_iter()
        .filter_map(|(id, findings)| {
            let first = findings.first()?;
            let v = first.vulnerability.as_deref()?;
            let severity = findings.iter().map(|f| f.severity).max()?;
            let score = findings
                .iter()
                .filter_map(|f| f.vulnerability.as_ref()?.cvss_score)
                .filter(|s| *s > 0.0)
                .reduce(f64::max);
            let title = if v.summary.is_empty() {
                v.id.clone()
            } else {
                format!("{}: {}", v.id, v.summary)
            };
            let markdown = vulnerability_help(v, &findings);
            let mut tags = vec![
                "security".to_owned(),
                "vulnerability".to_owned(),
                first.rule.family.to_owned(),
            ];
            tags.extend(v.aliases.iter().cloned());
            Some(Rule {
                id,
                name: first.rule.name,
                short_description: Text {
                    text: title.clone(),
                },
                full_description: Text { text: title },
                help: Help {
                    text: markdown.clone(),
                    markdown,
                },
                help_uri: Some(v.url.clone()),
                default_configuration: Configuration {
                    level: level(severity),
                },
                properties: RuleProperties {
                    tags,
                    precision: "very-high",
                    security_severity: match score {
                        Some(score) => Some(format!("{score:.1}")),
                        None => security_severity(severity),
                    },
                    severity: severity.as_str(),
                    pss_check: None,
                    references: first.rule.references,
                },
            })
        })
        .collect()
}

/// What a reader of the alert needs: the ids, the link, and one row per affected package.
fn vulnerability_help(v: &Vulnerability, findings: &[&Finding]) -> String {
    let mut rows: Vec<String> = findings
        .iter()
        .filter_map(|f| {
            let v = f.vulnerability.as_deref()?;
            let p = &v.package;
            Some(format!(
                "| {} | {} | {} | {} | {} |",
                markdown_cell(&p.name),
                markdown_cell(&p.ecosystem),
                markdown_cell(&p.version),
                markdown_cell(v.fixed_version.as_deref().unwrap_or("no fix")),
                f.severity.as_str(),
            ))
        })
        .collect();
    rows.sort();
    rows.dedup();
    let mut out = format!("**{}**", markdown_cell(&v.id));
    if !v.aliases.is_empty() {
        out.push_str(&format!(" ({})", markdown_cell(&v.aliases.join(", "))));
    }
    if !v.summary.is_empty() {
        out.push_str(&format!(": {}", markdown_cell(&v.summary)));
    }
    out.push_str(
        "\n\n| Package | Ecosystem | Installed | Fixed | Severity |\n|---|---|---|---|---|\n",
    );
    for row in rows {
        out.push_str(&row);
        out.push('\n');
    }
    if let Some(vector) = &v.cvss_vector {
        out.push_str(&format!("\nCVSS: `{vector}`\n"));
    }
    out.push_str(&format!("\n[{}]({})\n", v.id, v.url));
    out
}

/// Text from an advisory inside a markdown table row: no pipes or line breaks.
fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn logical_locations(f: &Finding) -> Vec<LogicalLocation<'_>> {
    let mut out = Vec::new();
    let object_name = f.object.as_ref().map(ToString::to_string);
    if let (Some(object), Some(qualified)) = (&f.object, &object_name) {
        out.push(LogicalLocation {
            name: &object.name,
            fully_qualified_name: qualified.clone(),
            kind: "resource",
        });
    }
    if !f.location.pointer.is_empty() {
        let qualified = match &object_name {
            Some(object) => format!("{object}#{}", f.location.pointer),
            None => f.location.pointer.clone(),
        };
        out.push(LogicalLocation {
            name: &f.location.pointer,
            fully_qualified_name: qualified,
            kind: "property",
        });
    }
    out
}

fn result(f: &Finding, rule_index: usize) -> SarifResult<'_> {
    let loc = &f.location;
    let member = loc.member.as_deref();
    let mut message = f.message.clone();
    if let Some(member) = member {
        // The archive member has no URI of its own; say where it is.
        message.push_str(&format!(" (in {})", member.trim_start_matches('/')));
    }
    // Positions inside an archive member are not positions in the archive.
    let (line, column) = if member.is_some() {
        (0, 0)
    } else {
        (loc.line, loc.column)
    };
    let member_line = member.and((loc.line > 0).then_some(loc.line));
    SarifResult {
        rule_id: rule_id(f),
        rule_index,
        level: level(f.severity),
        message: Text { text: message },
        locations: [Location {
            physical_location: physical_location(&loc.file, line, column, f.snippet.as_deref()),
            logical_locations: logical_locations(f),
        }],
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, model::fingerprint(f))]),
        properties: ResultProperties {
            severity: f.severity.as_str(),
            object: f.object.as_deref(),
            container: f.container.as_deref(),
            pss_check: f.rule.pss_check,
            document: loc.document,
            pointer: &loc.pointer,
            member,
            member_line,
            member_column: member_line.and((loc.column > 0).then_some(loc.column)),
            offset: loc.offset,
            callable: f.call.as_ref().and_then(|c| c.callable.as_deref()),
            call_chain: f.call.as_ref().and_then(|c| c.call_chain.as_deref()),
            vulnerability: f.vulnerability.as_deref(),
        },
    }
}

fn error_notification(e: &InputError) -> Notification<'_> {
    Notification {
        level: "error",
        message: Text { text: &e.message },
        locations: vec![Location {
            physical_location: physical_location(&e.file, e.line, e.column, None),
            logical_locations: Vec::new(),
        }],
    }
}

pub(crate) fn render(report: &ScanReport, opts: &RenderOptions) -> String {
    let severities = model::effective_severities(report);
    let mut descriptors: Vec<Rule> = model::all_rules(report)
        .into_iter()
        .map(|r| {
            let severity = severities.get(r.code).copied().unwrap_or(r.severity);
            rule_descriptor(r, severity)
        })
        .collect();
    descriptors.extend(vulnerability_descriptors(report));
    let index: HashMap<String, usize> = descriptors
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    let results = model::sorted_findings(report)
        .into_iter()
        .map(|f| result(f, index[&rule_id(f)]))
        .collect();
    let counts = report.counts();
    let log = Log {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: TOOL_NAME,
                    version: &opts.tool_version,
                    semantic_version: is_semver(&opts.tool_version)
                        .then_some(opts.tool_version.as_str()),
                    information_uri: TOOL_URI,
                    rules: descriptors,
                },
            },
            invocations: [Invocation {
                execution_successful: report.errors.is_empty(),
                exit_code: report.exit_code(),
                tool_execution_notifications: model::sorted_errors(report)
                    .into_iter()
                    .map(error_notification)
                    .collect(),
                tool_configuration_notifications: report
                    .notices
                    .iter()
                    .map(|n| Notification {
                        level: "warning",
                        message: Text { text: n },
                        locations: Vec::new(),
                    })
                    .collect(),
                properties: InvocationProperties {
                    files_scanned: report.files_scanned,
                    resources_scanned: report.resources_scanned,
                    findings: counts.total(),
                    failing: report.failing(),
                    suppressed: report.suppressed,
                    fail_on: report.fail_on.as_str(),
                },
            }],
            column_kind: "unicodeCodePoints",
            results,
            properties: (!report.images.is_empty()).then_some(RunProperties {
                images: &report.images,
            }),
        }],
    };
    let mut out = serde_json::to_string_pretty(&log).expect("SARIF serializes");
    out.push('\n');
    out
}

/// `MAJOR.MINOR.PATCH` with an optional pre-release/build suffix.
fn is_semver(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        let uri = |path| {
            let a = artifact_location(path);
            (a.uri, a.uri_base_id)
        };
        assert_eq!(
            uri("./deploy/my app.yaml"),
            ("deploy/my%20app.yaml".to_owned(), Some(SRCROOT))
        );
        assert_eq!(
            uri("/abs/x#y.yaml"),
            ("file:///abs/x%23y.yaml".to_owned(), None)
        );
        assert_eq!(
            uri("C:\\work\\x.yaml"),
            ("file:///C:/work/x.yaml".to_owned(), None)
        );
        assert_eq!(
            uri("a:b/x.yaml"),
            ("./a:b/x.yaml".to_owned(), Some(SRCROOT))
        );
    }

    #[test]
    fn semver() {
        assert!(is_semver("0.1.0"));
        assert!(is_semver("1.2.3-rc.1+abc"));
        assert!(!is_semver("1.2"));
        assert!(!is_semver("dev"));
    }
}
