//! `--format junit`: JUnit XML for CI test-report widgets (GitLab, Jenkins, Azure, …).
//!
//! - One `<testsuite>` per scanned file with findings or errors (sorted by path), named after
//!   the file.
//! - One `<testcase>` per (rule, object) in that file — per (rule, archive member) when
//!   there is no object, per vulnerability and package for known vulnerabilities — with
//!   one `<failure>` listing each of its findings; `type` is the highest severity. Every finding is a failure whatever `failOn` says: the exit code is
//!   the gate, this report is what was found.
//! - One `<testcase>` with an `<error>` per input error.
//! - A scanned image's facts (the JSON report's `images`, SARIF's `properties.images`) are
//!   `<properties>` of the test suite named after its reference: reference, digests,
//!   platform, OS, layer, file and byte counts, package counts in total and per type, and
//!   whether it runs as root. An image with nothing to report still gets its (empty) suite,
//!   so its facts are never dropped.
//! - A last `<testsuite name="palisade">` with no test cases carries the summary as
//!   `<properties>` and the notices in `<system-out>`.

use std::collections::HashMap;
use std::fmt::Write as _;

use palisade_policy::{Finding, InputError};

use crate::model::{self, SeverityCounts};
use crate::{RenderOptions, ScanReport, TOOL_NAME};

/// Escapes text for XML 1.0 character data or a double-quoted attribute. Characters that
/// XML 1.0 cannot carry at all (most C0 controls, lone surrogates cannot occur in `str`,
/// U+FFFE/U+FFFF) become U+FFFD.
fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\t' | '\n' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn attr(text: &str) -> String {
    escape(text, true)
}

fn text(text: &str) -> String {
    escape(text, false)
}

struct Case<'a> {
    name: String,
    findings: Vec<&'a Finding>,
}

struct Suite<'a> {
    file: &'a str,
    errors: Vec<&'a InputError>,
    cases: Vec<Case<'a>>,
    /// Facts of the image this suite is about.
    image: Option<&'a serde_json::Value>,
}

fn case_name(f: &Finding) -> String {
    let mut name = format!("{} {}", f.rule.code, f.rule.name);
    if let Some(v) = &f.vulnerability {
        // A test per vulnerability and package, as CI users track them.
        let _ = write!(
            name,
            ": {} in {} {}",
            v.id, v.package.name, v.package.version
        );
    }
    if let Some(object) = &f.object {
        let _ = write!(name, ": {object}");
    }
    if let Some(member) = &f.location.member {
        let _ = write!(name, " in {}", member.trim_start_matches('/'));
    }
    name
}

fn suites(report: &ScanReport) -> Vec<Suite<'_>> {
    let mut suites: Vec<Suite<'_>> = Vec::new();
    let mut errors = model::sorted_errors(report).into_iter().peekable();
    let mut findings = model::sorted_findings(report).into_iter().peekable();
    loop {
        let file = match (errors.peek(), findings.peek()) {
            (None, None) => break,
            (Some(e), None) => &*e.file,
            (None, Some(f)) => &*f.location.file,
            (Some(e), Some(f)) => std::cmp::min(&*e.file, &*f.location.file),
        };
        let mut suite = Suite {
            file,
            errors: Vec::new(),
            cases: Vec::new(),
            image: None,
        };
        while let Some(e) = errors.next_if(|e| &*e.file == file) {
            suite.errors.push(e);
        }
        let mut index: HashMap<String, usize> = HashMap::new();
        while let Some(f) = findings.next_if(|f| &*f.location.file == file) {
            let name = case_name(f);
            match index.get(&name) {
                Some(&i) => suite.cases[i].findings.push(f),
                None => {
                    index.insert(name.clone(), suite.cases.len());
                    suite.cases.push(Case {
                        name,
                        findings: vec![f],
                    });
                }
            }
        }
        suites.push(suite);
    }
    for image in &report.images {
        let Some(reference) = image.get("reference").and_then(serde_json::Value::as_str) else {
            continue;
        };
        match suites.iter_mut().find(|s| s.file == reference) {
            Some(suite) => suite.image = Some(image),
            None => suites.push(Suite {
                file: reference,
                errors: Vec::new(),
                cases: Vec::new(),
                image: Some(image),
            }),
        }
    }
    suites.sort_by(|a, b| a.file.cmp(b.file));
    suites
}

/// The facts of an image (as `palisade_image::facts` writes them) as (name, value)
/// properties; facts the image does not have (`null`) are left out.
fn image_properties(image: &serde_json::Value) -> Vec<(String, String)> {
    let text = |pointer: &str| {
        image
            .pointer(pointer)
            .and_then(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
    };
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |name: &str, value: Option<String>| {
        if let Some(v) = value {
            out.push((format!("image.{name}"), v));
        }
    };
    push("reference", text("/reference"));
    push("manifestDigest", text("/manifestDigest"));
    push("referenceDigest", text("/referenceDigest"));
    push("configDigest", text("/configDigest"));
    let platform: Vec<String> = ["os", "architecture", "variant"]
        .iter()
        .filter_map(|k| text(&format!("/platform/{k}")))
        .collect();
    push(
        "platform",
        Some(platform.join("/")).filter(|p| !p.is_empty()),
    );
    push(
        "os",
        text("/os/prettyName").or_else(|| {
            let id = text("/os/id")?;
            Some(text("/os/versionId").map_or(id.clone(), |v| format!("{id} {v}")))
        }),
    );
    push("osEcosystem", text("/os/ecosystem"));
    push(
        "layers",
        image
            .get("layers")
            .and_then(serde_json::Value::as_array)
            .map(|l| l.len().to_string()),
    );
    push("files", text("/files"));
    push("bytes", text("/bytes"));
    push("packages", text("/packages/total"));
    if let Some(types) = image
        .pointer("/packages/byType")
        .and_then(serde_json::Value::as_object)
    {
        for (kind, n) in types {
            push(&format!("packages.{kind}"), Some(n.to_string()));
        }
    }
    push("runsAsRoot", text("/surface/runsAsRoot"));
    out
}

fn write_properties<N: std::fmt::Display>(
    out: &mut String,
    indent: &str,
    properties: &[(N, String)],
) {
    let _ = writeln!(out, "{indent}<properties>");
    for (name, value) in properties {
        let _ = writeln!(
            out,
            "{indent}  <property name=\"{}\" value=\"{}\"/>",
            attr(&name.to_string()),
            attr(value)
        );
    }
    let _ = writeln!(out, "{indent}</properties>");
}

fn finding_line(f: &Finding) -> String {
    let mut line = format!(
        "{}  {}  {}",
        model::display_location(f),
        f.severity.as_str().to_ascii_uppercase(),
        f.message
    );
    if let Some(container) = &f.container {
        let _ = write!(line, "\n  container: {container}");
    }
    if let Some(check) = f.rule.pss_check {
        let _ = write!(line, "\n  pss: {check}");
    }
    if !f.location.pointer.is_empty() {
        let _ = write!(line, "\n  pointer: {}", f.location.pointer);
    }
    if let Some(offset) = f.location.offset {
        let _ = write!(line, "\n  offset: {offset}");
    }
    if let Some(call) = &f.call {
        if let Some(callable) = &call.callable {
            let _ = write!(line, "\n  callable: {callable}");
        }
        if let Some(chain) = &call.call_chain {
            let _ = write!(line, "\n  call: {chain}");
        }
    }
    if let Some(ids) = model::atlas_ids(f.rule) {
        let _ = write!(line, "\n  atlas: {ids}");
    }
    line
}

fn write_case(out: &mut String, file: &str, case: &Case<'_>) {
    let worst = case
        .findings
        .iter()
        .map(|f| f.severity)
        .max()
        .expect("a case has findings");
    let message = match case.findings.as_slice() {
        [only] => only.message.clone(),
        many => format!("{} findings; first: {}", many.len(), many[0].message),
    };
    let body: Vec<String> = case.findings.iter().map(|f| finding_line(f)).collect();
    let _ = writeln!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\">",
        attr(&case.name),
        attr(file)
    );
    let _ = writeln!(
        out,
        "      <failure message=\"{}\" type=\"{}\">{}</failure>",
        attr(&message),
        worst.as_str(),
        text(&body.join("\n"))
    );
    let _ = writeln!(out, "    </testcase>");
}

fn write_error(out: &mut String, e: &InputError) {
    let mut position = String::new();
    model::push_position(&mut position, e.line, e.column);
    let name = match position.strip_prefix(':') {
        Some(p) => format!("input error at {p}"),
        None => "input error".to_owned(),
    };
    let _ = writeln!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\">",
        attr(&name),
        attr(&e.file)
    );
    let _ = writeln!(
        out,
        "      <error message=\"{}\" type=\"input-error\">{}</error>",
        attr(&e.message),
        text(&e.to_string())
    );
    let _ = writeln!(out, "    </testcase>");
}

pub(crate) fn render(report: &ScanReport, opts: &RenderOptions) -> String {
    let suites = suites(report);
    let total_cases: usize = suites.iter().map(|s| s.cases.len() + s.errors.len()).sum();
    let total_failures: usize = suites.iter().map(|s| s.cases.len()).sum();

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{TOOL_NAME}\" tests=\"{total_cases}\" failures=\"{total_failures}\" errors=\"{}\">",
        report.errors.len()
    );
    for suite in &suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\">",
            attr(suite.file),
            suite.cases.len() + suite.errors.len(),
            suite.cases.len(),
            suite.errors.len()
        );
        if let Some(image) = suite.image {
            write_properties(&mut out, "    ", &image_properties(image));
        }
        for e in &suite.errors {
            write_error(&mut out, e);
        }
        for case in &suite.cases {
            write_case(&mut out, suite.file, case);
        }
        let _ = writeln!(out, "  </testsuite>");
    }

    let counts: SeverityCounts = report.counts();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{TOOL_NAME}\" tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\">"
    );
    let properties: [(&str, String); 12] = [
        ("version", opts.tool_version.clone()),
        ("files", report.files_scanned.to_string()),
        ("resources", report.resources_scanned.to_string()),
        ("findings", counts.total().to_string()),
        ("critical", counts.critical.to_string()),
        ("high", counts.high.to_string()),
        ("medium", counts.medium.to_string()),
        ("low", counts.low.to_string()),
        ("info", counts.info.to_string()),
        ("suppressed", report.suppressed.to_string()),
        ("failOn", report.fail_on.as_str().to_owned()),
        ("exitCode", report.exit_code().to_string()),
    ];
    write_properties(&mut out, "    ", &properties);
    if !report.notices.is_empty() {
        let notices: Vec<String> = report
            .notices
            .iter()
            .map(|n| format!("notice: {n}"))
            .collect();
        let _ = writeln!(
            out,
            "    <system-out>{}</system-out>",
            text(&notices.join("\n"))
        );
    }
    let _ = writeln!(out, "  </testsuite>");
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            escape("a<b>&\"c'\n\u{1b}", true),
            "a&lt;b&gt;&amp;&quot;c&apos;&#10;\u{fffd}"
        );
        assert_eq!(escape("a<b>\"\n\t", false), "a&lt;b&gt;\"\n\t");
    }
}
