//! `--format json`: a versioned document described by `json-schema.json` in this crate.
//!
//! Every key is always present (absent values are `null`), so that `jq` filters need no
//! guards. `schemaVersion` changes only when a key is removed or changes meaning; adding
//! keys is not a breaking change.

use palisade_policy::{Finding, InputError, ObjectRef, Reference, Vulnerability};
use serde::Serialize;

use crate::model::{self, SeverityCounts};
use crate::{RenderOptions, ScanReport, TOOL_NAME};

/// Version of the JSON output's schema (`schemaVersion`).
pub const JSON_SCHEMA_VERSION: &str = "1";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    schema_version: &'static str,
    tool: Tool<'a>,
    findings: Vec<JsonFinding<'a>>,
    errors: Vec<JsonError<'a>>,
    notices: &'a [String],
    images: &'a [serde_json::Value],
    summary: Summary,
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonFinding<'a> {
    code: &'static str,
    name: &'static str,
    family: &'static str,
    severity: &'static str,
    message: &'a str,
    file: &'a str,
    member: Option<&'a str>,
    line: Option<u32>,
    column: Option<u32>,
    offset: Option<u64>,
    document: Option<usize>,
    pointer: &'a str,
    /// What a model file runs on load (model findings only).
    callable: Option<&'a str>,
    call_chain: Option<&'a str>,
    object: Option<JsonObject<'a>>,
    container: Option<&'a str>,
    pss_check: Option<&'static str>,
    references: &'static [Reference],
    vulnerability: Option<&'a Vulnerability>,
    fingerprint: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonObject<'a> {
    api_version: &'a str,
    kind: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
}

impl<'a> From<&'a ObjectRef> for JsonObject<'a> {
    fn from(o: &'a ObjectRef) -> Self {
        JsonObject {
            api_version: &o.api_version,
            kind: &o.kind,
            namespace: o.namespace.as_deref(),
            name: &o.name,
        }
    }
}

#[derive(Serialize)]
struct JsonError<'a> {
    file: &'a str,
    line: Option<u32>,
    column: Option<u32>,
    message: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    findings: usize,
    severities: Severities,
    failing: usize,
    files: usize,
    resources: usize,
    suppressed: usize,
    errors: usize,
    notices: usize,
    fail_on: &'static str,
    exit_code: i32,
}

#[derive(Serialize)]
struct Severities {
    critical: usize,
    high: usize,
    medium: usize,
    low: usize,
    info: usize,
}

impl From<SeverityCounts> for Severities {
    fn from(c: SeverityCounts) -> Self {
        Severities {
            critical: c.critical,
            high: c.high,
            medium: c.medium,
            low: c.low,
            info: c.info,
        }
    }
}

fn nonzero(n: u32) -> Option<u32> {
    (n > 0).then_some(n)
}

fn finding(f: &Finding) -> JsonFinding<'_> {
    let loc = &f.location;
    JsonFinding {
        code: f.rule.code,
        name: f.rule.name,
        family: f.rule.family,
        severity: f.severity.as_str(),
        message: &f.message,
        file: &loc.file,
        member: loc.member.as_deref(),
        line: nonzero(loc.line),
        column: nonzero(loc.line).and(nonzero(loc.column)),
        offset: loc.offset,
        document: loc.document,
        pointer: &loc.pointer,
        callable: f.call.as_ref().and_then(|c| c.callable.as_deref()),
        call_chain: f.call.as_ref().and_then(|c| c.call_chain.as_deref()),
        object: f.object.as_deref().map(JsonObject::from),
        container: f.container.as_deref(),
        pss_check: f.rule.pss_check,
        references: f.rule.references,
        vulnerability: f.vulnerability.as_deref(),
        fingerprint: model::fingerprint(f),
    }
}

fn error(e: &InputError) -> JsonError<'_> {
    JsonError {
        file: &e.file,
        line: nonzero(e.line),
        column: nonzero(e.line).and(nonzero(e.column)),
        message: &e.message,
    }
}

pub(crate) fn render(report: &ScanReport, opts: &RenderOptions) -> String {
    let counts = report.counts();
    let doc = Document {
        schema_version: JSON_SCHEMA_VERSION,
        tool: Tool {
            name: TOOL_NAME,
            version: &opts.tool_version,
        },
        findings: model::sorted_findings(report)
            .into_iter()
            .map(finding)
            .collect(),
        errors: model::sorted_errors(report)
            .into_iter()
            .map(error)
            .collect(),
        notices: &report.notices,
        images: &report.images,
        summary: Summary {
            findings: counts.total(),
            severities: counts.into(),
            failing: report.failing(),
            files: report.files_scanned,
            resources: report.resources_scanned,
            suppressed: report.suppressed,
            errors: report.errors.len(),
            notices: report.notices.len(),
            fail_on: report.fail_on.as_str(),
            exit_code: report.exit_code(),
        },
    };
    let mut out = serde_json::to_string_pretty(&doc).expect("report serializes to JSON");
    out.push('\n');
    out
}
