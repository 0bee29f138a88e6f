//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning accepts it.
//!
//! - One run; `tool.driver.rules` lists every rule that ran (sorted by code) with its
//!   documentation as `help.markdown`, and `properties.security-severity` in GitHub's scale
//!   (critical 9.5, high 8.0, medium 5.5, low 2.0; informational rules have none).
//! - `level`: critical and high are `error`, medium `warning`, low and info `note`.
//! - Locations are relative to `%SRCROOT%` (absolute paths become `file://` URIs); the region
//!   is omitted when the input has no positions; columns count Unicode code points.
//! - `logicalLocations` name the Kubernetes object and the JSON pointer of the field;
//!   `partialFingerprints["palisade/v1"]` is [`crate::fingerprint`].
//! - Input errors are `toolExecutionNotifications` (and make `executionSuccessful` false);
//!   notices are `toolConfigurationNotifications`.

use palisade_policy::{Finding, InputError, RuleMeta, Severity};
use serde_json::{Map, Value, json};

use crate::model::{self, normalize_path};
use crate::{RenderOptions, ScanReport, TOOL_NAME, TOOL_URI};

pub(crate) const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";
const FINGERPRINT_KEY: &str = "palisade/v1";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub maps `security-severity` > 9.0 to critical, 7.0–8.9 high, 4.0–6.9 medium,
/// 0.1–3.9 low.
fn security_severity(severity: Severity) -> Option<&'static str> {
    match severity {
        Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("2.0"),
        Severity::Info => None,
    }
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
fn artifact_location(file: &str) -> Value {
    let path = normalize_path(file);
    let windows_drive = path.len() >= 2
        && path.as_bytes()[0].is_ascii_alphabetic()
        && path.as_bytes()[1] == b':'
        && (path.len() == 2 || path.as_bytes()[2] == b'/');
    if path.starts_with('/') || windows_drive {
        let slash = if windows_drive { "/" } else { "" };
        json!({ "uri": format!("file://{slash}{}", encode_path(&path)) })
    } else {
        // A relative reference whose first segment contains ':' would read as a scheme.
        let uri = encode_path(&path);
        let uri = match uri.split('/').next() {
            Some(first) if first.contains(':') => format!("./{uri}"),
            _ => uri,
        };
        json!({ "uri": uri, "uriBaseId": SRCROOT })
    }
}

fn physical_location(file: &str, line: u32, column: u32, snippet: Option<&str>) -> Value {
    let mut physical = Map::new();
    physical.insert("artifactLocation".into(), artifact_location(file));
    if line > 0 {
        let mut region = Map::new();
        region.insert("startLine".into(), line.into());
        if column > 0 {
            region.insert("startColumn".into(), column.into());
        }
        physical.insert("region".into(), Value::Object(region));
        if let Some(text) = snippet {
            physical.insert(
                "contextRegion".into(),
                json!({
                    "startLine": line,
                    "snippet": { "text": text.trim_end_matches(['\n', '\r']) },
                }),
            );
        }
    }
    Value::Object(physical)
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

fn rule_descriptor(report: &ScanReport, rule: &RuleMeta) -> Value {
    let severity = model::effective_severity(report, rule);
    let docs = model::rule_docs(rule);
    let help_markdown = if docs.is_empty() {
        rule.summary.to_owned()
    } else {
        docs.clone()
    };
    let mut tags = vec![
        Value::from("security"),
        Value::from("kubernetes"),
        Value::from(rule.family),
    ];
    if let Some(check) = rule.pss_check {
        tags.push(format!("pss:{check}").into());
    }
    let mut properties = Map::new();
    properties.insert("tags".into(), Value::Array(tags));
    properties.insert("precision".into(), "high".into());
    if let Some(score) = security_severity(severity) {
        properties.insert("security-severity".into(), score.into());
    }
    properties.insert("severity".into(), severity.as_str().into());
    if let Some(check) = rule.pss_check {
        properties.insert("pssCheck".into(), check.into());
    }
    if !rule.references.is_empty() {
        properties.insert(
            "references".into(),
            serde_json::to_value(rule.references).expect("references serialize"),
        );
    }

    let mut descriptor = Map::new();
    descriptor.insert("id".into(), rule.code.into());
    descriptor.insert("name".into(), rule.name.into());
    descriptor.insert("shortDescription".into(), json!({ "text": rule.summary }));
    descriptor.insert(
        "fullDescription".into(),
        json!({ "text": full_description(rule, &docs) }),
    );
    descriptor.insert(
        "help".into(),
        json!({ "text": help_markdown, "markdown": help_markdown }),
    );
    if let Some(reference) = rule.references.first() {
        descriptor.insert("helpUri".into(), reference.url.into());
    }
    descriptor.insert(
        "defaultConfiguration".into(),
        json!({ "level": level(severity) }),
    );
    descriptor.insert("properties".into(), Value::Object(properties));
    Value::Object(descriptor)
}

fn logical_locations(f: &Finding) -> Vec<Value> {
    let mut out = Vec::new();
    let object_name = f.object.as_ref().map(ToString::to_string);
    if let (Some(object), Some(qualified)) = (&f.object, &object_name) {
        out.push(json!({
            "name": object.name,
            "fullyQualifiedName": qualified,
            "kind": "resource",
        }));
    }
    if !f.location.pointer.is_empty() {
        let qualified = match &object_name {
            Some(object) => format!("{object}#{}", f.location.pointer),
            None => f.location.pointer.clone(),
        };
        out.push(json!({
            "name": f.location.pointer,
            "fullyQualifiedName": qualified,
            "kind": "property",
        }));
    }
    out
}

fn result(f: &Finding, rule_index: usize) -> Value {
    let loc = &f.location;
    let mut message = f.message.clone();
    if let Some(member) = &loc.member {
        // The archive member has no URI of its own; say where it is.
        message.push_str(&format!(" (in {})", member.trim_start_matches('/')));
    }
    let mut location = Map::new();
    location.insert(
        "physicalLocation".into(),
        physical_location(
            &loc.file,
            if loc.member.is_some() { 0 } else { loc.line },
            loc.column,
            f.snippet.as_deref(),
        ),
    );
    let logical = logical_locations(f);
    if !logical.is_empty() {
        location.insert("logicalLocations".into(), Value::Array(logical));
    }

    let mut properties = Map::new();
    properties.insert("severity".into(), f.severity.as_str().into());
    if let Some(object) = &f.object {
        properties.insert(
            "object".into(),
            serde_json::to_value(object).expect("object serializes"),
        );
    }
    if let Some(container) = &f.container {
        properties.insert("container".into(), container.as_str().into());
    }
    if let Some(check) = f.rule.pss_check {
        properties.insert("pssCheck".into(), check.into());
    }
    if let Some(document) = loc.document {
        properties.insert("document".into(), document.into());
    }
    if !loc.pointer.is_empty() {
        properties.insert("pointer".into(), loc.pointer.as_str().into());
    }
    if let Some(member) = &loc.member {
        properties.insert("member".into(), member.as_str().into());
        if loc.line > 0 {
            properties.insert("memberLine".into(), loc.line.into());
            if loc.column > 0 {
                properties.insert("memberColumn".into(), loc.column.into());
            }
        }
    }
    if let Some(offset) = loc.offset {
        properties.insert("offset".into(), offset.into());
    }

    json!({
        "ruleId": f.rule.code,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": message },
        "locations": [Value::Object(location)],
        "partialFingerprints": { FINGERPRINT_KEY: model::fingerprint(f) },
        "properties": Value::Object(properties),
    })
}

fn error_notification(e: &InputError) -> Value {
    json!({
        "level": "error",
        "message": { "text": e.message },
        "locations": [{ "physicalLocation": physical_location(&e.file, e.line, e.column, None) }],
    })
}

pub(crate) fn render(report: &ScanReport, opts: &RenderOptions) -> String {
    let rules = model::all_rules(report);
    let descriptors: Vec<Value> = rules.iter().map(|r| rule_descriptor(report, r)).collect();
    let results: Vec<Value> = model::sorted_findings(report)
        .into_iter()
        .map(|f| {
            let index = rules
                .iter()
                .position(|r| r.code == f.rule.code)
                .expect("all_rules covers every finding's rule");
            result(f, index)
        })
        .collect();

    let mut invocation = Map::new();
    invocation.insert(
        "executionSuccessful".into(),
        report.errors.is_empty().into(),
    );
    invocation.insert("exitCode".into(), report.exit_code().into());
    if !report.errors.is_empty() {
        invocation.insert(
            "toolExecutionNotifications".into(),
            model::sorted_errors(report)
                .into_iter()
                .map(error_notification)
                .collect(),
        );
    }
    if !report.notices.is_empty() {
        invocation.insert(
            "toolConfigurationNotifications".into(),
            report
                .notices
                .iter()
                .map(|n| json!({ "level": "warning", "message": { "text": n } }))
                .collect(),
        );
    }
    let counts = report.counts();
    invocation.insert(
        "properties".into(),
        json!({
            "filesScanned": report.files_scanned,
            "resourcesScanned": report.resources_scanned,
            "suppressed": report.suppressed,
            "failOn": report.fail_on.as_str(),
            "failing": report.failing(),
            "findings": counts.total(),
        }),
    );

    let mut driver = Map::new();
    driver.insert("name".into(), TOOL_NAME.into());
    driver.insert("version".into(), opts.tool_version.as_str().into());
    if is_semver(&opts.tool_version) {
        driver.insert("semanticVersion".into(), opts.tool_version.as_str().into());
    }
    driver.insert("informationUri".into(), TOOL_URI.into());
    driver.insert("rules".into(), Value::Array(descriptors));

    let log = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": Value::Object(driver) },
            "invocations": [Value::Object(invocation)],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
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
        assert_eq!(
            artifact_location("./deploy/my app.yaml"),
            json!({"uri": "deploy/my%20app.yaml", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact_location("/abs/x#y.yaml"),
            json!({"uri": "file:///abs/x%23y.yaml"})
        );
        assert_eq!(
            artifact_location("C:\\work\\x.yaml"),
            json!({"uri": "file:///C:/work/x.yaml"})
        );
        assert_eq!(
            artifact_location("a:b/x.yaml"),
            json!({"uri": "./a:b/x.yaml", "uriBaseId": "%SRCROOT%"})
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
