//! `--format table`: for people. Grouped by file, one entry per finding or input error, a
//! source excerpt with a caret under the column, notices, and one summary line.
//!
//! ```text
//! deploy/serving.yaml (2 findings)
//!
//! deploy/serving.yaml:24:11  HIGH  PAL101 run-as-non-root
//!   Container "serving" must set securityContext.runAsNonRoot to true
//!   object: Deployment/ml/tf-serving  container: serving  pss: runAsNonRoot
//!      |
//!   24 |           runAsNonRoot: false
//!      |           ^
//! ```
//!
//! The header line is `file:line:col  SEVERITY  CODE name` so it can be grepped and clicked;
//! the message goes on the next line, wrapped, to keep entries within 80 columns. Text that
//! comes from the scanned input (messages, names, source lines) has its control and bidi
//! characters replaced, so a hostile manifest cannot drive the terminal.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use palisade_policy::{Finding, InputError, Severity};

use crate::model::{self, WORST_FIRST, plural};
use crate::{RenderOptions, ScanReport};

/// Width that entries are laid out for.
const WIDTH: usize = 80;
const INDENT: &str = "  ";

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn severity(&self, severity: Severity, text: &str) -> String {
        self.paint(severity_code(severity), text)
    }
}

fn severity_code(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "1;35",
        Severity::High => "1;31",
        Severity::Medium => "1;33",
        Severity::Low => "1;34",
        Severity::Info => "1;36",
    }
}

const BOLD: &str = "1";
const HEADING: &str = "1;4";
const GUTTER: &str = "1;34";
const DIM: &str = "2";
const ERROR: &str = "1;31";
const NOTICE: &str = "1;33";
const CLEAN: &str = "1;32";

/// Replaces characters that would let scanned input control the terminal or reorder the
/// text (C0/C1 controls, bidi overrides). One character in, one character out, so that
/// caret columns stay aligned; tabs become spaces.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                '\u{fffd}'
            }
            c => c,
        })
        .collect()
}

/// Greedy word wrap of `text` into lines of at most `width` characters (a longer word gets
/// a line of its own). Each output line is prefixed with `indent`.
fn wrap(text: &str, indent: &str, width: usize, out: &mut String) {
    wrap_hanging(text, indent, indent, width, out);
}

/// [`wrap`] with a different indent for the first line.
fn wrap_hanging(text: &str, first: &str, indent: &str, width: usize, out: &mut String) {
    let mut prefix = first;
    for paragraph in text.lines() {
        let mut line = String::new();
        let mut len = 0;
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let wlen = word.chars().count();
            let avail = width.saturating_sub(prefix.chars().count()).max(20);
            if len > 0 && len + 1 + wlen > avail {
                let _ = writeln!(out, "{prefix}{line}");
                prefix = indent;
                line.clear();
                len = 0;
            }
            if len > 0 {
                line.push(' ');
                len += 1;
            }
            line.push_str(word);
            len += wlen;
        }
        let _ = writeln!(out, "{prefix}{line}");
        prefix = indent;
    }
}

/// Lays out `label: value` items on as few lines as fit in the width.
fn details(items: &[(&str, String)], style: &Style, out: &mut String) {
    let avail = WIDTH - INDENT.len();
    let mut line = String::new();
    let mut len = 0;
    for (label, value) in items {
        let plain_len = label.len() + 2 + value.chars().count();
        if len > 0 && len + 2 + plain_len > avail {
            let _ = writeln!(out, "{INDENT}{line}");
            line.clear();
            len = 0;
        }
        if len > 0 {
            line.push_str("  ");
            len += 2;
        }
        let _ = write!(line, "{} {value}", style.paint(DIM, &format!("{label}:")));
        len += plain_len;
    }
    if len > 0 {
        let _ = writeln!(out, "{INDENT}{line}");
    }
}

/// The source line with a caret under `column` (1-based, in characters), cut to fit the
/// width around the column when it is too long.
fn excerpt(
    line: u32,
    column: u32,
    source: &str,
    severity: Severity,
    style: &Style,
    out: &mut String,
) {
    let source = sanitize(source.trim_end_matches(['\n', '\r']));
    let number = line.to_string();
    let gutter_width = number.len();
    let blank_gutter = " ".repeat(gutter_width);
    // "  NN | text"
    let avail = WIDTH - INDENT.len() - gutter_width - 3;
    let chars: Vec<char> = source.chars().collect();
    let caret_at = (column as usize).saturating_sub(1).min(chars.len());
    let (text, caret) = if chars.len() <= avail {
        (source.clone(), caret_at)
    } else if caret_at + 4 <= avail {
        let kept: String = chars[..avail - 3].iter().collect();
        (format!("{kept}..."), caret_at)
    } else {
        // Window around the caret: "..." + middle + "..." (or the tail when it fits).
        let middle = avail - 6;
        let start = caret_at.saturating_sub(middle / 2);
        let end = (start + middle).min(chars.len());
        let start = if end == chars.len() {
            chars.len() - (avail - 3)
        } else {
            start
        };
        let kept: String = chars[start..end].iter().collect();
        let tail = if end == chars.len() { "" } else { "..." };
        (format!("...{kept}{tail}"), caret_at - start + 3)
    };
    let bar = style.paint(GUTTER, "|");
    let _ = writeln!(out, "{INDENT}{blank_gutter} {bar}");
    let _ = writeln!(
        out,
        "{INDENT}{} {bar} {}",
        style.paint(GUTTER, &number),
        text.trim_end()
    );
    if column > 0 {
        let _ = writeln!(
            out,
            "{INDENT}{blank_gutter} {bar} {}{}",
            " ".repeat(caret),
            style.severity(severity, "^")
        );
    }
}

fn render_finding(f: &Finding, style: &Style, out: &mut String) {
    let loc = &f.location;
    let upper = f.severity.as_str().to_ascii_uppercase();
    let _ = writeln!(
        out,
        "{}  {}  {} {}",
        style.paint(BOLD, &sanitize(&model::display_location(f))),
        style.severity(f.severity, &upper),
        style.paint(BOLD, f.rule.code),
        f.rule.name,
    );
    wrap(&sanitize(&f.message), INDENT, WIDTH, out);

    let mut items: Vec<(&str, String)> = Vec::new();
    if let Some(object) = &f.object {
        items.push(("object", sanitize(&object.to_string())));
    }
    if let Some(container) = &f.container {
        items.push(("container", sanitize(container)));
    }
    if let Some(check) = f.rule.pss_check {
        items.push(("pss", check.to_owned()));
    }
    if loc.line == 0 {
        if let Some(offset) = loc.offset {
            items.push(("offset", offset.to_string()));
        }
        if !loc.pointer.is_empty() {
            items.push(("pointer", sanitize(&loc.pointer)));
        }
    }
    details(&items, style, out);

    if let (true, Some(snippet)) = (loc.line > 0, &f.snippet) {
        excerpt(loc.line, loc.column, snippet, f.severity, style, out);
    }
}

fn render_error(e: &InputError, style: &Style, out: &mut String) {
    let mut location = sanitize(&e.file);
    model::push_position(&mut location, e.line, e.column);
    let _ = writeln!(
        out,
        "{}  {}  input error",
        style.paint(BOLD, &location),
        style.paint(ERROR, "ERROR"),
    );
    wrap(&sanitize(&e.message), INDENT, WIDTH, out);
}

#[derive(Default)]
struct Group<'a> {
    errors: Vec<&'a InputError>,
    findings: Vec<&'a Finding>,
}

/// `12 findings (3 critical, 5 high) in 7 files, 20 resources; 2 suppressed; 1 error`.
fn summary_line(report: &ScanReport) -> String {
    let counts = report.counts();
    let total = counts.total();
    let mut s = if total == 0 {
        "No findings".to_owned()
    } else {
        let by_severity: Vec<String> = WORST_FIRST
            .into_iter()
            .filter(|sev| counts.get(*sev) > 0)
            .map(|sev| format!("{} {sev}", counts.get(sev)))
            .collect();
        format!(
            "{} ({})",
            plural(total, "finding", "findings"),
            by_severity.join(", ")
        )
    };
    let _ = write!(
        s,
        " in {}, {}",
        plural(report.files_scanned, "file", "files"),
        plural(report.resources_scanned, "resource", "resources")
    );
    if report.suppressed > 0 {
        let _ = write!(s, "; {} suppressed", report.suppressed);
    }
    if !report.errors.is_empty() {
        let _ = write!(s, "; {}", plural(report.errors.len(), "error", "errors"));
    }
    s
}

pub(crate) fn render(report: &ScanReport, opts: &RenderOptions) -> String {
    let style = Style { color: opts.color };
    let mut groups: BTreeMap<&str, Group<'_>> = BTreeMap::new();
    for e in model::sorted_errors(report) {
        groups.entry(&e.file).or_default().errors.push(e);
    }
    for f in model::sorted_findings(report) {
        groups.entry(&f.location.file).or_default().findings.push(f);
    }

    let mut out = String::new();
    for (file, group) in &groups {
        let mut counts = Vec::new();
        if !group.findings.is_empty() {
            counts.push(plural(group.findings.len(), "finding", "findings"));
        }
        if !group.errors.is_empty() {
            counts.push(plural(group.errors.len(), "error", "errors"));
        }
        let _ = writeln!(
            out,
            "{} ({})",
            style.paint(HEADING, &sanitize(file)),
            counts.join(", ")
        );
        for e in &group.errors {
            out.push('\n');
            render_error(e, &style, &mut out);
        }
        for f in &group.findings {
            out.push('\n');
            render_finding(f, &style, &mut out);
        }
        out.push('\n');
    }

    for notice in &report.notices {
        let text = format!("notice: {}", sanitize(notice));
        let mut wrapped = String::new();
        wrap_hanging(&text, "", INDENT, WIDTH, &mut wrapped);
        // Colour the label only, after wrapping on the plain text.
        out.push_str(&wrapped.replacen("notice:", &style.paint(NOTICE, "notice:"), 1));
    }
    if !report.notices.is_empty() {
        out.push('\n');
    }

    let summary = summary_line(report);
    let summary_style = match report.exit_code() {
        crate::EXIT_CLEAN => CLEAN,
        _ => BOLD,
    };
    let _ = writeln!(out, "{}", style.paint(summary_style, &summary));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_keeps_width_and_drops_escapes() {
        assert_eq!(
            sanitize("a\tb\x1b[31mc\u{202e}d"),
            "a b\u{fffd}[31mc\u{fffd}d"
        );
    }

    #[test]
    fn wrap_breaks_at_width() {
        let mut out = String::new();
        wrap(&"word ".repeat(30), "  ", 30, &mut out);
        assert!(out.lines().all(|l| l.chars().count() <= 30), "{out}");
        assert_eq!(out.lines().count(), 6);
    }

    fn excerpt_of(column: u32, source: &str) -> Vec<String> {
        let mut out = String::new();
        excerpt(
            7,
            column,
            source,
            Severity::High,
            &Style { color: false },
            &mut out,
        );
        out.lines().map(str::to_owned).collect()
    }

    fn caret_points_at(lines: &[String], expected: char) {
        let caret = lines[2].find('^').expect("caret");
        let under: char = lines[1][caret..].chars().next().unwrap();
        assert_eq!(under, expected, "{lines:#?}");
        assert!(
            lines.iter().all(|l| l.chars().count() <= WIDTH),
            "{lines:#?}"
        );
    }

    #[test]
    fn caret_under_column_short_line() {
        let lines = excerpt_of(5, "    privileged: true");
        caret_points_at(&lines, 'p');
    }

    #[test]
    fn caret_under_column_long_line_start() {
        let long = format!("key: X{}", "y".repeat(200));
        caret_points_at(&excerpt_of(6, &long), 'X');
    }

    #[test]
    fn caret_under_column_long_line_middle() {
        let long = format!("{}X{}", "a".repeat(100), "b".repeat(100));
        caret_points_at(&excerpt_of(101, &long), 'X');
    }

    #[test]
    fn caret_under_column_long_line_end() {
        let long = format!("{}X", "a".repeat(150));
        caret_points_at(&excerpt_of(151, &long), 'X');
    }

    #[test]
    fn no_caret_without_column() {
        let lines = excerpt_of(0, "image: nginx");
        assert_eq!(lines.len(), 2);
    }
}
