//! Inline suppression: `palisade.dev/ignore: "PAL101,run-as-non-root -- reason"`.

/// The annotation that suppresses rules on one object (or its pod template).
pub const SUPPRESS_ANNOTATION: &str = "palisade.dev/ignore";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineSuppression {
    /// Codes, names or families, as `--ignore` takes them.
    pub selectors: Vec<String>,
    pub reason: Option<String>,
}

impl InlineSuppression {
    #[must_use]
    pub fn covers(&self, rule: &crate::RuleMeta) -> bool {
        self.selectors.iter().any(|s| rule.matches(s))
    }
}

/// Parses the annotation value; the reason after ` -- ` is optional but recommended.
#[must_use]
pub fn parse_suppression(value: &str) -> InlineSuppression {
    let (list, reason) = match value.split_once("--") {
        Some((list, reason)) => (
            list,
            Some(reason.trim().to_string()).filter(|r| !r.is_empty()),
        ),
        None => (value, None),
    };
    InlineSuppression {
        selectors: list
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_reason() {
        let s = parse_suppression("PAL101, host-path-volumes -- node exporter needs /proc");
        assert_eq!(s.selectors, ["PAL101", "host-path-volumes"]);
        assert_eq!(s.reason.as_deref(), Some("node exporter needs /proc"));
        assert_eq!(parse_suppression("PAL1").reason, None);
    }
}
