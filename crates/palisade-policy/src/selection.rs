//! `--select` / `--ignore`: which rules run.

use crate::RuleMeta;

#[derive(Clone, Debug, Default)]
pub struct Selection {
    select: Vec<String>,
    ignore: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("`{0}` matches no rule code, name or family (see `palisade rules`)")]
pub struct SelectorError(pub String);

impl Selection {
    /// Builds a selection, refusing selectors that name nothing (a typo must not silently
    /// turn a gate off).
    pub fn new(
        select: &[String],
        ignore: &[String],
        rules: &[&'static RuleMeta],
    ) -> Result<Self, SelectorError> {
        let split = |v: &[String]| -> Vec<String> {
            v.iter()
                .flat_map(|s| s.split(','))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let selection = Selection {
            select: split(select),
            ignore: split(ignore),
        };
        for s in selection.select.iter().chain(&selection.ignore) {
            if !rules.iter().any(|r| r.matches(s)) {
                return Err(SelectorError(s.clone()));
            }
        }
        Ok(selection)
    }

    #[must_use]
    pub fn is_enabled(&self, rule: &RuleMeta) -> bool {
        (self.select.is_empty() || self.select.iter().any(|s| rule.matches(s)))
            && !self.ignore.iter().any(|s| rule.matches(s))
    }
}
