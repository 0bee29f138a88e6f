//! Rule metadata. The check itself lives with the subject it inspects (manifests, images,
//! model files); what users see of a rule (code, name, severity, references, docs) lives here.

use serde::Serialize;

/// Which body of guidance a reference points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RefKind {
    /// Kubernetes Pod Security Standards control.
    #[serde(rename = "PSS")]
    Pss,
    /// CIS Kubernetes Benchmark recommendation.
    #[serde(rename = "CIS")]
    Cis,
    /// NSA/CISA Kubernetes Hardening Guidance.
    #[serde(rename = "NSA")]
    Nsa,
    /// NIST SP 800-190 Application Container Security Guide.
    #[serde(rename = "NIST")]
    Nist,
    /// MITRE ATT&CK (Containers matrix) technique.
    #[serde(rename = "ATT&CK")]
    Attack,
    /// MITRE ATLAS technique or case study.
    #[serde(rename = "ATLAS")]
    Atlas,
    /// Any other documentation.
    #[serde(rename = "doc")]
    Doc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Reference {
    pub kind: RefKind,
    pub id: &'static str,
    pub url: &'static str,
}

/// Everything a user sees of a rule.
#[derive(Debug, Serialize)]
pub struct RuleMeta {
    /// Stable code, never reused (`PAL001`).
    pub code: &'static str,
    /// Kebab-case name (`run-as-non-root`).
    pub name: &'static str,
    /// Family used by `--select` (`pss`, `pss-baseline`, `images`, …).
    pub family: &'static str,
    pub severity: crate::Severity,
    /// One line: what the rule wants.
    pub summary: &'static str,
    /// Upstream Pod Security Standards check ID, for PSS rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pss_check: Option<&'static str>,
    pub references: &'static [Reference],
    /// Markdown documentation with the sections What it does / Why is this bad? / Example / Fix.
    #[serde(skip)]
    pub docs: &'static str,
}

impl RuleMeta {
    /// Whether `selector` (code, code prefix, name or family, case-insensitive) names this rule.
    #[must_use]
    pub fn matches(&self, selector: &str) -> bool {
        let s = selector.trim();
        if s.eq_ignore_ascii_case("all") {
            return true;
        }
        let upper = s.to_ascii_uppercase();
        self.code.starts_with(&upper)
            || self.name.eq_ignore_ascii_case(s)
            || self.family.eq_ignore_ascii_case(s)
            || self
                .family
                .split_once('-')
                .is_some_and(|(head, _)| head.eq_ignore_ascii_case(s))
            || self.pss_check.is_some_and(|id| id.eq_ignore_ascii_case(s))
    }
}

/// Declares a rule's metadata from its doc comment, the way ruff's `#[violation]` does:
/// the doc comment *is* the user documentation that `palisade explain` prints.
///
/// ```
/// palisade_policy::declare_rule! {
///     /// ## What it does
///     /// Checks nothing.
///     pub static EXAMPLE = {
///         code: "PAL999",
///         name: "example",
///         family: "examples",
///         severity: Low,
///         summary: "An example",
///         references: [],
///     };
/// }
/// assert!(EXAMPLE.docs.contains("Checks nothing."));
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis static $ident:ident = {
            code: $code:literal,
            name: $name:literal,
            family: $family:literal,
            severity: $severity:ident,
            summary: $summary:literal,
            $(pss_check: $pss:literal,)?
            references: [$($kind:ident $id:literal $url:literal),* $(,)?] $(,)?
        };
    ) => {
        $(#[doc = $doc])*
        $vis static $ident: $crate::RuleMeta = $crate::RuleMeta {
            code: $code,
            name: $name,
            family: $family,
            severity: $crate::Severity::$severity,
            summary: $summary,
            pss_check: $crate::__optional!($($pss)?),
            references: &[$($crate::Reference { kind: $crate::RefKind::$kind, id: $id, url: $url }),*],
            docs: concat!($($doc, "\n"),*),
        };
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __optional {
    () => {
        None
    };
    ($v:literal) => {
        Some($v)
    };
}
