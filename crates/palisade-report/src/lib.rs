//! Output formats for Palisade: one [`ScanReport`] rendered as a human table, versioned JSON,
//! SARIF 2.1.0 (GitHub code scanning) or JUnit XML, plus the exit code a scan ends with.
//!
//! Every format is rendered from the same report and in the same deterministic order
//! (file, archive member, line, column, rule code, …), whatever order the findings were
//! produced in, so parallel scans give byte-identical output.
//!
//! ```
//! use palisade_policy::Severity;
//! use palisade_report::{Format, RenderOptions, ScanReport, render};
//!
//! let report = ScanReport::new(Severity::High);
//! let text = render(&report, "json".parse::<Format>().unwrap(), &RenderOptions::default());
//! assert!(text.contains("\"schemaVersion\": \"1\""));
//! assert_eq!(report.exit_code(), 0);
//! ```

mod json;
mod junit;
mod model;
mod sarif;
mod table;

use std::fmt;
use std::str::FromStr;

use palisade_policy::{Finding, InputError, RuleMeta, Severity};

pub use json::JSON_SCHEMA_VERSION;

/// JSON Schema (draft 2020-12) of the `json` format, with a description of every key.
pub const JSON_SCHEMA: &str = include_str!("../json-schema.json");
pub use model::{SeverityCounts, fingerprint};

/// Exit code of a scan with no finding at or above `failOn` and no input error.
pub const EXIT_CLEAN: i32 = 0;
/// Exit code of a scan with at least one finding at or above `failOn`.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code of a scan that met a usage or input error (takes precedence over findings).
pub const EXIT_ERROR: i32 = 2;

/// Everything a scan produced, ready to be rendered.
#[derive(Clone, Debug)]
pub struct ScanReport {
    /// Findings that survived selection, exceptions and inline suppression, in any order.
    pub findings: Vec<Finding>,
    /// Inputs that could not be read or understood; the rest of the input was still scanned.
    pub errors: Vec<InputError>,
    /// Things the user should know that are neither findings nor errors, such as an
    /// exception that expired and stopped applying. Rendered in the order given.
    pub notices: Vec<String>,
    pub files_scanned: usize,
    pub resources_scanned: usize,
    /// Findings dropped by policy exceptions or inline suppression.
    pub suppressed: usize,
    /// Lowest severity that makes the scan fail.
    pub fail_on: Severity,
    /// Every rule that ran (SARIF lists them in `tool.driver.rules`). Rules of findings that
    /// are missing here are added when rendering.
    pub rules: Vec<&'static RuleMeta>,
    /// Facts about each scanned container image, in scan order, as the image crate
    /// serialises them (`palisade_image::facts::ImageFacts`: digests, platform, OS, layers,
    /// package counts, attack surface). JSON prints them as `images`, SARIF in the run's
    /// `properties.images`; the table leaves them to the notices. Empty for other scans.
    pub images: Vec<serde_json::Value>,
}

impl Default for ScanReport {
    fn default() -> Self {
        ScanReport::new(Severity::High)
    }
}

impl ScanReport {
    /// An empty report failing on `fail_on`.
    #[must_use]
    pub fn new(fail_on: Severity) -> Self {
        ScanReport {
            findings: Vec::new(),
            errors: Vec::new(),
            notices: Vec::new(),
            files_scanned: 0,
            resources_scanned: 0,
            suppressed: 0,
            fail_on,
            rules: Vec::new(),
            images: Vec::new(),
        }
    }

    /// Leaves out the findings whose severity is not in `keep` (`--severity high,critical`,
    /// as Trivy's flag): they count as suppressed, a notice says how many, and the exit code
    /// is decided by what is left. An empty `keep` keeps everything.
    pub fn keep_severities(&mut self, keep: &[Severity]) {
        if keep.is_empty() {
            return;
        }
        let before = self.findings.len();
        self.findings.retain(|f| keep.contains(&f.severity));
        let dropped = before - self.findings.len();
        if dropped > 0 {
            self.suppressed += dropped;
            let names: Vec<&str> = keep.iter().map(|s| s.as_str()).collect();
            self.notices.push(format!(
                "{dropped} finding(s) of other severities left out (--severity {})",
                names.join(",")
            ));
        }
    }

    /// How the scan ends: [`EXIT_ERROR`] (2) when any input error was met, else
    /// [`EXIT_FINDINGS`] (1) when any finding is at or above `fail_on`, else [`EXIT_CLEAN`] (0).
    ///
    /// Errors take precedence over findings: a scan that could not read all of its input has
    /// not shown the input to be clean, and CI must not mistake a parse failure for an
    /// ordinary policy failure (the findings are still reported in every format).
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        if !self.errors.is_empty() {
            EXIT_ERROR
        } else if self.failing() > 0 {
            EXIT_FINDINGS
        } else {
            EXIT_CLEAN
        }
    }

    /// Number of findings at or above `fail_on`.
    #[must_use]
    pub fn failing(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity >= self.fail_on)
            .count()
    }

    /// Number of findings per severity.
    #[must_use]
    pub fn counts(&self) -> SeverityCounts {
        SeverityCounts::of(&self.findings)
    }
}

/// An output format of `palisade scan --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Human-readable, grouped by file, with source excerpts and a summary line.
    Table,
    /// Versioned JSON document (schema in `json-schema.json`).
    Json,
    /// SARIF 2.1.0, as uploaded to GitHub code scanning.
    Sarif,
    /// JUnit XML, for CI test-report widgets.
    Junit,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Table, Format::Json, Format::Sarif, Format::Junit];
    /// The names `FromStr` accepts, in the order of [`Format::ALL`].
    pub const NAMES: [&'static str; 4] = ["table", "json", "sarif", "junit"];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
        }
    }

    /// Conventional file extension for `--output` files (without the dot).
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "xml",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown format `{s}` (expected one of: {})",
                    Format::NAMES.join(", ")
                )
            })
    }
}

/// How to render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    /// ANSI colours in the table format (the caller decides: TTY, `NO_COLOR`, `--color`).
    /// Machine formats ignore it.
    pub color: bool,
    /// Version recorded as `tool.version` (JSON) / `tool.driver.version` (SARIF).
    pub tool_version: String,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            color: false,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Renders `report` in `format`. The result ends with a newline.
#[must_use]
pub fn render(report: &ScanReport, format: Format, opts: &RenderOptions) -> String {
    match format {
        Format::Table => table::render(report, opts),
        Format::Json => json::render(report, opts),
        Format::Sarif => sarif::render(report, opts),
        Format::Junit => junit::render(report, opts),
    }
}

/// Name of the tool as recorded in machine-readable outputs.
pub const TOOL_NAME: &str = "palisade";
/// Home page recorded in SARIF `informationUri`.
pub const TOOL_URI: &str = env!("CARGO_PKG_REPOSITORY");
