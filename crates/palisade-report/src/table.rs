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
//! Known vulnerabilities are the exception: a file's are one grid (package, id, severity,
//! installed and fixed versions, title), as Trivy prints them.
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
    if let Some(call) = &f.call {
        if let Some(callable) = &call.callable {
            items.push(("callable", sanitize(callable)));
        }
        if let Some(chain) = &call.call_chain {
            items.push(("call", sanitize(chain)));
        }
    }
    if let Some(ids) = model::atlas_ids(f.rule) {
        items.push(("atlas", ids));
    }
    details(&items, style, out);

    if let (true, Some(snippet)) = (loc.line > 0, &f.snippet) {
        excerpt(loc.line, loc.column, snippet, f.severity, style, out);
    }
}

/// The known vulnerabilities of one file as the grid Trivy users read: a row per
/// vulnerability and package, grouped by package, worst first. One entry per finding would
/// repeat a header and a paragraph for each of the dozens of CVEs of an image or lock file.
///
/// ```text
///   PAL700 known-vulnerability (4)
///   LINE  PACKAGE   VULNERABILITY   SEVERITY  INSTALLED  FIXED   TITLE
///   1     requests  CVE-2023-32681  MEDIUM    2.19.0     2.31.0  Requests is a HTTP
///                                                                library. Since…
/// ```
///
/// `LINE` is the lock-file line (an image's packages have none, and no column). The title
/// takes what is left of the width, on up to two lines; aliases, links and CVSS vectors are
/// in the JSON and SARIF outputs.
fn render_vulnerabilities(findings: &[&Finding], style: &Style, out: &mut String) {
    const HEADERS: [&str; 6] = [
        "LINE",
        "PACKAGE",
        "VULNERABILITY",
        "SEVERITY",
        "INSTALLED",
        "FIXED",
    ];
    /// Widest each column may get before its text is cut, so that the title keeps room.
    const MAX: [usize; 6] = [6, 24, 20, 9, 16, 16];
    const MIN_TITLE: usize = 16;
    let mut rows: Vec<(&Finding, [String; 6], String)> = findings
        .iter()
        .filter_map(|f| {
            let v = f.vulnerability.as_deref()?;
            let mut severity = f.severity.as_str().to_ascii_uppercase();
            if v.severity_source == palisade_policy::Vulnerability::UNRATED {
                severity.push('*');
            }
            let line = f.location.line;
            let cells = [
                if line > 0 {
                    line.to_string()
                } else {
                    String::new()
                },
                sanitize(&v.package.name),
                sanitize(&v.id),
                severity,
                sanitize(&v.package.version),
                v.fixed_version
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), sanitize),
            ];
            let title = if v.summary.is_empty() {
                "-"
            } else {
                &v.summary
            };
            Some((
                *f,
                cells,
                sanitize(title.lines().next().unwrap_or_default()),
            ))
        })
        .collect();
    rows.sort_by(|a, b| (&a.1[1], b.0.severity, &a.1[2]).cmp(&(&b.1[1], a.0.severity, &b.1[2])));
    // Lock files have lines to point at; an image's packages do not, and lose the column.
    let with_lines = rows.iter().any(|(f, _, _)| f.location.line > 0);
    let mut widths = HEADERS.map(str::len);
    if !with_lines {
        widths[0] = 0;
    }
    for (_, cells, _) in &rows {
        for (w, (cell, max)) in widths.iter_mut().zip(cells.iter().zip(MAX)).skip(1) {
            *w = (*w).max(cell.chars().count().min(max));
        }
    }
    let columns = || (0..HEADERS.len()).filter(move |&i| widths[i] > 0);
    let used: usize = INDENT.len() + columns().map(|i| widths[i] + 2).sum::<usize>();
    // Long versions or ids leave the title too little room beside them: it goes below.
    let (title_indent, title_width) = match WIDTH.saturating_sub(used) {
        w if w >= MIN_TITLE => (used, w),
        _ => (2 * INDENT.len(), WIDTH - 2 * INDENT.len()),
    };
    let title_beside = title_indent == used;
    // The rule the rows are findings of, for `--ignore` and `explain`.
    if let Some((f, _, _)) = rows.first() {
        let _ = writeln!(
            out,
            "{INDENT}{} {} ({})",
            style.paint(BOLD, f.rule.code),
            f.rule.name,
            rows.len()
        );
    }
    let mut line = String::from(INDENT);
    for i in columns() {
        let _ = write!(line, "{:<w$}  ", HEADERS[i], w = widths[i]);
    }
    if title_beside {
        line.push_str("TITLE");
    }
    let _ = writeln!(out, "{}", style.paint(BOLD, line.trim_end()));
    for (f, cells, title) in &rows {
        let mut line = String::from(INDENT);
        for i in columns() {
            let w = widths[i];
            let text = fit(&cells[i], w);
            let pad = w - text.chars().count() + 2;
            if HEADERS[i] == "SEVERITY" {
                line.push_str(&style.severity(f.severity, &text));
            } else {
                line.push_str(&text);
            }
            line.push_str(&" ".repeat(pad));
        }
        let title_lines = wrap_cell(title, title_width, TITLE_LINES);
        let mut title_lines = title_lines.iter();
        if title_beside {
            line.push_str(title_lines.next().map_or("", String::as_str));
        }
        let _ = writeln!(out, "{}", line.trim_end());
        for more in title_lines {
            let _ = writeln!(out, "{}{more}", " ".repeat(title_indent));
        }
    }
    if rows.iter().any(|(_, cells, _)| cells[3].ends_with('*')) {
        let _ = writeln!(
            out,
            "{INDENT}{}",
            style.paint(DIM, "* the advisory gives no severity; this is the default")
        );
    }
}

/// Lines a vulnerability's title may take in the grid.
const TITLE_LINES: usize = 2;

/// `text` word-wrapped into at most `lines` lines of `width` characters, the last one cut
/// with `…` when the text does not fit.
fn wrap_cell(text: &str, width: usize, lines: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        match out.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => out.push(word.to_owned()),
        }
    }
    if out.len() > lines {
        out.truncate(lines);
        if let Some(last) = out.last_mut() {
            // Make room for the `…` by dropping whole words where there are any.
            while last.chars().count() + 1 > width {
                match last.rfind(' ') {
                    Some(i) => last.truncate(i),
                    None => break,
                }
            }
            *last = fit(&format!("{last}…"), width);
        }
    }
    out.iter().map(|l| fit(l, width)).collect()
}

/// `text` cut to `width` characters, with `…` as the last one when it was cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
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
        let (vulnerabilities, others): (Vec<&Finding>, Vec<&Finding>) = group
            .findings
            .iter()
            .partition(|f| f.vulnerability.is_some());
        for f in &others {
            out.push('\n');
            render_finding(f, &style, &mut out);
        }
        if !vulnerabilities.is_empty() {
            out.push('\n');
            render_vulnerabilities(&vulnerabilities, &style, &mut out);
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

    palisade_policy::declare_rule! {
        /// A known vulnerability, as `palisade-vuln` declares it.
        static KNOWN_VULNERABILITY = {
            code: "PAL700",
            name: "known-vulnerability",
            family: "vuln",
            severity: High,
            summary: "Installed package version is affected by a known vulnerability",
            references: [],
        };
    }

    fn vulnerability(package: &str, id: &str, severity: Severity, summary: &str) -> Finding {
        let mut f = Finding::new(
            &KNOWN_VULNERABILITY,
            String::new(),
            palisade_policy::Location::default(),
        );
        f.severity = severity;
        f.vulnerability = Some(Box::new(palisade_policy::Vulnerability {
            id: id.to_owned(),
            package: palisade_policy::VulnerablePackage {
                name: package.to_owned(),
                version: "1.0".to_owned(),
                ..Default::default()
            },
            fixed_version: Some("1.1".to_owned()),
            severity_source: "CVSS_V3".to_owned(),
            summary: summary.to_owned(),
            ..Default::default()
        }));
        f
    }

    #[test]
    fn vulnerabilities_are_one_grid_by_package_worst_first() {
        let long = "word ".repeat(40);
        let mut unrated = vulnerability("zlib", "CVE-3", Severity::Medium, "\x1b[31mred");
        if let Some(v) = unrated.vulnerability.as_mut() {
            v.severity_source = palisade_policy::Vulnerability::UNRATED.to_owned();
        }
        let findings = [
            vulnerability("requests", "CVE-1", Severity::Low, "short"),
            unrated,
            vulnerability("requests", "CVE-2", Severity::Critical, &long),
        ];
        let refs: Vec<&Finding> = findings.iter().collect();
        let mut out = String::new();
        render_vulnerabilities(&refs, &Style { color: false }, &mut out);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "  PAL700 known-vulnerability (3)");
        let lines = &lines[1..];
        assert!(lines[0].starts_with("  PACKAGE   VULNERABILITY"), "{out}");
        // Package order, then worst first; the long title takes two lines, cut with `…`.
        assert!(
            lines[1].contains("CVE-2") && lines[1].contains("CRITICAL"),
            "{out}"
        );
        assert!(lines[2].trim_start().starts_with("word") && lines[2].ends_with('…'));
        assert!(
            lines[3].contains("CVE-1") && lines[3].ends_with("short"),
            "{out}"
        );
        assert!(
            lines[4].contains("MEDIUM*") && !lines[4].contains('\x1b'),
            "{out}"
        );
        assert!(lines[5].contains("no severity"), "{out}");
        assert_eq!(lines.len(), 6, "{out}");
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH), "{out}");
    }

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
